"""Keyset pages of rows ordered by a unique text key (``slug``): the listing of
organizations and references, and any list that pages by id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from biomatdb.kit import cursor as cursors

Row = TypeVar("Row")

#: Page sizes of every list: the default and the most one page may hold.
DEFAULT_LIMIT = 20
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page: its rows, how many match in all, and the cursor of the next page."""

    rows: list[Row]
    total: int
    next_cursor: str | None


def slug_page(
    session: Session,
    model: type[Row],
    key: InstrumentedAttribute[str],
    where: list[ColumnElement[bool]],
    *,
    fingerprint: str,
    cursor: str | None,
    limit: int,
) -> Page[Row]:
    """Rows of ``model`` matching ``where`` after ``cursor``, by ``key``; the cursor is
    bound to ``fingerprint`` (the filters), so it cannot resume another listing."""
    stmt: Select[Any] = select(model).where(*where).order_by(key)
    if cursor:
        after = cursors.decode(cursor, fingerprint)
        if len(after) != 1 or not isinstance(after[0], str):
            raise cursors.bad_cursor()
        stmt = stmt.where(key > after[0])
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursors.encode(fingerprint, [getattr(rows[-1], key.key)]) if more else None
    total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return Page(rows, total, next_cursor)
