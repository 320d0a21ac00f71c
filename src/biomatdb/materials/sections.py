"""What an update does to a material, section by section: the report of an import
(and of its dry run) says per entry what it adds, changes and removes, so that
"1 updated" never hides "and drops 5 property values and 2 regulatory records".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Each list section of an entry, and how one of its items is named in a report
#: (the n-th item of one name gets ``#n``: ``youngs_modulus#2``).
SECTIONS: dict[str, Callable[[Any], str]] = {
    "properties": lambda item: str(item.get("property")),
    "composition": lambda item: str(item.get("component")),
    "identifiers": lambda item: f"{item.get('scheme')}:{item.get('id')}",
    "biocompatibility": lambda item: str(item.get("endpoint")),
    "regulatory": lambda item: str(
        item.get("identifier") or f"{item.get('jurisdiction')}:{item.get('device_name') or ''}"
    ),
    "suppliers": lambda item: str(item.get("organization")),
    "applications": str,
    "synonyms": str,
}
#: Fields that are not content (the server's own).
SERVER_FIELDS = frozenset({"status", "version", "created_at", "updated_at"})


def section_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``{"fields": [changed plain fields], "sections": {name: {"added", "changed",
    "removed", "removed_ids"}}}`` from the stored entry ``old`` to ``new``; sections
    that do not change are left out."""
    before = old or {}
    fields = sorted(
        key
        for key in set(before) | set(new)
        if key not in SECTIONS and key not in SERVER_FIELDS and before.get(key) != new.get(key)
    )
    sections: dict[str, Any] = {}
    for name, ident in SECTIONS.items():
        was = _named(before.get(name) or [], ident)
        now = _named(new.get(name) or [], ident)
        removed = [key for key in was if key not in now]
        added = sum(1 for key in now if key not in was)
        changed = sum(1 for key in now if key in was and was[key] != now[key])
        if removed or added or changed:
            sections[name] = {
                "added": added,
                "changed": changed,
                "removed": len(removed),
                "removed_ids": removed,
            }
    return {"fields": fields, "sections": sections}


def _named(items: list[Any], ident: Callable[[Any], str]) -> dict[str, Any]:
    """Items by name, the n-th of a name as ``name#n``."""
    seen: dict[str, int] = {}
    named: dict[str, Any] = {}
    for item in items:
        base = ident(item)
        seen[base] = seen.get(base, 0) + 1
        named[base if seen[base] == 1 else f"{base}#{seen[base]}"] = item
    return named
