"""Answers of repeated searches: an ETag from the data version and the request, ``304``
to ``If-None-Match``, and an in-process cache of result pages, bounded in bytes.

A search's answer depends only on the published data and the request (path, query,
host of its links): the data version (the change log's last sequence number, read in
the request's own transaction) and the full URL name it. So

* its ETag is a hash of (database, data version, URL), computed before any search
  work: a client that already has the page gets ``304`` for one indexed read;
* the JSON bytes of recent pages are kept per key, least recently used dropped first
  once ``BIOMATDB_RESULT_CACHE_MB`` is used; a write changes the version, so a cached
  page is never served after the data it shows has changed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from fastapi import Request, Response

_lock = Lock()
_pages: OrderedDict[str, bytes] = OrderedDict()
_size = 0


def page_tag(database: str, version: int, request: Request) -> str:
    """The strong ETag of a search answer, quoted."""
    seed = f"{database}\n{version}\n{request.url}".encode()
    return '"s' + hashlib.sha256(seed).hexdigest()[:32] + '"'


def not_modified(request: Request, tag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return tag in tags or "*" in tags


def cached_page(
    request: Request,
    database: str,
    version: int,
    limit_bytes: int,
    make: Callable[[], tuple[bytes, bool]],
) -> Response:
    """The answer of a search: 304, a cached page, or ``make()``: the body, and whether
    it is the whole answer of this version (then cached and tagged; a partial answer,
    whose facets are still being counted, is neither: ``Cache-Control: no-store``)."""
    tag = page_tag(database, version, request)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if not_modified(request, tag):
        return Response(status_code=304, headers=headers)
    with _lock:
        body = _pages.get(tag)
        if body is not None:
            _pages.move_to_end(tag)
    if body is None:
        body, whole = make()
        if not whole:
            return Response(
                content=body, media_type="application/json", headers={"Cache-Control": "no-store"}
            )
        _remember(tag, body, limit_bytes)
    return Response(content=body, media_type="application/json", headers=headers)


def _remember(tag: str, body: bytes, limit_bytes: int) -> None:
    global _size
    if len(body) > limit_bytes // 8:  # one huge page must not empty the cache
        return
    with _lock:
        if tag in _pages:
            return
        _pages[tag] = body
        _size += len(body)
        while _size > limit_bytes and _pages:
            _, dropped = _pages.popitem(last=False)
            _size -= len(dropped)


def clear() -> None:
    """Forget every cached page (tests; benchmarks of the uncached path)."""
    global _size
    with _lock:
        _pages.clear()
        _size = 0


def stats() -> tuple[int, int]:
    """(pages, bytes) held."""
    with _lock:
        return len(_pages), _size
