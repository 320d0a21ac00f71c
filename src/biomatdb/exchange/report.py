"""What an import did (or, for a dry run, would do): counts per kind and every error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from biomatdb.bundles.validation import ParsedBundle
from biomatdb.errors import Forbidden
from biomatdb.materials.store import Written


@dataclass
class Counts:
    """What an import did (or would do) to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def add(self, outcome: str) -> None:
        """Count one outcome (``published``, an approval, counts as updated)."""
        if outcome == "created":
            self.created += 1
        elif outcome == "unchanged":
            self.unchanged += 1
        else:
            self.updated += 1


def shared_record_outcome(
    kind: str,
    slug: str,
    before: dict[str, Any] | None,
    fields: dict[str, Any],
    *,
    may_change: bool,
) -> str:
    """What importing a reference or organization does: ``created``, ``updated``,
    ``published`` (an editor approves it as it is) or ``unchanged``.

    ``before``: its stored fields and ``public`` flag, or None when it is new. Changing
    one is an editor's decision (403): they are shared by every material and have no
    versions. ``may_change`` (an editor, an admin or the CLI) also approves, so what
    such an import writes is public at once.
    """
    if before is None:
        return "created"
    if any(before.get(k) != v for k, v in fields.items()):
        if not may_change:
            raise Forbidden(
                f"{kind} {slug!r} exists with other content; only an editor may "
                "change it (curators may add new ones)"
            )
        return "updated"
    if may_change and not before["public"]:
        return "published"
    return "unchanged"


@dataclass
class ImportReport:
    """The outcome of an import, as printed by the CLI and returned over HTTP."""

    dry_run: bool
    documents: list[str] = field(default_factory=list)
    references: Counts = field(default_factory=Counts)
    organizations: Counts = field(default_factory=Counts)
    materials: Counts = field(default_factory=Counts)
    property_values_written: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    #: Per updated material: what the update adds, changes and removes.
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return any(
            c.created or c.updated for c in (self.references, self.organizations, self.materials)
        )

    def summary(self) -> str:
        """One sentence a person can read."""
        if not self.ok:
            return f"{len(self.errors)} error(s); nothing was written"
        if not self.changed:
            return "nothing changed: every entry is already in the database as given"
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.materials.created} material(s) {verb} created and "
            f"{self.materials.updated} updated"
            + (" (dry run: nothing was written)" if self.dry_run else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "summary": self.summary(),
            "documents": self.documents,
            "references": self.references.as_dict(),
            "organizations": self.organizations.as_dict(),
            "materials": self.materials.as_dict(),
            "property_values_written": self.property_values_written,
            "errors": self.errors,
            "changes": self.changes,
        }


def count_written(report: ImportReport, item: Written) -> None:
    outcome: Counts = report.materials
    if item.outcome == "created":
        outcome.created += 1
    elif item.outcome == "updated":
        outcome.updated += 1
        if item.changes is not None:
            report.changes.append({"id": item.slug, **item.changes})
    else:
        outcome.unchanged += 1
    report.property_values_written += item.property_values


@dataclass
class ValidatedImport:
    """Documents that passed (or failed) validation, ready to plan or write."""

    report: ImportReport
    parsed: list[ParsedBundle]
