"""``biomatdb backup FILE`` and ``biomatdb restore FILE``: the whole database, with
each engine's own tool.

* SQLite: the online backup API (``sqlite3.Connection.backup``), which copies a
  consistent snapshot page by page while the service keeps answering (readers and
  the importer included); the backup is itself a SQLite database file.
* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
  --single-transaction`` (all or nothing), so a backup restores into another server
  or a newer PostgreSQL; the tools must be on ``PATH`` (Debian: postgresql-client).

A backup is written next to its target and renamed into place, so a crash never
leaves half a file under the name. A restore refuses to replace a database that
holds materials unless told to (``force``), and says when the restored schema is
older than the code ("run biomatdb db upgrade"). Moving data between engines is
what ``biomatdb export`` and ``import`` are for.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from biomatdb import migrations
from biomatdb.db import sqlite_file
from biomatdb.errors import DatabaseNotReady, InvalidParameter

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
#: Pages the SQLite backup copies per step (the service may write between steps).
SQLITE_PAGES_PER_STEP = 4096


class BackupFailed(Exception):
    """A backup or restore that could not be done: what, and what to do."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(f"{problem}; {hint}")
        self.problem = problem
        self.hint = hint


def backup(engine: Engine, target: Path) -> None:
    """Write the whole database to ``target`` (replaced if it exists)."""
    migrations.check_current(engine)  # a missing or unmigrated database: say so
    partial = target.with_name(f".{target.name}.partial")
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_path(engine), partial)
        else:
            _pg_tool(
                engine,
                ["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"],
                "nothing was written",
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def restore(engine: Engine, source: Path, *, force: bool) -> str | None:
    """Replace the database with the backup ``source``; the revision it is at, or
    None when that is not the code's (the caller says "run biomatdb db upgrade")."""
    kind = backup_kind(source)
    if kind != engine.dialect.name:
        raise BackupFailed(
            f"{source} is a {_ENGINE_NAMES[kind]} backup and BIOMATDB_DATABASE_URL is a "
            f"{_ENGINE_NAMES[engine.dialect.name]} database",
            "restore it into the same kind of database, or move the data with biomatdb "
            "export and biomatdb import",
        )
    held = _materials_held(engine)
    if held and not force:
        raise BackupFailed(
            f"the database holds {held} material(s), which the restore would replace",
            "pass --force to replace them (take a backup first), or point "
            "BIOMATDB_DATABASE_URL at an empty database",
        )
    if kind == "sqlite":
        target = _sqlite_path(engine)
        engine.dispose()  # no pooled connection keeps the old pages
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            _check_biomatdb_sqlite(check, source)
        _sqlite_copy(source, target, read_only=True)
    else:
        _pg_tool(
            engine,
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                str(source),
            ],
            "nothing was replaced (one transaction)",
        )
        engine.dispose()
    try:
        return migrations.check_current(engine)
    except DatabaseNotReady:
        return None


_ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def backup_kind(source: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes."""
    with source.open("rb") as file:
        head = file.read(len(SQLITE_HEADER))
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if head.startswith(PG_DUMP_HEADER):
        return "postgresql"
    raise InvalidParameter(
        f"{source} is not a biomatdb backup (neither a SQLite database nor a pg_dump "
        "custom-format archive)"
    )


def _check_biomatdb_sqlite(connection: sqlite3.Connection, source: Path) -> None:
    try:
        connection.execute("SELECT version_num FROM alembic_version").fetchall()
        connection.execute("SELECT count(*) FROM materials").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidParameter(
            f"{source} is a SQLite database but not a biomatdb one ({exc})"
        ) from exc


def _sqlite_copy(source: Path, target: Path, *, read_only: bool = False) -> None:
    uri = f"file:{source}?mode=ro" if read_only else f"file:{source}"
    with sqlite3.connect(uri, uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=SQLITE_PAGES_PER_STEP)
    src.close()
    dst.close()


def _sqlite_path(engine: Engine) -> Path:
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        raise BackupFailed("an in-memory SQLite database has nothing to back up", "use a file")
    return path


def _materials_held(engine: Engine) -> int:
    """Materials in the target (0: missing, unmigrated or empty; never created)."""
    path = (
        sqlite_file(engine.url.render_as_string(hide_password=False))
        if engine.dialect.name == "sqlite"
        else None
    )
    if path is not None and not path.exists():
        return 0
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM materials")).scalar() or 0)
    except SQLAlchemyError:
        return 0


def _pg_tool(engine: Engine, command: list[str], after_failure: str) -> None:
    """Run pg_dump or pg_restore on the engine's database. The password goes in the
    environment (PGPASSWORD), never on a command line other users can read."""
    name = command[0]
    if shutil.which(name) is None:
        raise BackupFailed(
            f"{name} is not installed",
            "install PostgreSQL's client tools (Debian: apt-get install postgresql-client)",
        )
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string()
    done = subprocess.run(
        [*command, f"--dbname={dsn}"], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise BackupFailed(f"{name} failed: {reason}", after_failure)
