"""The primary + hot standby pair of tests/replica.py: writes on the primary are read
back from the standby once replayed, and the standby refuses writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from biomatdb.settings import normalize_database_url

if TYPE_CHECKING:  # imported by pytest_plugins (so that pytest rewrites its asserts first)
    from tests.replica import ReplicaPair

pytest_plugins = ["tests.replica"]

pytestmark = [pytest.mark.slow, pytest.mark.dialect_free]


def test_standby_replays_the_primarys_writes_and_refuses_its_own(
    replica_pair: ReplicaPair,
) -> None:
    primary = create_engine(normalize_database_url(replica_pair.primary_url))
    replica = create_engine(normalize_database_url(replica_pair.replica_url))
    try:
        with primary.begin() as connection:
            connection.execute(text("CREATE TABLE replicated (id integer PRIMARY KEY, name text)"))
            connection.execute(
                text("INSERT INTO replicated (id, name) VALUES (:id, :name)"),
                [{"id": i, "name": f"row {i}"} for i in range(1, 101)],
            )
        replica_pair.wait_for_replay()

        with replica.connect() as connection:
            assert connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
            rows = connection.execute(text("SELECT id, name FROM replicated ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [(i, f"row {i}") for i in range(1, 101)]

        # a later write shows up too (the standby follows, not just a copy at setup)
        with primary.begin() as connection:
            connection.execute(text("UPDATE replicated SET name = 'changed' WHERE id = 7"))
        replica_pair.wait_for_replay()
        with replica.connect() as connection:
            changed = connection.execute(text("SELECT name FROM replicated WHERE id = 7"))
            assert changed.scalar_one() == "changed"

        with pytest.raises(DBAPIError) as refused, replica.begin() as connection:
            connection.execute(text("INSERT INTO replicated (id, name) VALUES (0, 'no')"))
        assert getattr(refused.value.orig, "sqlstate", None) == "25006", refused.value
        assert "read-only transaction" in str(refused.value)
    finally:
        primary.dispose()
        replica.dispose()


def test_wait_for_replay_times_out_while_the_standby_lags(replica_pair: ReplicaPair) -> None:
    primary = create_engine(normalize_database_url(replica_pair.primary_url))
    replica = create_engine(
        normalize_database_url(replica_pair.replica_url), isolation_level="AUTOCOMMIT"
    )
    try:
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_pause()"))
        try:
            with primary.begin() as connection:
                connection.execute(text("CREATE TABLE lagging (id integer)"))
            with pytest.raises(TimeoutError, match="has not replayed the primary's WAL"):
                replica_pair.wait_for_replay(timeout=0.5)
        finally:
            with replica.connect() as connection:
                connection.execute(text("SELECT pg_wal_replay_resume()"))
        replica_pair.wait_for_replay()
        with replica.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM lagging")).scalar_one() == 0
    finally:
        primary.dispose()
        replica.dispose()
