"""Wire types of compare."""

from __future__ import annotations

from pydantic import Field

from biomatdb.api.wire import WireModel


class ComparedMaterial(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")


class ComparedValue(WireModel):
    """A material's values of one property, in the canonical unit."""

    min: float
    max: float
    typical: float = Field(description="Mean of the midpoints of its values.")
    count: int = Field(description="How many values it has.")


class ComparedProperty(WireModel):
    key: str
    name: str
    unit: str = Field(description="The canonical unit every value of the row is in.")
    values: dict[str, ComparedValue | None] = Field(
        description="Per material id (every compared one): its values, or null when it has none."
    )


class Comparison(WireModel):
    materials: list[ComparedMaterial]
    properties: list[ComparedProperty]


class ComparisonOut(WireModel):
    data: Comparison
