"""The full-text document of a material also holds its suppliers' organization names
and its regulatory records' device names, identifiers (K-numbers, PMA numbers) and
applicants' names: every document is rebuilt from the projection's rows (materials,
supplier_offerings, regulatory_records, organizations), in the order of
``biomatdb.materials.projection._document``. The downgrade rebuilds the documents
of revision 0006 (name, synonyms, subclass, description, trade names).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00.000000
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _normalize(text: str) -> str:
    # biomatdb.search.fulltext.normalize, written out so that this migration does not
    # change when the application does.
    if text.isascii():
        return " ".join(_WORD.findall(text.lower()))
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped.casefold()))


def _documents(bind: sa.Connection, *, with_records: bool) -> dict[int, str]:
    materials = sa.table(
        "materials",
        sa.column("id"),
        sa.column("name"),
        sa.column("synonyms", sa.JSON().with_variant(JSONB(), "postgresql")),
        sa.column("subclass"),
        sa.column("description"),
    )
    organizations = sa.table("organizations", sa.column("id"), sa.column("name"))
    offerings = sa.table(
        "supplier_offerings",
        sa.column("material_id"),
        sa.column("position"),
        sa.column("trade_name"),
        sa.column("organization_id"),
    )
    records = sa.table(
        "regulatory_records",
        sa.column("material_id"),
        sa.column("position"),
        sa.column("device_name"),
        sa.column("identifier"),
        sa.column("organization_id"),
    )
    parts: dict[int, list[str | None]] = {}
    for mid, name, synonyms, subclass, description in bind.execute(
        sa.select(*materials.c).order_by(materials.c.id)
    ):
        parts[mid] = [name, *(synonyms or []), subclass, description]
    extra: dict[int, list[str | None]] = defaultdict(list)
    for mid, trade_name, organization in bind.execute(
        sa.select(offerings.c.material_id, offerings.c.trade_name, organizations.c.name)
        .join(organizations, organizations.c.id == offerings.c.organization_id)
        .order_by(offerings.c.material_id, offerings.c.position)
    ):
        extra[mid] += [trade_name, organization] if with_records else [trade_name]
    if with_records:
        for mid, device_name, identifier, organization in bind.execute(
            sa.select(
                records.c.material_id,
                records.c.device_name,
                records.c.identifier,
                organizations.c.name,
            )
            .outerjoin(organizations, organizations.c.id == records.c.organization_id)
            .order_by(records.c.material_id, records.c.position)
        ):
            extra[mid] += [device_name, identifier, organization]
    return {
        mid: _normalize(" ".join(p for p in (*found, *extra[mid]) if p))
        for mid, found in parts.items()
    }


def _rebuild(*, with_records: bool) -> None:
    bind = op.get_bind()
    documents = [
        {"mid": mid, "doc": doc} for mid, doc in _documents(bind, with_records=with_records).items()
    ]
    bind.execute(sa.text("DELETE FROM material_fts"))
    if bind.dialect.name == "sqlite":
        insert = sa.text("INSERT INTO material_fts (rowid, document) VALUES (:mid, :doc)")
    else:
        insert = sa.text(
            "INSERT INTO material_fts (material_id, document) "
            "VALUES (:mid, to_tsvector('simple'::regconfig, :doc))"
        )
    for start in range(0, len(documents), BATCH):
        bind.execute(insert, documents[start : start + BATCH])


def upgrade() -> None:
    _rebuild(with_records=True)


def downgrade() -> None:
    _rebuild(with_records=False)
