"""The SQL of search: filters, keyset pages, counts and facets.

Every filter is an indexed EXISTS or IN on ``materials.id``; the page, the
total and each facet are one query each, whatever the page size.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.models import (
    Material,
    MaterialApplication,
    Organization,
    PropertySummary,
    PropertyValue,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.search import fulltext
from biomatdb.search.params import SearchQuery
from biomatdb.vocab import MaterialStatus


def conditions(session: Session, query: SearchQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a search (published materials only).

    Each filter on a child table is an uncorrelated ``materials.id IN (SELECT
    material_id ...)``: the subquery runs once on its own index (e.g. property_key,
    canonical_min), instead of once per material as a correlated EXISTS would.
    """
    clauses: list[ColumnElement[bool]] = [Material.status == MaterialStatus.published.value]
    if query.words:
        clauses.append(fulltext.for_session(session).matching(query.words))
    if query.classes:
        clauses.append(Material.material_class.in_(query.classes))
    if query.applications:
        clauses.append(
            Material.id.in_(
                select(MaterialApplication.material_id).where(
                    MaterialApplication.application.in_(query.applications)
                )
            )
        )
    if query.degradable is not None:
        clauses.append(Material.degradable.is_(query.degradable))
    for prop in query.ranges:
        # Overlap of closed intervals: value [a, b] meets query [lo, hi] when
        # a <= hi and b >= lo; a missing query bound is unbounded.
        parts: list[ColumnElement[bool]] = [PropertyValue.property_key == prop.key]
        if prop.high is not None:
            parts.append(PropertyValue.canonical_min <= prop.high)
        if prop.low is not None:
            parts.append(PropertyValue.canonical_max >= prop.low)
        clauses.append(Material.id.in_(select(PropertyValue.material_id).where(*parts)))
    for jurisdiction, status in query.regulatory:
        parts = [RegulatoryRecord.jurisdiction == jurisdiction]
        if status is not None:
            parts.append(RegulatoryRecord.status == status)
        clauses.append(Material.id.in_(select(RegulatoryRecord.material_id).where(*parts)))
    if query.supplier is not None or query.country is not None:
        parts = []
        if query.supplier is not None:
            parts.append(Organization.slug == query.supplier)
        if query.country is not None:
            parts.append(Organization.country == query.country)
        clauses.append(
            Material.id.in_(
                select(SupplierOffering.material_id)
                .join(Organization, Organization.id == SupplierOffering.organization_id)
                .where(*parts)
            )
        )
    return clauses


def _bad_cursor() -> InvalidParameter:
    message = "is not a cursor from this API; pass meta.next_cursor exactly as received"
    return InvalidParameter(f"cursor {message}", errors=[FieldProblem("cursor", message)])


#: The columns of a search result row (Core rows: no ORM objects on the hot path).
ROW_COLUMNS = (
    Material.id,
    Material.slug,
    Material.name,
    Material.material_class,
    Material.subclass,
    Material.degradable,
    Material.updated_at,
)


def page(
    session: Session, query: SearchQuery, where: list[ColumnElement[bool]], after: list[Any] | None
) -> tuple[list[Any], list[Any] | None]:
    """One page of result rows and the sort key of its last row when more follow."""
    sort = query.sort
    limit = query.limit + 1
    if sort.property_key is not None:
        rows, keys = _page_by_property(session, query, where, after, limit)
    else:
        column = Material.sort_name if sort.field == "name" else Material.updated_at
        stmt = select(*ROW_COLUMNS, column).where(*where)
        stmt = stmt.order_by(column.desc() if sort.descending else column.asc(), Material.slug)
        if after is not None:
            stmt = stmt.where(
                _after_column(column, after, field=sort.field, descending=sort.descending)
            )
        found = session.execute(stmt.limit(limit)).all()
        rows = [r[:-1] for r in found]
        keys = [r[-1] for r in found]
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    if not more or not rows:
        return rows, None
    last_value = keys[query.limit - 1]
    if isinstance(last_value, datetime):
        last_value = last_value.isoformat()
    return rows, [last_value, rows[-1][1]]


def _page_by_property(
    session: Session,
    query: SearchQuery,
    where: list[ColumnElement[bool]],
    after: list[Any] | None,
    limit: int,
) -> tuple[list[Any], list[Any]]:
    """Sort by a property's typical value, materials without it last, in two phases.

    Phase 1 walks the summaries index (property_key, typical) in order and stops
    after a page; phase 2, reached only at the end of phase 1, lists the
    materials without the property by id. An outer join ordered by
    ``typical IS NULL`` would instead sort every matching material for each page.
    """
    sort = query.sort
    key = sort.property_key
    typical = PropertySummary.typical
    rows: list[Any] = []
    keys: list[Any] = []
    if after is not None and (len(after) != 2 or not isinstance(after[1], str)):
        raise _bad_cursor()  # e.g. an empty keyset, which no page of this API ends with
    in_phase_two = after is not None and after[0] is None
    if not in_phase_two:
        stmt = (
            select(*ROW_COLUMNS, typical)
            .join(PropertySummary, PropertySummary.material_id == Material.id)
            .where(PropertySummary.property_key == key, *where)
            .order_by(typical.desc() if sort.descending else typical.asc(), Material.slug)
        )
        if after is not None:
            value = _typical_bound(after)
            beyond = typical < value if sort.descending else typical > value
            stmt = stmt.where(or_(beyond, and_(typical == value, Material.slug > after[1])))
        found = session.execute(stmt.limit(limit)).all()
        rows = [r[:-1] for r in found]
        keys = [r[-1] for r in found]
    if len(rows) < limit:
        without = (
            select(*ROW_COLUMNS)
            .where(
                *where,
                Material.id.not_in(
                    select(PropertySummary.material_id).where(PropertySummary.property_key == key)
                ),
            )
            .order_by(Material.slug)
        )
        if in_phase_two:
            assert after is not None
            without = without.where(Material.slug > after[1])
        more = session.execute(without.limit(limit - len(rows))).all()
        rows += list(more)
        keys += [None] * len(more)
    return rows, keys


def _typical_bound(after: list[Any]) -> float:
    if len(after) != 2 or not isinstance(after[1], str):
        raise _bad_cursor()
    raw = after[0]
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _bad_cursor()
    value = float(raw)  # an integer beyond 64 bits must not reach the driver
    if not math.isfinite(value):
        raise _bad_cursor()
    return value


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
        for row in session.execute(
            select(
                PropertySummary.material_id,
                PropertySummary.property_key,
                PropertySummary.canonical_min,
                PropertySummary.canonical_max,
                PropertySummary.typical,
                PropertySummary.value_count,
            )
            .where(PropertySummary.material_id.in_(ids))
            .order_by(PropertySummary.material_id, PropertySummary.property_key)
        ):
            summaries[row[0]].append(row[1:])
    return applications, summaries


def _after_column(
    column: Any, after: list[Any], *, field: str, descending: bool
) -> ColumnElement[bool]:
    if len(after) != 2 or not all(isinstance(v, str) for v in after):
        raise _bad_cursor()
    value: Any = after[0]
    if field == "updated_at":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _bad_cursor() from None
        if value.tzinfo is None:
            raise _bad_cursor()
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, Material.slug > after[1]))


def total(session: Session, where: list[ColumnElement[bool]]) -> int:
    """How many materials match."""
    return session.scalar(select(func.count()).select_from(Material).where(*where)) or 0


def facets(
    session: Session, names: list[str], where: list[ColumnElement[bool]]
) -> dict[str, dict[str, int]]:
    """Counts of matching materials per value of each requested facet."""
    matching = select(Material.id).where(*where).scalar_subquery()
    result: dict[str, dict[str, int]] = {}
    for name in names:
        if name == "class":
            rows = session.execute(
                select(Material.material_class, func.count())
                .where(*where)
                .group_by(Material.material_class)
                .order_by(Material.material_class)
            )
            result[name] = dict(rows.all())
        elif name == "degradable":
            rows = session.execute(
                select(Material.degradable, func.count())
                .where(*where)
                .group_by(Material.degradable)
            )
            by_value: dict[bool | None, int] = {
                bool(k) if k is not None else None: n for k, n in rows
            }
            result[name] = {
                label: by_value[value]
                for value, label in ((True, "true"), (False, "false"), (None, "unknown"))
                if value in by_value
            }
        elif name == "application":
            rows = session.execute(
                select(
                    MaterialApplication.application,
                    func.count(MaterialApplication.material_id.distinct()),
                )
                .where(MaterialApplication.material_id.in_(matching))
                .group_by(MaterialApplication.application)
                .order_by(MaterialApplication.application)
            )
            result[name] = dict(rows.all())
        elif name == "regulatory":
            counts: dict[str, int] = {}
            for jurisdiction, n in session.execute(
                select(
                    RegulatoryRecord.jurisdiction,
                    func.count(RegulatoryRecord.material_id.distinct()),
                )
                .where(RegulatoryRecord.material_id.in_(matching))
                .group_by(RegulatoryRecord.jurisdiction)
                .order_by(RegulatoryRecord.jurisdiction)
            ):
                counts[jurisdiction] = n
            for jurisdiction, status, n in session.execute(
                select(
                    RegulatoryRecord.jurisdiction,
                    RegulatoryRecord.status,
                    func.count(RegulatoryRecord.material_id.distinct()),
                )
                .where(RegulatoryRecord.material_id.in_(matching))
                .group_by(RegulatoryRecord.jurisdiction, RegulatoryRecord.status)
                .order_by(RegulatoryRecord.jurisdiction, RegulatoryRecord.status)
            ):
                counts[f"{jurisdiction}:{status}"] = n
            result[name] = counts
        elif name == "country":
            rows = session.execute(
                select(Organization.country, func.count(SupplierOffering.material_id.distinct()))
                .join(Organization, Organization.id == SupplierOffering.organization_id)
                .where(
                    SupplierOffering.material_id.in_(matching), Organization.country.is_not(None)
                )
                .group_by(Organization.country)
                .order_by(Organization.country)
            )
            result[name] = dict(rows.all())
    return result
