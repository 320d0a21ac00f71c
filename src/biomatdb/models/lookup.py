"""Near misses of ids: ``/materials/ti-6al-4v`` -> did you mean ``ti-6al-4v-eli``?"""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

#: Candidates read per lookup (ids that share the first characters).
CANDIDATES = 500


def near_id(session: Session, column: Any, given: str, *where: ColumnElement[bool]) -> str | None:
    """The id in ``column`` (among rows matching ``where``) nearest to ``given``:
    one that starts with it, else the closest of those sharing its first three
    characters; None when nothing is near."""
    text = given[:128]
    if len(text) < 2:
        return None
    found: list[str] = list(
        session.scalars(
            select(column)
            .where(column.startswith(text[:3], autoescape=True), *where)
            .order_by(column)
            .limit(CANDIDATES)
        )
    )
    longer = [slug for slug in found if slug.startswith(text)]
    if longer:
        shortest: str = min(longer, key=len)
        return shortest
    near = difflib.get_close_matches(text, found, n=1, cutoff=0.75)
    return near[0] if near else None


def hint(near: str | None) -> str:
    """``; did you mean 'x'?`` or nothing."""
    return f"; did you mean {near!r}?" if near else ""
