"""Rate limits per API key and per client address, shared across worker processes.

Each request is counted in fixed windows (a minute for ``120/minute``):

* without a key: in its client address's bucket, against
  ``BIOMATDB_RATE_LIMIT_ANONYMOUS``;
* with a key (``Authorization: Bearer ...``): in the key's bucket (a hash of the key,
  never the key) against ``BIOMATDB_RATE_LIMIT_KEY``, and in its address's keyed
  bucket against the same limit, so that made-up keys do not lift an address's limit.

Over a limit the answer is ``429`` problem JSON (``/problems/rate-limited``) with
``Retry-After`` (seconds to the end of the window); every counted answer carries
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``.
Liveness, readiness, metrics and static assets are not counted.

The counters live where every worker sees them: in Redis when ``BIOMATDB_REDIS_URL``
is set; else in the database: a table of PostgreSQL (``rate_limit_counters``,
unlogged: counters need no crash safety), or on SQLite a small side file next to
the database (``<database>.ratelimit``), so that counting never waits for the main
database's write lock while an import holds it. If the counters cannot be reached
the request is let through (and logged): a limit must not take the service down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import anyio
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biomatdb.api import problems
from biomatdb.db import make_engine, sqlite_file
from biomatdb.settings import Limit, normalize_database_url

log = logging.getLogger("biomatdb.ratelimit")

#: Paths never counted: probes, metrics, the pages' and docs' static assets.
EXEMPT_PREFIXES = ("/health", "/ready", "/metrics", "/static/", "/assets/", "/favicon")


class Counters(Protocol):
    """Shared counters: add one hit to each bucket of the window, return the counts."""

    def hit(self, buckets: list[str], window: int, expires: int) -> list[int]: ...


class SqliteCounters:
    """Counters in a small SQLite file of their own (shared by the workers)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._hits = 0

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=1.0, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # counters, not data
            connection.execute(
                "CREATE TABLE IF NOT EXISTS rate_limit_counters (bucket TEXT NOT NULL, "
                "window_start INTEGER NOT NULL, hits INTEGER NOT NULL, expires INTEGER NOT "
                "NULL, PRIMARY KEY (bucket, window_start)) WITHOUT ROWID"
            )
            self._local.connection = connection
        return connection

    def hit(self, buckets: list[str], window: int, expires: int) -> list[int]:
        connection = self._connection()
        counts = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for bucket in buckets:
                row = connection.execute(
                    "INSERT INTO rate_limit_counters VALUES (?, ?, 1, ?) ON CONFLICT "
                    "(bucket, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
                    (bucket, window, expires),
                ).fetchone()
                counts.append(int(row[0]))
            self._hits += 1
            if self._hits % 1000 == 0:  # now and then, forget ended windows
                connection.execute(
                    "DELETE FROM rate_limit_counters WHERE expires < ?", (int(time.time()),)
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return counts


class PostgresCounters:
    """Counters in the database's unlogged ``rate_limit_counters`` table: one statement
    per request through the driver (SQLAlchemy's statement layer would triple the
    cost of so small a query: 356 against 102 microseconds, measured)."""

    UPSERT = (
        "INSERT INTO rate_limit_counters AS c (bucket, window_start, hits, expires) "
        "SELECT b, %s, 1, %s FROM unnest(CAST(%s AS text[])) AS b "
        "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = c.hits + 1 "
        "RETURNING bucket, hits"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._hits = 0

    def hit(self, buckets: list[str], window: int, expires: int) -> list[int]:
        connection = self.engine.raw_connection()
        try:
            # This engine serves only the counters: each statement commits by itself
            # (no BEGIN and COMMIT round trips).
            connection.driver_connection.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            cursor.execute(self.UPSERT, (window, expires, buckets))
            rows: dict[str, int] = dict(cursor.fetchall())
            self._hits += 1
            if self._hits % 1000 == 0:  # now and then, forget ended windows
                cursor.execute(
                    "DELETE FROM rate_limit_counters WHERE expires < %s", (int(time.time()),)
                )
        finally:
            connection.close()  # back to the pool
        return [int(rows[b]) for b in buckets]


class RedisCounters:
    """Counters in Redis: INCR and EXPIRE per bucket, one round trip."""

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=1.0)

    def hit(self, buckets: list[str], window: int, expires: int) -> list[int]:
        pipeline = self.client.pipeline(transaction=False)
        ttl = max(1, expires - int(time.time()))
        for bucket in buckets:
            key = f"biomatdb:ratelimit:{bucket}:{window}"
            pipeline.incr(key)
            pipeline.expire(key, ttl)
        results = pipeline.execute()
        return [int(results[i]) for i in range(0, len(results), 2)]


def counters_for(database_url: str, redis_url: str) -> Counters | None:
    """Where this service counts (None: nowhere shared, e.g. SQLite in memory)."""
    if redis_url:
        return RedisCounters(redis_url)
    path = sqlite_file(database_url)
    if path is not None:
        return SqliteCounters(path.with_name(path.name + ".ratelimit"))
    if make_url(normalize_database_url(database_url)).get_backend_name() == "sqlite":
        return None  # SQLite in memory: no other process to share counts with
    # Its own engine, without the API's per-request time budget (which a middleware
    # running before the request's session would read stale) and with a small pool.
    engine = make_engine(database_url, statement_cache_size=10, pre_ping=False)
    return PostgresCounters(engine)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _key_digest(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and key.strip():
                return hashlib.sha256(key.strip().encode()).hexdigest()[:32]
            return None
    return None


class RateLimit:
    """ASGI middleware: count each request, answer 429 over a limit (see the module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        anonymous: Limit | None,
        keyed: Limit | None,
        counters: Any,
    ) -> None:
        self.app = app
        self.anonymous = anonymous
        self.keyed = keyed
        self.counters = counters  # a Counters, or a callable that makes one (lazily)

    def _store(self) -> Counters:
        if callable(self.counters) and not hasattr(self.counters, "hit"):
            self.counters = self.counters()
        return self.counters  # type: ignore[no-any-return]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        digest = _key_digest(scope)
        limit = self.keyed if digest is not None else self.anonymous
        if limit is None:
            await self.app(scope, receive, send)
            return
        address = _client(scope)
        buckets = [f"key:{digest}", f"ipk:{address}"] if digest else [f"ip:{address}"]
        now = time.time()
        window = int(now // limit.period) * limit.period
        reset = window + limit.period
        try:
            store = self._store()
            if store is None:
                counts: list[int] = []
            else:
                counts = await anyio.to_thread.run_sync(store.hit, buckets, window, reset)
        except Exception:  # the counters are away: serve, and say so in the log
            log.warning("rate-limit counters unavailable; request not counted", exc_info=True)
            await self.app(scope, receive, send)
            return
        if not counts:
            await self.app(scope, receive, send)
            return
        used = max(counts)
        seconds_left = max(1, math.ceil(reset - now))
        headers = [
            (b"ratelimit-limit", str(limit.count).encode()),
            (b"ratelimit-remaining", str(max(0, limit.count - used)).encode()),
            (b"ratelimit-reset", str(seconds_left).encode()),
        ]
        if used > limit.count:
            who = "this API key" if digest else f"the address {address}"
            response = problems.problem(
                429,
                f"{who} made more than {limit} requests; retry in {seconds_left} s"
                + ("" if digest else " (or use an API key, which has a higher limit)"),
                type_slug="rate-limited",
                title="Too many requests",
                headers={"Retry-After": str(seconds_left)},
            )
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
