"""The notified body of a CE-marked device: regulatory records name it as an
organization (kind notified_body) beside the holder, so an EU record says who
certified the device (issue 12; an extension of contract section 8).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00.000000
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_regulatory_records_notified_body_id_organizations"
INDEX = "ix_regulatory_records_notified_body_id"
# SQLite adds a foreign key only by copying the table (alembic's batch mode), and the
# copy keeps only the indexes SQLite can reflect: this expression index of revision
# 0008 is made again after the copy.
PRODUCT_CODE_INDEX = "ix_regulatory_records_upper_product_code_decision_date"


def _product_code_index() -> None:
    op.create_index(
        PRODUCT_CODE_INDEX,
        "regulatory_records",
        [sa.text("upper(product_code)"), "decision_date", "material_id"],
    )


@contextmanager
def _copy_warnings_expected() -> Iterator[None]:
    # The copy's reflection warns that it skips the expression index, made again below.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection")
        yield


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _copy_warnings_expected(),
        op.batch_alter_table(
            "regulatory_records", recreate="always" if sqlite else "never"
        ) as batch,
    ):
        batch.add_column(sa.Column("notified_body_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            FOREIGN_KEY, "organizations", ["notified_body_id"], ["id"], ondelete="RESTRICT"
        )
        batch.create_index(INDEX, ["notified_body_id"])
    if sqlite:
        _product_code_index()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _copy_warnings_expected(),
        op.batch_alter_table(
            "regulatory_records", recreate="always" if sqlite else "never"
        ) as batch,
    ):
        batch.drop_index(INDEX)
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("notified_body_id")
    if sqlite:
        _product_code_index()
