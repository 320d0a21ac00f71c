"""Wire types of organizations, and the one place an organization row becomes its JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from biomatdb.api.wire import WireModel
from biomatdb.models import Organization
from biomatdb.references.schemas import ReferenceOut


class OrganizationOut(WireModel):
    id: str
    name: str
    kind: str
    country: str | None = None
    website: str | None = None


class OrganizationRef(WireModel):
    """An organization named by a material (supplier, regulatory holder), briefly."""

    id: str
    name: str
    kind: str
    country: str | None = None


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
    gmdn: str | None = None
    device_name: str | None = None
    decision_date: str | None = None
    role: Literal["holder", "notified_body"] = Field(
        "holder",
        description="What the organization is to the record: its applicant or holder, or "
        "the notified body that certified the device.",
    )
    source: ReferenceOut | None = None


class OrganizationDetail(OrganizationOut):
    supplies: list[OfferingOut] = Field(description="What it supplies (published materials).")
    regulatory: list[OrganizationRegulatoryOut] = Field(
        description="Regulatory records that name it (published materials)."
    )


def organization_out(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.slug, name=org.name, kind=org.kind, country=org.country, website=org.website
    )


def organization_json(organization: Organization | None) -> dict[str, Any] | None:
    """An organization, briefly, in wire form (the shape of :class:`OrganizationRef`)."""
    if organization is None:
        return None
    return {
        "id": organization.slug,
        "name": organization.name,
        "kind": organization.kind,
        "country": organization.country,
    }
