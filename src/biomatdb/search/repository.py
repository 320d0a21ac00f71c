"""The SQL of search: filters, keyset pages, counts and facets.

Every filter is an indexed EXISTS or IN on ``materials.id``; the page, the
total and each facet are one query each, whatever the page size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased, selectinload

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


def page(
    session: Session, query: SearchQuery, where: list[ColumnElement[bool]], after: list[Any] | None
) -> tuple[Sequence[Material], list[Any] | None]:
    """One page of materials and the sort key of its last row when more follow."""
    sort = query.sort
    stmt: Any
    if sort.property_key is not None:
        summary = aliased(PropertySummary)
        typical = summary.typical
        stmt = select(Material, typical).outerjoin(
            summary,
            and_(summary.material_id == Material.id, summary.property_key == sort.property_key),
        )
        order_value = typical.desc() if sort.descending else typical.asc()
        stmt = stmt.where(*where).order_by(typical.is_(None), order_value, Material.slug)
        if after is not None:
            stmt = stmt.where(_after_typical(typical, after, descending=sort.descending))
    else:
        column = Material.sort_name if sort.field == "name" else Material.updated_at
        stmt = select(Material, column).where(*where)
        stmt = stmt.order_by(column.desc() if sort.descending else column.asc(), Material.slug)
        if after is not None:
            stmt = stmt.where(
                _after_column(column, after, field=sort.field, descending=sort.descending)
            )
    stmt = stmt.options(selectinload(Material.applications), selectinload(Material.summaries))
    rows = session.execute(stmt.limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    materials = [row[0] for row in rows]
    if not more or not rows:
        return materials, None
    last_material, last_value = rows[-1]
    if isinstance(last_value, datetime):
        last_value = last_value.isoformat()
    return materials, [last_value, last_material.slug]


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


def _after_typical(typical: Any, after: list[Any], *, descending: bool) -> ColumnElement[bool]:
    if len(after) != 2 or not isinstance(after[1], str):
        raise _bad_cursor()
    raw, slug = after
    if raw is None:  # already among the materials without the property (sorted last)
        return and_(typical.is_(None), Material.slug > slug)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _bad_cursor()
    value = float(raw)  # an integer beyond 64 bits must not reach the driver
    if not math.isfinite(value):
        raise _bad_cursor()
    beyond = typical < value if descending else typical > value
    return or_(beyond, and_(typical == value, Material.slug > slug), typical.is_(None))


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
