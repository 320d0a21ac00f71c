"""Pagination links."""

from __future__ import annotations

from fastapi import Request

from biomatdb.api.wire import Links


def page_links(request: Request, next_cursor: str | None, *, param: str = "cursor") -> Links:
    """``self`` is the request URL; ``next`` the same URL with the next cursor."""
    url = request.url
    next_url = str(url.include_query_params(**{param: next_cursor})) if next_cursor else None
    return Links(self=str(url), next=next_url)
