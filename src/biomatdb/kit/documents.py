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


def field_diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-level differences between two JSON values: [{path, before, after}]."""
    if before is None and path == "":
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else key
            out += (
                field_diff(before.get(key), after.get(key), sub)
                if key in before and key in after
                else [{"path": sub, "before": before.get(key), "after": after.get(key)}]
            )
        return out
    if isinstance(before, list) and isinstance(after, list):
        out = []
        for index in range(max(len(before), len(after))):
            sub = f"{path}[{index}]"
            if index >= len(before):
                out.append({"path": sub, "before": None, "after": after[index]})
            elif index >= len(after):
                out.append({"path": sub, "before": before[index], "after": None})
            else:
                out += field_diff(before[index], after[index], sub)
        return out
    return [] if before == after else [{"path": path, "before": before, "after": after}]
