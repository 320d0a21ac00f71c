"""What the server answers on its own, before the application: problem answers (431,
414, 408, 400), the limits of the settings, a guard per connection (head timer,
rejection, lingering) and the meter that keeps a request head within its limit."""

from __future__ import annotations

import asyncio
import http
import json
import logging
from dataclasses import dataclass

from uvicorn.server import ServerState

from biomatdb.api.middleware import SECURITY_HEADERS
from biomatdb.settings import get_settings

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
