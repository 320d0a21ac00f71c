"""The web pages read and write through the API itself, in process.

A page handler calls :func:`call` with an API path; the request goes through the
whole application (middleware, strict parameters, problem answers) as an HTTP
client's would, without a socket. So a page shows exactly what the API gives, its
errors included (problem JSON, rendered on the page), and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import anyio
import orjson
from starlette.requests import Request
from starlette.types import Message

#: A parameter's values: one, or several for a repeatable parameter.
Params = Mapping[str, str | Sequence[str] | None]


@dataclass(frozen=True, slots=True)
class Answer:
    """The API's answer: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def problems(self) -> list[dict[str, str]]:
        """The ``errors`` of a problem answer (each ``path`` and ``message``), or one
        entry holding its ``detail`` when it names none."""
        if self.ok or not self.headers.get("content-type", "").startswith(
            "application/problem+json"
        ):
            return []
        problem = self.json()
        errors = problem.get("errors") or []
        if errors:
            return [{"path": str(e.get("path", "")), "message": str(e["message"])} for e in errors]
        return [{"path": "", "message": str(problem.get("detail") or problem.get("title"))}]

    @property
    def detail(self) -> str:
        if self.ok:
            return ""
        try:
            return str(self.json().get("detail", ""))
        except orjson.JSONDecodeError:
            return self.body.decode(errors="replace")


def query_string(params: Params | None) -> str:
    """``params`` as a URL query (repeatable parameters repeated; None and "" left out)."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        for one in [value] if isinstance(value, str) else value:
            if one != "":
                pairs.append((name, one))
    return urlencode(pairs)


async def call(
    request: Request,
    method: str,
    path: str,
    *,
    params: Params | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str = "application/json",
    key: str | None = None,
) -> Answer:
    """``method path?params`` on this application, as the page's user (``key``)."""
    headers = [(b"accept", accept.encode()), (b"host", request.headers.get("host", "").encode())]
    if key is not None:
        headers.append((b"authorization", b"Bearer " + key.encode()))
    if body is not None:
        headers.append((b"content-type", (content_type or "application/json").encode()))
        headers.append((b"content-length", str(len(body)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": request.scope.get("root_path", ""),
        "query_string": query_string(params).encode(),
        "headers": headers,
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
    }
    if "state" in request.scope:  # the lifespan's state (engine, settings)
        scope["state"] = dict(request.scope["state"])
    sent = False
    status = 500
    answer_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}
        # The page's client stays: a streamed answer must not see it leave.
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                answer_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    return Answer(status, answer_headers, b"".join(chunks))
