"""The HTTP server behind ``biomatdb serve``: uvicorn, with limits on what a client may
send before the application ever sees a request (docs/security.md).

uvicorn leaves three gaps that a hostile client can use against the whole service:

* httptools accepts a request head of any size and concatenates each header value
  chunk by chunk, so one 64 MB header held the event loop (every connection) for
  seconds;
* a client that sends its head one byte at a time keeps its connection forever
  (uvicorn's keep-alive timer is cancelled by the first byte of the next request);
* uvicorn answers the errors it detects itself (unparsable requests, URLs over 64 KB)
  in ``text/plain``, while every other error of the API is RFC 9457 problem JSON.

The protocol classes below close these gaps for uvicorn's two HTTP implementations
(httptools, the default, and h11): they count the bytes of each request head as they
arrive and answer 431 once it is over ``max_header_bytes``; they answer 408 when a head
is not complete ``header_timeout_seconds`` after the connection opened or the previous
response ended; and they write these errors, and the parser's own 400, as problem
JSON. They are module-level classes so that uvicorn's worker processes (spawned, so the
config is pickled) import them by name and read the same settings from the environment.

They rely on uvicorn internals (``send_400_response``, ``on_response_complete``,
``cycle``, ``pipeline``), checked against uvicorn 0.54.
"""

from __future__ import annotations

import asyncio
import http
import ipaddress
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from biomatdb.api.app import SECURITY_HEADERS
from biomatdb.settings import Settings, get_settings

APP = "biomatdb.api.app:create_app"
PROBLEM_MEDIA_TYPE = b"application/problem+json"
#: After an error answer, how long the connection keeps reading (and dropping) what the
#: client still sends before closing: closing with unread input makes the kernel send
#: a reset, which can destroy the answer before the client reads it (RFC 9112, 9.6).
LINGER_SECONDS = 2.0
#: httptools' URL parser keeps offsets in 16 bits: a longer URL cannot be parsed.
MAX_PARSABLE_URL = 0xFFFF

#: The ``type`` slugs of the answers below; each needs an entry in
#: ``biomatdb.api.problems.PROBLEM_DOCS``.
PROBLEM_SLUGS = ("header-too-large", "uri-too-long", "invalid-request", "request-timeout")

log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem that the server answers on its own, before the application."""

    status: int
    slug: str
    title: str
    detail: str

    def encode(self, default_headers: list[tuple[bytes, bytes]]) -> bytes:
        """The whole HTTP/1.1 response, closing the connection (the stream is unusable)."""
        body = json.dumps(
            {
                "type": f"/problems/{self.slug}",
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
            },
            separators=(",", ":"),
        ).encode()
        phrase = http.HTTPStatus(self.status).phrase.encode()
        lines = [b"HTTP/1.1 %d %s" % (self.status, phrase)]
        lines += [name + b": " + value for name, value in default_headers + SECURITY_HEADERS]
        lines += [
            b"content-type: " + PROBLEM_MEDIA_TYPE,
            b"content-length: %d" % len(body),
            b"connection: close",
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


def head_too_large(limit: int, *, in_request_line: bool) -> Problem:
    """431, or 414 when the request line alone (method, URL, version) is over the limit."""
    if in_request_line:
        return Problem(
            414,
            "uri-too-long",
            "URI too long",
            f"The request line is longer than the server accepts ({limit} bytes).",
        )
    return Problem(
        431,
        "header-too-large",
        "Request header fields too large",
        f"The request line and headers together are longer than the server accepts "
        f"({limit} bytes).",
    )


def invalid_request() -> Problem:
    """400 for what the HTTP parser rejects (the application never sees it)."""
    return Problem(
        400, "invalid-request", "Invalid HTTP request", "The request is not valid HTTP/1.1."
    )


def request_timeout(seconds: float) -> Problem:
    """408 for a request head that took too long to arrive."""
    return Problem(
        408,
        "request-timeout",
        "Request timeout",
        f"The request line and headers did not arrive within {seconds:g} seconds.",
    )


@dataclass(frozen=True)
class Limits:
    """The server limits of the settings, read once per connection."""

    max_header_bytes: int
    header_timeout_seconds: float

    @classmethod
    def current(cls) -> Limits:
        """From ``get_settings()`` (the environment of this worker process)."""
        settings = get_settings()
        return cls(settings.max_header_bytes, settings.header_timeout_seconds)


class Guard:
    """Per-connection state shared by both protocols: the head timer and the error answer.

    An error answer ends the connection: the guard writes it (at once, or after the
    response in progress, so that two responses never interleave), half-closes, drops
    whatever else the client sends, and closes after ``LINGER_SECONDS`` at the latest.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limits: Limits) -> None:
        self.loop = loop
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.default_headers: list[tuple[bytes, bytes]] = []
        #: Set once an error answer is decided: from then on input is dropped.
        self.rejected = False
        #: An error answer waiting for the response in progress to end.
        self.pending: Problem | None = None
        #: Whether bytes of a request head arrived since the head timer was armed.
        self.head_started = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    def attach(self, transport: asyncio.Transport, server_state: ServerState) -> None:
        """Bind to a new connection and start waiting for its first request head."""
        self.transport = transport
        self.default_headers = server_state.default_headers
        self.arm_head_timer()

    def arm_head_timer(self) -> None:
        """Start the clock for the next request head (at connect, or after a response)."""
        self.cancel_head_timer()
        self.head_started = False
        if self.limits.header_timeout_seconds > 0:
            self._head_timer = self.loop.call_later(
                self.limits.header_timeout_seconds, self._head_timed_out
            )

    def cancel_head_timer(self) -> None:
        """The head is complete (or the connection is over): stop the clock."""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        """408 for a started head; a connection that sent nothing is just closed, as an
        idle keep-alive connection is (a 408 there could be read as the answer to a
        request the client is sending at the same moment)."""
        self._head_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.head_started:
            self.reject(request_timeout(self.limits.header_timeout_seconds), busy=False)
        else:
            self.transport.close()

    def reject(self, problem: Problem, *, busy: bool) -> None:
        """Answer ``problem`` and end the connection; ``busy``: a response is being
        written, so the answer waits for ``send_pending`` after it."""
        if self.rejected:
            return
        self.rejected = True
        self.cancel_head_timer()
        if problem.status != 400:  # uvicorn logs the parser's rejections itself
            peer = self.transport.get_extra_info("peername") if self.transport else None
            log.warning(
                "%s - HTTP %d before the application: %s", peer, problem.status, problem.detail
            )
        if busy:
            self.pending = problem
        else:
            self.send(problem)

    def send_pending(self) -> bool:
        """After a response: write the error answer that waited for it, if any."""
        if self.pending is None:
            return False
        problem, self.pending = self.pending, None
        self.send(problem)
        return True

    def send(self, problem: Problem) -> None:
        """Write the answer, half-close, and close for good after the linger time."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.write(problem.encode(self.default_headers))
        if transport.can_write_eof():
            transport.write_eof()
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.close)

    def detach(self) -> None:
        """The connection is gone: stop every timer."""
        self.cancel_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None


class HeadMeter:
    """Counts the bytes of the request head being received, so that the parser is never
    handed more than ``max_header_bytes`` of one head.

    A head ends inside some piece of input that the meter cannot split exactly (the
    parsers do not say where), so the bytes that follow it in the same read (at most
    one read, 256 KiB) are not counted towards the next head of a pipelining client.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        #: No line of the head has ended yet: everything so far is the request line.
        self.in_request_line = True

    def restart(self) -> None:
        """A head is complete: the next one starts from zero."""
        self.count = 0
        self.in_request_line = True

    def split(self, data: bytes) -> tuple[bytes, bytes] | None:
        """(what the parser may take now, the rest), or None when the head is over the
        limit. Counts what it lets through."""
        room = self.limit - self.count
        if room <= 0:
            return None
        piece = data[:room]
        self.count += len(piece)
        if self.in_request_line and b"\n" in piece:
            self.in_request_line = False
        return piece, data[room:]

    def problem(self) -> Problem:
        """The answer for a head over the limit: 414 or 431."""
        return head_too_large(self.limit, in_request_line=self.in_request_line)


class HttpToolsServerProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the head limit, the head timeout and problem JSON.

    httptools has no size limit and concatenates each header value piece by piece, so
    the limit has to be applied before the parser: see ``HeadMeter``.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = Guard(self.loop, Limits.current())
        self.meter = HeadMeter(self.guard.limits.max_header_bytes)
        #: Between ``on_headers_complete`` and ``on_message_complete`` bytes are body.
        self._in_head = True
        #: The parser has seen the first byte of a request whose head is not complete.
        self._message_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.attach(transport, self.server_state)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.detach()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser in pieces that keep each head within the limit."""
        if self.guard.rejected:
            return  # lingering after an error answer: drop, never buffer
        while data and not self.guard.rejected and not self.transport.is_closing():
            if self.transport.get_protocol() is not self:
                return  # upgraded to WebSocket: uvicorn hands over the first read only
            if self._in_head:
                self.guard.head_started = True
                split = self.meter.split(data)
                if split is None:
                    self._reject(self.meter.problem())
                    return
                piece, data = split
            else:
                piece, data = data, b""
            super().data_received(piece)

    def _reject(self, problem: Problem) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        self.guard.reject(problem, busy=busy)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's plain-text 400 for whatever httptools rejects, as problem JSON."""
        if len(getattr(self, "url", b"")) > MAX_PARSABLE_URL:
            self._reject(head_too_large(MAX_PARSABLE_URL, in_request_line=True))
        else:
            self._reject(invalid_request())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_begun = True

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self.meter.in_request_line = False  # for a head that began mid-read (pipelined)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.guard.cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._message_begun = False
        self.meter.restart()

    def on_response_complete(self) -> None:
        """Send an error answer that waited for this response, or start the head clock."""
        if self.guard.pending is not None and not self.pipeline:
            self.server_state.total_requests += 1
            self.guard.send_pending()
            return
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined and not self.guard.rejected and not self.transport.is_closing():
            self.guard.arm_head_timer()
            self.guard.head_started = self._message_begun  # a pipelined head has begun


class _Connection(h11.Connection):
    """h11's connection, remembering the last protocol error so that the answer can use
    its status hint (431 for an incomplete event over ``max_incomplete_event_size``)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


class H11ServerProtocol(H11Protocol):
    """uvicorn's h11 protocol with the head limit, the head timeout and problem JSON.

    h11's own limit (``max_incomplete_event_size``) only applies while a head is
    incomplete: a large head that arrives in one read passes. So the same
    ``HeadMeter`` as for httptools is applied while h11 waits for a request.
    """

    conn: _Connection

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = Guard(self.loop, Limits.current())
        self.meter = HeadMeter(self.guard.limits.max_header_bytes)
        self.conn = _Connection(
            h11.SERVER, max_incomplete_event_size=self.guard.limits.max_header_bytes
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.attach(transport, self.server_state)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.detach()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed h11 in pieces that keep each head within the limit."""
        if self.guard.rejected:
            return  # lingering after an error answer: drop, never buffer
        while data and not self.guard.rejected and not self.transport.is_closing():
            if self.conn.their_state is h11.IDLE:
                self.guard.head_started = True
                split = self.meter.split(data)
                if split is None:
                    self._reject(self.meter.problem())
                    return
                piece, data = split
            else:
                piece, data = data, b""
            super().data_received(piece)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the head is complete (or failed)
            self.guard.cancel_head_timer()
            self.meter.restart()

    def _reject(self, problem: Problem) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        self.guard.reject(problem, busy=busy)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's plain-text 400 for whatever h11 rejects, as problem JSON."""
        error = self.conn.last_error
        if error is not None and error.error_status_hint == 431:
            self._reject(self.meter.problem())
        else:
            self._reject(invalid_request())

    def on_response_complete(self) -> None:
        """Send an error answer that waited for this response, or start the head clock."""
        if self.guard.send_pending():
            self.server_state.total_requests += 1
            return
        super().on_response_complete()
        if (
            self.conn.their_state is h11.IDLE
            and not self.guard.rejected
            and not self.transport.is_closing()
        ):
            self.guard.arm_head_timer()
            self.guard.head_started = bool(self.conn.trailing_data[0])  # a pipelined head


PROTOCOLS: dict[str, type[asyncio.Protocol]] = {
    "httptools": HttpToolsServerProtocol,
    "h11": H11ServerProtocol,
}


def trusted_proxies(value: str) -> list[str]:
    """The addresses and networks of ``BIOMATDB_TRUSTED_PROXIES``, normalized (``*``:
    every peer, for a server that only a proxy can reach).

    Invalid entries stop the start: uvicorn would silently compare them as strings
    (``10.0.0.1/8`` too, having host bits set), and a typo would quietly trust nobody.
    """
    entries = [item.strip() for item in value.split(",") if item.strip()]
    if entries == ["*"]:
        return entries
    return [_address_or_network(entry) for entry in entries]


def _address_or_network(entry: str) -> str:
    try:
        if "/" in entry:
            return str(ipaddress.ip_network(entry, strict=False))
        return str(ipaddress.ip_address(entry))
    except ValueError:
        raise ValueError(
            f"BIOMATDB_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
        ) from None


def uvicorn_options(
    settings: Settings, http_impl: Literal["httptools", "h11"] = "httptools"
) -> dict[str, Any]:
    """The uvicorn options that carry the server settings.

    X-Forwarded-For / -Proto are believed only from ``trusted_proxies``: with none,
    uvicorn's proxy middleware is not installed at all (its own default trusts every
    local peer, so anything on the host could claim any client address).
    """
    proxies = trusted_proxies(settings.trusted_proxies)
    return {
        "http": PROTOCOLS[http_impl],
        # uvicorn annotates int, but only hands the value to loop.call_later.
        "timeout_keep_alive": cast(int, settings.keep_alive_seconds),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


def run(
    host: str, port: int, workers: int, *, http_impl: Literal["httptools", "h11"] = "httptools"
) -> None:
    """Serve the API with uvicorn, the limits above and the settings' proxy trust."""
    import uvicorn

    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(get_settings(), http_impl),
    )
