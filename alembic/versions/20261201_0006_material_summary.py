"""Materials carry their property summaries packed in one column, ``summary``
(``biomatdb.packed``: float64 records of key code, min, max, typical, count and
digits), so that a page of search results, a batch of an export or the candidates of
a ranking read them with their rows instead of 15 summary rows per material.
Existing rows are filled from material_property_summaries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:00:00.000000
"""

import math
import struct
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _record(
    key: str, low: float, high: float, typical: float, count: int, digits: int | None
) -> bytes:
    # The layout of biomatdb.packed, written out so that this migration does not
    # change when the application does.
    return struct.pack(
        "<6d",
        zlib.crc32(key.encode("utf-8")),
        low,
        high,
        typical,
        count,
        math.nan if digits is None else digits,
    )


def upgrade() -> None:
    op.add_column("materials", sa.Column("summary", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    summaries = sa.table(
        "material_property_summaries",
        sa.column("material_id"),
        sa.column("property_key"),
        sa.column("canonical_min"),
        sa.column("canonical_max"),
        sa.column("typical"),
        sa.column("value_count"),
        sa.column("digits"),
    )
    packed: dict[int, list[bytes]] = {}
    for mid, key, low, high, typical, count, digits in bind.execute(
        sa.select(*summaries.c).order_by(summaries.c.material_id, summaries.c.property_key)
    ):
        packed.setdefault(mid, []).append(_record(key, low, high, typical, count, digits))
    materials = sa.table("materials", sa.column("id"), sa.column("summary"))
    update = (
        materials.update()
        .where(materials.c.id == sa.bindparam("mid"))
        .values(summary=sa.bindparam("blob"))
    )
    params = [{"mid": mid, "blob": b"".join(records)} for mid, records in packed.items()]
    for start in range(0, len(params), BATCH):
        bind.execute(update, params[start : start + BATCH])
    bind.execute(materials.update().where(materials.c.summary.is_(None)).values(summary=b""))


def downgrade() -> None:
    op.drop_column("materials", "summary")  # in place (SQLite 3.35+)
