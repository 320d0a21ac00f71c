"""The SQL of search: filters, keyset pages, counts and facets.

Every filter is an indexed IN on ``materials.id`` (see ``filters``); the page, the
total and each facet are one query each, whatever the page size. What each filter,
sort and facet does is in its class; this module puts them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ARRAY, ColumnElement, Integer, String, func, literal, select
from sqlalchemy.orm import Session

from biomatdb.models import Material, MaterialApplication, PropertySummary
from biomatdb.search.facets import FACETS
from biomatdb.search.filters import FILTERS
from biomatdb.search.query import SearchQuery
from biomatdb.search.sorts import ROW_COLUMNS, SORTS
from biomatdb.vocab import MaterialStatus

__all__ = [
    "ROW_COLUMNS",
    "applications_of",
    "conditions",
    "facet",
    "page",
    "published_among",
    "slug_in",
    "summary_rows",
    "total",
]


#: Up to this many ids are an ``IN`` list; more travel as one array parameter.
SHORT_ID_LIST = 100


def among(session: Session, column: Any, values: Sequence[Any], kind: Any) -> ColumnElement[bool]:
    """``column`` among ``values`` as one bound parameter however many there are (see
    :func:`slug_in`; ``kind``: the SQL type of a value, String or Integer)."""
    if len(values) <= SHORT_ID_LIST:
        return column.in_(values)  # type: ignore[no-any-return]
    if session.get_bind().dialect.name == "postgresql":
        return column.in_(select(func.unnest(literal(list(values), ARRAY(kind)))))  # type: ignore[no-any-return]
    listed = func.json_each(literal(orjson.dumps(list(values)).decode())).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def slug_in(session: Session, slugs: Sequence[str]) -> ColumnElement[bool]:
    """``materials.slug`` among ``slugs``, as one bound parameter however many there
    are: an ``IN`` list of 10,000 placeholders costs SQLAlchemy 25 ms to compile and
    psycopg 125 ms to parse. PostgreSQL takes a text array (``= ANY``), SQLite a
    JSON array (``IN (SELECT value FROM json_each(...))``); both probe the id index
    (``= ANY(array)`` would be a scan testing every row against the whole array)."""
    return among(session, Material.slug, slugs, String)


def published_among(session: Session, slugs: Sequence[str]) -> list[ColumnElement[bool]]:
    """Published materials of these ids, found through the unique id index.

    The status test is written so that no index serves it: without statistics
    SQLite would otherwise walk the status index over every published material
    (13 ms at 100,000) instead of looking up the ids (0.1 ms).
    """
    return [slug_in(session, slugs), Material.status + "" == MaterialStatus.published.value]


def conditions(
    session: Session, query: SearchQuery, *, among: Sequence[str] | None = None
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search (published materials only), filter by filter;
    ``among``: only these material ids (see :func:`published_among`)."""
    clauses: list[ColumnElement[bool]] = (
        [Material.status == MaterialStatus.published.value]
        if among is None
        else published_among(session, among)
    )
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


def applications_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Each material's applications, in their order (one query)."""
    applications: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for mid, application in session.connection().execute(
            select(MaterialApplication.material_id, MaterialApplication.application)
            .where(among(session, MaterialApplication.material_id, ids, Integer))
            .order_by(MaterialApplication.material_id, MaterialApplication.position)
        ):
            applications[mid].append(application)
    return applications


def total(session: Session, where: list[ColumnElement[bool]]) -> int:
    """How many materials match."""
    return session.scalar(select(func.count()).select_from(Material).where(*where)) or 0


def facet(session: Session, name: str, where: list[ColumnElement[bool]]) -> dict[str, int]:
    """Counts of matching materials per value of one facet."""
    matching = select(Material.id).where(*where).scalar_subquery()
    return FACETS[name].count(session, where, matching)


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
    # Core rows (not ORM results): a batch of an export reads 15,000 of them.
    return session.connection().execute(stmt)
