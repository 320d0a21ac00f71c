"""Running the Alembic migrations from code (CLI, tests, the API's first start)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from biomatdb import resources
from biomatdb.search.fulltext import FTS_TABLE


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Hide the full-text structures (FTS5 virtual table and its shadow tables,
    the PostgreSQL tsvector table) from autogenerate: they are written by hand
    per dialect in the migrations, not described by the models."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name is not None and name.startswith(f"ix_{FTS_TABLE}"))


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
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(url), revision)


def current_head() -> str | None:
    """The head revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade_engine(engine: Engine) -> None:
    """Apply all migrations on an existing engine's connection (tests)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
