"""Configuration from the environment (prefix ``BIOMATDB_``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
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
    """Everything that can be configured; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="BIOMATDB_", extra="ignore")

    #: SQLAlchemy URL. Default: a SQLite file in the user's data folder
    #: (:func:`default_database_url`); ``biomatdb db upgrade`` creates it.
    database_url: str = Field(default_factory=default_database_url)
    #: A streaming replica of the PostgreSQL primary for anonymous reads (GET and HEAD
    #: without a key and without If-None-Match / If-Match); empty: all to the primary.
    database_read_url: str = ""
    #: Echo SQL statements to the log (debugging only).
    echo_sql: bool = False
    #: Largest request body accepted, in bytes (uploads over it get 413).
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)

    # --- limits that keep one request from holding the service (docs/security.md) ---
    #: Database time one request may use, in all its statements, in seconds (0: no limit);
    #: over it the request is a 503. The CLI (imports, exports) runs without it.
    query_timeout_seconds: float = Field(5.0, ge=0)
    #: Longest a write waits for the write lock, in seconds; then a 503 with Retry-After.
    lock_timeout_seconds: float = Field(5.0, gt=0)
    #: Most materials one HTTP import may carry (larger loads go through the CLI).
    max_import_entries: int = Field(1000, ge=1)
    #: Compiled-statement cache entries per engine (SQLAlchemy's ``query_cache_size``).
    statement_cache_size: int = Field(200, ge=0)

    # --- the HTTP server (``biomatdb serve``) ---
    #: Largest request head (request line and headers), in bytes; over it: 431.
    max_header_bytes: int = Field(16 * 1024, ge=1024)
    #: Longest a client may take to send a request head, in seconds; then 408.
    header_timeout_seconds: float = Field(10.0, ge=0)
    #: Longest a client may take to send a request body, in seconds; then 408.
    body_timeout_seconds: float = Field(30.0, gt=0)
    #: How long an idle keep-alive connection stays open, in seconds.
    keep_alive_seconds: float = Field(5.0, gt=0)
    #: Comma-separated addresses (or CIDR networks) of reverse proxies whose
    #: X-Forwarded-For / X-Forwarded-Proto are believed; empty: none are.
    trusted_proxies: str = ""
    #: The public base URL (e.g. ``https://biomatdb.example.org``) used in ``links``;
    #: empty: taken from the request when its Host is in ``allowed_hosts``.
    public_base_url: str = ""
    #: Comma-separated Host names answered without a public base URL; ``*``: any.
    allowed_hosts: str = "localhost,127.0.0.1,[::1]"
    #: Log lines of ``biomatdb serve``: ``json`` (one object per line, with the request
    #: id) or ``text``.
    log_format: Literal["json", "text"] = "json"
    #: Least severe level logged: ``debug``, ``info``, ``warning``, ``error``.
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: On SIGTERM, how long in-flight requests may take to finish before the worker
    #: stops anyway, in seconds.
    shutdown_timeout_seconds: float = Field(30.0, gt=0)
    #: Requests a client address may make without an API key (``N/second``, ``N/minute``,
    #: ``N/hour`` or ``N/day``; ``off``: no limit); over it: 429 with Retry-After.
    rate_limit_anonymous: str = "120/minute"
    #: Requests one API key (and one address using keys) may make; ``off``: no limit.
    rate_limit_key: str = "600/minute"
    #: Redis for the rate-limit counters shared by the workers (``redis://host:6379/0``);
    #: empty: the database (PostgreSQL table, or a side file next to the SQLite file).
    redis_url: str = ""
    #: Comma-separated origins (``https://app.example.org``) whose web pages may call the
    #: API from a browser (CORS); empty: none (no ``Access-Control-*`` headers at all).
    cors_origins: str = ""

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
