"""Running the Alembic migrations from code (CLI, tests, the API's first start)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Index
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from biomatdb import __version__, resources
from biomatdb.db import made_on, sqlite_file
from biomatdb.errors import DatabaseNotReady
from biomatdb.search.fulltext import FTS_TABLE
from biomatdb.settings import default_database_url, get_settings, normalize_database_url

#: PostgreSQL's rate-limit counters (revision 0010; biomatdb.api.ratelimit).
RATE_LIMIT_TABLE = "rate_limit_counters"
#: What to do about a database that is missing, not migrated or older than the code.
UPGRADE_HINT = "run: biomatdb db upgrade"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Hide the full-text structures (FTS5 virtual table and its shadow tables,
    the PostgreSQL tsvector table) and PostgreSQL's unlogged rate-limit counters
    from autogenerate: they are written by hand per dialect in the migrations, not
    described by the models."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "table" and name == RATE_LIMIT_TABLE:
        return False
    return not (type_ == "index" and name is not None and name.startswith(f"ix_{FTS_TABLE}"))


def include_object_on(dialect: str) -> Callable[..., bool]:
    """An autogenerate ``include_object`` hook for ``dialect``: an index the models
    declare for one database only (``Index.ddl_if``) is compared only on that one."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        return reflected or not isinstance(obj, Index) or made_on(obj, dialect)

    return include_object


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for this project, optionally for a given database URL.

    The scripts run from wherever :mod:`biomatdb.resources` finds them: the
    installed package's copy, or the checkout's ``alembic/``. ``alembic.ini``
    exists only in a checkout (for the ``alembic`` command); installed, the
    defaults are enough to upgrade and downgrade."""
    root = resources.checkout_root()
    ini = root / "alembic.ini" if root is not None else None
    config = Config(str(ini)) if ini is not None and ini.is_file() else Config()
    # set_main_option interpolates: a "%" in the path must be doubled.
    config.set_main_option("script_location", str(resources.migrations_dir()).replace("%", "%%"))
    if url is not None:
        config.attributes["database_url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to ``revision``. The default SQLite file's folder (in the
    user's data folder) is made first; a folder named in BIOMATDB_DATABASE_URL must
    exist (a missing one is more likely a typo)."""
    target = url or get_settings().database_url
    path = sqlite_file(target)
    if path is not None and normalize_database_url(target) == default_database_url():
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


@lru_cache
def current_head() -> str | None:
    """The head revision of the migration scripts (read once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@lru_cache
def _known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


def shown_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(BIOMATDB_DATABASE_URL)"


def database_revision(bind: Engine | Connection) -> str | None:
    """The schema revision the database is at (None: not migrated)."""
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_current(bind: Engine | Connection) -> str:
    """The revision of a database that this code can use (the head of its migration
    scripts); else :class:`DatabaseNotReady` saying what is wrong and what to do. A
    missing SQLite file is reported without creating it."""
    url = bind.engine.url.render_as_string(hide_password=False)
    shown = shown_url(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseNotReady(f"there is no database at {path}", f"{UPGRADE_HINT} (it creates it)")
    try:
        revision = database_revision(bind)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseNotReady(
            f"cannot use the database {shown}: {reason}",
            "check BIOMATDB_DATABASE_URL and that the database server is running",
        ) from exc
    head = current_head()
    if revision == head:
        return revision or ""
    if revision is None:
        raise DatabaseNotReady(f"the database {shown} is not migrated", UPGRADE_HINT)
    if revision not in _known_revisions():
        raise DatabaseNotReady(
            f"the database {shown} is at revision {revision}, which biomatdb {__version__} "
            "does not know (a newer biomatdb migrated it)",
            "run the newer biomatdb, or downgrade the database with it",
        )
    raise DatabaseNotReady(
        f"the database {shown} is at revision {revision}; biomatdb {__version__} needs {head}",
        UPGRADE_HINT,
    )


def upgrade_engine(engine: Engine) -> None:
    """Apply all migrations on an existing engine's connection (tests)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
