"""HTTP: the change feed partners replay to stay in sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from biomatdb.api.deps import SessionDep
from biomatdb.api.links import page_links
from biomatdb.api.wire import problem_responses
from biomatdb.auth.deps import Reader
from biomatdb.changes import service
from biomatdb.changes.schemas import ChangesMeta, ChangesPage
from biomatdb.search.counts import last_updated

router = APIRouter(prefix="/api/v1/changes", tags=["partners"])


@router.get("", response_model=ChangesPage, responses=problem_responses(400, 401, 403))
def list_changes(
    request: Request,
    session: SessionDep,
    principal: Reader,
    since: Annotated[
        str | None,
        Query(
            description="next_cursor of the previous page; absent or 0 for the beginning",
            examples=["0"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangesPage:
    """Every create, update and status change, in commit order, resumable from any cursor."""
    page = service.changes_after(session, service.parse_since(since), limit)
    return ChangesPage(
        data=page.changes,
        meta=ChangesMeta(
            total=page.total,
            next_cursor=page.cursor,
            has_more=page.has_more,
            last_updated=last_updated(session),
        ),
        links=page_links(request, page.cursor if page.has_more else None, param="since"),
    )
