"""The command line explains itself: one line per user error with what to do (never a
traceback unless --debug), documented exit codes, plain help, NDJSON files, progress
on a terminal only."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from biomatdb import cli, db, migrations, settings
from biomatdb.cli import app
from tests.conftest import SEARCH_BUNDLE

ROOT = Path(__file__).resolve().parents[1]


def _fresh_settings() -> None:
    for cached in (settings.get_settings, db.get_engine, db.get_sessionmaker):
        cached.cache_clear()


@pytest.fixture
def database_url_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set BIOMATDB_DATABASE_URL by hand; the cached settings and engines follow it."""
    _fresh_settings()
    yield monkeypatch
    db.get_engine.cache_clear()  # without dispose: the engine may never have connected
    _fresh_settings()


def run_all(*args: str) -> tuple[int, str, str]:
    """Run and check what no user error may print: a traceback, anywhere."""
    result = CliRunner().invoke(app, list(args), prog_name="biomatdb")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def one_error_line(err: str, *, says: str, hint: str) -> None:
    """Exactly one line on stderr: ``error: <what>; <what to do>``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert says in lines[0], err
    assert hint in lines[0].split(says, 1)[1].split("; ", 1)[1], err


# -- the user errors: exit code, one line saying what to do, no traceback ------------


@pytest.mark.usefixtures("cli_database")
def test_import_of_a_missing_file(tmp_path: Path) -> None:
    code, _, err = run_all("import", str(tmp_path / "missing.json"))
    assert code == 2
    one_error_line(err, says="missing.json: cannot read: No such file", hint="check the path")


@pytest.mark.usefixtures("cli_database")
def test_import_of_invalid_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"materials": [')
    code, out, err = run_all("import", str(bad))
    assert code == 2
    one_error_line(err, says="bad.json: invalid JSON at line 1", hint="fix the file")
    assert out == ""
    code, out, _ = run_all("import", str(bad), "--json")
    assert code == 2
    assert json.loads(out)["errors"][0]["path"] == str(bad)


@pytest.mark.usefixtures("cli_database")
def test_import_of_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"materials": [{"name": "Stahl für Implantate"}]}'.encode("latin-1"))
    code, _, err = run_all("import", str(bad))
    assert code == 2
    one_error_line(err, says="not UTF-8", hint="fix the file")


@pytest.mark.usefixtures("cli_database")
def test_import_of_ndjson_named_json_suggests_the_name(tmp_path: Path) -> None:
    bad = tmp_path / "lines.json"
    bad.write_text('{"id": "a"}\n{"id": "b"}\n')
    code, _, err = run_all("import", str(bad))
    assert code == 2
    one_error_line(err, says="name the file .ndjson", hint="fix the file")


@pytest.mark.usefixtures("cli_database")
def test_import_of_a_folder(tmp_path: Path) -> None:
    code, _, err = run_all("import", str(tmp_path))
    assert code == 2
    one_error_line(err, says=f"{tmp_path}: cannot read", hint="give a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
@pytest.mark.usefixtures("cli_database")
def test_import_of_an_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    code, _, err = run_all("import", str(locked))
    assert code == 2
    one_error_line(err, says="Permission denied", hint="check its permissions")


@pytest.mark.usefixtures("cli_database")
def test_export_into_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "nonexistent" / "x.json"
    code, stdout, err = run_all("export", "--out", str(out))
    assert code == 2
    one_error_line(
        err, says=f"cannot write {out}: No such file or directory", hint="folder it goes in"
    )
    assert stdout == ""


@pytest.mark.usefixtures("cli_database")
def test_export_to_a_path_that_cannot_be_written(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    code, _, err = run_all("export", "--out", str(a_file / "x.json"))  # under a file
    assert code == 2
    one_error_line(err, says="cannot write", hint="a part of it is a file")
    code, _, err = run_all("export", "--format", "csv", "--out", str(tmp_path))  # a folder
    assert code == 2
    one_error_line(err, says=f"cannot write {tmp_path}", hint="give a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
@pytest.mark.usefixtures("cli_database")
def test_export_into_a_read_only_folder(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        code, _, err = run_all("export", "--out", str(tmp_path / "x.json"))
    finally:
        tmp_path.chmod(0o700)
    assert code == 2
    one_error_line(err, says="Permission denied", hint="check its permissions")


@pytest.mark.usefixtures("cli_database")
def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    code, _, err = run_all("export", "--format", "csv", "--units", "density:GPa", "--out", str(out))
    assert code == 2
    one_error_line(err, says="--units", hint="see biomatdb export --help")
    assert not out.exists()


@pytest.mark.usefixtures("cli_database")
def test_a_bad_format_and_a_bad_filter_option() -> None:
    code, _, err = run_all("export", "--format", "xlsx")
    assert code == 2
    one_error_line(err, says="--format: unknown format 'xlsx'", hint="bundle, csv, ndjson")
    code, _, err = run_all("export", "--format", "csv", "--prop", "youngs_modulus:x")
    assert code == 2
    one_error_line(err, says="--prop[0]: malformed range", hint="see biomatdb export --help")
    code, _, err = run_all("export", "--country", "Narnia")
    assert code == 2
    one_error_line(err, says="--country", hint="see biomatdb export --help")


@pytest.mark.usefixtures("cli_database")
def test_an_unknown_option_is_one_line_too() -> None:
    code, _, err = run_all("export", "--colour", "red")
    assert code == 2
    one_error_line(err, says="No such option: --colour", hint="see biomatdb export --help")


@pytest.mark.parametrize(
    ("url", "says", "hint"),
    [
        ("not a url", "BIOMATDB_DATABASE_URL is not a database URL", "set it to sqlite:///"),
        ("oracle+nothing://x/y", "BIOMATDB_DATABASE_URL is not a database URL", "set it to"),
        ("sqlite:////nonexistent/folder/x.sqlite3", "unable to open database file", "folder"),
        (
            "postgresql://someone:secret@127.0.0.1:1/nothing",
            "cannot use the database postgresql+psycopg://someone:***@127.0.0.1:1/nothing",
            "that the database server is running",
        ),
    ],
)
def test_db_upgrade_with_a_database_that_cannot_be_used(
    database_url_env: pytest.MonkeyPatch, url: str, says: str, hint: str
) -> None:
    database_url_env.setenv("BIOMATDB_DATABASE_URL", url)
    code, _, err = run_all("db", "upgrade")
    assert code == 2
    one_error_line(err, says=says, hint=hint)
    assert "secret" not in err


def test_a_bad_setting(database_url_env: pytest.MonkeyPatch) -> None:
    database_url_env.setenv("BIOMATDB_QUERY_TIMEOUT_SECONDS", "soon")
    code, _, err = run_all("keys", "list")
    assert code == 2
    one_error_line(err, says="BIOMATDB_QUERY_TIMEOUT_SECONDS", hint="fix the environment variable")


@pytest.mark.usefixtures("cli_database")
def test_db_upgrade_to_an_unknown_revision() -> None:
    code, _, err = run_all("db", "upgrade", "nope")
    assert code == 2
    one_error_line(err, says="Can't locate revision identified by 'nope'", hint="head, base")


# A database missing, not migrated or older: tests/test_operations.py.


@pytest.mark.usefixtures("cli_database")
def test_keys_errors() -> None:
    code, _, err = run_all("keys", "revoke", "nobody")
    assert code == 1
    one_error_line(err, says="no key named 'nobody'", hint="see biomatdb keys list")
    code, _, err = run_all("keys", "create", "--role", "wizard", "--name", "bob")
    assert code == 2
    one_error_line(err, says="--role: choose from reader", hint="keys create --help")
    assert run_all("keys", "create", "--role", "reader", "--name", "bob")[0] == 0
    code, _, err = run_all("keys", "create", "--role", "reader", "--name", "bob")
    assert code == 1
    one_error_line(err, says="a key named 'bob' exists already", hint="choose another --name")


@pytest.mark.usefixtures("cli_database")
def test_dry_runs_print_the_report_and_no_writing_lines() -> None:
    code, out, err = run_all("import", str(SEARCH_BUNDLE), "--dry-run")
    assert code == 0
    assert "would be created" in out
    assert "writing" not in out + err
    assert err == ""
    code, out, err = run_all("seed", "--dry-run")
    assert code == 0
    assert "(dry run: nothing was written)" in out
    assert "writing" not in out + err
    # A real run, not on a terminal: the report, and one line per file it writes (a
    # log's progress; on a terminal they are the bar's label instead).
    code, out, err = run_all("seed")
    assert code == 0
    assert "were created" in out
    seed_files = sorted(p.name for p in (ROOT / "seed").glob("*.json"))
    assert [line.split(": ")[0].rsplit("/", 1)[-1] for line in err.splitlines()] == seed_files
    assert all(line.startswith("writing ") for line in err.splitlines())


@pytest.mark.usefixtures("cli_database")
def test_an_import_with_errors_exits_1_with_its_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"materials": [{"id": "x", "name": "X", "class": "rock"}]}))
    code, _, err = run_all("import", str(bad))
    assert code == 1
    assert "error: materials[0].class" in err
    assert err.strip().splitlines()[-1].endswith("nothing was written; fix them and run again")


# -- --debug ---------------------------------------------------------------------------


@pytest.mark.usefixtures("cli_database")
def test_debug_raises_instead() -> None:
    result = CliRunner().invoke(app, ["--debug", "export", "--out", "/nonexistent/dir/x.json"])
    assert isinstance(result.exception, cli.CliError)
    assert isinstance(result.exception.__cause__, FileNotFoundError)


def test_debug_shows_the_traceback_in_a_real_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    migrations.upgrade(url)
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url}
    command = [sys.executable, "-m", "biomatdb.cli", "export", "--out", "/nonexistent/dir/x"]
    quiet = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert quiet.returncode == 2
    assert "Traceback" not in quiet.stderr
    assert quiet.stderr.startswith("error: cannot write /nonexistent/dir/x")
    command.insert(3, "--debug")
    loud = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert "FileNotFoundError" in loud.stderr


def test_an_unexpected_error_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import biomatdb.bundles.jsonschema as jsonschema

    def broken() -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(jsonschema, "render", broken)
    code, _, err = run_all("schema")
    assert code == 1
    one_error_line(err, says="unexpected RuntimeError: boom", hint="run again with --debug")


# -- help ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["import"], ["export"], ["seed"], ["db", "upgrade"], ["keys", "create"], ["synth"]],
)
def test_help_has_no_type_placeholders(command: list[str]) -> None:
    code, out, _ = run_all(*command, "--help")
    assert code == 0
    for placeholder in ("<bool>", "<str>", "<int>", "<path>", "<list[", "{files}", "{"):
        assert placeholder not in out, (command, placeholder)
    assert "--debug" not in out  # hidden


def test_help_reads_like_a_usual_cli() -> None:
    out = run_all("import", "--help")[1]
    assert "Usage: biomatdb import [OPTIONS] FILE..." in out
    out = run_all("export", "--help")[1]
    assert "--out" in out
    assert "FILE" in out
    assert "FORMAT" in out
    assert "db upgrade [OPTIONS] [REVISION]" in run_all("db", "upgrade", "--help")[1]


def test_help_documents_the_exit_codes() -> None:
    out = " ".join(run_all("--help")[1].split())
    assert "Exit codes: 0 done; 1 the command ran and found problems" in out
    assert "2 usage or bad input" in out
    readme = (ROOT / "README.md").read_text()
    assert "| exit code | meaning |" in readme


# -- NDJSON files ----------------------------------------------------------------------


@pytest.mark.usefixtures("cli_database")
def test_import_of_ndjson_files(tmp_path: Path) -> None:
    bundle = json.loads(SEARCH_BUNDLE.read_text())
    shared = tmp_path / "shared.json"
    shared.write_text(
        json.dumps({"references": bundle["references"], "organizations": bundle["organizations"]})
    )
    lines = tmp_path / "materials.ndjson"
    lines.write_text("\n".join(json.dumps(m) for m in bundle["materials"]) + "\n\n")
    code, out, err = run_all("import", str(shared), str(lines))
    assert code == 0, err
    assert f"materials: {len(bundle['materials'])} created" in out
    broken = tmp_path / "broken.ndjson"
    broken.write_text('{"id": "a"}\nnot json\n')
    code, _, err = run_all("import", str(broken))
    assert code == 2
    one_error_line(err, says="broken.ndjson: materials[1]: line 2: invalid JSON", hint="fix")


# -- progress --------------------------------------------------------------------------


def tty() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=200)


def test_progress_shows_on_a_terminal_only() -> None:
    console = tty()
    bar = cli.Progress(console, "writing things", total=4, delay=0)
    bar.update(completed=3)
    bar.close()
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "writing things" in shown
    assert "3/4" in shown
    quiet = Console(file=io.StringIO(), force_terminal=False)
    bar = cli.Progress(quiet, "writing things", total=4, delay=0)
    bar.update(completed=3)
    bar.close()
    assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]


def test_progress_waits_before_it_shows() -> None:
    console = tty()
    bar = cli.Progress(console, "quick", total=1, delay=60)
    bar.update(completed=1)
    bar.close()
    assert console.file.getvalue() == ""  # type: ignore[attr-defined]


@pytest.mark.usefixtures("cli_database")
def test_import_and_export_show_progress_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    console = tty()
    monkeypatch.setattr(cli, "_stderr_console", lambda: console)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0)
    code, out, _ = run_all("import", str(SEARCH_BUNDLE))
    assert code == 0
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"writing {SEARCH_BUNDLE}" in shown
    assert "100%" in shown  # of the bytes of the files
    assert "━" not in out  # the report on stdout stays clean
    code, out, _ = run_all("export", "--format", "csv", "--out", str(tmp_path / "x.csv"))
    assert code == 0
    assert "exporting csv" in console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("cli_database")
def test_no_progress_when_not_a_terminal() -> None:
    code, out, err = run_all("import", str(SEARCH_BUNDLE))
    assert code == 0
    for mark in ("━", "0:00:"):
        assert mark not in out + err
    assert err == f"writing {SEARCH_BUNDLE}\n"  # one plain line per file
    code, out, err = run_all("export", "--format", "ndjson")
    assert code == 0
    assert "exporting" not in err
    assert "━" not in out + err
