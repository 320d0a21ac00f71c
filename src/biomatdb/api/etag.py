"""Strong ETags for single resources, and 304 on a matching If-None-Match."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request, Response


def json_with_etag(request: Request, payload: Any) -> Response:
    """Serialise ``payload``; tag it with a hash of the bytes; 304 when the client has it."""
    body = orjson.dumps(payload)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
