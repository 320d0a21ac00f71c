"""What an operator sees of the running service: a request id on every answer and log
line, one structured (JSON) access log line per request, and Prometheus metrics.

* **Request id.** A client's ``X-Request-ID`` (1 to 64 of ``A-Za-z0-9._-``) is kept,
  anything else is replaced by a fresh one; it is echoed in the answer's
  ``X-Request-ID`` and carried by every log line written while the request runs
  (a context variable), so one grep finds a request across the access log and its
  errors.
* **Logs.** :class:`JsonFormatter` writes one JSON object per line: time, level,
  logger, message, request id, and the access fields. Headers are never logged (so
  neither API keys nor ``Authorization``); the query string is, without the values
  of parameters that could carry a secret.
* **Metrics** (prometheus-client, at ``GET /metrics``): requests per method, route
  template and status; latency histograms per route; the database pool's connections
  in use; imports and the materials they wrote. With several worker processes the
  values are summed over the workers (prometheus-client's multiprocess mode, in
  ``PROMETHEUS_MULTIPROC_DIR``, which ``biomatdb serve`` sets up).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlencode

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: The request id of the request being served (None outside a request).
request_id: ContextVar[str | None] = ContextVar("biomatdb_request_id", default=None)
#: Query parameters whose values are never logged.
SECRET_PARAMETERS = frozenset({"key", "api_key", "token", "password", "csrf"})

access_log = logging.getLogger("biomatdb.access")
disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: one series per metric and labels

# --- metrics -------------------------------------------------------------------------
#: Latency buckets in seconds: the API's answers are milliseconds; limits are seconds.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = Counter(
    "biomatdb_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "biomatdb_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by method and route.",
    ["method", "route"],
    buckets=BUCKETS,
)
POOL_IN_USE = Gauge(
    "biomatdb_db_pool_connections_in_use",
    "Database connections checked out of the pool (summed over worker processes).",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "biomatdb_db_pool_connections_open",
    "Database connections the pool holds open (summed over worker processes).",
    multiprocess_mode="livesum",
)
IMPORTS = Counter(
    "biomatdb_imports_total",
    "Bundle imports (HTTP and CLI in this process), by outcome: written, dry_run, refused.",
    ["outcome"],
)
IMPORTED_MATERIALS = Counter(
    "biomatdb_imported_materials_total",
    "Materials created or updated by imports that were written.",
)

FACETS_DEFERRED = Counter(
    "biomatdb_facets_deferred_total",
    "Facets left out of a search answer (meta.facets_pending) because counting them did "
    "not fit BIOMATDB_FACET_TIME_LIMIT_SECONDS, by facet.",
    ["facet"],
)
BACKGROUND_COUNTS = Counter(
    "biomatdb_background_facet_counts_total",
    "Deferred facet counts run in the background, by outcome: counted, timed_out, failed, "
    "or dropped (its queue was full).",
    ["outcome"],
)


def count_import(outcome: str, materials: int = 0) -> None:
    """One import, and the materials it wrote (outcome ``written``)."""
    IMPORTS.labels(outcome).inc()
    if materials:
        IMPORTED_MATERIALS.inc(materials)


def metrics_text(pool: Any | None) -> tuple[bytes, str]:
    """The exposition text of every metric: of all workers in multiprocess mode."""
    if pool is not None:
        POOL_IN_USE.set(pool.checkedout())
        POOL_SIZE.set(pool.checkedout() + pool.checkedin())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# --- the middleware ------------------------------------------------------------------


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            if _GOOD_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _logged_query(raw: bytes) -> str:
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs])


class Observe:
    """ASGI middleware, outermost: request id, access log line, request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, rid.encode("latin-1")),
                ]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "%s %s %s",
                method,
                scope.get("path", ""),
                status,
                extra={
                    "http": {
                        "method": method,
                        "path": scope.get("path", ""),
                        "query": _logged_query(scope.get("query_string", b"")),
                        "route": route,
                        "status": status,
                        "bytes": sent,
                        "duration_ms": round(elapsed * 1000, 3),
                        "client": client[0] if client else None,
                    }
                },
            )
            request_id.reset(token)


# --- logs ----------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        http = getattr(record, "http", None)
        if http is not None:
            entry["http"] = http
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


JsonFormatter.converter = time.gmtime


def log_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """uvicorn's ``log_config``: every logger (uvicorn's and ours) through one handler
    on stderr, JSON (``json``) or plain text (``text``). uvicorn's own access log is
    off: :class:`Observe` writes a richer line with the request id."""
    formatter = (
        {"()": "biomatdb.api.observe.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "biomatdb": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
