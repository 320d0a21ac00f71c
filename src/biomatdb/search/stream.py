"""Every match of a search, a batch at a time, in the search's order (exports).

Each batch is one keyset page, and each starts a fresh database budget and a fresh
read transaction: an export of 100,000 materials is 100 short queries, not one long
statement, so it holds neither a worker thread nor a snapshot for long, and its
memory is one batch whatever the size of the result.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.db import start_budget
from biomatdb.models import Material, PropertySummary
from biomatdb.search import repository
from biomatdb.search.query import SearchQuery
from biomatdb.settings import get_settings

#: Materials per batch of an export.
BATCH = 1000


def fresh_budget(session: Session) -> None:
    """End the read transaction and give the next statements a new budget."""
    session.commit()
    start_budget(get_settings().query_timeout_seconds)


def matches(
    session: Session, query: SearchQuery, *, batch: int | None = None
) -> Iterator[list[Any]]:
    """The rows (``repository.ROW_COLUMNS``) of every match, in the search's order, a
    batch (default :data:`BATCH`) at a time."""
    paged = copy.copy(query)
    paged.limit = batch or BATCH
    after: list[Any] | None = None
    fresh_budget(session)
    where = repository.conditions(session, paged)
    while True:
        rows, after = repository.page(session, paged, where, after)
        if rows:
            yield rows
        if after is None:
            return
        fresh_budget(session)


def property_keys(session: Session, query: SearchQuery) -> list[str]:
    """The keys of the properties that at least one match has, in catalogue order."""
    fresh_budget(session)
    where = repository.conditions(session, query)
    matching = select(Material.id).where(*where)
    present = set(
        session.scalars(
            select(PropertySummary.property_key)
            .where(PropertySummary.material_id.in_(matching))
            .distinct()
        )
    )
    return [p.key for p in catalogue.CATALOGUE if p.key in present]
