"""ASGI middleware for every answer: NUL characters refused at the door, hardening headers."""

from __future__ import annotations

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
#: Swagger UI and ReDoc (/docs, /redoc) load their scripts and styles from a CDN.
_DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    b"https://cdn.redoc.ly; worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware: hardening headers on every answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = _DOCS_CSP if path.startswith(_DOCS_PATHS) else _API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *_COMMON_HEADERS,
                    (b"content-security-policy", csp),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
