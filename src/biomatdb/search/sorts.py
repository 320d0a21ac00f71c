"""Result orders: ``sort=[-]NAME[:ARGUMENT]``, one registered :class:`SortKind` per NAME.

A sort kind parses its spelling, fetches a page in its order after a keyset, and
encodes / decodes the keyset a cursor carries: ``[value, id]`` of the last row of
the previous page (ties are broken by id, ascending, in both directions).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Float, and_, literal, or_, select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.errors import FieldProblem
from biomatdb.kit.cursor import bad_cursor
from biomatdb.models import Material, PropertySummary, PropertyValue
from biomatdb.search import fulltext
from biomatdb.search.base import Registry
from biomatdb.search.filters import ranges_in

#: The columns of a search result row (Core rows: no ORM objects on the hot path).
ROW_COLUMNS = (
    Material.id,
    Material.slug,
    Material.name,
    Material.material_class,
    Material.subclass,
    Material.degradable,
    Material.updated_at,
    Material.summary,
)


@dataclass(frozen=True, slots=True)
class Sort:
    """A parsed ``sort``: a registered sort kind, a direction and its argument (a property key)."""

    field: str
    descending: bool
    argument: str | None = None

    @property
    def text(self) -> str:
        """The canonical spelling (part of the fingerprint: never change it)."""
        base = f"{self.field}:{self.argument}" if self.argument else self.field
        return ("-" if self.descending else "") + base


DEFAULT_SORT = Sort("name", False)


class SortKind(ABC):
    """One order of search results."""

    name: ClassVar[str]
    #: The argument after ``NAME:``, as documented (``KEY``); None: the sort takes none.
    argument: ClassVar[str | None] = None

    @property
    def spelling(self) -> str:
        return self.name if self.argument is None else f"{self.name}:{self.argument}"

    def parse(self, descending: bool, argument: str, problems: list[FieldProblem]) -> Sort | None:
        """The sort, or None with a problem at ``sort`` (an unknown argument)."""
        return Sort(self.name, descending)

    @abstractmethod
    def decode(self, keyset: list[Any]) -> list[Any]:
        """A cursor's keyset, checked (length, types) and converted; else the 400 of
        :func:`biomatdb.kit.cursor.bad_cursor`."""

    @abstractmethod
    def page(
        self,
        session: Session,
        sort: Sort,
        where: list[ColumnElement[bool]],
        after: list[Any] | None,
        limit: int,
    ) -> tuple[list[Any], list[Any]]:
        """Up to ``limit`` rows (:data:`ROW_COLUMNS`) after the decoded keyset, and the
        sort value of each."""

    def encode(self, value: Any) -> Any:
        """The JSON form of a row's sort value in a cursor."""
        return value


SORTS: Registry[SortKind] = Registry("sort")


def finite_number(raw: Any) -> float:
    """A number of a cursor's keyset as a float (an integer beyond 64 bits must not
    reach the driver); anything else is the 400 of a bad cursor."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise bad_cursor()
    value = float(raw)
    if not math.isfinite(value):
        raise bad_cursor()
    return value


def after_keyset(column: Any, value: Any, slug: str, descending: bool) -> ColumnElement[bool]:
    """The rows after ``(value, slug)`` in the order ``column`` (either way), then
    ``slug``. The leading ``column >= value`` (or ``<=``) is what lets the index seek
    to the page: with the OR alone, both databases walk the index from its start and
    filter, so that the 100th page of an export cost 100 times the first."""
    if descending:
        bound, beyond = column <= value, column < value
    else:
        bound, beyond = column >= value, column > value
    return and_(bound, or_(beyond, and_(column == value, Material.slug > slug)))


class ColumnSort(SortKind):
    """An order by one column of ``materials``, then by id."""

    @abstractmethod
    def column(self) -> Any:
        """The column (an ORM attribute is a descriptor: it cannot be a class attribute)."""

    def decode_value(self, raw: str) -> Any:
        """The column value from its text in a cursor (column values travel as text)."""
        return raw

    def decode(self, keyset: list[Any]) -> list[Any]:
        if len(keyset) != 2 or not all(isinstance(v, str) for v in keyset):
            raise bad_cursor()
        return [self.decode_value(keyset[0]), keyset[1]]

    def order_by(self, sort: Sort) -> list[Any]:
        column = self.column()
        return [column.desc() if sort.descending else column.asc(), Material.slug]

    def after(self, sort: Sort, keyset: list[Any]) -> ColumnElement[bool]:
        return after_keyset(self.column(), keyset[0], keyset[1], sort.descending)

    def page(
        self,
        session: Session,
        sort: Sort,
        where: list[ColumnElement[bool]],
        after: list[Any] | None,
        limit: int,
    ) -> tuple[list[Any], list[Any]]:
        stmt = select(*ROW_COLUMNS, self.column()).where(*where).order_by(*self.order_by(sort))
        if after is not None:
            stmt = stmt.where(self.after(sort, after))
        found = session.execute(stmt.limit(limit)).all()
        return [r[:-1] for r in found], [r[-1] for r in found]


@SORTS.register
class NameSort(ColumnSort):
    """``name``: by the sort form of the name (the default)."""

    name = "name"

    def column(self) -> Any:
        return Material.sort_name

    def page(
        self,
        session: Session,
        sort: Sort,
        where: list[ColumnElement[bool]],
        after: list[Any] | None,
        limit: int,
    ) -> tuple[list[Any], list[Any]]:
        """With a property range on PostgreSQL: the range's values walked in name order.

        PostgreSQL cannot estimate an interval overlap (``min <= hi AND max >= lo``;
        it assumes the two are independent), so it walks the materials' name index
        and probes each for a value in range: 6,396 materials for the first page of
        Young's modulus 10-30 GPa at 100,000 (61 ms). Values carry their material's
        sort name and an index (key, name, material, min, max) serves the range in
        name order, tested on the index itself: 34 entries, 1.3 ms. Grouped by
        material, so one with several values in range is one row. SQLite plans this
        form with temporary b-trees (slower than its own plan): it keeps the other.
        """
        ranges = ranges_in(where)
        if not ranges or session.get_bind().dialect.name != "postgresql":
            return super().page(session, sort, where, after, limit)
        driver = ranges[0]
        name = PropertyValue.material_sort_name
        stmt = (
            select(*ROW_COLUMNS, name)
            .join(PropertyValue, PropertyValue.material_id == Material.id)
            .where(*driver.value_conditions, *(c for c in where if c is not driver))
            .group_by(name, Material.slug, Material.id)
            .order_by(name.desc() if sort.descending else name.asc(), Material.slug)
        )
        if after is not None:
            stmt = stmt.where(after_keyset(name, after[0], after[1], sort.descending))
        found = session.execute(stmt.limit(limit)).all()
        return [r[:-1] for r in found], [r[-1] for r in found]


@SORTS.register
class UpdatedAtSort(ColumnSort):
    """``updated_at``: by the time of the last change."""

    name = "updated_at"

    def column(self) -> Any:
        return Material.updated_at

    def decode_value(self, raw: str) -> Any:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise bad_cursor() from None
        if value.tzinfo is None:
            raise bad_cursor()
        return value

    def encode(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value


@SORTS.register
class PropertySort(SortKind):
    """``prop:KEY``: by a property's typical value, materials without it last."""

    name = "prop"
    argument = "KEY"

    def parse(self, descending: bool, argument: str, problems: list[FieldProblem]) -> Sort | None:
        if catalogue.get(argument) is None:
            problems.append(FieldProblem("sort", "in sort: " + catalogue.unknown_key(argument)))
            return None
        return Sort(self.name, descending, argument)

    def decode(self, keyset: list[Any]) -> list[Any]:
        if len(keyset) != 2 or not isinstance(keyset[1], str):
            raise bad_cursor()  # e.g. an empty keyset, which no page of this API ends with
        if keyset[0] is None:  # the last page ended among the materials without the property
            return keyset
        return [finite_number(keyset[0]), keyset[1]]

    def page(
        self,
        session: Session,
        sort: Sort,
        where: list[ColumnElement[bool]],
        after: list[Any] | None,
        limit: int,
    ) -> tuple[list[Any], list[Any]]:
        """Two phases: phase 1 walks the summaries index (property_key, typical) in
        order and stops after a page; phase 2, reached only at the end of phase 1,
        lists the materials without the property by id. An outer join ordered by
        ``typical IS NULL`` would instead sort every matching material for each page.
        """
        key = sort.argument
        typical = PropertySummary.typical
        rows: list[Any] = []
        keys: list[Any] = []
        in_phase_two = after is not None and after[0] is None
        if not in_phase_two:
            stmt = (
                select(*ROW_COLUMNS, typical)
                .join(PropertySummary, PropertySummary.material_id == Material.id)
                .where(PropertySummary.property_key == key, *where)
                .order_by(typical.desc() if sort.descending else typical.asc(), Material.slug)
            )
            if after is not None:
                stmt = stmt.where(after_keyset(typical, after[0], after[1], sort.descending))
            found = session.execute(stmt.limit(limit)).all()
            rows = [r[:-1] for r in found]
            keys = [r[-1] for r in found]
        if len(rows) < limit:
            without = (
                select(*ROW_COLUMNS)
                .where(
                    *where,
                    Material.id.not_in(
                        select(PropertySummary.material_id).where(
                            PropertySummary.property_key == key
                        )
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


@SORTS.register
class RelevanceSort(SortKind):
    """``relevance``: the best full-text matches first (bm25 on SQLite, ts_rank on
    PostgreSQL), ties by id; needs ``q`` (the ``q`` filter refuses it without).

    The keyset is ``[rank, id]``: the rank is a float that the same query on the
    same index computes again exactly, so a cursor continues where its page ended;
    a write between two pages may move the ranks (as any cursor over changing data
    may skip or repeat a row)."""

    name = "relevance"

    def decode(self, keyset: list[Any]) -> list[Any]:
        if len(keyset) != 2 or not isinstance(keyset[1], str):
            raise bad_cursor()
        return [finite_number(keyset[0]), keyset[1]]

    def page(
        self,
        session: Session,
        sort: Sort,
        where: list[ColumnElement[bool]],
        after: list[Any] | None,
        limit: int,
    ) -> tuple[list[Any], list[Any]]:
        found = fulltext.matching_in(where)
        if found is None:  # a query built in code without words: every rank is 0
            rank: Any = literal(0.0, Float)
            stmt = select(*ROW_COLUMNS, rank).where(*where)
        else:
            ranks = fulltext.for_session(session).ranks(found.text_query)
            rank = ranks.c.rank
            # The join does what the matching condition did: it is left out.
            rest = [c for c in where if c is not found]
            stmt = (
                select(*ROW_COLUMNS, rank)
                .join(ranks, ranks.c.material_id == Material.id)
                .where(*rest)
            )
        stmt = stmt.order_by(rank.desc() if sort.descending else rank.asc(), Material.slug)
        if after is not None:
            stmt = stmt.where(after_keyset(rank, after[0], after[1], sort.descending))
        rows = session.execute(stmt.limit(limit)).all()
        return [r[:-1] for r in rows], [r[-1] for r in rows]


def spellings() -> tuple[str, ...]:
    """Every accepted form, for documentation and errors: ``name``, ``-name``, ..."""
    return tuple(sign + kind.spelling for kind in SORTS for sign in ("", "-"))


def parse_sort(text: str, problems: list[FieldProblem]) -> Sort | None:
    """``[-]NAME[:ARGUMENT]``, or None with a problem at ``sort``."""
    descending = text.startswith("-")
    name, colon, argument = (text[1:] if descending else text).partition(":")
    if name in SORTS:
        kind = SORTS[name]
        if bool(colon) == (kind.argument is not None):
            return kind.parse(descending, argument, problems)
    problems.append(
        FieldProblem("sort", f"unknown sort {text!r}; choose from " + ", ".join(spellings()))
    )
    return None
