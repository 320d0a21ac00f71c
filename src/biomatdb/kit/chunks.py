"""Long lists in pieces: ``IN (...)`` lists and multi-row statements stay within what
every backend accepts (PostgreSQL: 65,535 bind parameters; SQLite: 32,766)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Items per ``IN`` list or multi-row statement.
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
