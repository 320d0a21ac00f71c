"""Strong ETags for single resources, and 304 on a matching If-None-Match."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, Response

from biomatdb.kit.hashing import bytes_etag


def json_with_etag(
    request: Request,
    payload: Any,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    tag: str | None = None,
) -> Response:
    """Serialise ``payload``; tag it (``tag`` from the domain, else a hash of the bytes);
    answer 304 when the client already has it."""
    body = orjson.dumps(payload)
    etag = f'"{tag}"' if tag is not None else bytes_etag(body)
    all_headers = {"ETag": etag, "Cache-Control": "no-cache", **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and request.method in ("GET", "HEAD"):
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=all_headers)
    return Response(
        content=body, status_code=status_code, media_type="application/json", headers=all_headers
    )


def entity_tags(header: str | None) -> set[str] | None:
    """The entity tags of an ``If-Match`` header, unquoted (``*`` kept); None without one."""
    if header is None:
        return None
    # If-Match compares strongly (RFC 9110, 13.1.1): a weak tag (W/"...") keeps its
    # prefix here and so never matches.
    return {t.strip().strip('"') for t in header.split(",") if t.strip()}
