"""A database that can't be lost or half-made (issue 13): the default file in the
user's data folder, every command on a missing, unmigrated or older database says
"run biomatdb db upgrade" (and creates nothing), ``serve`` refuses to start on one,
``/health`` is liveness and ``/ready`` readiness, and PostgreSQL's driver is an extra
whose absence is explained."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from biomatdb import __version__, migrations, settings
from biomatdb.app import create_app
from tests.conftest import DatabaseFactory
from tests.test_cli_errors import database_url_env, one_error_line, run_all

__all__ = ["database_url_env"]  # a fixture used here

HEAD = migrations.current_head()
#: Every command that reads or writes the database (serve has its own test).
DATABASE_COMMANDS = [
    ("import", "seed/00-references.json"),
    ("import", "--dry-run", "seed/00-references.json"),
    ("seed",),
    ("quality",),
    ("export",),
    ("keys", "list"),
    ("keys", "create", "--role", "reader", "--name", "x"),
    ("keys", "revoke", "x"),
    ("import-openfda", "tests/fixtures/openfda/510k.json", "--mapping", "x.json"),
]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def at(database_url_env: pytest.MonkeyPatch) -> Any:
    """Point BIOMATDB_DATABASE_URL at a URL (the cached settings and engines follow)."""

    def point(url: str) -> str:
        database_url_env.setenv("BIOMATDB_DATABASE_URL", url)
        settings.get_settings.cache_clear()
        from biomatdb import db

        db.get_engine.cache_clear()
        db.get_sessionmaker.cache_clear()
        return url

    return point


@pytest.fixture
def in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_version() -> None:
    code, out, _ = run_all("--version")
    assert (code, out) == (0, f"biomatdb {__version__}\n")


def test_the_default_database_is_in_the_users_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert settings.Settings().database_url == (
        f"sqlite:///{tmp_path}/data/biomatdb/biomatdb.sqlite3"
    )


def test_db_upgrade_makes_the_default_file_and_its_folder(
    at: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    at(settings.default_database_url())
    code, out, err = run_all("db", "upgrade")
    assert code == 0, err
    assert out == (
        f"database at revision head ({HEAD}): sqlite:///{tmp_path}/data/biomatdb/biomatdb.sqlite3\n"
    )
    assert (tmp_path / "data" / "biomatdb" / "biomatdb.sqlite3").is_file()


@pytest.mark.usefixtures("in_checkout")
@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_missing_sqlite_file_is_not_created_and_the_user_is_told(
    at: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "nothing.sqlite3"
    at(f"sqlite:///{missing}")
    code, _, err = run_all(*command)
    assert code == 2
    one_error_line(err, says=f"there is no database at {missing}", hint="run: biomatdb db upgrade")
    assert not missing.exists()


@pytest.mark.usefixtures("in_checkout")
@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_an_unmigrated_database_says_run_db_upgrade(
    at: Any, databases: DatabaseFactory, command: tuple[str, ...]
) -> None:
    url = at(databases.new_url())
    if databases.dialect == "sqlite":
        Path(url.removeprefix("sqlite:///")).write_bytes(b"")  # exists, holds nothing
    code, _, err = run_all(*command)
    assert code == 2
    one_error_line(err, says="is not migrated", hint="run: biomatdb db upgrade")


@pytest.mark.usefixtures("in_checkout")
@pytest.mark.parametrize("command", DATABASE_COMMANDS[:4], ids=" ".join)
def test_an_older_database_names_both_revisions(
    at: Any, databases: DatabaseFactory, command: tuple[str, ...]
) -> None:
    url = at(databases.new_url())
    migrations.upgrade(url, "0008")
    code, _, err = run_all(*command)
    assert code == 2
    one_error_line(
        err,
        says=f"is at revision 0008; biomatdb {__version__} needs {HEAD}",
        hint="run: biomatdb db upgrade",
    )


def test_serve_refuses_a_database_not_at_head_and_upgrades_when_asked(
    at: Any, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from biomatdb import server

    served: list[int] = []
    monkeypatch.setattr(server, "run", lambda **kw: served.append(kw["port"]))
    url = at(databases.new_url())
    migrations.upgrade(url, "0008")
    code, _, err = run_all("serve", "--port", "8123")
    assert code == 2
    assert "error: the database" in err
    assert "is at revision 0008" in err
    assert served == []
    code, _, err = run_all("serve", "--port", "8123", "--upgrade")
    assert code == 0, err
    assert served == [8123]
    from biomatdb.db import get_engine

    assert migrations.database_revision(get_engine()) == HEAD


def test_a_postgresql_url_without_the_driver_says_what_to_install(
    at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    at("postgresql://someone@127.0.0.1/biomatdb")
    code, _, err = run_all("keys", "list")
    assert code == 2
    one_error_line(
        err,
        says="a PostgreSQL URL, but the psycopg driver is not installed",
        hint="install it: pip install 'biomatdb[postgresql]'",
    )


@pytest.fixture
def app_at(at: Any) -> Iterator[Any]:
    clients: list[TestClient] = []

    def client(url: str) -> TestClient:
        at(url)
        made = TestClient(create_app(), raise_server_exceptions=False)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()


def test_health_is_liveness_and_ready_says_what_is_wrong(
    app_at: Any, tmp_path: Path, databases: DatabaseFactory
) -> None:
    missing = tmp_path / "gone.sqlite3"
    client = app_at(f"sqlite:///{missing}")
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "sqlite", "version": __version__}
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"] == "30"
    problem = ready.json()
    assert problem["type"] == "/problems/database-not-ready"
    assert problem["detail"] == (
        f"there is no database at {missing}; run: biomatdb db upgrade (it creates it)"
    )
    assert not missing.exists()

    url = databases.new_url()
    migrations.upgrade(url, "0008")
    ready = app_at(url).get("/ready")
    assert ready.status_code == 503
    assert f"is at revision 0008; biomatdb {__version__} needs {HEAD}" in ready.json()["detail"]

    migrations.upgrade(url)
    ready = app_at(url).get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": databases.dialect,
        "revision": HEAD,
        "version": __version__,
    }


def test_a_search_on_an_unmigrated_database_is_a_503_not_a_500(
    app_at: Any, databases: DatabaseFactory
) -> None:
    url = databases.new_url()
    if databases.dialect == "sqlite":
        Path(url.removeprefix("sqlite:///")).write_bytes(b"")
    answer = app_at(url).get("/api/v1/materials?class=metal")
    assert answer.status_code == 503
    problem = answer.json()
    assert problem["type"] == "/problems/database-not-ready"
    assert "an operator runs: biomatdb db upgrade" in problem["detail"]
