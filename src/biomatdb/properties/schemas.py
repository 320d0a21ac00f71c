"""Wire types of the property catalogue and the controlled vocabularies."""

from __future__ import annotations

from biomatdb.api.wire import Links, ListMeta, WireModel


class PropertyOut(WireModel):
    key: str
    name: str
    category: str
    canonical_unit: str
    dimension: str
    lower_bound: float | None
    upper_bound: float | None
    description: str


class PropertyList(WireModel):
    """The whole catalogue, in the list envelope (one page: ``next_cursor`` is null)."""

    data: list[PropertyOut]
    meta: ListMeta
    links: Links


class Vocabularies(WireModel):
    classes: list[str]
    applications: list[str]
    material_statuses: list[str]
    qualifiers: list[str]
    composition_bases: list[str]
    organization_kinds: list[str]
    jurisdictions: list[str]
    regulatory_statuses: list[str]
    biocompatibility_endpoints: list[str]
    biocompatibility_results: list[str]
