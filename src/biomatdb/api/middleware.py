"""ASGI middleware for every answer: NUL characters refused at the door, hardening headers,
HEAD as GET without the body, one trailing slash ignored."""

from __future__ import annotations

import anyio
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biomatdb.api import problems


class RefuseNul:
    """ASGI middleware: a NUL character in the path or query is a 400.

    PostgreSQL text cannot hold NUL; refusing it at the door keeps every
    parameter and id safe on both databases.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode()
            query = scope.get("query_string", b"")
            if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in query or b"\x00" in query:
                response = problems.problem(
                    400,
                    "the request contains a NUL character (%00); remove it",
                    errors=[
                        {
                            "path": "query" if b"%00" in query or b"\x00" in query else "path",
                            "message": "NUL characters are not allowed",
                        }
                    ],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: For every answer: JSON is never sniffed as HTML, never framed, sends no referrer.
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: The API's answers are data: nothing in them may load or run anything.
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
#: What the server itself answers (431, 408 ... in ``biomatdb.server``) carries too.
SECURITY_HEADERS = [*_COMMON_HEADERS, (b"content-security-policy", _API_CSP)]
#: Swagger UI and ReDoc (/docs, /redoc): their scripts, styles and icon are served by the
#: service itself (/static/...), so the pages work offline; only their inline start-up
#: script and styles, and ReDoc's worker (a blob), are allowed besides.
_DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline'; "
    b"style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; "
    b"worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")
#: The web pages (``biomatdb.web``): scripts only from the service's own files, never
#: inline (an injected ``<script>`` cannot run); styles may be inline too, for the
#: chart's SVG that the page embeds (its marks are styled by class, its axes by
#: matplotlib's style attributes); forms post only to the service.
_WEB_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    b"base-uri 'none'; frame-ancestors 'none'"
)
_API_PATHS = ("/api/", "/static/", "/health", "/openapi.json")


def content_security_policy(path: str) -> bytes:
    """The CSP of the answer at ``path``: data (the API), documentation, or a page."""
    if path.startswith(_DOCS_PATHS):
        return _DOCS_CSP
    if path.startswith(_API_PATHS) or path == "/api":
        return _API_CSP
    return _WEB_CSP


class SecurityHeaders:
    """ASGI middleware: hardening headers on every answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = content_security_policy(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *_COMMON_HEADERS,
                    (b"content-security-policy", csp),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answers what ``GET`` would, without the body.

    The request goes in as ``GET`` (every GET route answers HEAD, with the same
    status and headers, ``Content-Length`` included); the body is dropped. A
    streamed answer (an export) stops after its first chunk: the inner app is told
    the client has gone (``http.disconnect``), as an ASGI 2.3 server would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return
        # Spec 2.3: StreamingResponse listens for the disconnect sent below (with 2.4
        # it would wait for the send to fail, which this one never does).
        asgi = {**scope.get("asgi", {}), "spec_version": "2.3"}
        head_scope = {**scope, "method": "GET", "asgi": asgi}
        started = anyio.Event()
        ended = False
        requested = False

        async def head_receive() -> Message:
            nonlocal requested
            if not requested:  # a HEAD request has no body
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await started.wait()
            return {"type": "http.disconnect"}

        async def head_send(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                await send(message)
                started.set()
            elif message["type"] == "http.response.body":
                if not ended:
                    ended = True
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)

        try:
            await self.app(head_scope, head_receive, head_send)
        finally:
            _route_back(head_scope, scope)
        if started.is_set() and not ended:  # stopped before its first chunk
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class TrailingSlash:
    """ASGI middleware: ``/api/v1/materials/`` is ``/api/v1/materials`` (no redirect).

    One trailing slash is dropped before routing, so every method (a POST too)
    reaches its route unchanged, and links are built from the path without it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            inner = {**scope, "path": path[:-1]}
            raw_path = inner.get("raw_path")
            if raw_path and raw_path.endswith(b"/"):
                inner["raw_path"] = raw_path[:-1]
            try:
                await self.app(inner, receive, send)
            finally:
                _route_back(inner, scope)
            return
        await self.app(scope, receive, send)


def _route_back(inner: Scope, outer: Scope) -> None:
    """The route the router matched in a copied scope, for the middleware outside the
    copy (the metrics and access log of :mod:`biomatdb.api.observe` name it)."""
    if "route" in inner:
        outer["route"] = inner["route"]


class Gzip(GZipMiddleware):
    """Starlette's gzip for a client that accepts it; nothing at all for one that does
    not (Starlette wraps every answer in a responder that only adds ``Vary``: about
    0.1 ms a request, the search's own budget)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding" and b"gzip" in value:
                    await super().__call__(scope, receive, send)
                    return
        await self.app(scope, receive, send)
