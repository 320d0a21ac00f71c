"""uvicorn's two HTTP protocols (httptools, the default, and h11) with the guard of
``guard.py``: each request head counted as it arrives, timed, and every error the
server writes itself answered as problem JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from biomatdb.server.guard import (
    MAX_PARSABLE_URL,
    Guard,
    HeadMeter,
    Limits,
    Problem,
    head_too_large,
    invalid_request,
)


class _Guarded:
    """What both protocols add to uvicorn's: the guard and the head meter of a connection,
    and feeding the parser in pieces that keep each request head within the limit.

    A mixin placed before the uvicorn class, so ``super()`` reaches uvicorn's methods.
    """

    guard: Guard
    meter: HeadMeter
    transport: asyncio.Transport
    server_state: ServerState
    cycle: Any

    def _start_guard(self, loop: asyncio.AbstractEventLoop) -> None:
        self.guard = Guard(loop, Limits.current())
        self.meter = HeadMeter(self.guard.limits.max_header_bytes)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.guard.attach(cast(asyncio.Transport, transport), self.server_state)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.detach()
        super().connection_lost(exc)  # type: ignore[misc]

    def _feed(self, data: bytes, head_pending: Callable[[], bool]) -> None:
        """Hand ``data`` to the parser; while a head is pending (``head_pending()``), in
        pieces that keep it within the limit, rejecting it once it is over."""
        if self.guard.rejected:
            return  # lingering after an error answer: drop, never buffer
        while data and not self.guard.rejected and not self.transport.is_closing():
            if self.transport.get_protocol() is not cast(Any, self):
                return  # upgraded to WebSocket: uvicorn hands over the first read only
            if head_pending():
                self.guard.head_started = True
                split = self.meter.split(data)
                if split is None:
                    self._reject(self.meter.problem())
                    return
                piece, data = split
            else:
                piece, data = data, b""
            super().data_received(piece)  # type: ignore[misc]

    def _reject(self, problem: Problem) -> None:
        busy = self.cycle is not None and not self.cycle.response_complete
        self.guard.reject(problem, busy=busy)


class HttpToolsServerProtocol(_Guarded, HttpToolsProtocol):
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
        self._start_guard(self.loop)
        #: Between ``on_headers_complete`` and ``on_message_complete`` bytes are body.
        self._in_head = True
        #: The parser has seen the first byte of a request whose head is not complete.
        self._message_begun = False

    def data_received(self, data: bytes) -> None:
        self._feed(data, lambda: self._in_head)

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


class H11ServerProtocol(_Guarded, H11Protocol):
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
        self._start_guard(self.loop)
        self.conn = _Connection(
            h11.SERVER, max_incomplete_event_size=self.guard.limits.max_header_bytes
        )

    def data_received(self, data: bytes) -> None:
        self._feed(data, lambda: self.conn.their_state is h11.IDLE)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the head is complete (or failed)
            self.guard.cancel_head_timer()
            self.meter.restart()

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
