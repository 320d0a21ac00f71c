"""Literature and standards that values cite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from biomatdb.models.base import Base, utcnow


class Reference(Base):
    __tablename__ = "references"
    __table_args__ = (Index("ix_references_public_slug", "public", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    citation: Mapped[str] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255), index=True)
    year: Mapped[int | None]
    pmid: Mapped[str | None] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text)
    #: Shown to anonymous readers. A curator's new reference waits until a published
    #: material cites it or an editor approves it (biomatdb.materials.shared_records).
    #: Writers set it; the server default only made the rows before it public.
    public: Mapped[bool] = mapped_column(default=False, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
