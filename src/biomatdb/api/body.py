"""Request bodies: a size limit enforced while reading, media types, JSON decoding."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biomatdb.bundles import reader
from biomatdb.bundles.reader import decode
from biomatdb.errors import (
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from biomatdb.settings import get_settings

JSON = "application/json"
NDJSON = "application/x-ndjson"
MERGE_PATCH = "application/merge-patch+json"


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes the limit (before it is read whole)."""


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with 413, without buffering them.

    A declared ``Content-Length`` over the limit is refused before reading; a
    chunked body is counted as it streams and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.limit
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if too_large:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited_receive, send)


def media_type(request: Request) -> str:
    """The request's media type, without parameters, lower case."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, *, accept: tuple[str, ...], limit: int) -> bytes:
    """The raw body, after checking its media type and size."""
    kind = media_type(request)
    if kind not in accept:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(accept)} (Content-Type: {kind or 'missing'})"
        )
    charset = _charset(request.headers.get("content-type", ""))
    if charset is not None and charset not in ("utf-8", "utf8"):
        # JSON exchanged between systems is UTF-8 (RFC 8259, section 8.1): a body
        # declared otherwise would be misread, so it is refused, not guessed at.
        raise UnsupportedMediaType(
            f"the body must be UTF-8; Content-Type declares charset={charset}. "
            "Send it as UTF-8 (or leave charset out)"
        )
    timeout = get_settings().body_timeout_seconds
    try:
        # A client that trickles its body would otherwise hold the request (and,
        # for a write, its place in the queue) for as long as it likes.
        with anyio.fail_after(timeout):
            return await request.body()
    except BodyTooLarge:
        raise PayloadTooLarge(
            f"the body is larger than {limit} bytes; split the upload into smaller bundles"
        ) from None
    except TimeoutError:
        raise RequestTimeout(
            f"the body did not arrive within {timeout:g} s; send it again, faster or smaller"
        ) from None


async def read_json(request: Request, *, accept: tuple[str, ...], limit: int) -> Any:
    """The decoded JSON body (NaN decoded so that validation can point at it)."""
    return decode(await read_body(request, accept=accept, limit=limit), name="body")


def decode_ndjson(data: bytes) -> dict[str, Any]:
    """NDJSON of materials as a bundle (``bundles.reader.decode_ndjson``, shared with the CLI)."""
    return reader.decode_ndjson(data, name="body")


def _charset(content_type: str) -> str | None:
    """The declared ``charset`` parameter, lower case, or None."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None
