"""Wire types of the Ashby chart's data (``Accept: application/json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from biomatdb.api.wire import WireModel

Scale = Literal["log", "linear"]


class ChartInterval(WireModel):
    """A material's values of one property in the chart's unit (6 significant digits)."""

    min: float
    typical: float = Field(description="Mean of the midpoints of its values.")
    max: float


class ChartedMaterial(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")
    x: ChartInterval
    y: ChartInterval


class ChartAxis(WireModel):
    key: str = Field(description="The property key (see /api/v1/properties).")
    name: str
    unit: str = Field(description="The unit of every value on this axis.")
    scale: Scale


class ChartMeta(WireModel):
    x: ChartAxis
    y: ChartAxis
    total: int = Field(description="How many materials are plotted (the items of `data`).")
    skipped: int = Field(
        description="Materials that match and have both properties but cannot be placed: "
        "a value <= 0 on a log scale (or out of range once converted to the unit)."
    )


class AshbyChartOut(WireModel):
    data: list[ChartedMaterial] = Field(description="The plotted materials, by name.")
    meta: ChartMeta
