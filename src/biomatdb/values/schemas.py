"""Wire types of the values table."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from biomatdb.api.wire import Links, ListMeta, WireModel

#: The columns of a values row, in CSV order (the JSON keys are the same).
COLUMNS = (
    "material_id",
    "material_name",
    "property",
    "value",
    "min",
    "max",
    "unit",
    "canonical_min",
    "canonical_max",
    "canonical_unit",
    "qualifier",
    "uncertainty",
    "specimen",
    "method",
    "conditions",
    "evidence",
    "source",
    "citation",
    "doi",
)


class ValueRow(WireModel):
    material_id: str
    material_name: str
    property: str
    value: float | None = Field(description="As given (with `unit`), or null for a range.")
    min: float | None
    max: float | None
    unit: str = Field(description="The unit the value was given in.")
    canonical_min: float = Field(
        description="The value's interval in `canonical_unit`, rounded to the digits it "
        "was given with (at least 3)."
    )
    canonical_max: float
    canonical_unit: str = Field(
        description="The property's canonical unit, or the one asked for in `units`."
    )
    qualifier: str
    uncertainty: float | None
    specimen: str | None
    method: str | None
    conditions: dict[str, Any] | None
    evidence: str | None
    source: str | None = Field(description="The id of the reference it cites.")
    citation: str | None
    doi: str | None


class ValuesMeta(ListMeta):
    total: int = Field(description="Values of the matching materials (all pages).")


class ValuesPage(WireModel):
    data: list[ValueRow]
    meta: ValuesMeta
    links: Links
