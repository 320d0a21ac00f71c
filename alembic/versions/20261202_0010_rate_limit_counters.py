"""Rate-limit counters shared by the worker processes on PostgreSQL (issue 13): an
unlogged table, since counters need no crash safety and must cost little. SQLite
deployments count in a side file next to the database instead (so that counting
never waits for the main file's write lock), and Redis when BIOMATDB_REDIS_URL is
set; see biomatdb.api.ratelimit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE UNLOGGED TABLE rate_limit_counters ("
        "bucket text NOT NULL, window_start bigint NOT NULL, hits integer NOT NULL, "
        "expires bigint NOT NULL, "
        "CONSTRAINT pk_rate_limit_counters PRIMARY KEY (bucket, window_start))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE rate_limit_counters")
