"""The HTTP server against hostile clients (``biomatdb.server``, docs/security.md).

Every test runs a real server (``biomatdb serve``, and the same protocols on uvicorn's
h11 implementation) in a subprocess with a memory limit, and talks to it over raw
sockets with timeouts, so that nothing here can hang. Each reproduces a finding of
the attack on the running service, and failed before the server had limits:

1. one 64 MB request header stalled every request for seconds (now: 431 at the limit);
2. uvicorn's own errors (URL over 64 KB, malformed request) were ``text/plain``;
3. a client sending its head one byte at a time held its connection forever;
4. ``X-Forwarded-For`` was believed from any local peer.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from biomatdb.server import trusted_proxies, uvicorn_options
from biomatdb.settings import Settings
from tests.conftest import DatabaseFactory, _free_port

pytestmark = [pytest.mark.slow, pytest.mark.dialect_free]

#: The server's address space: far above what it needs (~250 MB), far below what an
#: unbounded head would take if a limit failed.
MEMORY_LIMIT = 2 * 1024**3
HEAD_LIMIT = 8192
HEAD_TIMEOUT = 1.0
PROBLEM = "application/problem+json"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#: Serve with the h11 implementation (``biomatdb serve`` always uses httptools).
H11_SERVE = (
    "from biomatdb.server import run; import sys; "
    "run('127.0.0.1', int(sys.argv[1]), 1, http_impl='h11')"
)


@dataclass
class Server:
    """A server subprocess, its port and its logs (stderr holds the JSON access log)."""

    port: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    database_url: str = ""

    def peak_rss_kib(self) -> int:
        """The most resident memory the server ever had (VmHWM), in KiB: an attack that
        made it buffer shows here even after the memory is freed."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1])

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def access_log_line(self, marker: str, timeout: float = 5.0) -> str:
        """The access-log line of the request whose URL holds ``marker``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr.read_text(errors="replace").splitlines():
                if marker in line and '"biomatdb.access"' in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no access-log line for {marker}: {self.stderr.read_text()}")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if exchange(server, HEALTH, timeout=1).startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start: " + server.stderr.read_text())


@pytest.fixture(scope="module")
def start_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Starts servers with extra settings in the environment; stops them at the end."""
    url = databases.with_fixture()
    started: list[Server] = []

    def start(http_impl: str = "httptools", workers: int = 1, **settings: str) -> Server:
        port = _free_port()
        folder = tmp_path_factory.mktemp("server")
        env = {
            **os.environ,
            "BIOMATDB_DATABASE_URL": url,
            "PYTHONUNBUFFERED": "1",  # the access log reaches the file at once
            "MALLOC_ARENA_MAX": "2",  # thread arenas reserve address space, not memory
            **{f"BIOMATDB_{name.upper()}": value for name, value in settings.items()},
        }
        if http_impl == "h11":
            command = [sys.executable, "-c", H11_SERVE, str(port)]
        else:
            command = [sys.executable, "-m", "biomatdb.cli", "serve", "--port", str(port)]
            command += ["--workers", str(workers)]
        server = Server(
            port,
            subprocess.Popen(
                command,
                env=env,
                stdout=(folder / "stdout").open("wb"),
                stderr=(folder / "stderr").open("wb"),
                preexec_fn=_limit_memory,
            ),
            folder / "stdout",
            folder / "stderr",
            url,
        )
        started.append(server)
        _wait_healthy(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
    for server in started:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture(scope="module", params=["httptools", "h11"])
def limited(request: pytest.FixtureRequest, start_server: Any) -> Server:
    """A server with a small head limit and a short head timeout."""
    server: Server = start_server(
        request.param,
        max_header_bytes=str(HEAD_LIMIT),
        header_timeout_seconds=str(HEAD_TIMEOUT),
    )
    return server


@pytest.fixture(scope="module")
def behind_proxy(start_server: Any) -> Server:
    """A server that trusts 127.0.0.1 as its proxy, with a head limit over 64 KB."""
    server: Server = start_server(trusted_proxies="127.0.0.1", max_header_bytes=str(256 * 1024))
    return server


# --- raw HTTP ---------------------------------------------------------------------------


def read_all(sock: socket.socket, deadline: float) -> bytes:
    """Everything until the server closes, or what came until ``deadline``."""
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received


def exchange(server: Server, request: bytes, timeout: float = 5.0) -> bytes:
    """Send ``request`` on a new connection; the answer until close (or ``timeout``)."""
    with server.connect(timeout) as sock:
        sock.sendall(request)
        return read_all(sock, time.monotonic() + timeout)


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the first response in ``raw``."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), raw[:200]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return int(lines[0].split()[1]), headers, body[:length]


def problem_of(raw: bytes, status: int, slug: str) -> dict[str, Any]:
    """The problem JSON of the answer, checked against RFC 9457's members."""
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == PROBLEM
    assert headers["connection"] == "close"
    document: dict[str, Any] = json.loads(body)
    assert document["type"] == f"/problems/{slug}"
    assert document["status"] == status
    assert document["title"]
    assert document["detail"]
    return document


class HealthPoller:
    """Polls /health on fresh connections in a thread and records the worst latency:
    what every other client experiences while an attack runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                answer = exchange(self.server, HEALTH, timeout=5)
                if not answer.startswith(b"HTTP/1.1 200"):
                    self.failures.append(repr(answer[:100]))
            except OSError as exc:
                self.failures.append(repr(exc))
            self.latencies.append(time.monotonic() - started)
            self._stop.wait(0.05)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def worst(self) -> float:
        return max(self.latencies)


def send_until_answered(sock: socket.socket, size: int, deadline: float) -> int:
    """Send ``size`` bytes of header value in 64 KiB chunks, stopping as soon as the
    server answers or closes; how many were sent."""
    chunk = b"a" * 65536
    sent = 0
    sock.setblocking(False)
    try:
        while sent < size and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                break
            if writable:
                sent += sock.send(chunk)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.setblocking(True)
    return sent


def send_huge_header(server: Server, size: int, deadline: float) -> tuple[bytes, int, float]:
    """A request whose one header is ``size`` bytes; (answer, bytes of the header sent,
    seconds to the answer)."""
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = send_until_answered(sock, size, deadline)
        if sent >= size:  # the server took it all: end the request to get its answer
            with contextlib.suppress(OSError):
                sock.sendall(b"\r\nConnection: close\r\n\r\n")
        answer = read_all(sock, deadline)
        return answer, sent, time.monotonic() - started


# --- 1. request head size ----------------------------------------------------------------


def test_a_64_mb_header_is_a_431_and_stalls_nobody(limited: Server) -> None:
    peak_before = limited.peak_rss_kib()
    with HealthPoller(limited) as poller:
        time.sleep(0.2)
        answer, sent, seconds = send_huge_header(limited, 64 * 1024**2, time.monotonic() + 15)
        time.sleep(0.3)
    peak_after = limited.peak_rss_kib()
    print(
        f"\n[server-limits] 64 MB header: {seconds:.3f} s to the answer after {sent} bytes; "
        f"worst /health {poller.worst:.3f} s; peak RSS {peak_before} -> {peak_after} KiB"
    )
    problem_of(answer, 431, "header-too-large")
    assert sent < 16 * 1024**2, "the server read the header to its end"
    assert not poller.failures, poller.failures
    assert poller.worst < 2.0
    assert peak_after - peak_before < 30 * 1024


def test_four_48_mb_headers_at_once_cost_neither_time_nor_memory(limited: Server) -> None:
    peak_before = limited.peak_rss_kib()
    answers: list[tuple[bytes, int, float]] = []
    deadline = time.monotonic() + 15

    def attack() -> None:
        answers.append(send_huge_header(limited, 48 * 1024**2, deadline))

    threads = [threading.Thread(target=attack) for _ in range(4)]
    with HealthPoller(limited) as poller:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    peak_after = limited.peak_rss_kib()
    print(
        f"\n[server-limits] 4 x 48 MB headers: slowest answer "
        f"{max(a[2] for a in answers):.3f} s; worst /health {poller.worst:.3f} s; "
        f"peak RSS {peak_before} -> {peak_after} KiB"
    )
    assert len(answers) == 4
    for answer, sent, _ in answers:
        problem_of(answer, 431, "header-too-large")
        assert sent < 16 * 1024**2
    assert poller.worst < 2.0
    assert peak_after - peak_before < 30 * 1024


def test_a_head_at_the_limit_is_served_and_one_byte_more_is_not(limited: Server) -> None:
    def request_of(size: int) -> bytes:
        start = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Pad: "
        return start + b"p" * (size - len(start) - 4) + b"\r\n\r\n"

    assert len(request_of(HEAD_LIMIT)) == HEAD_LIMIT
    assert parse(exchange(limited, request_of(HEAD_LIMIT)))[0] == 200
    problem_of(exchange(limited, request_of(HEAD_LIMIT + 1)), 431, "header-too-large")


# --- 2. the server's own errors are problem JSON ----------------------------------------


def test_a_100_kb_url_is_a_414_problem(limited: Server) -> None:
    """Over the head limit while still in the request line: 414 URI Too Long."""
    url = b"/api/v1/materials?q=" + b"x" * 100_000
    request = b"GET " + url + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    problem_of(exchange(limited, request), 414, "uri-too-long")


def test_a_url_over_64_kb_is_a_414_problem_under_a_larger_head_limit(
    behind_proxy: Server,
) -> None:
    """httptools cannot parse a URL over 64 KB at all (uvicorn answered text/plain)."""
    url = b"/api/v1/materials?q=" + b"x" * 100_000
    request = b"GET " + url + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    problem_of(exchange(behind_proxy, request), 414, "uri-too-long")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ten\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
        b"GET /he\x00alth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ],
    ids=["request-line", "content-length", "header-line", "nul-in-url"],
)
def test_a_malformed_request_is_a_400_problem(limited: Server, request_bytes: bytes) -> None:
    problem_of(exchange(limited, request_bytes), 400, "invalid-request")


def test_an_error_after_a_pipelined_request_follows_its_response(limited: Server) -> None:
    """The first request is answered in full; then the error, never interleaved."""
    answer = exchange(limited, HEALTH.replace(b"Connection: close\r\n", b"") + b"NONSENSE\r\n\r\n")
    first, _, rest = answer.partition(b"HTTP/1.1 400")
    assert parse(first)[0] == 200
    problem_of(b"HTTP/1.1 400" + rest, 400, "invalid-request")


# --- 3. slow heads -----------------------------------------------------------------------


def drip(sock: socket.socket, data: bytes, interval: float, deadline: float) -> bytes:
    """Send ``data`` a byte at a time until the server answers or closes; its answer."""
    for byte in data:
        if time.monotonic() > deadline:
            break
        readable, _, _ = select.select([sock], [], [], interval)
        if readable:
            break
        try:
            sock.send(bytes([byte]))
        except OSError:
            break
    return read_all(sock, deadline)


def test_a_slowloris_head_is_a_408_and_others_are_served(limited: Server) -> None:
    started = time.monotonic()
    with HealthPoller(limited) as poller, limited.connect() as sock:
        answer = drip(sock, HEALTH * 10, 0.1, started + HEAD_TIMEOUT + 4)
    waited = time.monotonic() - started
    print(f"\n[server-limits] slowloris closed after {waited:.2f} s")
    problem_of(answer, 408, "request-timeout")
    assert HEAD_TIMEOUT - 0.1 < waited < HEAD_TIMEOUT + 2
    assert not poller.failures
    assert poller.worst < 2.0


def test_a_slow_second_head_on_a_kept_alive_connection_is_a_408(limited: Server) -> None:
    """uvicorn's keep-alive timer stops at the first byte of the next request."""
    keep_alive = HEALTH.replace(b"Connection: close\r\n", b"")
    with limited.connect() as sock:
        sock.sendall(keep_alive)
        first = b""
        while b'"status":"ok"' not in first:
            chunk = sock.recv(65536)
            assert chunk, "closed after the first response"
            first += chunk
        started = time.monotonic()
        answer = drip(sock, keep_alive * 10, 0.1, started + HEAD_TIMEOUT + 4)
    assert parse(first)[0] == 200
    problem_of(answer, 408, "request-timeout")
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_connection_that_sends_nothing_is_closed(limited: Server) -> None:
    started = time.monotonic()
    with limited.connect() as sock:
        answer = read_all(sock, started + HEAD_TIMEOUT + 4)
    assert answer == b""
    assert time.monotonic() - started < HEAD_TIMEOUT + 2


# --- 4. X-Forwarded-For -----------------------------------------------------------------


def forwarded_request(marker: str) -> bytes:
    return (
        # a search for the marker: it shows in the access log line (strict parameters
        # refuse a made-up one such as ?probe=)
        f"GET /api/v1/materials?q={marker} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
    ).encode()


def test_x_forwarded_for_is_not_believed_by_default(limited: Server) -> None:
    marker = uuid.uuid4().hex
    assert parse(exchange(limited, forwarded_request(marker)))[0] == 200
    line = limited.access_log_line(marker)
    assert "6.6.6.6" not in line
    assert '"client": "127.0.0.1"' in line


def test_x_forwarded_for_is_believed_from_a_trusted_proxy(behind_proxy: Server) -> None:
    marker = uuid.uuid4().hex
    assert parse(exchange(behind_proxy, forwarded_request(marker)))[0] == 200
    assert '"client": "6.6.6.6"' in behind_proxy.access_log_line(marker)


def test_by_default_no_proxy_is_trusted() -> None:
    options = uvicorn_options(Settings(trusted_proxies=""))
    assert options["proxy_headers"] is False
    assert options["forwarded_allow_ips"] == []


def test_trusted_proxies_are_checked_and_normalized() -> None:
    assert trusted_proxies(" 127.0.0.1, 10.1.2.3/8,::1 ") == ["127.0.0.1", "10.0.0.0/8", "::1"]
    assert trusted_proxies("*") == ["*"]
    with pytest.raises(ValueError, match="'proxy-host' is not an IP address"):
        trusted_proxies("127.0.0.1,proxy-host")


# --- worker processes --------------------------------------------------------------------


def test_the_limits_hold_in_worker_processes(start_server: Any) -> None:
    """With --workers, uvicorn spawns processes that import the protocol by name and
    read the settings from the environment they inherit."""
    server: Server = start_server(workers=2, max_header_bytes=str(HEAD_LIMIT))
    request = HEALTH.replace(b"\r\n\r\n", b"\r\nX-Pad: " + b"p" * HEAD_LIMIT + b"\r\n\r\n")
    for _ in range(4):  # whichever worker accepts the connection
        problem_of(exchange(server, request), 431, "header-too-large")
        problem_of(exchange(server, b"GARBAGE\r\n\r\n"), 400, "invalid-request")


# --- findings 1 and 2 against a real process (a hang here is bounded by timeouts) ---------


def get(server: Server, target: str, timeout: float = 10.0) -> bytes:
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    return exchange(server, request.encode(), timeout=timeout)


@pytest.mark.parametrize(
    "unit",
    ["GPa%5E(9%5E9%5E9)", "GPa%5E2%5E2%5E2%5E2%5E2%5E2", "GPa**99999999"],
)
def test_a_unit_bomb_is_a_400_and_stalls_nobody(start_server: Any, unit: str) -> None:
    """Before: ``GPa^(9^9^9)`` left every request (even /health) unanswered for minutes;
    ``GPa^2^2^2^2^2^2`` grew the process to 1.7 GB and ended in a 500 after 30 s."""
    server: Server = start_server()
    peak_before = server.peak_rss_kib()
    with HealthPoller(server) as poller:
        answer = get(server, f"/api/v1/materials?prop=youngs_modulus:1..2:{unit}")
        time.sleep(0.2)
    status, headers, body = parse(answer)
    assert status == 400, answer[:300]
    assert headers["content-type"] == PROBLEM
    assert json.loads(body)["errors"][0]["path"] == "prop[0]"
    assert not poller.failures, poller.failures
    assert poller.worst < 2.0
    assert server.peak_rss_kib() - peak_before < 30 * 1024


def test_a_thousand_prop_terms_cost_nothing(start_server: Any) -> None:
    """Before: 200 terms took 41 s on PostgreSQL, 1,000 held a backend for 11 minutes."""
    server: Server = start_server(max_header_bytes=str(256 * 1024))
    terms = "&".join(f"prop=youngs_modulus:{i}..{i + 1}:GPa" for i in range(1000))
    with HealthPoller(server) as poller:
        answer = get(server, f"/api/v1/materials?{terms}")
    status, _, body = parse(answer)
    assert status == 400, answer[:300]
    assert json.loads(body)["errors"] == [
        {"path": "prop", "message": "at most 20 prop terms per search; got 1000"}
    ]
    assert poller.worst < 2.0


CLI = [sys.executable, "-m", "biomatdb.cli"]


def test_a_trickled_body_is_a_408(start_server: Any) -> None:
    """A client that sends its body a byte at a time is cut off, not waited for."""
    server: Server = start_server(body_timeout_seconds="1")
    key = subprocess.run(
        [*CLI, "keys", "create", "--role", "curator", "--name", "trickler"],
        env={**os.environ, "BIOMATDB_DATABASE_URL": server.database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    body = b'{"materials": []}' * 10
    head = (
        "POST /api/v1/imports?dry_run=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with HealthPoller(server) as poller, server.connect() as sock:
        sock.sendall(head)
        answer = drip(sock, body, 0.2, started + 8)
    waited = time.monotonic() - started
    document = problem_of(answer, 408, "request-timeout")
    assert "body did not arrive within 1 s" in document["detail"]
    assert 0.9 < waited < 5
    assert not poller.failures, poller.failures
