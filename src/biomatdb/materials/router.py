"""HTTP: searching materials and reading one material."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListEnvelope, ListMeta, problem_responses
from biomatdb.materials import service
from biomatdb.materials.schemas import MaterialListItem, MaterialOut
from biomatdb.search.params import DEFAULT_LIMIT, parse_search

router = APIRouter(prefix="/api/v1/materials", tags=["materials"])


@router.get(
    "",
    response_model=ListEnvelope[MaterialListItem],
    response_model_by_alias=True,
    responses=problem_responses(400),
)
def search_materials(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(
            description="Full text over name, synonyms, subclass, description and supplier trade "
            "names; every word must match; case and accents are ignored.",
            max_length=1000,
        ),
    ] = None,
    material_class: Annotated[
        list[str],
        Query(
            alias="class",
            description="metal, ceramic, glass, polymer, composite, natural (repeat for OR)",
        ),
    ] = [],  # noqa: B006
    application: Annotated[
        list[str],
        Query(
            description="Application slug, e.g. orthopedic (repeat for OR); see "
            "/api/v1/vocabularies"
        ),
    ] = [],  # noqa: B006
    degradable: Annotated[bool | None, Query(description="true or false")] = None,
    prop: Annotated[
        list[str],
        Query(
            description="KEY:MIN..MAX[:UNIT], either bound may be empty; a material matches when "
            "one of its values of KEY overlaps the range (repeat for AND). Example: "
            "youngs_modulus:10..30:GPa"
        ),
    ] = [],  # noqa: B006
    regulatory: Annotated[
        list[str],
        Query(
            description="JURISDICTION or JURISDICTION:STATUS, e.g. US-FDA:cleared (repeat for AND)",
        ),
    ] = [],  # noqa: B006
    supplier: Annotated[str | None, Query(description="Organization id of a supplier")] = None,
    country: Annotated[
        str | None, Query(description="ISO 3166-1 alpha-2 code of a supplier's country, e.g. IT")
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            description="name (default), -name, updated_at, -updated_at, prop:KEY, -prop:KEY; "
            "ties broken by id"
        ),
    ] = None,
    limit: Annotated[int, Query(description="Page size, 1 to 200")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(description="meta.next_cursor of the previous page", max_length=2000)
    ] = None,
    facets: Annotated[
        str | None,
        Query(
            description="Comma list of class, application, regulatory, country, degradable: "
            "counts over the filtered set"
        ),
    ] = None,
) -> ListEnvelope[MaterialListItem]:
    """Search and filter published materials (keyset-paginated)."""
    query = parse_search(
        q=q,
        classes=material_class,
        applications=application,
        degradable=degradable,
        props=prop,
        regulatory=regulatory,
        supplier=supplier,
        country=country,
        sort=sort,
        limit=limit,
        facets=facets,
    )
    items, total, next_cursor, facet_counts = service.search(session, query, after=cursor)
    return ListEnvelope[MaterialListItem](
        data=items,
        meta=ListMeta(total=total, next_cursor=next_cursor, facets=facet_counts),
        links=page_links(request, next_cursor),
    )


@router.get(
    "/{material_id}",
    response_model=MaterialOut,
    responses={**problem_responses(404), 304: {"description": "Not modified (If-None-Match)"}},
)
def get_material(material_id: str, request: Request, session: SessionDep) -> Response:
    """One published material, whole: every value as given and canonical, sources expanded."""
    material = service.get_published(session, material_id)
    return json_with_etag(request, service.as_json_ready(service.material_out(material)))
