"""HTTP: organizations (suppliers, manufacturers ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListEnvelope, ListMeta, problem_responses
from biomatdb.auth.deps import OptionalPrincipal
from biomatdb.kit.keyset import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.organizations import service
from biomatdb.organizations.schemas import OrganizationDetail, OrganizationOut, organization_out
from biomatdb.search.counts import last_updated
from biomatdb.vocab import OrganizationKind, values

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


@router.get("", response_model=ListEnvelope[OrganizationOut], responses=problem_responses(400, 401))
def list_organizations(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    country: Annotated[
        list[str] | None,
        Query(
            description="ISO 3166-1 alpha-2 code, e.g. JP (repeat for OR; at most 20)",
            examples=[["JP"]],
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        Query(
            description=", ".join(values(OrganizationKind)) + " (repeat for OR; at most 20)",
            examples=[["manufacturer"]],
            json_schema_extra={"items": {"enum": values(OrganizationKind)}, "maxItems": 20},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ListEnvelope[OrganizationOut]:
    """Organizations by id, optionally of some countries or kinds (repeats are OR; the
    two together AND). Without a key: only public
    ones (named by a published material, or approved by an editor)."""
    page = service.list_organizations(
        session,
        public_only=principal is None,
        country=country,
        kind=kind,
        cursor=cursor,
        limit=limit,
    )
    return ListEnvelope[OrganizationOut](
        data=[organization_out(o) for o in page.rows],
        meta=ListMeta(
            total=page.total,
            next_cursor=page.next_cursor,
            last_updated=last_updated(session),
        ),
        links=page_links(request, page.next_cursor),
    )


@router.get(
    "/{organization_id}",
    response_model=OrganizationDetail,
    responses={**problem_responses(401, 404), 304: {"description": "Not modified"}},
)
def get_organization(
    organization_id: str, request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """One organization, what it supplies and the regulatory records that name it.
    Without a key, one that is not public yet is 404."""
    detail = service.organization_detail(session, organization_id, public_only=principal is None)
    return json_with_etag(request, detail.model_dump(mode="json", by_alias=True))
