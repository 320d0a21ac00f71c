"""Time stamps as the API writes them."""

from __future__ import annotations

from datetime import datetime


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with ``Z`` for UTC (``2026-12-01T03:35:34.123456Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


def iso_utc_or_none(moment: datetime | None) -> str | None:
    """:func:`iso_utc`, or None for no time (``meta.last_updated`` of an empty database)."""
    return None if moment is None else iso_utc(moment)
