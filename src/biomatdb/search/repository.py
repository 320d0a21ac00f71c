"""The SQL of search: filters, keyset pages, counts and facets.

Every filter is an indexed IN on ``materials.id`` (see ``filters``); the page, the
total and each facet are one query each, whatever the page size. What each filter,
sort and facet does is in its class; this module puts them together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from biomatdb.models import Material, MaterialApplication, PropertySummary
from biomatdb.search.facets import FACETS
from biomatdb.search.filters import FILTERS
from biomatdb.search.query import SearchQuery
from biomatdb.search.sorts import ROW_COLUMNS, SORTS
from biomatdb.vocab import MaterialStatus

__all__ = ["ROW_COLUMNS", "conditions", "facets", "page", "page_extras", "total"]


def conditions(session: Session, query: SearchQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search (published materials only), filter by filter."""
    clauses: list[ColumnElement[bool]] = [Material.status == MaterialStatus.published.value]
    for filter_ in FILTERS:
        value = query.filters.get(filter_.name)
        if value is not None:
            clauses.extend(filter_.clauses(session, value))
    return clauses


def page(
    session: Session, query: SearchQuery, where: list[ColumnElement[bool]], after: list[Any] | None
) -> tuple[list[Any], list[Any] | None]:
    """One page of result rows and the keyset of its last row when more follow.

    ``after`` is the keyset of a cursor, checked by the sort (a 400 when no page
    of this API ends with it).
    """
    kind = SORTS[query.sort.field]
    keyset = kind.decode(after) if after is not None else None
    rows, keys = kind.page(session, query.sort, where, keyset, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if not more or not rows:
        return rows, None
    return rows, [kind.encode(keys[query.limit - 1]), rows[-1][1]]


def page_extras(
    session: Session, ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[Any]]]:
    """Applications and property summaries of a page's materials (two queries)."""
    applications: dict[int, list[str]] = {i: [] for i in ids}
    summaries: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        for mid, application in session.execute(
            select(MaterialApplication.material_id, MaterialApplication.application)
            .where(MaterialApplication.material_id.in_(ids))
            .order_by(MaterialApplication.material_id, MaterialApplication.position)
        ):
            applications[mid].append(application)
        for row in summary_rows(session, ids):
            summaries[row[0]].append(row[1:])
    return applications, summaries


def total(session: Session, where: list[ColumnElement[bool]]) -> int:
    """How many materials match."""
    return session.scalar(select(func.count()).select_from(Material).where(*where)) or 0


def facets(
    session: Session, names: list[str], where: list[ColumnElement[bool]]
) -> dict[str, dict[str, int]]:
    """Counts of matching materials per value of each requested facet."""
    matching = select(Material.id).where(*where).scalar_subquery()
    return {name: FACETS[name].count(session, where, matching) for name in names}


def summary_rows(session: Session, ids: list[int], keys: list[str] | None = None) -> Any:
    """``(material id, property key, min, max, typical, count, digits)`` of the materials'
    property summaries (only ``keys``, when given), by material and key: one query."""
    stmt = (
        select(
            PropertySummary.material_id,
            PropertySummary.property_key,
            PropertySummary.canonical_min,
            PropertySummary.canonical_max,
            PropertySummary.typical,
            PropertySummary.value_count,
            PropertySummary.digits,
        )
        .where(PropertySummary.material_id.in_(ids))
        .order_by(PropertySummary.material_id, PropertySummary.property_key)
    )
    if keys is not None:
        stmt = stmt.where(PropertySummary.property_key.in_(keys))
    return session.execute(stmt)
