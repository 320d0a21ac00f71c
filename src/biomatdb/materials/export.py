"""Search results as files: CSV (one row per material) and NDJSON (one search item
per line), every match in the search's order, streamed a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.orm import Session

from biomatdb.api.tabular import CsvLines, ndjson_lines
from biomatdb.materials.service import list_item
from biomatdb.search import repository, stream
from biomatdb.search.query import SearchQuery
from biomatdb.units.output import CANONICAL, OutputUnits

#: The leading CSV columns; then three per property present (typical, min, max).
BASE_COLUMNS = ("id", "name", "class", "subclass", "degradable", "applications")


def items(
    session: Session, query: SearchQuery, out: OutputUnits = CANONICAL
) -> Iterator[list[dict[str, Any]]]:
    """Every match as search items (``MaterialListItem``), a batch at a time."""
    for rows in stream.matches(session, query):
        applications, summaries = repository.page_extras(session, [r[0] for r in rows])
        yield [list_item(row, applications[row[0]], summaries[row[0]], out) for row in rows]


def ndjson(session: Session, query: SearchQuery, out: OutputUnits = CANONICAL) -> Iterator[bytes]:
    """NDJSON: one search item per line."""
    for batch in items(session, query, out):
        yield ndjson_lines(batch)


def csv_header(keys: Sequence[str], out: OutputUnits) -> list[str]:
    """``id, name, ...``, then ``KEY [UNIT]``, ``KEY min [UNIT]``, ``KEY max [UNIT]``."""
    columns = list(BASE_COLUMNS)
    for key in keys:
        unit = out.unit(key)
        columns += [f"{key} [{unit}]", f"{key} min [{unit}]", f"{key} max [{unit}]"]
    return columns


def csv_row(item: dict[str, Any], keys: Sequence[str]) -> list[Any]:
    """One material's CSV cells (empty where it lacks a property)."""
    row: list[Any] = [
        item["id"],
        item["name"],
        item["class"],
        item["subclass"],
        item["degradable"],
        ";".join(item["applications"]),
    ]
    summary = item["summary"]
    for key in keys:
        values = summary.get(key)
        row += (
            [None, None, None]
            if values is None
            else [
                values["typical"],
                values["min"],
                values["max"],
            ]
        )
    return row


def csv(session: Session, query: SearchQuery, out: OutputUnits = CANONICAL) -> Iterator[bytes]:
    """CSV (RFC 4180, UTF-8) with a header row; the property columns are those of the
    properties present among the matches, in catalogue order."""
    keys = stream.property_keys(session, query)
    lines = CsvLines()
    yield lines.rows([csv_header(keys, out)])
    for batch in items(session, query, out):
        yield lines.rows(csv_row(item, keys) for item in batch)
