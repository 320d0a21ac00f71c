"""Rate limits per API key and per client address (issue 13): 429 problem JSON with
Retry-After over the limit, RateLimit-* headers on counted answers, probes never
counted, made-up keys do not lift an address's limit, and the counters are shared by
the worker processes (database by default, Redis when configured)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from biomatdb import migrations
from biomatdb.settings import Limit, Settings, parse_limit
from tests.conftest import DatabaseFactory, _free_port
from tests.test_cli_errors import database_url_env
from tests.test_operations import app_at, at

__all__ = ["app_at", "at", "database_url_env"]  # fixtures used here

CLI = [sys.executable, "-m", "biomatdb.cli"]
REDIS_URL = "redis://127.0.0.1:6379/15"


def test_limits_are_read_and_checked() -> None:
    assert parse_limit("120/minute") == Limit(120, 60)
    assert parse_limit(" 5 / second ") == Limit(5, 1)
    assert parse_limit("off") is None
    assert parse_limit("0/hour") is None
    with pytest.raises(ValidationError, match="is not a rate limit: give N/second"):
        Settings(rate_limit_anonymous="lots")


@pytest.fixture
def limited(app_at: Any, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    url = databases.new_url()
    migrations.upgrade(url)
    monkeypatch.setenv("BIOMATDB_RATE_LIMIT_ANONYMOUS", "3/day")
    monkeypatch.setenv("BIOMATDB_RATE_LIMIT_KEY", "5/day")
    return app_at(url)


def test_an_address_over_its_limit_gets_429_with_retry_after(limited: Any) -> None:
    answers = [limited.get("/api/v1/properties") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 86400
    assert refused.headers["ratelimit-reset"] == str(retry)
    problem = refused.json()
    assert problem["type"] == "/problems/rate-limited"
    assert problem["status"] == 429
    assert problem["detail"] == (
        f"the address testclient made more than 3/day requests; retry in {retry} s "
        "(or use an API key, which has a higher limit)"
    )
    # probes, metrics and assets are never counted or refused
    for path in ("/health", "/ready", "/metrics", "/assets/site.css"):
        assert limited.get(path).status_code == 200, path
    assert "ratelimit-limit" not in limited.get("/health").headers


def test_a_key_has_its_own_limit_and_made_up_keys_do_not_lift_it(limited: Any) -> None:
    for _ in range(3):
        limited.get("/api/v1/properties")
    assert limited.get("/api/v1/properties").status_code == 429  # the address is spent
    made_up = [
        limited.get("/api/v1/properties", headers={"Authorization": f"Bearer bmdb_fake{i}"})
        for i in range(6)
    ]
    # each made-up key is a fresh key bucket (and a 401), but the address's keyed
    # bucket counts them all
    assert [a.status_code for a in made_up] == [401, 401, 401, 401, 401, 429]
    assert made_up[5].json()["detail"].startswith("this API key made more than 5/day requests")


def _serve(url: str, port: int, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url, **settings}
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@pytest.fixture
def two_workers(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> str:
        url = databases.new_url()
        migrations.upgrade(url)
        port = _free_port()
        started.append(_serve(url, port, tmp_path / f"server-{port}.log", **settings))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _statuses(base: str, count: int) -> list[int]:
    # A new connection each time, so that both workers answer some.
    return [httpx.get(f"{base}/api/v1/properties").status_code for _ in range(count)]


@pytest.mark.slow
def test_the_workers_share_the_counters_in_the_database(two_workers: Any) -> None:
    base = two_workers(BIOMATDB_RATE_LIMIT_ANONYMOUS="10/day")
    statuses = _statuses(base, 14)
    assert statuses == [200] * 10 + [429] * 4  # counted once, whichever worker answers


@pytest.fixture
def redis_db() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (optional: the database counts without it)")
    for key in client.scan_iter("biomatdb:ratelimit:*"):
        client.delete(key)
    yield client
    for key in client.scan_iter("biomatdb:ratelimit:*"):
        client.delete(key)


@pytest.mark.slow
def test_the_workers_share_the_counters_in_redis(two_workers: Any, redis_db: Any) -> None:
    base = two_workers(BIOMATDB_RATE_LIMIT_ANONYMOUS="10/day", BIOMATDB_REDIS_URL=REDIS_URL)
    assert _statuses(base, 14) == [200] * 10 + [429] * 4
    assert [k.decode() for k in redis_db.scan_iter("biomatdb:ratelimit:ip:*")] != []


@pytest.mark.slow
def test_counters_out_of_reach_let_requests_through(two_workers: Any) -> None:
    base = two_workers(
        BIOMATDB_RATE_LIMIT_ANONYMOUS="2/day", BIOMATDB_REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert _statuses(base, 4) == [200] * 4
