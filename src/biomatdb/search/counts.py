"""Totals and facet counts, cached per data version; facets too slow for a request
are counted in the background.

Counting every match is the cost of a search that grows with the database (a
page does not). The counts of a search change only when data does, and every
write appends to the change log, so ``max(changes.seq)`` is a version of the
whole database: counts are kept per (search, version) and recomputed on the
first request after any write. The cache is per process and bounded.

Facets over most of a large database cost seconds (the five facets over a million
materials: 10.5 s on PostgreSQL), more than a request may spend. So the facets of
one request get ``BIOMATDB_FACET_TIME_LIMIT_SECONDS`` in all: a facet not counted by
then is cancelled, left out of the answer and named in ``meta.facets_pending``
(as Datasette's ``facet_time_limit_ms`` leaves out a slow facet), and one background
thread per process counts it, once per data version, with a limit of its own
(``BIOMATDB_BACKGROUND_COUNT_TIMEOUT_SECONDS``), so that the next request finds it.
The total is always counted in the request: a page needs it, and it is one index
count (0.24 s for a million materials).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from threading import Lock
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from biomatdb import db
from biomatdb.api import observe
from biomatdb.models import Change
from biomatdb.search import repository
from biomatdb.settings import get_settings

log = logging.getLogger(__name__)

#: Totals and facets kept per process (each a small dict: a facet has tens of values).
_MAX_ENTRIES = 2048
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = Lock()
_computing: dict[tuple[Any, ...], Lock] = {}

#: A search's WHERE clauses, built again in another session (the background's).
Conditions = Callable[[Session], list[ColumnElement[bool]]]


class Counts(NamedTuple):
    """A search's total, the facets counted (None when none was asked for), and the
    facets asked for but not counted in time (being counted in the background)."""

    total: int
    facets: dict[str, dict[str, int]] | None
    pending: list[str]


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
    conditions: Conditions | None = None,
) -> Counts:
    """The counts of a search, from the cache when no write happened since.

    ``version``: the data version if the caller has read it (in this transaction).
    ``conditions``: builds ``where`` in another session; without it no facet is
    deferred (each is counted in the request, whatever it takes).
    """
    database = str(session.get_bind().engine.url)
    if version is None:
        version = data_version(session)
    total = _once((database, fingerprint, version), lambda: repository.total(session, where))
    if not facet_names:
        return Counts(total, None, [])
    limit = get_settings().facet_time_limit_seconds
    bounded = conditions is not None and limit > 0 and db.is_bounded(session)
    deadline = time.monotonic() + limit if bounded else None
    facets: dict[str, dict[str, int]] = {}
    pending: list[str] = []
    for name in facet_names:
        key = (database, fingerprint, version, name)
        counted = _facet_in_request(session, key, name, where, deadline)
        if counted is not None:
            facets[name] = counted
            continue
        assert conditions is not None  # only a bounded count is ever left undone
        pending.append(name)
        observe.FACETS_DEFERRED.labels(name).inc()
        BACKGROUND.submit(key, session.get_bind().engine, conditions)
    return Counts(total, facets, pending)


def _once(key: tuple[Any, ...], count: Callable[[], Any]) -> Any:
    """The cached value of ``key``, or ``count()`` (then cached). One computation per
    key: concurrent requests for the same counts wait for it instead of all counting
    at once (a stampede after every write)."""
    found = _cached(key)
    if found is not None:
        return found
    with _key_lock(key, None) as acquired:
        assert acquired
        found = _cached(key)
        if found is None:
            found = count()
            _keep(key, found)
    return found


def _facet_in_request(
    session: Session,
    key: tuple[Any, ...],
    name: str,
    where: list[ColumnElement[bool]],
    deadline: float | None,
) -> dict[str, int] | None:
    """One facet's counts: cached, or counted by ``deadline`` (None: no limit of its
    own); None when it was not counted in time or is already being counted in the
    background."""
    found = _cached(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    if deadline is not None and (BACKGROUND.has(key) or time.monotonic() >= deadline):
        return None
    with _key_lock(key, deadline) as acquired:
        found = _cached(key)
        if found is not None or not acquired:
            return found  # type: ignore[no-any-return]
        if deadline is not None and BACKGROUND.has(key):
            return None
        # A cancelled statement aborts a PostgreSQL transaction: the count runs in a
        # savepoint, so that the request goes on after it.
        attempt = session.begin_nested() if deadline is not None else nullcontext()
        try:
            with db.budget_until(deadline), attempt:
                counted = repository.facet(session, name, where)
        except Exception as exc:
            if deadline is not None and db.out_of_time(exc):
                return None
            raise
        _keep(key, counted)
        return counted


@contextmanager
def _key_lock(key: tuple[Any, ...], deadline: float | None) -> Iterator[bool]:
    """Hold the lock of ``key`` (waiting until ``deadline`` at most): yields whether
    it was acquired."""
    with _lock:
        key_lock = _computing.setdefault(key, Lock())
    wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
    acquired = key_lock.acquire(timeout=wait)
    try:
        yield acquired
    finally:
        if acquired:
            # Also when counting fails (a query timeout): no lock is left behind.
            with _lock:
                _computing.pop(key, None)
            key_lock.release()


def _cached(key: tuple[Any, ...]) -> Any:
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _keep(key: tuple[Any, ...], value: Any) -> None:
    with _lock:
        _cache[key] = value
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)


class BackgroundCounts:
    """One daemon thread per process that counts deferred facets, one at a time.

    Single-flight: a facet of a search at a data version is queued once, however many
    requests ask for it. Bounded: at most ``MAX_QUEUED`` counts wait (more are dropped
    and asked for again by a later request); each runs under
    ``BIOMATDB_BACKGROUND_COUNT_TIMEOUT_SECONDS``, and one that fails waits
    ``RETRY_AFTER`` seconds before a request may ask for it again. A count is kept under
    the data version its own transaction read, which a newer request then finds.
    """

    MAX_QUEUED = 32
    RETRY_AFTER = 60.0
    #: Failures remembered (to wait before asking again), the oldest forgotten first.
    MAX_FAILED = 1024

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[tuple[Any, ...], Engine, Conditions]] = queue.Queue(
            self.MAX_QUEUED
        )
        self._lock = Lock()
        self._queued: set[tuple[Any, ...]] = set()
        self._failed: dict[tuple[Any, ...], float] = {}
        self._engines: dict[str, Engine] = {}
        self._thread: threading.Thread | None = None

    def has(self, key: tuple[Any, ...]) -> bool:
        """Whether ``key`` is queued or being counted, or failed a moment ago."""
        with self._lock:
            failed = self._failed.get(key)
            if failed is not None and time.monotonic() - failed >= self.RETRY_AFTER:
                del self._failed[key]
                failed = None
            return key in self._queued or failed is not None

    def submit(self, key: tuple[Any, ...], engine: Engine, conditions: Conditions) -> None:
        """Count the facet of ``key`` (database, fingerprint, version, facet) soon."""
        with self._lock:
            if key in self._queued or key in self._failed:
                return
            try:
                self._queue.put_nowait((key, engine, conditions))
            except queue.Full:
                observe.BACKGROUND_COUNTS.labels("dropped").inc()
                return
            self._queued.add(key)
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(
                    target=self._work, name="biomatdb-background-counts", daemon=True
                )
                self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait until every queued count is done (tests, benchmarks): whether it was."""
        end = time.monotonic() + timeout
        done = self._queue.all_tasks_done
        with done:
            while self._queue.unfinished_tasks:
                if not done.wait(max(0.0, end - time.monotonic())):
                    return False
        return True

    def clear(self) -> None:
        """Forget failures and close the background's engines (tests)."""
        with self._lock:
            self._failed.clear()
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()

    def _work(self) -> None:
        while True:
            key, engine, conditions = self._queue.get()
            try:
                self._count(key, engine, conditions)
            finally:
                with self._lock:
                    self._queued.discard(key)
                self._queue.task_done()

    def _count(self, key: tuple[Any, ...], request_engine: Engine, conditions: Conditions) -> None:
        database, fingerprint, _, name = key
        limit = get_settings().background_count_timeout_seconds
        try:
            engine = self._engine(request_engine, limit)
            if engine.dialect.name == "postgresql":
                # The version and the counts from one snapshot, as SQLite's read
                # transaction gives: counts are never kept under an older version.
                engine = engine.execution_options(isolation_level="REPEATABLE READ")
            with Session(engine) as session:
                db.start_budget(limit)
                version = data_version(session)
                counted = repository.facet(session, name, conditions(session))
            _keep((database, fingerprint, version, name), counted)
            observe.BACKGROUND_COUNTS.labels("counted").inc()
        except Exception as exc:
            outcome = "timed_out" if db.out_of_time(exc) else "failed"
            observe.BACKGROUND_COUNTS.labels(outcome).inc()
            log.warning("background count of facet %r %s: %s", name, outcome, exc)
            with self._lock:
                self._failed[key] = time.monotonic()
                while len(self._failed) > self.MAX_FAILED:  # the oldest go first
                    del self._failed[next(iter(self._failed))]

    def _engine(self, request_engine: Engine, limit: float) -> Engine:
        """An engine of the request's database (the replica, for a replica's reads)
        with the background's statement limit instead of the request's."""
        url = request_engine.url.render_as_string(hide_password=False)
        with self._lock:
            engine = self._engines.get(url)
            if engine is None:
                engine = db.make_engine(url, query_timeout=limit, statement_cache_size=50)
                self._engines[url] = engine
            return engine


BACKGROUND = BackgroundCounts()


def clear() -> None:
    """Forget every cached count (benchmarks measure the cold path with it)."""
    BACKGROUND.wait(30)
    BACKGROUND.clear()
    with _lock:
        _cache.clear()
        _computing.clear()
