"""Alembic environment: metadata from biomatdb.models, URL from biomatdb settings."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.operations import ops
from sqlalchemy import Connection, make_url

from biomatdb.db import make_engine
from biomatdb.migrations import include_name, include_object_on
from biomatdb.models import Base
from biomatdb.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _skip_empty(context_: Any, revision: Any, directives: list[ops.MigrationScript]) -> None:
    # `alembic revision --autogenerate` with no model change writes no file.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    dialect = (
        connection.dialect.name if connection is not None else make_url(_url()).get_backend_name()
    )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        render_as_batch=True,  # SQLite alters tables by copying them
        include_name=include_name,
        include_object=include_object_on(dialect),
        process_revision_directives=_skip_empty,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
