"""Configuration from the environment (prefix ``BIOMATDB_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver (``postgresql://...``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Everything that can be configured; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="BIOMATDB_", extra="ignore")

    #: SQLAlchemy URL. Default: a SQLite file in the working folder.
    database_url: str = "sqlite:///./biomatdb.sqlite3"
    #: Echo SQL statements to the log (debugging only).
    echo_sql: bool = False
    #: Largest request body accepted, in bytes (uploads over it get 413).
    max_body_bytes: int = 10 * 1024 * 1024

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalize_database_url(value)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
