"""Time stamps as the API writes them."""

from __future__ import annotations

from datetime import datetime


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with ``Z`` for UTC (``2026-12-01T03:35:34.123456Z``)."""
    return moment.isoformat().replace("+00:00", "Z")
