"""Reading the change feed: a page of changes after a sequence number, each with what
the public sees after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from biomatdb.changes.schemas import ChangeOut
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.kit.documents import clean
from biomatdb.models import Change, MaterialVersion

#: The largest change sequence number (``changes.seq`` is a 32-bit integer).
MAX_SEQ = 2**31 - 1


@dataclass(frozen=True, slots=True)
class FeedPage:
    changes: list[ChangeOut]
    #: The sequence number to resume after (the last change's, or ``since`` if none).
    cursor: str
    has_more: bool
    #: Changes after ``since`` (all pages).
    total: int


def parse_since(since: str | None) -> int:
    """The sequence number a ``since`` cursor resumes after; 400 when it is not one."""
    if not since:
        return 0
    # ASCII digits only ("²".isdigit() is true, and int("²") fails).
    if not (since.isascii() and since.isdigit()) or len(since) > 18:
        raise InvalidParameter(
            "since is not a cursor from this feed",
            errors=[FieldProblem("since", "pass meta.next_cursor of the previous page, or 0")],
        )
    # Sequence numbers are 32-bit integers: nothing follows the largest one, and a
    # larger number must not reach PostgreSQL ("integer out of range").
    return min(int(since), MAX_SEQ)


def changes_after(session: Session, after: int, limit: int) -> FeedPage:
    """Up to ``limit`` changes after sequence number ``after``, in commit order."""
    rows = session.scalars(
        select(Change).where(Change.seq > after).order_by(Change.seq).limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    public = _public_entries(session, rows)
    changes = [
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
    total = len(rows) if not has_more else _count_after(session, after)
    return FeedPage(changes, str(rows[-1].seq if rows else after), has_more, total)


def _count_after(session: Session, after: int) -> int:
    """How many changes follow sequence number ``after`` (a range of the primary key)."""
    return session.scalar(select(func.count()).select_from(Change).where(Change.seq > after)) or 0


def _public_entries(session: Session, rows: Any) -> dict[tuple[int | None, int | None], Any]:
    """The public bundle entry after each material change (one query for the page)."""
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
