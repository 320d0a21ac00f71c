"""The property catalogue table (a copy of :mod:`biomatdb.catalogue`, made by migrations)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from biomatdb.models.base import Base


class Property(Base):
    __tablename__ = "properties"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    canonical_unit: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(200))
    lower_bound: Mapped[float | None]
    upper_bound: Mapped[float | None]
    description: Mapped[str] = mapped_column(Text, default="")
