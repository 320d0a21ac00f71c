"""HTTP: references and what cites them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListEnvelope, ListMeta, problem_responses
from biomatdb.auth.deps import OptionalPrincipal
from biomatdb.kit.keyset import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.references import service
from biomatdb.references.schemas import ReferenceDetail, ReferenceOut, reference_out
from biomatdb.search.counts import last_updated

router = APIRouter(prefix="/api/v1/references", tags=["references"])


@router.get("", response_model=ListEnvelope[ReferenceOut], responses=problem_responses(400, 401))
def list_references(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ListEnvelope[ReferenceOut]:
    """All references, by id. Without a key: only public ones (cited by a published
    material, or approved by an editor)."""
    page = service.list_references(
        session, public_only=principal is None, cursor=cursor, limit=limit
    )
    return ListEnvelope[ReferenceOut](
        data=[out for out in map(reference_out, page.rows) if out is not None],
        meta=ListMeta(
            total=page.total,
            next_cursor=page.next_cursor,
            last_updated=last_updated(session),
        ),
        links=page_links(request, page.next_cursor),
    )


@router.get(
    "/{reference_id}",
    response_model=ReferenceDetail,
    responses={**problem_responses(401, 404), 304: {"description": "Not modified"}},
)
def get_reference(
    reference_id: str, request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """A reference and the published materials that cite it. Without a key, one that is
    not public yet is 404."""
    detail = service.reference_detail(session, reference_id, public_only=principal is None)
    return json_with_etag(request, detail.model_dump(mode="json", by_alias=True))
