"""The specimen filter of search (``specimen=``) gets an index: property values by
lower-cased specimen, then property key and canonical interval, so that a specimen
alone and a specimen with a property range are both one index range per term.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 05:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_property_values_lower_specimen_property_key_canonical_min"


def upgrade() -> None:
    # An expression index, on both engines (SQLite 3.9+); creating an index needs no
    # batch mode on SQLite.
    op.create_index(
        INDEX,
        "property_values",
        [
            sa.text("lower(specimen)"),
            "property_key",
            "canonical_min",
            "canonical_max",
            "material_id",
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="property_values")
