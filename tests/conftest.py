"""Test databases: SQLite by default, PostgreSQL when BIOMATDB_TEST_DATABASE_URL is set.

Each test session creates a fresh database and migrates it to head; the search
fixture bundle is imported once; each test then runs inside a transaction that
is rolled back (``join_transaction_mode="create_savepoint"``), so tests can
write freely and never see each other's writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from biomatdb import db, migrations, settings
from biomatdb.api.deps import get_session
from biomatdb.app import create_app
from biomatdb.db import make_engine
from biomatdb.exchange.importer import import_documents
from biomatdb.settings import normalize_database_url

FIXTURES = Path(__file__).parent / "fixtures"
# The suite makes thousands of requests from one address: no rate limits, unless a
# test turns them on (tests/test_rate_limits.py). Servers the tests start inherit it.
os.environ["BIOMATDB_RATE_LIMIT_ANONYMOUS"] = "off"
os.environ["BIOMATDB_RATE_LIMIT_KEY"] = "off"
SEARCH_BUNDLE = FIXTURES / "search_bundle.json"


class DatabaseFactory:
    """Creates fresh, empty databases of the configured kind, and drops them at the end."""

    def __init__(self, tmp_dir: Path) -> None:
        self.pg_url = os.environ.get("BIOMATDB_TEST_DATABASE_URL")
        self.tmp_dir = tmp_dir
        self.created: list[str] = []

    @property
    def dialect(self) -> str:
        return "postgresql" if self.pg_url else "sqlite"

    def new_url(self) -> str:
        name = f"biomatdb_test_{uuid.uuid4().hex[:12]}"
        if not self.pg_url:
            return f"sqlite:///{self.tmp_dir / (name + '.sqlite3')}"
        base = make_url(normalize_database_url(self.pg_url))
        with self._admin() as admin:
            admin.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    def with_fixture(self) -> str:
        """A new database at migration head holding the search fixture bundle."""
        url = self.new_url()
        migrations.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            report = import_documents(session, [("search_bundle", load_json(SEARCH_BUNDLE))])
            assert report.ok, report.errors
            session.commit()
        engine.dispose()
        return url

    def _admin(self) -> Any:
        assert self.pg_url is not None
        engine = create_engine(normalize_database_url(self.pg_url), isolation_level="AUTOCOMMIT")
        return engine.connect()

    def drop_all(self) -> None:
        if not self.created:
            return
        with self._admin() as admin:
            for name in self.created:
                admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """CI runs the suite twice, on SQLite then on PostgreSQL: what does not depend on
    the database under test runs in the first pass only (keeping CI short)."""
    if not os.environ.get("BIOMATDB_TEST_DATABASE_URL"):
        return
    once = pytest.mark.skip(reason="does not depend on the database: ran in the SQLite pass")
    for item in items:
        if item.get_closest_marker("dialect_free") is not None:
            item.add_marker(once)


@pytest.fixture(autouse=True)
def _fresh_counts_cache() -> None:
    """Each test's transaction is rolled back, and SQLite then reuses change numbers:
    counts cached under a data version must not outlive the test that made them."""
    from biomatdb.api import pagecache
    from biomatdb.search import counts

    counts.clear()
    pagecache.clear()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: DatabaseFactory) -> str:
    """A fresh database at migration head, holding the search fixture bundle."""
    return databases.with_fixture()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose every write is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def empty_database(databases: DatabaseFactory) -> Iterator[Session]:
    """A session on a new database at migration head with no data."""
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as fresh:
        yield fresh
    engine.dispose()


def client_for(session: Session) -> TestClient:
    """A test client whose requests use ``session``."""
    app = create_app()

    def override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = override
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    """The API, reading and writing through the test's session."""
    with client_for(session) as test_client:
        yield test_client


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def keys(session: Session) -> dict[str, str]:
    """An API key per role (rolled back with the test): {"reader": "bmdb_...", ...}."""
    from biomatdb.auth.keys import create_key

    return {
        role: create_key(session, name=f"test-{role}", role=role)[1]
        for role in ("reader", "curator", "editor", "admin")
    }


def auth(key: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}


class LiveServer:
    """``biomatdb serve`` in a subprocess on a fresh database, for tests that need real
    concurrency or real processes."""

    def __init__(
        self, url: str, port: int, process: subprocess.Popen[bytes], log: IO[bytes]
    ) -> None:
        self.database_url = url
        self.port = port
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.log = log  # the server's stderr: JSON log lines

    def log_lines(self) -> list[str]:
        """Everything the server has logged so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").splitlines(keepends=True)

    def env(self) -> dict[str, str]:
        return {**os.environ, "BIOMATDB_DATABASE_URL": self.database_url}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A migrated database holding the search fixture bundle, served over HTTP."""
    import time

    import httpx

    url = databases.with_fixture()
    port = _free_port()
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [sys.executable, "-m", "biomatdb.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: a full pipe would block the server's logging
    )
    server = LiveServer(url, port, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("the server did not start: " + log.read().decode())
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def cli_database(databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """BIOMATDB_DATABASE_URL set to a fresh, migrated database for the CLI."""
    url = databases.new_url()
    migrations.upgrade(url)
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", url)
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()
    yield url
    db.get_engine().dispose()
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()
