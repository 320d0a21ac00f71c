"""``biomatdb backup`` / ``restore`` (issue 13): a restored database answers every
search, detail, list and export exactly as the one backed up, on SQLite (online
backup API) and PostgreSQL (pg_dump / pg_restore); a restore never replaces data
unasked, and a file that is not a backup is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from biomatdb import migrations
from tests.conftest import DatabaseFactory
from tests.test_cli_errors import database_url_env, one_error_line, run_all
from tests.test_operations import app_at, at

__all__ = ["app_at", "at", "database_url_env"]  # fixtures used here

pytestmark = pytest.mark.slow

#: Searches over the seed: filters of every kind, text, facets, sorts, pages.
SEARCHES = [
    "",
    "?limit=200",
    "?class=metal&prop=youngs_modulus:100..130:GPa",
    "?prop=tensile_strength:40..&degradable=true&regulatory=US-FDA:cleared|approved",
    "?q=porous%20scaffold&sort=relevance",
    "?q=hydroxyapatit",
    "?regulatory=JP-PMDA&facets=class,application,regulatory,country,degradable",
    "?biocompat=cytotoxicity:fail&facets=biocompat",
    "?identifier=cas:7439-95-4",
    "?sort=-prop:youngs_modulus&limit=50",
    "?country=JP&country=DE&facets=country",
    "?decided=2020..&class=polymer",
]


def answers(client: Any) -> dict[str, Any]:
    """Everything a reader can ask, as answered."""
    found: dict[str, Any] = {}
    for query in SEARCHES:
        found[query] = client.get(f"/api/v1/materials{query}").json()
    ids = [m["id"] for m in found["?limit=200"]["data"]]
    assert len(ids) == 168
    for material in ids:
        found[material] = client.get(f"/api/v1/materials/{material}").json()
    for path in (
        "/api/v1/organizations?limit=200",
        "/api/v1/references?limit=200",
        "/api/v1/changes?limit=200",
        "/api/v1/info",
        "/api/v1/values?limit=200",
    ):
        found[path] = client.get(path).json()
    found["csv"] = client.get("/api/v1/materials?format=csv").text
    return found


def test_a_restored_database_answers_every_search_alike(
    at: Any, app_at: Any, databases: DatabaseFactory, tmp_path: Path
) -> None:
    original = at(databases.new_url())
    migrations.upgrade(original)
    assert run_all("seed")[0] == 0
    before = answers(app_at(original))
    backup_file = tmp_path / "biomatdb.backup"
    code, _, err = run_all("backup", str(backup_file))
    assert code == 0, err
    assert err.endswith(f"wrote {backup_file}\n")
    assert not list(tmp_path.glob(".*partial"))

    copy = at(databases.new_url())  # SQLite: no file yet; PostgreSQL: an empty database
    code, _, err = run_all("restore", str(backup_file))
    assert code == 0, err
    assert err.endswith(f"restored {backup_file} (revision {migrations.current_head()})\n")
    after = answers(app_at(copy))
    assert after == before

    # Replacing data needs --force; then the answers are the same again.
    code, _, err = run_all("restore", str(backup_file))
    assert code == 2
    one_error_line(
        err.split("\n", 1)[1],
        says="the database holds 171 material(s), which the restore would replace",
        hint="pass --force",
    )
    assert run_all("restore", "--force", str(backup_file))[0] == 0
    assert answers(app_at(copy)) == before


def test_what_is_not_a_backup_is_refused(
    at: Any, databases: DatabaseFactory, tmp_path: Path
) -> None:
    at(databases.new_url())
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    code, _, err = run_all("restore", str(text))
    assert code == 2
    one_error_line(
        err.split("\n", 1)[1],
        says=f"{text} is not a biomatdb backup",
        hint="give a file written by biomatdb backup",
    )
    code, _, err = run_all("restore", str(tmp_path / "missing.backup"))
    assert code == 2
    assert "missing.backup" in err


def test_a_backup_of_a_missing_database_says_so(at: Any, tmp_path: Path) -> None:
    at(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    code, _, err = run_all("backup", str(tmp_path / "x.backup"))
    assert code == 2
    assert "there is no database at" in err
    assert not (tmp_path / "x.backup").exists()
    assert not (tmp_path / "none.sqlite3").exists()
