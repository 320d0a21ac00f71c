"""Property summaries keep ``digits``: the significant digits their values were given
with (at least 3), so that derived canonical values are shown rounded to what the
sources say (14000 psi as 96.5 MPa, not 96.5266021044) while the stored values keep
full precision for filtering. Existing summaries are filled from their values.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 07:00:00.000000
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule of biomatdb.units.derived_digits, written out so that this migration does
# not change when the application does.
MIN_DIGITS = 3
MAX_DIGITS = 12
BATCH = 5000


def _digits(number: float) -> int:
    if number == 0 or number != number or number in (float("inf"), float("-inf")):
        return 1
    return len(Decimal(repr(float(number))).normalize().as_tuple().digits)


def upgrade() -> None:
    # A nullable column is added in place on both engines.
    op.add_column("material_property_summaries", sa.Column("digits", sa.SmallInteger()))
    bind = op.get_bind()
    values = sa.table(
        "property_values",
        sa.column("material_id"),
        sa.column("property_key"),
        sa.column("value"),
        sa.column("value_min"),
        sa.column("value_max"),
    )
    digits: dict[tuple[int, str], int] = {}
    rows = bind.execute(
        sa.select(
            values.c.material_id,
            values.c.property_key,
            values.c.value,
            values.c.value_min,
            values.c.value_max,
        )
    )
    for material_id, key, *given in rows:
        found = [_digits(g) for g in given if g is not None]
        if found:
            pair = (material_id, key)
            digits[pair] = max(digits.get(pair, MIN_DIGITS), *found)
    summaries = sa.table(
        "material_property_summaries",
        sa.column("material_id"),
        sa.column("property_key"),
        sa.column("digits"),
    )
    update = (
        summaries.update()
        .where(
            summaries.c.material_id == sa.bindparam("mid"),
            summaries.c.property_key == sa.bindparam("key"),
        )
        .values(digits=sa.bindparam("n"))
    )
    params = [{"mid": mid, "key": key, "n": min(MAX_DIGITS, n)} for (mid, key), n in digits.items()]
    for start in range(0, len(params), BATCH):
        bind.execute(update, params[start : start + BATCH])


def downgrade() -> None:
    op.drop_column("material_property_summaries", "digits")  # in place (SQLite 3.35+)
