"""Search results as files: CSV (one row per material) and NDJSON (one search item
per line), every match in the search's order, streamed a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from biomatdb import packed, units
from biomatdb.api.tabular import CsvLines, cell, guard, ndjson_lines
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
        applications = repository.applications_of(session, [r[0] for r in rows])
        yield [list_item(row, applications[row[0]], out) for row in rows]


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


def csv(session: Session, query: SearchQuery, out: OutputUnits = CANONICAL) -> Iterator[bytes]:
    """CSV (RFC 4180, UTF-8) with a header row; the property columns are those of the
    properties present among the matches, in catalogue order.

    Built a batch at a time: the summaries come with the rows (``materials.summary``)
    and are converted and rounded as numpy columns (the same rule as ``list_item``:
    the units of ``out``, the sources' digits), then written by the csv module.
    """
    keys = stream.property_keys(session, query)
    table = SummaryTable(keys, out)
    lines = CsvLines()
    yield lines.rows([csv_header(keys, out)])
    for rows in stream.matches(session, query):
        applications = repository.applications_of(session, [row[0] for row in rows])
        numbers = table.fill([row[7] for row in rows])
        yield lines.raw(
            [
                guard(row[1]),
                guard(row[2]),
                row[3],
                guard(row[4]),
                cell(row[5]),
                guard(";".join(applications[row[0]])),
                *cells,
            ]
            for row, cells in zip(rows, numbers, strict=True)
        )


class SummaryTable:
    """Summary rows of a batch as CSV cells: per property, typical, min and max, in
    the shown unit, rounded to the sources' digits; None where a material lacks it."""

    def __init__(self, keys: Sequence[str], out: OutputUnits) -> None:
        self.keys = list(keys)
        conversions = [out.chosen.get(key) for key in keys]
        self.scale = np.array([c[1].scale if c else 1.0 for c in conversions])
        self.offset = np.array([c[1].offset if c else 0.0 for c in conversions])

    def fill(self, summaries: Sequence[bytes | None]) -> list[list[Any]]:
        """The rows' packed summaries (``materials.summary``) as cells."""
        table = np.full((len(summaries), 3 * len(self.keys)), np.nan)
        rows, found = packed.batch(summaries)
        columns = packed.column(found[:, packed.KEY], self.keys)
        kept = columns >= 0
        rows, found, columns = rows[kept], found[kept], columns[kept]
        places = np.where(np.isnan(found[:, packed.DIGITS]), 12.0, found[:, packed.DIGITS])
        scale, offset = self.scale[columns], self.offset[columns]
        for shift, field in enumerate((packed.TYPICAL, packed.MIN, packed.MAX)):
            shown = (found[:, field] - offset) / scale
            table[rows, 3 * columns + shift] = units.round_array(shown, places)
        return _cells(table)


def _cells(table: npt.NDArray[np.float64]) -> list[list[Any]]:
    """Numbers as Python values for the csv module: whole numbers as ints (45, not
    45.0), NaN as None (an empty cell)."""
    cells = table.astype(object)
    missing = np.isnan(table)
    whole = ~missing & (np.abs(table) < 1e15) & (table == np.round(table))
    cells[whole] = table[whole].astype(np.int64)  # stored as Python ints
    cells[missing] = None
    result: list[list[Any]] = cells.tolist()
    return result
