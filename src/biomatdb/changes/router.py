"""HTTP: the change feed partners replay to stay in sync."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from biomatdb.api.deps import SessionDep
from biomatdb.api.links import page_links
from biomatdb.api.wire import Links, problem_responses
from biomatdb.auth.deps import Reader
from biomatdb.bundles.export import clean
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.models import Change, MaterialVersion

#: The largest change sequence number (``changes.seq`` is a 32-bit integer).
MAX_SEQ = 2**31 - 1

router = APIRouter(prefix="/api/v1/changes", tags=["partners"])


class ChangeOut(BaseModel):
    seq: int = Field(description="Position in the feed; strictly increasing in commit order.")
    at: datetime
    kind: str = Field(description="material, reference or organization")
    action: str
    id: str
    version: int | None
    status: str | None
    actor: str
    note: str | None
    public: dict[str, Any] | None = Field(
        description="After this change, what the public sees: the bundle entry, or null "
        "when the material is not public (remove it from a mirror)."
    )


class ChangesMeta(BaseModel):
    next_cursor: str = Field(description="Pass as `since` to continue after this page.")
    has_more: bool


class ChangesPage(BaseModel):
    data: list[ChangeOut]
    meta: ChangesMeta
    links: Links


@router.get("", response_model=ChangesPage, responses=problem_responses(400, 401, 403))
def list_changes(
    request: Request,
    session: SessionDep,
    principal: Reader,
    since: Annotated[
        str | None,
        Query(description="next_cursor of the previous page; absent or 0 for the beginning"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangesPage:
    """Every create, update and status change, in commit order, resumable from any cursor."""
    after = 0
    if since:
        # ASCII digits only ("²".isdigit() is true, and int("²") fails).
        if not (since.isascii() and since.isdigit()) or len(since) > 18:
            raise InvalidParameter(
                "since is not a cursor from this feed",
                errors=[FieldProblem("since", "pass meta.next_cursor of the previous page, or 0")],
            )
        # Sequence numbers are 32-bit integers: nothing follows the largest one, and a
        # larger number must not reach PostgreSQL ("integer out of range").
        after = min(int(since), MAX_SEQ)
    rows = session.scalars(
        select(Change).where(Change.seq > after).order_by(Change.seq).limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    public = _public_entries(session, rows)
    data = [
        ChangeOut(
            seq=c.seq,
            at=c.at,
            kind=c.kind,
            action=c.action,
            id=c.subject,
            version=c.version,
            status=c.status,
            actor=c.actor,
            note=c.note,
            public=(
                c.entry if c.kind != "material" else public.get((c.material_id, c.public_version))
            ),
        )
        for c in rows
    ]
    cursor = str(rows[-1].seq if rows else after)
    return ChangesPage(
        data=data,
        meta=ChangesMeta(next_cursor=cursor, has_more=has_more),
        links=page_links(request, cursor if has_more else None, param="since"),
    )


def _public_entries(session: Session, rows: Any) -> dict[tuple[int | None, int | None], Any]:
    keys = {
        (c.material_id, c.public_version)
        for c in rows
        if c.kind == "material" and c.public_version is not None
    }
    if not keys:
        return {}
    found = session.execute(
        select(MaterialVersion.material_id, MaterialVersion.version, MaterialVersion.entry).where(
            tuple_(MaterialVersion.material_id, MaterialVersion.version).in_(list(keys))
        )
    )
    return {
        (mid, v): clean({**entry, "status": "published", "version": v}) for mid, v, entry in found
    }
