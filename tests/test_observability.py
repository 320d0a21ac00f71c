"""Operating the service (issue 13): a request id on every answer and log line, JSON
logs that never hold a key, Prometheus metrics summed over the workers, and a
graceful shutdown that lets in-flight requests finish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import DatabaseFactory, _free_port

pytestmark = pytest.mark.dialect_free

CLI = [sys.executable, "-m", "biomatdb.cli"]


def test_a_good_request_id_is_echoed_and_any_other_replaced(client: TestClient) -> None:
    kept = client.get("/api/v1/materials?class=metal", headers={"X-Request-ID": "lab-42.a_b"})
    assert kept.headers["x-request-id"] == "lab-42.a_b"
    for bad in ("two words", "x" * 65, "a/b", ""):
        made = client.get("/api/v1/properties", headers={"X-Request-ID": bad})
        assert made.headers["x-request-id"] != bad
        assert len(made.headers["x-request-id"]) == 32
    # errors and pages carry it too, each request its own
    missing = client.get("/api/v1/materials/nope")
    page = client.get("/")
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] != page.headers["x-request-id"]


def test_metrics_count_requests_per_route_template(client: TestClient) -> None:
    def count(route: str, status: str) -> float:
        text = client.get("/metrics").text
        prefix = f'biomatdb_http_requests_total{{method="GET",route="{route}",status="{status}"}} '
        return sum(
            float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)
        )

    before = count("/api/v1/materials/{material_id}", "404")
    for missing in ("a", "b", "c"):
        client.get(f"/api/v1/materials/{missing}")
    assert count("/api/v1/materials/{material_id}", "404") == before + 3
    unmatched = count("(unmatched)", "404")
    client.get("/no/such/path/12345")
    # an unknown path is counted under one label, never as a label of its own
    assert count("(unmatched)", "404") == unmatched + 1
    assert "/no/such/path/12345" not in client.get("/metrics").text


class Served:
    def __init__(self, url: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.process = process
        self.log = log

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()


def _serve(
    databases: DatabaseFactory, tmp_path: Path, workers: int, **settings: str
) -> Iterator[Served]:
    url = databases.with_fixture()
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url, **settings}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    key = subprocess.run(
        [*CLI, "keys", "create", "--role", "curator", "--name", "logged"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = _free_port()
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    served = Served(url, port, process, log)
    served.key = key  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{served.base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def served(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Served]:
    yield from _serve(databases, tmp_path, workers=1)


@pytest.fixture
def served_by_two(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Served]:
    yield from _serve(databases, tmp_path, workers=2)


@pytest.mark.slow
def test_logs_are_json_with_the_request_id_and_never_a_key(served: Served) -> None:
    key: str = served.key  # type: ignore[attr-defined]
    auth = {"Authorization": f"Bearer {key}"}
    answers = [
        httpx.get(f"{served.base}/api/v1/materials?class=metal", headers=auth),
        httpx.get(f"{served.base}/api/v1/materials/fx-draft", headers=auth),
        httpx.get(f"{served.base}/api/v1/materials?key={key}&class=metal", headers=auth),
        httpx.post(
            f"{served.base}/api/v1/imports?dry_run=true",
            json={"materials": [{"id": "x", "name": "X", "class": "metal"}]},
            headers={**auth, "X-Request-ID": "curator-upload-1"},
        ),
        httpx.get(f"{served.base}/api/v1/materials/fx-draft"),  # anonymous: 404
        httpx.get(
            f"{served.base}/api/v1/materials", headers={"Authorization": "Bearer bmdb_wrong_key"}
        ),
    ]
    assert [a.status_code for a in answers] == [200, 200, 400, 200, 404, 401]
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=40)
    lines = served.lines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "biomatdb.access"]
    ids = [a.headers["x-request-id"] for a in answers]
    assert [e["request_id"] for e in access if e["http"]["path"].startswith("/api/")] == ids
    assert ids[3] == "curator-upload-1"
    upload = next(e for e in access if e["request_id"] == "curator-upload-1")
    assert upload["http"]["method"] == "POST"
    assert upload["http"]["route"] == "/api/v1/imports"
    assert upload["http"]["status"] == 200
    assert upload["http"]["query"] == "dry_run=true"
    assert next(e for e in access if e["request_id"] == ids[2])["http"]["query"] == (
        "key=%2A%2A%2A&class=metal"
    )
    text = "\n".join(lines)
    assert key not in text
    assert key[:12] not in text
    assert "bmdb_wrong_key" not in text
    assert "authorization" not in text.lower()
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # server lines too


@pytest.mark.slow
def test_metrics_are_summed_over_the_workers(served_by_two: Served) -> None:
    base = served_by_two.base
    for _ in range(40):  # new connections: spread over both workers
        assert httpx.get(f"{base}/api/v1/materials/fx-ti-alloy").status_code == 200
    prefix = (
        'biomatdb_http_requests_total{method="GET",route="/api/v1/materials/{material_id}",'
        'status="200"} '
    )
    for _ in range(3):  # whichever worker answers the scrape, the sum is the same
        text = httpx.get(f"{base}/metrics").text
        (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
        assert float(line[len(prefix) :]) == 40.0
    assert "biomatdb_db_pool_connections_in_use" in text
    assert "biomatdb_http_request_duration_seconds_bucket" in text


@pytest.mark.slow
def test_sigterm_lets_an_in_flight_request_finish(served: Served) -> None:
    """A request whose body is still arriving when the service is told to stop is
    answered in full; new connections are refused meanwhile."""
    body = json.dumps({"materials": [{"id": "late", "name": "Late", "class": "metal"}]})
    raw = body.encode()
    key: str = served.key  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", served.port), timeout=20) as sock:
        sock.sendall(
            (
                "POST /api/v1/imports?dry_run=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + raw[:10]
        )
        time.sleep(0.5)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert served.process.poll() is None  # still finishing the request
        sock.sendall(raw[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b'"created":1' in answer.replace(b" ", b"")
    # uvicorn re-raises the signal once shut down: the status says how it ended.
    assert served.process.wait(timeout=30) in (0, -signal.SIGTERM)
