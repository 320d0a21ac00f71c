"""HTTP: searching materials, reading one material, curating them, and the drafts
that curators and editors work on (``GET /api/v1/drafts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from biomatdb.api import negotiation, pagecache
from biomatdb.api.body import JSON, MERGE_PATCH, read_json
from biomatdb.api.deps import SessionDep, in_write_slot, run_write
from biomatdb.api.etag import entity_tags, json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.params import FormatQuery, UnitsQuery
from biomatdb.api.wire import ListEnvelope, problem_responses
from biomatdb.auth.deps import Curator, OptionalPrincipal, Reader
from biomatdb.auth.keys import Principal
from biomatdb.errors import InvalidBody, NotFound
from biomatdb.kit.keyset import MAX_LIMIT
from biomatdb.kit.paths import from_validation_error
from biomatdb.kit.timefmt import iso_utc_or_none
from biomatdb.materials import curation, export, service
from biomatdb.materials.schemas import (
    DraftItem,
    HistoryOut,
    MaterialOut,
    SearchPage,
    StatusChange,
)
from biomatdb.models import Material
from biomatdb.search.counts import data_version, last_updated
from biomatdb.search.query import SearchQuery
from biomatdb.search.request import SearchRequest, search_endpoint
from biomatdb.settings import get_settings
from biomatdb.units.output import OutputUnits

#: ``/api/v1/materials...``
material_routes = APIRouter(prefix="/api/v1/materials", tags=["materials"])
#: ``/api/v1/drafts``: what curators and editors work on.
draft_routes = APIRouter(prefix="/api/v1", tags=["curation"])


EXPORTS = negotiation.TABLE_FORMATS


@material_routes.get(
    "",
    response_model=SearchPage,
    response_model_by_alias=True,
    responses={
        **problem_responses(400, 406),
        200: {
            "description": "One page of results (JSON), or every match (CSV, NDJSON).",
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "id,name,class,subclass,degradable,applications,"
                    "density [g/cm^3],density min [g/cm^3],density max [g/cm^3]\r\n"
                    "peek,PEEK,polymer,,false,orthopedic;spinal,1.3,1.3,1.3\r\n",
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    },
)
@search_endpoint
def search_materials(
    request: Request,
    session: SessionDep,
    search: SearchRequest,
    units: UnitsQuery = None,
    format: FormatQuery = None,
) -> Response:
    """Search and filter published materials (keyset-paginated).

    With `Accept: text/csv` (or `format=csv`) or `Accept: application/x-ndjson` (or
    `format=ndjson`): every match, streamed in the search's order (`limit` and
    `cursor` do not apply). CSV: `id`, `name`, `class`, `subclass`, `degradable`,
    `applications` (`;`-joined), then per property present `KEY [UNIT]` (typical),
    `KEY min [UNIT]`, `KEY max [UNIT]`; text that a spreadsheet would run as a
    formula is prefixed with `'`. NDJSON: one search item per line.
    """
    chosen = negotiation.choose(request.headers.get("accept"), format, EXPORTS)
    query = search.to_query()
    out = OutputUnits.parse(units)
    if chosen != "json":
        return _export(session, query, out, chosen)
    cache_bytes = get_settings().result_cache_mb * 1024 * 1024
    version = data_version(session)

    def page() -> tuple[bytes, bool]:
        found = service.search(
            session, query, after=search.cursor, out=out, version=version, defer_facets=True
        )
        links = page_links(request, found.next_cursor)
        pending = {"facets_pending": found.facets_pending} if found.facets_pending else {}
        # Serialised straight to JSON: the items are already in wire form, and the
        # OpenAPI test suite checks them against SearchPage.
        body = orjson.dumps(
            {
                "data": found.items,
                "meta": {
                    "total": found.total,
                    "next_cursor": found.next_cursor,
                    "last_updated": iso_utc_or_none(last_updated(session)),
                    "facets": found.facets,
                    **pending,
                    **_suggested(session, query, found.total),
                },
                "links": {"self": links.self, "next": links.next},
            }
        )
        # An answer without some of its facets is not the answer of this version:
        # neither kept nor tagged, so that asking again gets the facets once counted.
        return body, not found.facets_pending

    database = str(session.get_bind().engine.url)
    return pagecache.cached_page(request, database, version, cache_bytes, page)


def _suggested(session: Session, query: SearchQuery, total: int) -> dict[str, Any]:
    """``did_you_mean`` when a search with ``q`` found nothing; else nothing."""
    suggested = service.did_you_mean(session, query) if total == 0 else None
    return {} if suggested is None else {"did_you_mean": suggested}


def _export(session: Session, query: SearchQuery, out: OutputUnits, chosen: str) -> Response:
    """Every match as a streamed file (see :mod:`biomatdb.materials.export`)."""
    writer = export.csv if chosen == "csv" else export.ndjson
    return negotiation.streamed_file(writer(session, query, out), chosen, "materials")


@material_routes.get(
    "/{material_id}",
    response_model=MaterialOut,
    responses={
        **problem_responses(400, 401, 404),
        304: {"description": "Not modified (If-None-Match)"},
    },
)
def get_material(
    material_id: str,
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    units: UnitsQuery = None,
) -> Response:
    """One material, whole: every value as given and canonical, sources expanded.

    Anonymous callers see the published version; a key sees the latest version,
    drafts included. The ETag is what PUT and PATCH expect in If-Match (that of a
    request without `units`).
    """
    out = OutputUnits.parse(units)
    if principal is None:
        return _tagged(request, service.public_view(session, material_id, out))
    material = service.get_material(session, material_id, latest=True)
    return _tagged(request, service.material_view(session, material, latest=True, out=out))


WRITE_RESPONSES = {
    **problem_responses(401, 403, 404, 409, 412, 413, 415, 422, 428),
}
MATERIAL_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/MaterialIn"}}},
    }
}
PATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            MERGE_PATCH: {"schema": {"type": "object"}},
            JSON: {"schema": {"type": "object"}},
        },
    }
}


def _written(
    request: Request,
    session: SessionDep,
    material: Material,
    *,
    status_code: int,
    headers: dict[str, str] | None = None,
) -> Response:
    view = service.material_view(session, material, latest=True)
    return _tagged(request, view, status_code=status_code, headers=headers)


@material_routes.post(
    "",
    status_code=201,
    response_model=MaterialOut,
    responses=WRITE_RESPONSES,
    openapi_extra=MATERIAL_BODY,
)
async def create_material(request: Request, session: SessionDep, principal: Curator) -> Response:
    """Create one material (a bundle entry); 201 with Location and ETag."""
    raw = await read_json(request, accept=(JSON,), limit=get_settings().max_body_bytes)

    def work() -> Response:
        material = run_write(session, lambda: curation.create(session, raw, principal))
        return _written(
            request,
            session,
            material,
            status_code=201,
            headers={"Location": f"/api/v1/materials/{material.slug}"},
        )

    return await in_write_slot(request, work)


def _change_latest(
    request: Request,
    session: SessionDep,
    material_id: str,
    if_match: str | None,
    change: Callable[[Session, Material, Any, Principal], Material],
    body: Any,
    principal: Principal,
) -> Response:
    """Check If-Match against the latest version, apply the change, answer the result."""

    def write() -> Material:
        material = service.get_material(session, material_id, latest=True)
        curation.check_if_match(session, material, entity_tags(if_match))
        return change(session, material, body, principal)

    return _written(request, session, run_write(session, write), status_code=200)


@material_routes.put(
    "/{material_id}",
    response_model=MaterialOut,
    responses=WRITE_RESPONSES,
    openapi_extra=MATERIAL_BODY,
)
async def replace_material(
    material_id: str,
    request: Request,
    session: SessionDep,
    principal: Curator,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Replace a material's latest version; needs If-Match with its current ETag."""
    return await _change(request, session, principal, material_id, if_match, curation.replace)


@material_routes.patch(
    "/{material_id}",
    response_model=MaterialOut,
    responses=WRITE_RESPONSES,
    openapi_extra=PATCH_BODY,
)
async def patch_material(
    material_id: str,
    request: Request,
    session: SessionDep,
    principal: Curator,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Change fields of a material's latest version with a JSON merge patch (RFC 7396);
    needs If-Match with its current ETag."""
    return await _change(
        request, session, principal, material_id, if_match, curation.patch, MERGE_PATCH
    )


async def _change(
    request: Request,
    session: Session,
    principal: Principal,
    material_id: str,
    if_match: str | None,
    change: Callable[[Session, Material, Any, Principal], Material],
    *media_types: str,
) -> Response:
    """Read the body (JSON, or one of ``media_types``), then apply ``change`` to the
    latest version under If-Match, in a write slot."""
    raw = await read_json(request, accept=(*media_types, JSON), limit=get_settings().max_body_bytes)
    return await in_write_slot(
        request, _change_latest, request, session, material_id, if_match, change, raw, principal
    )


STATUS_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/StatusChange"}}},
    }
}


@material_routes.post(
    "/{material_id}/status",
    response_model=MaterialOut,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
    openapi_extra=STATUS_BODY,
)
async def change_status(
    material_id: str, request: Request, session: SessionDep, principal: Curator
) -> Response:
    """Submit for review (curator), publish or retract (editor), or return to draft.

    Body: ``{"status": "in_review" | "published" | "retracted" | "draft", "note": "..."}``.
    """
    raw = await read_json(request, accept=(JSON,), limit=get_settings().max_body_bytes)
    try:
        change = StatusChange.model_validate(raw)
    except ValidationError as exc:
        raise InvalidBody(
            "the status change is invalid", errors=from_validation_error("", exc)
        ) from None

    def write() -> Material:
        material = service.get_material(session, material_id, latest=True)
        return curation.change_status(
            session, material, change.status.value, change.note, principal
        )

    def work() -> Response:
        return _written(request, session, run_write(session, write), status_code=200)

    return await in_write_slot(request, work)


@material_routes.get(
    "/{material_id}/history", response_model=HistoryOut, responses=problem_responses(401, 403, 404)
)
def material_history(material_id: str, session: SessionDep, principal: Reader) -> HistoryOut:
    """Every version of a material (who, when, what changed) and every review event."""
    material = service.get_material(session, material_id, latest=True)
    return HistoryOut.model_validate(curation.history(session, material))


@material_routes.get(
    "/{material_id}/history/{version}",
    response_model=MaterialOut,
    responses=problem_responses(401, 403, 404),
)
def material_version(
    material_id: str, version: str, request: Request, session: SessionDep, principal: Reader
) -> Response:
    """One version of a material, whole, as it was."""
    material = service.get_material(session, material_id, latest=True)
    # Versions are small positive integers; anything else names no version (404),
    # and never reaches the database as an out-of-range integer.
    number = int(version) if version.isascii() and version.isdigit() and len(version) <= 9 else 0
    if number < 1:
        raise NotFound(
            f"material {material_id!r} has no version {version!r}; versions 1 to "
            f"{material.latest_version} exist"
        )
    row = service.version_row(session, material, number)
    return _tagged(request, service.render_version(session, material, row))


def _tagged(
    request: Request,
    view: service.View,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A material view as JSON, with its entity tag as the ETag."""
    return json_with_etag(
        request, view.payload, status_code=status_code, headers=headers, tag=view.tag
    )


DraftStatus = Literal["draft", "in_review"]
#: Default page size of the drafts (the most: ``MAX_LIMIT``).
DRAFTS_LIMIT = 50


@draft_routes.get(
    "/drafts",
    response_model=ListEnvelope[DraftItem],
    response_model_by_alias=True,
    responses=problem_responses(400, 401),
)
def list_drafts(
    request: Request,
    session: SessionDep,
    principal: Reader,
    status: Annotated[
        list[DraftStatus] | None,
        Query(
            description="The latest version's status: draft or in_review (repeat for "
            "both; default both).",
            examples=[["in_review"]],
        ),
    ] = None,
    mine: Annotated[
        bool, Query(description="Only those whose latest version the caller's key wrote.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DRAFTS_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Materials whose latest version is not published: drafts and those in review
    (a published material with a pending edit is listed by its edit), by id.

    `mine=true`: those whose latest version the caller's key wrote (a curator's own
    drafts); `status=in_review`: the review queue. Needs a key (reader or above).
    """
    page = service.drafts(
        session,
        statuses=list(status or service.DRAFT_STATUSES),
        author=principal.name if mine else None,
        after=cursor,
        limit=limit,
    )
    links = page_links(request, page.next_cursor)
    return Response(
        orjson.dumps(
            {
                "data": page.items,
                "meta": {
                    "total": page.total,
                    "next_cursor": page.next_cursor,
                    "last_updated": iso_utc_or_none(last_updated(session)),
                },
                "links": {"self": links.self, "next": links.next},
            }
        ),
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},
    )


#: Every route of this module (``app.py`` includes this one router).
router = APIRouter()
router.include_router(material_routes)
router.include_router(draft_routes)
