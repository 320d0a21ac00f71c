"""JSON documents as the API writes them."""

from __future__ import annotations

from typing import Any


def clean(value: Any) -> Any:
    """Drop null members of objects, recursively (absent and null mean the same)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def clean_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """:func:`clean` for an object (typed as one)."""
    return {k: clean(v) for k, v in entry.items() if v is not None}
