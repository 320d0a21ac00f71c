"""Property values get ``evidence`` (contract section 8): measured, specification,
handbook, class_generic or model_input; optional, so existing rows stay null. The
bundle's validation checks the vocabulary (a CHECK constraint would make SQLite copy
the table).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column is in place on both engines (no batch copy).
    op.add_column("property_values", sa.Column("evidence", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # In place too (SQLite 3.35+ drops a column itself): batch mode would copy the
    # table and lose its expression index (lower(specimen), revision 0003).
    op.drop_column("property_values", "evidence")
