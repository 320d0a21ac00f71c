"""Reads scale out on PostgreSQL's own replication (issue 13): with
``BIOMATDB_DATABASE_READ_URL`` set, anonymous unconditional reads are answered by a
streaming hot standby, while writes, a key holder's reads (read-your-writes) and
conditional requests (ETag checks) go to the primary. On a real primary + standby
pair made for the test (tests/replica.py), with replay paused to tell them apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from biomatdb import db, migrations, settings
from biomatdb.app import create_app
from biomatdb.auth.keys import create_key
from biomatdb.db import make_engine
from biomatdb.exchange.importer import import_documents
from tests.conftest import SEARCH_BUNDLE

if TYPE_CHECKING:
    from tests.replica import ReplicaPair

pytest_plugins = ["tests.replica"]
pytestmark = [pytest.mark.slow, pytest.mark.dialect_free]

NEW = {
    "materials": [
        {
            "id": "replica-new",
            "name": "Written on the primary",
            "class": "metal",
            "status": "published",
        }
    ]
}


def _clear_caches() -> None:
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()


@pytest.fixture
def routed(replica_pair: ReplicaPair, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app with the primary and its replica; an editor key; the pair."""
    primary = replica_pair.primary_url
    migrations.upgrade(primary)
    engine = make_engine(primary)
    with Session(engine) as session:
        session.execute(text("DELETE FROM api_keys"))
        session.commit()
        report = import_documents(session, [("search", json.loads(SEARCH_BUNDLE.read_text()))])
        assert report.ok, report.errors
        _, key = create_key(session, name="replica-editor", role="editor")
        session.commit()
    engine.dispose()
    replica_pair.wait_for_replay()
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", primary)
    monkeypatch.setenv("BIOMATDB_DATABASE_READ_URL", replica_pair.replica_url)
    _clear_caches()
    client = TestClient(create_app(), raise_server_exceptions=False)
    try:
        yield client, key, replica_pair
    finally:
        client.close()
        with make_engine(replica_pair.replica_url).connect() as standby:
            standby.execute(text("SELECT pg_wal_replay_resume()"))
        for engine_of in (db.get_engine(bounded=True), db.get_engine(bounded=True, replica=True)):
            engine_of.dispose()
        _clear_caches()


def _standby(pair: ReplicaPair, statement: str) -> None:
    engine = make_engine(pair.replica_url)
    with engine.connect() as standby:
        standby.execute(text(statement))
    engine.dispose()


def test_anonymous_reads_go_to_the_replica_and_the_rest_to_the_primary(routed: Any) -> None:
    client, key, pair = routed
    editor = {"Authorization": f"Bearer {key}"}
    assert client.get("/ready").status_code == 200
    before = client.get("/api/v1/materials?class=metal").json()["meta"]["total"]

    _standby(pair, "SELECT pg_wal_replay_pause()")  # the replica stops catching up
    written = client.post("/api/v1/imports", json=NEW, headers=editor)
    assert written.status_code == 200, written.text  # a write: to the primary
    assert written.json()["materials"]["created"] == 1

    # Anonymous reads are the replica's: it has not replayed the write yet.
    assert client.get("/api/v1/materials/replica-new").status_code == 404
    assert client.get("/api/v1/materials?class=metal").json()["meta"]["total"] == before
    assert client.head("/api/v1/materials/replica-new").status_code == 404
    # The writer reads its own write (a key: the primary) ...
    assert client.get("/api/v1/materials/replica-new", headers=editor).status_code == 200
    # ... and a conditional request is checked against the primary.
    conditional = client.get("/api/v1/materials/replica-new", headers={"If-None-Match": '"stale"'})
    assert conditional.status_code == 200
    assert conditional.json()["name"] == "Written on the primary"

    _standby(pair, "SELECT pg_wal_replay_resume()")
    pair.wait_for_replay()
    assert client.get("/api/v1/materials/replica-new").status_code == 200
    assert client.get("/api/v1/materials?class=metal").json()["meta"]["total"] == before + 1


def test_ready_checks_the_primary_and_the_replica(
    routed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = routed
    assert client.get("/ready").json()["revision"] == migrations.current_head()
    monkeypatch.setenv("BIOMATDB_DATABASE_READ_URL", "postgresql://postgres@127.0.0.1:1/none")
    _clear_caches()
    with TestClient(create_app(), raise_server_exceptions=False) as broken:
        answer = broken.get("/ready")
    assert answer.status_code == 503
    assert (
        "cannot use the database postgresql+psycopg://postgres@127.0.0.1:1/none"
        in (answer.json()["detail"])
    )
