"""Versions of materials and the change log that feeds partners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from biomatdb.models.base import Base, utcnow
from biomatdb.models.material import Material


class MaterialVersion(Base):
    """One version of a material: its whole bundle entry, who made it and what changed.

    The version rows are the record; ``materials`` and its child tables are the
    searchable projection of the version the public sees (or, for a material
    never published, of its latest version).
    """

    __tablename__ = "material_versions"
    __table_args__ = (
        UniqueConstraint("material_id", "version"),
        CheckConstraint(
            "status IN ('draft', 'in_review', 'published', 'retracted')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    #: The bundle entry (without status and server fields), as validated.
    entry: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    #: Field-level differences from the previous version: [{path, before, after}].
    diff: Mapped[list[Any] | None]


class Change(Base):
    """One entry of the change feed, in commit order (``seq``).

    Writers serialise on a lock before they append, so ``seq`` order is commit
    order: a partner resuming after ``seq`` can never miss a change committed later
    with a smaller number.
    """

    __tablename__ = "changes"
    __table_args__ = (
        CheckConstraint("kind IN ('material', 'reference', 'organization')", name="kind"),
        Index("ix_changes_material_id_seq", "material_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    #: created, updated, submitted, published, retracted, returned_to_draft ...
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(16))
    #: The version the public sees after this change (None: not public).
    public_version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    #: For references and organizations: the entry as written.
    entry: Mapped[dict[str, Any] | None]


def shown_version() -> ColumnElement[bool]:
    """Join condition from ``materials`` to the version its projection shows (the
    public version of a published material)."""
    return and_(
        MaterialVersion.material_id == Material.id, MaterialVersion.version == Material.version
    )
