"""The values table: every value of the matching materials, ordered by material id,
property and position, in keyset pages (JSON) or streamed whole (CSV, NDJSON)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session

from biomatdb import units
from biomatdb.api.tabular import CsvLines, ndjson_lines
from biomatdb.kit import cursor as cursors
from biomatdb.kit.hashing import json_hash
from biomatdb.models import Material, PropertyValue, Reference
from biomatdb.search import repository, stream
from biomatdb.search.filters import of_specimens
from biomatdb.search.query import SearchQuery
from biomatdb.units.output import OutputUnits
from biomatdb.values.schemas import COLUMNS

#: Values per batch of a streamed export.
BATCH = 2000

_ORDER = (Material.slug, PropertyValue.property_key, PropertyValue.position)


@dataclass(frozen=True)
class ValuesQuery:
    """A search's filters, the properties to list (None: all) and the output units."""

    search: SearchQuery
    keys: list[str] | None
    out: OutputUnits

    def fingerprint(self) -> str:
        """What a cursor is bound to (the filters and the property list)."""
        return json_hash(["values", self.search.fingerprint(), self.keys])[:16]


def page(
    session: Session, query: ValuesQuery, *, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of value rows, the total and the next page's cursor."""
    where = _where(session, query)
    keyset = _decode(after, query.fingerprint()) if after else None
    found = session.execute(_select(where, keyset).limit(limit + 1)).all()
    more = len(found) > limit
    found = found[:limit]
    total = session.scalar(
        select(func.count())
        .select_from(Material)
        .join(PropertyValue, PropertyValue.material_id == Material.id)
        .where(*where)
    )
    next_cursor = (
        cursors.encode(query.fingerprint(), list(found[-1][:3])) if more and found else None
    )
    return [_row(r, query.out) for r in found], total or 0, next_cursor


def rows(session: Session, query: ValuesQuery) -> Iterator[list[dict[str, Any]]]:
    """Every value row, a batch at a time, each batch in a fresh budget."""
    stream.fresh_budget(session)
    where = _where(session, query)
    keyset: tuple[Any, ...] | None = None
    while True:
        found = session.execute(_select(where, keyset).limit(BATCH)).all()
        if found:
            yield [_row(r, query.out) for r in found]
        if len(found) < BATCH:
            return
        keyset = tuple(found[-1][:3])
        stream.fresh_budget(session)


def csv(session: Session, query: ValuesQuery) -> Iterator[bytes]:
    """The values as CSV with a header row (``COLUMNS``); conditions as JSON text."""
    lines = CsvLines()
    yield lines.rows([COLUMNS])
    for batch in rows(session, query):
        yield lines.rows([_csv_cell(row[column]) for column in COLUMNS] for row in batch)


def ndjson(session: Session, query: ValuesQuery) -> Iterator[bytes]:
    """The values as NDJSON, one row per line."""
    for batch in rows(session, query):
        yield ndjson_lines(batch)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict):
        return orjson.dumps(value).decode("utf-8")
    return value


def _where(session: Session, query: ValuesQuery) -> list[ColumnElement[bool]]:
    where = repository.conditions(session, query.search)
    if query.keys is not None:
        where.append(PropertyValue.property_key.in_(query.keys))
    specimens = query.search.value("specimens")
    if specimens is not None:  # the values of those specimens only
        where.append(of_specimens(specimens.terms))
    return where


def _select(where: list[ColumnElement[bool]], keyset: tuple[Any, ...] | None) -> Any:
    """The value rows in table order, after ``keyset`` (material, property, position)."""
    stmt = (
        select(
            *_ORDER,
            Material.name,
            PropertyValue.value,
            PropertyValue.value_min,
            PropertyValue.value_max,
            PropertyValue.unit,
            PropertyValue.canonical_min,
            PropertyValue.canonical_max,
            PropertyValue.qualifier,
            PropertyValue.uncertainty,
            PropertyValue.specimen,
            PropertyValue.method,
            PropertyValue.conditions,
            PropertyValue.evidence,
            Reference.slug,
            Reference.citation,
            Reference.doi,
        )
        .join(PropertyValue, PropertyValue.material_id == Material.id)
        .outerjoin(Reference, Reference.id == PropertyValue.reference_id)
        .where(*where)
        .order_by(*_ORDER)
    )
    if keyset is not None:
        stmt = stmt.where(tuple_(*_ORDER) > tuple_(*keyset))
    return stmt


def _decode(cursor: str, fingerprint: str) -> tuple[Any, ...]:
    keyset = cursors.decode(cursor, fingerprint)
    if (
        len(keyset) != 3
        or not isinstance(keyset[0], str)
        or not isinstance(keyset[1], str)
        or isinstance(keyset[2], bool)
        or not isinstance(keyset[2], int)
        or not 0 <= keyset[2] < 2**31
    ):
        raise cursors.bad_cursor()
    return tuple(keyset)


def _row(found: Any, out: OutputUnits) -> dict[str, Any]:
    (
        slug,
        key,
        _position,
        name,
        value,
        low,
        high,
        unit,
        cmin,
        cmax,
        qualifier,
        uncertainty,
        specimen,
        method,
        conditions,
        evidence,
        source,
        citation,
        doi,
    ) = found
    digits = units.derived_digits((value, low, high))
    return {
        "material_id": slug,
        "material_name": name,
        "property": key,
        "value": value,
        "min": low,
        "max": high,
        "unit": unit,
        "canonical_min": out.show(key, cmin, digits),
        "canonical_max": out.show(key, cmax, digits),
        "canonical_unit": out.unit(key),
        "qualifier": qualifier,
        "uncertainty": uncertainty,
        "specimen": specimen,
        "method": method,
        "conditions": conditions,
        "evidence": evidence,
        "source": source,
        "citation": citation,
        "doi": doi,
    }
