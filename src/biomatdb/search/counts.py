"""Totals and facet counts, cached per data version.

Counting every match is the cost of a search that grows with the database (a
page does not). The counts of a search change only when data does, and every
write appends to the change log, so ``max(changes.seq)`` is a version of the
whole database: counts are kept per (search, version) and recomputed on the
first request after any write. The cache is per process and bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from biomatdb.models import Change
from biomatdb.search import repository

_MAX_ENTRIES = 512
_cache: OrderedDict[tuple[Any, ...], tuple[int, dict[str, dict[str, int]] | None]] = OrderedDict()
_lock = Lock()
_computing: dict[tuple[Any, ...], Lock] = {}


def data_version(session: Session) -> int:
    """The last change's sequence number (0 for an empty log)."""
    return session.scalar(select(func.max(Change.seq))) or 0


def last_updated(session: Session) -> datetime | None:
    """When the data last changed: the time of the last entry of the change log (any
    write: import, curation, review move; None for an empty log). One read of the
    log's primary key; ``meta.last_updated`` of every list and of ``/api/v1/info``."""
    return session.scalar(select(Change.at).order_by(Change.seq.desc()).limit(1))


def totals(
    session: Session,
    fingerprint: str,
    facet_names: list[str],
    where: list[ColumnElement[bool]],
    *,
    version: int | None = None,
) -> tuple[int, dict[str, dict[str, int]] | None]:
    """(total, facets) of a search, from the cache when no write happened since.
    ``version``: the data version if the caller has read it (in this transaction)."""
    database = str(session.get_bind().engine.url)
    if version is None:
        version = data_version(session)
    key = (database, fingerprint, tuple(facet_names), version)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        # One computation per key: concurrent requests for the same counts wait for
        # it instead of all counting at once (a stampede after every write).
        key_lock = _computing.setdefault(key, Lock())
    with key_lock:
        with _lock:
            found = _cache.get(key)
        if found is not None:
            return found
        try:
            total = repository.total(session, where)
            facets = repository.facets(session, facet_names, where) if facet_names else None
        finally:
            # Also when counting fails (a query timeout): no lock is left behind.
            with _lock:
                _computing.pop(key, None)
        with _lock:
            _cache[key] = (total, facets)
            while len(_cache) > _MAX_ENTRIES:
                _cache.popitem(last=False)
    return total, facets


def clear() -> None:
    """Forget every cached count (benchmarks measure the cold path with it)."""
    with _lock:
        _cache.clear()
        _computing.clear()
