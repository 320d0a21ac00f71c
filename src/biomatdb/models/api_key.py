"""API keys: only a hash is stored; the key itself is shown once at creation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from biomatdb.models.base import Base, utcnow

ROLES = ("reader", "curator", "editor", "admin")


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("role IN ('reader', 'curator', 'editor', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public part of the key (``bmdb_<lookup>_...``), to find the row without scanning.
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 of the whole key, hex. Keys carry 256 random bits, so a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
