"""Pagination links, never built from an untrusted Host header."""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request

from biomatdb.api.wire import Links
from biomatdb.settings import get_settings


def page_links(request: Request, next_cursor: str | None, *, param: str = "cursor") -> Links:
    """``self`` is the request URL; ``next`` the same URL with the next cursor.

    The base is the configured public URL (``BIOMATDB_PUBLIC_BASE_URL``); without
    one, the request's own when its Host is one of ``BIOMATDB_ALLOWED_HOSTS``;
    otherwise the links are relative (``/api/v1/...``), so a forged Host header
    can never put another site's address into an answer (or a cache).
    """
    url = request.url
    next_url = url.include_query_params(**{param: next_cursor}) if next_cursor else None
    base = _base(request)
    relative = url.path + (f"?{url.query}" if url.query else "")
    next_relative = (
        next_url.path + (f"?{next_url.query}" if next_url.query else "") if next_url else None
    )
    if base is None:
        return Links(self=relative, next=next_relative)
    return Links(self=base + relative, next=base + next_relative if next_relative else None)


def base_url(request: Request) -> str:
    """The base of absolute links (as in :func:`page_links`), or "" for relative ones."""
    return _base(request) or ""


def _base(request: Request) -> str | None:
    public, allowed = _configured()
    if public:
        return public
    host = (request.url.hostname or "").lower()
    if "*" in allowed or host in allowed:
        return f"{request.url.scheme}://{request.url.netloc}"
    return None


@lru_cache(maxsize=1)
def _configured() -> tuple[str, frozenset[str]]:
    settings = get_settings()
    allowed = frozenset(
        name.strip().strip("[]").lower()
        for name in settings.allowed_hosts.split(",")
        if name.strip()
    )
    return settings.public_base_url.rstrip("/"), allowed
