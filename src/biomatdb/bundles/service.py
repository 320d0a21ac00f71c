"""Importing bundles: the one write path of ``biomatdb import``, ``seed`` and HTTP.

All-or-nothing: every document is validated first (each against the database
and the documents before it); nothing is written unless no problem was found.
The caller owns the transaction: it commits, or rolls back for a dry run.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn, OrganizationIn, ReferenceIn
from biomatdb.bundles.validation import KnownIds, ParsedBundle, parse, valid
from biomatdb.db import begin_write
from biomatdb.errors import FieldProblem, Forbidden
from biomatdb.kit.chunks import chunks
from biomatdb.materials import store
from biomatdb.models import (
    Organization,
    Reference,
)
from biomatdb.models.base import utcnow


@dataclass
class Counts:
    """What an import did (or would do) to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


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
        }


def import_documents(
    session: Session,
    documents: Sequence[tuple[str, Any]],
    *,
    dry_run: bool = False,
    actor: str = "cli",
    may_change_shared: bool = True,
    progress: Callable[[str], None] | None = None,
    fresh_write_transaction: bool = False,
) -> ImportReport:
    """Validate and (unless there is any error) write decoded bundles, in order.

    ``documents`` is ``[(name, decoded JSON), ...]``. Error paths are prefixed by
    the document name when there is more than one document.

    Validation and dry runs only read: they never take the write lock, so other
    writers go on meanwhile. The lock is taken for the write alone.
    ``fresh_write_transaction``: end the validation's read transaction before the
    write, so the write starts with the lock (the CLI; SQLite cannot upgrade a
    read transaction to a write once another writer has committed).
    """
    validated = validate_documents(session, documents, dry_run=dry_run)
    if not validated.report.ok:
        return validated.report
    if dry_run:
        return plan_documents(session, validated, may_change_shared=may_change_shared)
    if fresh_write_transaction:
        session.rollback()
    begin_write(session)
    return write_documents(
        session, validated, actor=actor, may_change_shared=may_change_shared, progress=progress
    )


@dataclass
class ValidatedImport:
    """Documents that passed (or failed) validation, ready to plan or write."""

    report: ImportReport
    parsed: list[ParsedBundle]


def validate_documents(
    session: Session, documents: Sequence[tuple[str, Any]], *, dry_run: bool = False
) -> ValidatedImport:
    """Validate every document (reading, never writing); errors go in the report."""
    report = ImportReport(dry_run=dry_run, documents=[name for name, _ in documents])
    parsed_documents: list[ParsedBundle] = []
    earlier_refs: set[str] = set()
    earlier_orgs: set[str] = set()
    for name, raw in documents:
        known = KnownIds(
            references=_known_ids(session, Reference, frozenset(earlier_refs)),
            organizations=_known_ids(session, Organization, frozenset(earlier_orgs)),
        )
        parsed = parse(raw, known=known)
        prefix = f"{name}: " if len(documents) > 1 else ""
        report.errors.extend(
            {"path": prefix + p.path, "message": p.message} for p in parsed.problems
        )
        earlier_refs |= parsed.declared_references
        earlier_orgs |= parsed.declared_organizations
        parsed_documents.append(parsed)
    return ValidatedImport(report, parsed_documents)


def write_documents(
    session: Session,
    validated: ValidatedImport,
    *,
    actor: str,
    may_change_shared: bool,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Write validated documents; the caller holds the write lock (``begin_write``)."""
    report = validated.report
    # Millions of short-lived objects and no reference cycles worth collecting:
    # the cyclic collector would rescan them again and again (a tenth of a large
    # import). Reference counting still frees everything.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _write_all(session, report, validated.parsed, actor, may_change_shared, progress)
    finally:
        if collecting:
            gc.enable()
    session.flush()
    return report


def plan_documents(
    session: Session, validated: ValidatedImport, *, may_change_shared: bool
) -> ImportReport:
    """The report of a dry run: what writing would do, found by reading only."""
    report = validated.report
    shared: dict[Any, dict[str, Any]] = {}
    materials: dict[str, str] = {}
    for parsed in validated.parsed:
        for model, entries, counts in (
            (Reference, valid(parsed.references), report.references),
            (Organization, valid(parsed.organizations), report.organizations),
        ):
            _plan_simple(session, model, [e for _, e in entries], counts, shared, may_change_shared)
        planned = store.planned_outcomes(
            session, [e for _, e in valid(parsed.materials)], materials
        )
        for item in planned:
            _count(report, item)
    return report


def _plan_simple(
    session: Session,
    model: type[Reference] | type[Organization],
    entries: Sequence[ReferenceIn | OrganizationIn],
    counts: Counts,
    planned: dict[Any, dict[str, Any]],
    may_change: bool,
) -> None:
    """Count what :func:`_upsert_simple` would do (same outcomes, same 403)."""
    stored = _slug_map(session, model, [e.id for e in entries if (model, e.id) not in planned])
    kind = "reference" if model is Reference else "organization"
    for entry in entries:
        fields = entry.model_dump(mode="json", exclude={"id"})
        row = stored.get(entry.id)
        before = planned.get((model, entry.id))
        if before is None and row is not None:
            before = {k: getattr(row, k) for k in fields}
            before["public"] = getattr(row, "public", True)
        planned[(model, entry.id)] = {
            **fields,
            "public": may_change or bool(before and before["public"]),
        }
        if before is None:
            counts.created += 1
        elif any(before.get(k) != v for k, v in fields.items()):
            if not may_change:
                raise Forbidden(
                    f"{kind} {entry.id!r} exists with other content; only an editor may "
                    "change it (curators may add new ones)"
                )
            counts.updated += 1
        elif may_change and not before["public"]:
            counts.updated += 1
        else:
            counts.unchanged += 1


def _count(report: ImportReport, item: store.Written) -> None:
    outcome: Counts = report.materials
    if item.outcome == "created":
        outcome.created += 1
    elif item.outcome == "updated":
        outcome.updated += 1
    else:
        outcome.unchanged += 1
    report.property_values_written += item.property_values


def _write_all(
    session: Session,
    report: ImportReport,
    parsed_documents: list[ParsedBundle],
    actor: str,
    may_change_shared: bool,
    progress: Callable[[str], None] | None,
) -> None:
    for name, parsed in zip(report.documents, parsed_documents, strict=True):
        if progress is not None:
            progress(f"writing {name}: {len(parsed.materials)} material(s)")
        _write(session, parsed, report, actor, may_change_shared)


def validate_materials(
    session: Session, raw_entries: list[Any]
) -> tuple[list[MaterialIn], list[FieldProblem]]:
    """Validate material entries as a bundle would (against the database's ids)."""
    known = KnownIds(
        references=_known_ids(session, Reference, frozenset()),
        organizations=_known_ids(session, Organization, frozenset()),
    )
    parsed = parse({"materials": raw_entries}, known=known)
    return [e for _, e in valid(parsed.materials)], parsed.problems


def _known_ids(
    session: Session, model: type[Reference] | type[Organization], earlier: frozenset[str]
) -> Callable[[set[str]], set[str]]:
    """Which of the wanted ids exist: declared by an earlier document, or stored."""

    def lookup(wanted: set[str]) -> set[str]:
        return (wanted & earlier) | _existing(session, model, wanted - earlier)

    return lookup


def _existing(
    session: Session, model: type[Reference] | type[Organization], slugs: set[str]
) -> set[str]:
    found: set[str] = set()
    ordered = sorted(slugs)
    for chunk in chunks(ordered):
        found.update(session.scalars(select(model.slug).where(model.slug.in_(chunk))))
    return found


def _slug_map(session: Session, model: Any, slugs: Sequence[str]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for chunk in chunks(slugs):
        for row in session.scalars(select(model).where(model.slug.in_(chunk))):
            rows[row.slug] = row
    return rows


def _write(
    session: Session,
    parsed: ParsedBundle,
    report: ImportReport,
    actor: str,
    may_change_shared: bool,
) -> None:
    now = utcnow()
    references = [e for _, e in valid(parsed.references)]
    organizations = [e for _, e in valid(parsed.organizations)]
    _upsert_simple(session, Reference, references, report.references, now, actor, may_change_shared)
    _upsert_simple(
        session, Organization, organizations, report.organizations, now, actor, may_change_shared
    )
    written = store.write_entries(
        session, [e for _, e in valid(parsed.materials)], actor=actor, now=now
    )
    for item in written:
        _count(report, item)


def _upsert_simple(
    session: Session,
    model: type[Reference] | type[Organization],
    entries: Sequence[ReferenceIn | OrganizationIn],
    counts: Counts,
    now: Any,
    actor: str,
    may_change: bool,
) -> None:
    # ``may_change`` (an editor, an admin or the CLI) also approves: what such an import
    # writes is public at once. A curator's new record stays hidden from anonymous
    # readers until a published material names it (materials.shared_records).
    existing = _slug_map(session, model, [e.id for e in entries])
    kind = "reference" if model is Reference else "organization"
    new_rows = []
    for entry in entries:
        fields = entry.model_dump(mode="json", exclude={"id"})
        row = existing.get(entry.id)
        if row is None:
            new_rows.append(
                {
                    "slug": entry.id,
                    **fields,
                    "public": may_change,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            counts.created += 1
            action = "created"
        elif any(getattr(row, k) != v for k, v in fields.items()):
            if not may_change:
                # References and organizations are shared by every material and have
                # no versions: changing one is an editor's decision.
                raise Forbidden(
                    f"{kind} {entry.id!r} exists with other content; only an editor may "
                    "change it (curators may add new ones)"
                )
            for key, value in fields.items():
                setattr(row, key, value)
            row.public = True
            row.updated_at = now
            counts.updated += 1
            action = "updated"
        elif may_change and not row.public:
            # An editor re-importing a curator's record as it is approves it: its
            # content is unchanged, its visibility is not.
            row.public = True
            counts.updated += 1
            action = "published"
        else:
            counts.unchanged += 1
            continue
        store.record_change(
            session,
            now=now,
            kind=kind,
            action=action,
            slug=entry.id,
            material_id=None,
            version=None,
            status=None,
            public_version=None,
            actor=actor,
            note=None,
            entry=entry.model_dump(mode="json", exclude_none=True),
        )
    if new_rows:
        session.execute(insert(model), new_rows)
    session.flush()
