"""HTTP: the property catalogue and the controlled vocabularies."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from biomatdb import catalogue
from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListMeta, problem_responses
from biomatdb.errors import NotFound
from biomatdb.properties.schemas import PropertyList, PropertyOut, Vocabularies
from biomatdb.search.counts import last_updated
from biomatdb.vocab import (
    Application,
    BiocompatibilityEndpoint,
    BiocompatibilityResult,
    CompositionBasis,
    Jurisdiction,
    MaterialClass,
    MaterialStatus,
    OrganizationKind,
    Qualifier,
    RegulatoryStatus,
    values,
)

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


def _out(p: catalogue.PropertyDefinition) -> PropertyOut:
    return PropertyOut(
        key=p.key,
        name=p.name,
        category=p.category,
        canonical_unit=p.canonical_unit,
        dimension=p.dimension,
        lower_bound=p.lower_bound,
        upper_bound=p.upper_bound,
        description=p.description,
    )


@router.get("/properties", response_model=PropertyList)
def list_properties(request: Request, session: SessionDep) -> PropertyList:
    """The property catalogue: key, name, category, canonical unit, dimension."""
    data = [_out(p) for p in catalogue.CATALOGUE]
    return PropertyList(
        data=data,
        meta=ListMeta(total=len(data), next_cursor=None, last_updated=last_updated(session)),
        links=page_links(request, None),
    )


@router.get(
    "/properties/{key}",
    response_model=PropertyOut,
    responses={**problem_responses(404), 304: {"description": "Not modified"}},
)
def get_property(key: str, request: Request) -> Response:
    """One catalogue entry."""
    definition = catalogue.get(key)
    if definition is None:
        raise NotFound(f"no property {key!r}; the catalogue is at /api/v1/properties")
    return json_with_etag(request, _out(definition).model_dump(mode="json"))


@router.get("/vocabularies", response_model=Vocabularies)
def vocabularies() -> Vocabularies:
    """Every controlled vocabulary of the bundle format (classes, applications ...)."""
    return Vocabularies(
        classes=values(MaterialClass),
        applications=values(Application),
        material_statuses=values(MaterialStatus),
        qualifiers=values(Qualifier),
        composition_bases=values(CompositionBasis),
        organization_kinds=values(OrganizationKind),
        jurisdictions=values(Jurisdiction),
        regulatory_statuses=values(RegulatoryStatus),
        biocompatibility_endpoints=values(BiocompatibilityEndpoint),
        biocompatibility_results=values(BiocompatibilityResult),
    )
