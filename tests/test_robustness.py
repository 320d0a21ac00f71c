"""Robustness against real processes: concurrent writers, the change feed while they
write, a SIGKILL in the middle of an import, and concurrent key creation.

Everything here runs ``biomatdb serve`` / ``biomatdb import`` / ``biomatdb keys`` as
subprocesses on a fresh database (SQLite, or PostgreSQL with
BIOMATDB_TEST_DATABASE_URL), so the locking is the real one. Run with ``-s`` to see
the measured counts.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from biomatdb import migrations
from biomatdb.auth.keys import create_key
from biomatdb.db import WRITE_LOCK_KEY, begin_write, make_engine
from biomatdb.exchange.importer import import_documents
from tests.conftest import SEARCH_BUNDLE, DatabaseFactory, LiveServer, auth, load_json

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "biomatdb.cli"]
MERGE_PATCH = "application/merge-patch+json"


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``biomatdb ARGS`` in a subprocess; its output, whatever the exit code."""
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def create_keys(server: LiveServer, role: str, names: list[str]) -> tuple[dict[str, str], int]:
    """One key per name with ``biomatdb keys create`` (a few processes at a time).

    A run that fails with SQLite's "database is locked" would be retried and counted
    (test_key_creation_waits_for_a_concurrent_writer shows it no longer happens);
    returns the keys and how many retries that took.
    """
    retries = 0
    lock = threading.Lock()

    def one(name: str) -> tuple[str, str]:
        nonlocal retries
        for _ in range(10):
            run = cli(server.env(), "keys", "create", "--role", role, "--name", name)
            if run.returncode == 0:
                return name, run.stdout.strip()
            assert "database is locked" in run.stderr, run.stderr
            with lock:
                retries += 1
            time.sleep(0.05)
        raise AssertionError(f"keys create --name {name} kept failing")

    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = dict(pool.map(one, names))
    assert all(k.startswith("bmdb_") for k in keys.values()), keys
    return keys, retries


def server_errors(lines: list[str]) -> list[str]:
    """Lines of the server's log that report an error (JSON lines, or a traceback)."""
    return [
        line
        for line in lines
        if "Traceback" in line or "ERROR" in line or '"level": "error"' in line
    ]


# --- 1. concurrent writers with If-Match ---------------------------------------------------

WRITERS = 20
SLUG = "fx-peek"


@dataclass(frozen=True)
class Attempt:
    writer: str
    if_match: str
    read_version: int
    status: int
    new_version: int | None
    at: float


def test_concurrent_if_match_writers_one_winner_per_version(live_server: LiveServer) -> None:
    names = [f"robust-writer-{i:02d}" for i in range(WRITERS)]
    started = time.monotonic()
    keys, key_retries = create_keys(live_server, "curator", names)
    keys_took = time.monotonic() - started
    path = f"/api/v1/materials/{SLUG}"
    with httpx.Client(base_url=live_server.base, headers=auth(keys[names[0]])) as client:
        first = client.get(path)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    original_synonyms: list[str] = first.json()["synonyms"]

    barrier = threading.Barrier(WRITERS)
    attempts: list[Attempt] = []
    record = threading.Lock()

    def writer(name: str) -> None:
        mine = f"syn-{name}"
        with httpx.Client(
            base_url=live_server.base, headers=auth(keys[name]), timeout=60
        ) as client:
            barrier.wait(timeout=30)
            for _ in range(10 * WRITERS):
                got = client.get(path)
                assert got.status_code == 200, (name, got.status_code, got.text)
                etag, body = got.headers["etag"], got.json()
                assert mine not in body["synonyms"], f"{name} already won once"
                answer = client.patch(
                    path,
                    content=json.dumps({"synonyms": [*body["synonyms"], mine]}),
                    headers={"If-Match": etag, "Content-Type": MERGE_PATCH},
                )
                new_version = answer.json()["version"] if answer.status_code == 200 else None
                with record:
                    attempts.append(
                        Attempt(
                            name,
                            etag,
                            body["version"],
                            answer.status_code,
                            new_version,
                            time.monotonic(),
                        )
                    )
                if answer.status_code != 412:
                    return
                assert answer.headers["content-type"] == "application/problem+json"
            raise AssertionError(f"{name} never won")

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        for future in [pool.submit(writer, name) for name in names]:
            future.result()
    took = time.monotonic() - began

    statuses = Counter(a.status for a in attempts)
    per_writer = Counter(a.writer for a in attempts)
    print(
        f"\n[robustness:{_dialect(live_server.database_url)}] if-match: {WRITERS} writers, "
        f"{len(attempts)} PATCH attempts, {statuses[200]} x 200, {statuses[412]} x 412, "
        f"other {sum(v for k, v in statuses.items() if k not in (200, 412))}; "
        f"attempts per writer min {min(per_writer.values())} max {max(per_writer.values())}; "
        f"writes took {took:.2f} s; {WRITERS} keys via CLI took {keys_took:.2f} s "
        f"({key_retries} 'database is locked' retries)"
    )
    assert set(statuses) <= {200, 412}, (statuses, server_errors(live_server.log_lines()))
    winners = [a for a in attempts if a.status == 200]
    assert len(winners) == WRITERS
    assert sorted(a.writer for a in winners) == names  # every writer won exactly once
    for name in names:  # ... with its last attempt, after nothing but 412s
        mine = [a.status for a in sorted(attempts, key=lambda a: a.at) if a.writer == name]
        assert mine == [412] * (len(mine) - 1) + [200], (name, mine)
    # Exactly one winner per version: no ETag was accepted twice.
    assert len({a.if_match for a in winners}) == WRITERS
    assert sorted(a.read_version for a in winners) == list(range(1, WRITERS + 1))
    assert all(a.new_version == a.read_version + 1 for a in winners)

    with httpx.Client(base_url=live_server.base, headers=auth(keys[names[0]])) as client:
        final = client.get(path).json()
        history = client.get(f"{path}/history")
    assert final["version"] == 1 + WRITERS
    assert sorted(final["synonyms"]) == sorted(
        original_synonyms + [f"syn-{n}" for n in names]
    )  # no lost update, nothing doubled
    assert history.status_code == 200, history.text
    versions = history.json()["versions"]
    assert [v["version"] for v in versions] == list(range(1, WRITERS + 2))
    assert sorted(v["created_by"] for v in versions[1:]) == names
    by_version = {a.new_version: a.writer for a in winners}
    assert all(v["created_by"] == by_version[v["version"]] for v in versions[1:])
    assert history.json()["latest_version"] == 1 + WRITERS
    assert not server_errors(live_server.log_lines()), live_server.log_lines()


# --- 2. the change feed while writers write ------------------------------------------------

FEED_WRITERS = 8
PER_WRITER = 10


def _new_material(slug: str) -> dict[str, Any]:
    return {
        "id": slug,
        "name": f"Feed material {slug}",
        "class": "polymer",
        "description": "Written while a partner reads the change feed.",
        "properties": [
            {"property": "youngs_modulus", "value": 2.5, "unit": "GPa", "source": "fx-ref-a"}
        ],
    }


def test_change_feed_under_concurrent_writers(live_server: LiveServer) -> None:
    writer_names = [f"robust-feed-{i}" for i in range(FEED_WRITERS)]
    keys, _ = create_keys(live_server, "curator", writer_names)
    reader_keys, _ = create_keys(live_server, "reader", ["robust-feed-reader"])
    reader_key = reader_keys["robust-feed-reader"]

    writers_done = threading.Event()
    seen: list[int] = []
    polls = {"requests": 0, "with_data": 0, "during_writes": 0}
    created: dict[str, str] = {}  # slug -> writer
    record = threading.Lock()

    ours: set[str] = set()
    early_stop: list[int] = []

    def read_feed() -> None:
        # Stops once every writer is done and the reader has every creation: a 201 can
        # arrive before its transaction commits, so "writers done, feed drained"
        # alone may stop short of the last commit; that is recorded, not hidden.
        cursor = "0"
        with httpx.Client(base_url=live_server.base, headers=auth(reader_key), timeout=60) as c:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                finished = writers_done.is_set()
                answer = c.get("/api/v1/changes", params={"since": cursor, "limit": 7})
                assert answer.status_code == 200, answer.text
                page = answer.json()
                polls["requests"] += 1
                if page["data"]:
                    polls["with_data"] += 1
                    polls["during_writes"] += not finished
                    assert page["meta"]["next_cursor"] == str(page["data"][-1]["seq"])
                else:
                    assert page["meta"]["next_cursor"] == cursor
                seen.extend(change["seq"] for change in page["data"])
                ours.update(
                    change["id"] for change in page["data"] if change["id"].startswith("feed-")
                )
                cursor = page["meta"]["next_cursor"]
                if not page["meta"]["has_more"]:
                    if finished and len(ours) == FEED_WRITERS * PER_WRITER:
                        return
                    if finished and not early_stop:
                        early_stop.append(FEED_WRITERS * PER_WRITER - len(ours))
                    time.sleep(0.002)
            raise AssertionError("the reader never drained the feed")

    def write(index: int) -> None:
        name = writer_names[index]
        with httpx.Client(base_url=live_server.base, headers=auth(keys[name]), timeout=60) as c:
            for n in range(PER_WRITER):
                slug = f"feed-w{index}-m{n}"
                answer = c.post("/api/v1/materials", json=_new_material(slug))
                assert answer.status_code == 201, (slug, answer.status_code, answer.text)
                with record:
                    created[slug] = name

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=FEED_WRITERS + 1) as pool:
        reader = pool.submit(read_feed)
        writers = [pool.submit(write, i) for i in range(FEED_WRITERS)]
        try:
            for future in writers:
                future.result()
        finally:
            writers_done.set()
        reader.result()
    took = time.monotonic() - began

    with httpx.Client(base_url=live_server.base, headers=auth(reader_key), timeout=60) as c:
        full: list[dict[str, Any]] = []
        cursor = "0"
        while True:
            page = c.get("/api/v1/changes", params={"since": cursor, "limit": 1000}).json()
            full.extend(page["data"])
            cursor = page["meta"]["next_cursor"]
            if not page["meta"]["has_more"]:
                break
    full_seqs = [change["seq"] for change in full]
    creations = [
        c
        for c in full
        if c["kind"] == "material" and c["action"] == "created" and c["id"] in created
    ]
    print(
        f"\n[robustness:{_dialect(live_server.database_url)}] feed: {FEED_WRITERS} writers x "
        f"{PER_WRITER} POSTs in {took:.2f} s; reader made {polls['requests']} polls "
        f"({polls['with_data']} with data, {polls['during_writes']} while writers were writing), "
        f"saw {len(seen)} entries; full feed {len(full)} entries, {len(creations)} of ours; "
        f"creations not yet visible when every writer had its 201: "
        f"{early_stop[0] if early_stop else 0}"
    )
    assert seen == sorted(set(seen)), "the reader saw a seq twice or out of order"
    assert full_seqs == sorted(set(full_seqs))
    assert seen == full_seqs, (
        "the reader, following next_cursor while writers wrote, missed changes: "
        f"{sorted(set(full_seqs) - set(seen))}"
    )
    assert len(created) == FEED_WRITERS * PER_WRITER
    assert len(creations) == FEED_WRITERS * PER_WRITER
    assert {c["id"]: c["actor"] for c in creations} == created
    assert all(c["status"] == "draft" and c["public"] is None for c in creations)
    assert polls["during_writes"] > 0, "the reader never read while the writers wrote"
    assert not server_errors(live_server.log_lines()), live_server.log_lines()


# --- 3. SIGKILL in the middle of an import -------------------------------------------------

BIG_MATERIALS = 3000
VALUES_PER_MATERIAL = 15
_PROPERTIES = [
    ("youngs_modulus", "GPa", 1.0, 200.0),
    ("tensile_strength", "MPa", 10.0, 1500.0),
    ("density", "g/cm^3", 0.9, 8.0),
    ("compressive_strength", "MPa", 10.0, 2000.0),
    ("vickers_hardness", "GPa", 0.1, 20.0),
    ("fracture_toughness", "MPa*m^0.5", 0.5, 100.0),
    ("melting_temperature", "degC", 50.0, 1700.0),
    ("glass_transition_temperature", "degC", -100.0, 300.0),
    ("porosity", "dimensionless", 0.0, 0.9),
    ("degradation_time", "week", 1.0, 200.0),
]


def big_bundle() -> dict[str, Any]:
    """A valid bundle of BIG_MATERIALS published materials citing its own reference."""
    materials = []
    for i in range(BIG_MATERIALS):
        values = []
        for j in range(VALUES_PER_MATERIAL):
            key, unit, low, high = _PROPERTIES[j % len(_PROPERTIES)]
            fraction = ((i * 7 + j * 13) % 97) / 97
            values.append(
                {
                    "property": key,
                    "unit": unit,
                    "value": round(low + (high - low) * fraction, 4),
                    "source": "robust-big-ref",
                }
            )
        materials.append(
            {
                "id": f"robust-big-{i:05d}",
                "name": f"Robustness material {i}",
                "class": "polymer",
                "status": "published",
                "description": f"Generated material number {i}.",
                "synonyms": [f"RB-{i}"],
                "properties": values,
            }
        )
    return {
        "references": [
            {"id": "robust-big-ref", "citation": "Generated reference (robustness test data)"}
        ],
        "materials": materials,
    }


COUNTED = ("materials", "material_versions", "property_values", "changes", '"references"')


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in COUNTED
        }


def writer_state(url: str, engine: Engine) -> str:
    """Evidence that another process is writing right now ('' when none is)."""
    if engine.dialect.name == "sqlite":
        path = make_url(url).database
        assert path is not None
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            wal = Path(path + "-wal")
            size = wal.stat().st_size if wal.exists() else 0
            return f"write lock held ({exc}); WAL {size / 1e6:.1f} MB"
        else:
            probe.execute("ROLLBACK")
            return ""
        finally:
            probe.close()
    with engine.connect() as connection:
        holder = connection.execute(
            text(
                "SELECT a.pid, a.state, left(a.query, 70) FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": WRITE_LOCK_KEY},
        ).first()
    if holder is None:
        return ""
    return f"advisory lock held by pid {holder[0]} ({holder[1]}: {holder[2]!r})"


def start_import(env: dict[str, str], bundle: Path) -> tuple[subprocess.Popen[str], float]:
    """``biomatdb import BUNDLE``, returned once it says it starts writing."""
    process = subprocess.Popen(
        [*CLI, "import", str(bundle)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    watchdog = threading.Timer(90, process.kill)
    watchdog.start()
    try:
        lines = []
        while True:
            line = process.stderr.readline()
            if not line:
                raise AssertionError(f"the import ended before writing: {''.join(lines)}")
            lines.append(line)
            if line.startswith("writing "):
                assert str(bundle) in line, line
                return process, time.monotonic()
    finally:
        watchdog.cancel()


def sqlite_integrity(url: str) -> list[Any]:
    path = make_url(url).database
    assert path is not None
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


def test_sigkill_mid_import_changes_nothing(databases: DatabaseFactory, tmp_path: Path) -> None:
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert import_documents(session, [("fixture", load_json(SEARCH_BUNDLE))]).ok
            session.commit()
        env = {**os.environ, "BIOMATDB_DATABASE_URL": url}
        bundle = tmp_path / "big.json"
        bundle.write_text(json.dumps(big_bundle()), encoding="utf-8")
        size_mb = bundle.stat().st_size / 1e6

        before, after = tmp_path / "before.json", tmp_path / "after.json"
        exported = cli(env, "export", "--out", str(before))
        assert exported.returncode == 0, exported.stderr
        counts_before = row_counts(engine)

        process, writing_since = start_import(env, bundle)
        try:
            time.sleep(0.4)
            assert process.poll() is None, "the import finished before it could be killed"
            state = writer_state(url, engine)
            assert process.poll() is None
            killed_after = time.monotonic() - writing_since
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert state, "no writer was active when the import was killed"

        if engine.dialect.name == "sqlite":
            assert sqlite_integrity(url) == ["ok"]
        exported = cli(env, "export", "--out", str(after))
        assert exported.returncode == 0, exported.stderr
        assert after.read_bytes() == before.read_bytes()
        assert row_counts(engine) == counts_before

        # The database is neither corrupt nor left locked: the same import now succeeds.
        again, again_writing = start_import(env, bundle)
        assert again.wait(timeout=120) == 0, again.stderr.read() if again.stderr else ""
        full_write = time.monotonic() - again_writing
        counts = row_counts(engine)
        assert counts["materials"] == counts_before["materials"] + BIG_MATERIALS
        assert counts["property_values"] >= counts_before["property_values"] + (
            BIG_MATERIALS * VALUES_PER_MATERIAL
        )
        if engine.dialect.name == "sqlite":
            assert sqlite_integrity(url) == ["ok"]
        print(
            f"\n[robustness:{engine.dialect.name}] sigkill: bundle {BIG_MATERIALS} materials x "
            f"{VALUES_PER_MATERIAL} values ({size_mb:.1f} MB); killed {killed_after:.2f} s into "
            f"the write phase (a full write phase takes {full_write:.2f} s, so about "
            f"{100 * killed_after / full_write:.0f}% in) while {state}; export unchanged "
            f"({before.stat().st_size} bytes), counts unchanged {counts_before}; re-import ok"
        )
    finally:
        engine.dispose()


# --- 4. a 2xx means committed --------------------------------------------------------------


class StaleAfterSuccess(AssertionError):
    """A write was answered 2xx but a request sent after that answer did not see it."""


def test_a_successful_write_is_visible_to_the_next_request(live_server: LiveServer) -> None:
    keys, _ = create_keys(live_server, "curator", ["robust-ryw"])
    headers = auth(keys["robust-ryw"])
    stale: list[str] = []
    tries = 0
    deadline = time.monotonic() + 10
    with (
        httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as writer,
        httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as reader,
    ):
        while time.monotonic() < deadline and not stale:
            slug = f"ryw-{tries}"
            tries += 1
            created = writer.post(
                "/api/v1/materials", json={"id": slug, "name": "RYW", "class": "polymer"}
            )
            assert created.status_code == 201, created.text
            seen = reader.get(f"/api/v1/materials/{slug}")
            if seen.status_code != 200:
                stale.append(f"{slug}: 201, then GET {seen.status_code}")
                break
            patched = writer.patch(
                f"/api/v1/materials/{slug}",
                json={"description": "changed"},
                headers={"If-Match": created.headers["etag"]},
            )
            assert patched.status_code == 200, patched.text
            seen = reader.get(f"/api/v1/materials/{slug}")
            if seen.json()["version"] != 2:
                stale.append(f"{slug}: PATCH 200 (v2), then GET v{seen.json()['version']}")
    print(
        f"\n[robustness:{_dialect(live_server.database_url)}] read-your-writes: {tries} "
        f"write+read rounds, stale: {stale}"
    )
    if stale:
        raise StaleAfterSuccess(stale[0])


# --- 5. many concurrent writers -----------------------------------------------------------

MANY = 64


def test_many_concurrent_writers_all_succeed(live_server: LiveServer) -> None:
    keys, _ = create_keys(live_server, "curator", ["robust-many"])
    headers = auth(keys["robust-many"])
    barrier = threading.Barrier(MANY)

    def create(index: int) -> str:
        with httpx.Client(base_url=live_server.base, headers=headers, timeout=12) as client:
            barrier.wait(timeout=30)
            try:
                answer = client.post(
                    "/api/v1/materials",
                    json={"id": f"many-{index}", "name": "Many", "class": "polymer"},
                )
            except httpx.TimeoutException:
                return "timeout"
            return str(answer.status_code)

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=MANY) as pool:
            outcomes = Counter(pool.map(create, range(MANY)))
    finally:
        took = time.monotonic() - began
        live_server.process.kill()  # if it hung, spare the fixture's 10 s wait
        live_server.process.wait(timeout=30)
    print(
        f"\n[robustness:{_dialect(live_server.database_url)}] {MANY} concurrent POSTs: "
        f"{dict(outcomes)} in {took:.1f} s"
    )
    assert outcomes == Counter({"201": MANY})


# --- 6. key management while another writer writes ---------------------------------------


def test_key_creation_waits_for_a_concurrent_writer(databases: DatabaseFactory) -> None:
    """``biomatdb keys create`` while another transaction is writing must wait for it
    (like every other writer) and then succeed."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url}
    try:
        with Session(engine) as holder:
            begin_write(holder)  # another writer (an import, a PATCH ...) is writing
            create_key(holder, name="robust-holder", role="curator")
            process = subprocess.Popen(
                [*CLI, "keys", "create", "--role", "curator", "--name", "robust-waiter"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(2.0)  # the CLI has started and read; it now waits for the lock
            holder.commit()
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-600:]
        assert out.strip().startswith("bmdb_")
        listed = cli(env, "keys", "list")
        assert "robust-waiter" in listed.stdout
    finally:
        engine.dispose()


def _dialect(url: str) -> str:
    return make_url(url).get_backend_name()
