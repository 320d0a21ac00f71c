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
) -> Response:
    """Serialise ``payload``; tag it; answer 304 when the client already has it."""
    body = orjson.dumps(payload)
    etag = bytes_etag(body)
    all_headers = {"ETag": etag, "Cache-Control": "no-cache", **(headers or {})}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and request.method in ("GET", "HEAD"):
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=all_headers)
    return Response(
        content=body, status_code=status_code, media_type="application/json", headers=all_headers
    )
