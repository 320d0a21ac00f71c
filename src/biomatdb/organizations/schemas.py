"""Wire types of organizations."""

from __future__ import annotations

from pydantic import Field

from biomatdb.api.wire import WireModel
from biomatdb.materials.schemas import ReferenceOut


class OrganizationOut(WireModel):
    id: str
    name: str
    kind: str
    country: str | None = None
    website: str | None = None


class MaterialBrief(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")


class OfferingOut(WireModel):
    material: MaterialBrief
    trade_name: str | None = None
    grade: str | None = None
    form: str | None = None


class OrganizationRegulatoryOut(WireModel):
    material: MaterialBrief
    jurisdiction: str
    pathway: str | None = None
    status: str
    identifier: str | None = None
    device_class: str | None = None
    product_code: str | None = None
    device_name: str | None = None
    decision_date: str | None = None
    source: ReferenceOut | None = None


class OrganizationDetail(OrganizationOut):
    supplies: list[OfferingOut] = Field(description="What it supplies (published materials).")
    regulatory: list[OrganizationRegulatoryOut] = Field(
        description="Regulatory records that name it (published materials)."
    )
