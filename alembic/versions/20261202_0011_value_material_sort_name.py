"""Property values carry their material's sort name, and PostgreSQL indexes a property
range in name order (issue 11: the first page of a property range in name order, 61 ms
-> 1.3 ms at 100,000 materials on PostgreSQL; docs/performance.md, "The search page's
property range").

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_property_values_property_key_material_sort_name_material_id"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # NOT NULL with a default: SQLite adds such a column without copying the table.
    op.add_column(
        "property_values",
        sa.Column(
            "material_sort_name",
            sa.String(300).with_variant(sa.String(300, collation="C"), "postgresql"),
            nullable=False,
            server_default="",
        ),
    )
    if postgres:
        op.execute(
            "UPDATE property_values SET material_sort_name = materials.sort_name "
            "FROM materials WHERE materials.id = property_values.material_id"
        )
        op.create_index(
            INDEX,
            "property_values",
            ["property_key", "material_sort_name", "material_id", "canonical_min", "canonical_max"],
        )
    else:
        op.execute(
            "UPDATE property_values SET material_sort_name = "
            "(SELECT sort_name FROM materials WHERE materials.id = property_values.material_id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="property_values")
        op.drop_column("property_values", "material_sort_name")
    else:
        # SQLite drops a column in place (3.35+); alembic's drop_column would copy the table.
        op.execute("ALTER TABLE property_values DROP COLUMN material_sort_name")
