"""Wire types of materials: search items, the whole material, summaries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from biomatdb.api.wire import Links, ListMeta, WireModel
from biomatdb.organizations.schemas import OrganizationRef
from biomatdb.references.schemas import ReferenceOut
from biomatdb.vocab import MaterialStatus


class PropertySummaryOut(WireModel):
    min: float
    max: float
    typical: float = Field(description="Mean of the midpoints of the material's values.")
    unit: str = Field(
        description="The property's canonical unit, or the one asked for in `units`. "
        "Values are rounded to the significant digits of their sources (at least 3)."
    )
    count: int = Field(description="How many values the summary is made of.")


class MaterialListItem(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")
    subclass: str | None
    degradable: bool | None
    applications: list[str]
    summary: dict[str, PropertySummaryOut]
    updated_at: datetime


class SearchMeta(ListMeta):
    facets: dict[str, dict[str, int]] | None = Field(
        description="Counts over the filtered set, per facet asked for with `facets`; "
        "null when no facet was asked for.",
        examples=[{"class": {"metal": 3, "polymer": 2}}],
    )
    facets_pending: list[str] | None = Field(
        default=None,
        description="Facets asked for but left out of `facets`: counting them did not fit "
        "the time a request gives its facets (`BIOMATDB_FACET_TIME_LIMIT_SECONDS`), so "
        "they are being counted in the background; ask again in a few seconds. Such an "
        "answer has no ETag and is not cached. Absent when every facet was counted.",
        examples=[["application", "country"]],
    )
    did_you_mean: list[str] | None = Field(
        default=None,
        description="When `q` found nothing: corrected texts (the closest "
        "words of the published materials) that find something with the same filters; "
        "may be empty. Absent otherwise.",
        examples=[["hydroxyapatite"]],
    )


class SearchPage(WireModel):
    """A page of search results: the list envelope, with facet counts in ``meta``."""

    data: list[MaterialListItem]
    meta: SearchMeta
    links: Links


class CanonicalOut(WireModel):
    min: float
    max: float
    unit: str


class PropertyValueOut(WireModel):
    property: str
    value: float | None = None
    min: float | None = None
    max: float | None = None
    unit: str
    qualifier: str
    uncertainty: float | None = None
    specimen: str | None = None
    evidence: str | None = Field(
        None, description="measured, specification, handbook, class_generic or model_input."
    )
    method: str | None = None
    conditions: dict[str, Any] | None = None
    source: ReferenceOut | None
    canonical: CanonicalOut = Field(
        description="The value as a closed interval in the canonical unit (what filters "
        "compare; or in the unit asked for in `units`), rounded to the significant digits "
        "it was given with (at least 3)."
    )


class ComponentOut(WireModel):
    component: str
    fraction: float
    basis: str


class IdentifierOut(WireModel):
    scheme: str = Field(description="chebi, pubchem_cid, cas, mesh, unii or wikidata.")
    id: str = Field(examples=["CHEBI:52254"])
    url: str | None = Field(description="The identifier's page at its registry.")


class BiocompatibilityOut(WireModel):
    endpoint: str
    standard: str | None = None
    result: str
    source: ReferenceOut | None = None


class RegulatoryOut(WireModel):
    jurisdiction: str
    pathway: str | None = None
    status: str
    identifier: str | None = None
    device_class: str | None = None
    product_code: str | None = None
    gmdn: str | None = Field(None, description="GMDN term code of the device.")
    device_name: str | None = None
    decision_date: date | None = None
    organization: OrganizationRef | None = Field(None, description="The applicant or holder.")
    notified_body: OrganizationRef | None = Field(
        None, description="Who certified the device (CE marks)."
    )
    source: ReferenceOut | None = None


class SupplierOut(WireModel):
    organization: OrganizationRef
    trade_name: str | None = None
    grade: str | None = None
    form: str | None = None


class MaterialOut(WireModel):
    """One material, whole."""

    id: str
    name: str
    synonyms: list[str]
    material_class: str = Field(alias="class")
    subclass: str | None = None
    description: str | None = None
    degradable: bool | None = None
    composition: list[ComponentOut]
    applications: list[str]
    identifiers: list[IdentifierOut] = Field(
        description="The material in outside vocabularies (contract section 8)."
    )
    properties: list[PropertyValueOut]
    summary: dict[str, PropertySummaryOut]
    biocompatibility: list[BiocompatibilityOut]
    regulatory: list[RegulatoryOut]
    suppliers: list[SupplierOut]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class DraftItem(WireModel):
    """A material whose latest version is not published: a draft or one in review."""

    id: str
    name: str
    material_class: str = Field(alias="class")
    status: str = Field(description="Of the latest version: draft or in_review.")
    version: int = Field(description="The latest version's number.")
    updated_at: datetime = Field(description="When the latest version was written.")
    updated_by: str = Field(description="The name of the key that wrote the latest version.")


# --- curation: review moves and history ----------------------------------------------


class StatusChange(BaseModel):
    """A review transition."""

    model_config = ConfigDict(extra="forbid")

    status: MaterialStatus
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class VersionOut(BaseModel):
    version: int
    status: str
    created_at: datetime
    created_by: str
    changes: list[dict[str, Any]]
    href: str


class EventOut(BaseModel):
    seq: int
    at: datetime
    action: str
    version: int | None
    status: str | None
    actor: str
    note: str | None


class HistoryOut(BaseModel):
    id: str
    latest_version: int
    published_version: int | None
    versions: list[VersionOut]
    events: list[EventOut]
