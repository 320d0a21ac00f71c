"""References and organizations get a ``public`` flag: a curator's new record is
hidden from anonymous readers until a published material cites it or an editor
approves it. Every existing row was public, so the column defaults to true.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("references", "organizations")


def upgrade() -> None:
    for table in TABLES:
        # A plain-string default ('1' is true on both engines) lets SQLite add the
        # column in place: a SQL-expression default would make batch mode copy the
        # table, and the tables that point at it forbid dropping the original.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("public", sa.Boolean(), server_default="1", nullable=False)
            )
            batch_op.create_index(f"ix_{table}_public_slug", ["public", "slug"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        # recreate="never": SQLite (3.35+) drops the column in place, for the same
        # reason as above; the index goes first, as SQLite requires.
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_index(f"ix_{table}_public_slug")
            batch_op.drop_column("public")
