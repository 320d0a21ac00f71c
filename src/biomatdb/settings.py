"""Configuration from the environment (prefix ``BIOMATDB_``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args, get_origin

import platformdirs
from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver (``postgresql://...``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` requests per ``period`` seconds."""

    count: int
    period: int

    def __str__(self) -> str:
        name = next(n for n, s in PERIODS.items() if s == self.period)
        return f"{self.count}/{name}"


def parse_limit(value: str) -> Limit | None:
    """``"120/minute"`` -> Limit(120, 60); ``""``, ``"0"`` or ``"off"``: no limit."""
    if value.strip().lower() in ("", "0", "off", "none"):
        return None
    found = _LIMIT.fullmatch(value)
    if found is None:
        raise ValueError(
            f"{value!r} is not a rate limit: give N/second, N/minute, N/hour or N/day "
            "(e.g. 120/minute), or off"
        )
    count = int(found.group(1))
    return Limit(count, PERIODS[found.group(2)]) if count > 0 else None


def default_database_url() -> str:
    """The SQLite file in the user's data folder (``~/.local/share/biomatdb`` on Linux,
    ``~/Library/Application Support/biomatdb`` on macOS, ``%LOCALAPPDATA%\\biomatdb``
    on Windows): the same database whatever folder a command runs from."""
    folder = platformdirs.user_data_path("biomatdb", appauthor=False)
    return f"sqlite:///{(folder / 'biomatdb.sqlite3').as_posix()}"


class Settings(BaseSettings):
    """Everything that can be configured; see README "Configuration" and the table of
    docs/operations.md (:func:`settings_table`). Each field's ``description`` is what
    that table says it means."""

    model_config = SettingsConfigDict(env_prefix="BIOMATDB_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="Any SQLAlchemy URL of the database; `postgresql://...` uses psycopg 3 "
        "(`pip install 'biomatdb[postgresql]'`). `biomatdb db upgrade` creates a SQLite "
        "file (the folder of the default one too; a folder named here must exist).",
    )
    database_read_url: str = Field(
        "",
        description="A streaming replica (hot standby) of the PostgreSQL primary: anonymous "
        "`GET` and `HEAD` requests without `If-None-Match` / `If-Match` are answered from it; "
        "writes and requests with an API key, a cookie or a condition go to the primary. "
        "Empty: everything goes to the primary.",
    )
    echo_sql: bool = Field(False, description="Log every SQL statement (debugging only).")
    max_body_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted, in bytes (10 MB); larger ones get 413. "
        "Keep the reverse proxy's limit (nginx `client_max_body_size`) at least this.",
    )

    # --- limits that keep one request from holding the service (docs/security.md) ---
    query_timeout_seconds: float = Field(
        5.0,
        ge=0,
        description="Database time one request may use, in all its statements, in seconds; "
        "over it: 503 `/problems/query-timeout`. `0`: no limit. The CLI (imports, exports) "
        "runs without it.",
    )
    facet_time_limit_seconds: float = Field(
        1.0,
        ge=0,
        description="Database time the facet counts of one search may use, in all, in "
        "seconds (within the query timeout). Facets not counted by then are left out of the "
        "answer, named in `meta.facets_pending`, and counted in the background for the "
        "next request. `0`: facets share the whole query timeout (over it: 503).",
    )
    background_count_timeout_seconds: float = Field(
        120.0,
        gt=0,
        description="Longest one facet count in the background may run, in seconds; a "
        "count over it is tried again no sooner than a minute later.",
    )
    lock_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="Longest a write waits for the write lock (or a write slot of its "
        "process), in seconds; then 503 `/problems/write-busy` with `Retry-After`.",
    )
    max_import_entries: int = Field(
        1000,
        ge=1,
        description="Most references + organizations + materials one `POST /api/v1/imports` "
        "may carry; more: 413 (larger loads go through `biomatdb import`, which has no "
        "limit).",
    )
    statement_cache_size: int = Field(
        200,
        ge=0,
        description="Compiled SQL statements cached per engine in each worker process "
        "(SQLAlchemy's `query_cache_size`).",
    )
    result_cache_mb: int = Field(
        32,
        ge=0,
        le=4096,
        description="Memory for recent search answers per worker process, in MB (0: none "
        "kept; the ETag and 304 answers stay). A write to the data makes every kept page "
        "stale.",
    )

    # --- the HTTP server (``biomatdb serve``) ---
    max_header_bytes: int = Field(
        16 * 1024,
        ge=1024,
        description="Largest request head (request line and headers), in bytes; over it: 431.",
    )
    header_timeout_seconds: float = Field(
        10.0,
        ge=0,
        description="Longest a client may take to send a request head, in seconds; then 408 "
        "and the connection is closed. `0`: no limit.",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="Longest a client may take to send a request body, in seconds; then 408.",
    )
    keep_alive_seconds: float = Field(
        5.0,
        gt=0,
        description="How long an idle keep-alive connection stays open, in seconds.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses (or CIDR networks) of reverse proxies whose "
        "`X-Forwarded-For` / `X-Forwarded-Proto` are believed (the client address logged "
        "and rate-limited; `https` in links); empty: none are.",
    )
    public_base_url: str = Field(
        "",
        description="The public base URL (e.g. `https://biomatdb.example.org`) the absolute "
        "URLs in `links` start with; empty: taken from the request when its Host is in "
        "`BIOMATDB_ALLOWED_HOSTS`.",
    )
    allowed_hosts: str = Field(
        "localhost,127.0.0.1,[::1]",
        description="Comma-separated Host names answered with absolute links when no public "
        "base URL is set (others get relative links); `*`: any.",
    )
    log_format: Literal["json", "text"] = Field(
        "json",
        description="The log lines of `biomatdb serve` (on stderr): one JSON object per line, "
        "with the request id, or plain text.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least severe level logged."
    )
    shutdown_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="On SIGTERM (systemd's stop, `docker stop`), how long in-flight requests "
        "may take to finish before the worker stops anyway, in seconds; keep it under "
        "systemd's `TimeoutStopSec` and Docker's `--stop-timeout`.",
    )
    rate_limit_anonymous: str = Field(
        "120/minute",
        description="Requests one client address may make without an API key: `N/second`, "
        "`N/minute`, `N/hour` or `N/day`; `off`: no limit. Over it: 429 "
        "`/problems/rate-limited` with `Retry-After`.",
    )
    rate_limit_key: str = Field(
        "600/minute",
        description="Requests one API key may make, and one address using keys (so made-up "
        "keys do not lift the address's limit); the same form; `off`: no limit.",
    )
    redis_url: str = Field(
        "",
        description="Redis (`redis://host:6379/0`; `pip install 'biomatdb[redis]'`) for the "
        "rate-limit counters shared by the workers; empty: the database (an unlogged "
        "PostgreSQL table, or on SQLite a side file `<database>.ratelimit`).",
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins (`https://app.example.org`) whose web pages may "
        "call the API from a browser (CORS, preflight included); empty: none (no "
        "`Access-Control-*` headers at all).",
    )

    @field_validator("rate_limit_anonymous", "rate_limit_key")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_limit(value)  # raises with what a limit looks like
        return value

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalize_database_url(value)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()


#: Defaults computed when the settings are read (``default_factory``), in words: the
#: table must not show the home folder of whoever generated it.
_DEFAULTS_IN_WORDS = {
    "database_url": "a SQLite file in the user's data folder: "
    "`~/.local/share/biomatdb/biomatdb.sqlite3` on Linux (`$XDG_DATA_HOME` if set), "
    "`~/Library/Application Support/biomatdb/` on macOS, `%LOCALAPPDATA%\\biomatdb\\` "
    "on Windows",
}


def _shown_default(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        return _DEFAULTS_IN_WORDS[name]  # a new default_factory needs its words here
    value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def _meaning(field: FieldInfo) -> str:
    parts = [field.description or ""]
    if get_origin(field.annotation) is Literal:
        parts.append(
            "One of " + ", ".join(f"`{choice}`" for choice in get_args(field.annotation)) + "."
        )
    # pydantic's ge=, gt=, le=, lt= (annotated_types' Ge, Gt, Le, Lt), in that order
    words = {"ge": "At least", "gt": "More than", "le": "At most", "lt": "Less than"}
    for bound in field.metadata:
        for attribute, said in words.items():
            value = getattr(bound, attribute, None)
            if value is not None:
                parts.append(f"{said} `{value:g}`.")
    return " ".join(parts)


def settings_table() -> str:
    """The Markdown table of every setting (variable, default, meaning), in the order
    of :class:`Settings`, without a final newline; docs/operations.md holds it
    (tests/test_operations_doc.py)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        cells = (f"`BIOMATDB_{name.upper()}`", _shown_default(name, field), _meaning(field))
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)
