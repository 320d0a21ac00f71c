"""Writing tables for spreadsheets and pipelines: CSV (RFC 4180) and NDJSON lines.

CSV text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are prefixed with ``'`` (OWASP's
CSV injection advice); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(cell: Any) -> Any:
    """A cell as written: text that could start a formula gets a leading ``'``."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class CsvLines:
    """Formats rows as CSV text, a batch at a time (constant memory)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def rows(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """The CSV lines of ``rows``, every cell through :func:`cell` (the guard)."""
        return self.raw([cell(c) for c in row] for row in rows)

    def raw(self, rows: Iterable[Sequence[Any]]) -> bytes:
        """The CSV lines of ``rows`` as they are: the caller has passed every text
        cell through :func:`cell` or :func:`guard` (None is an empty cell)."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(rows)
        return self._buffer.getvalue().encode("utf-8")


def cell(value: Any) -> Any:
    """A cell as written: None empty, booleans true / false, whole floats as ints,
    text through :func:`guard`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return guard(value)


def ndjson_lines(items: Iterable[Any]) -> bytes:
    """One JSON document per line."""
    return b"".join(orjson.dumps(item) + b"\n" for item in items)
