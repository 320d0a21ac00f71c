"""Importing bundles: the one write path of ``biomatdb import``, ``seed`` and HTTP.

All-or-nothing: every document is validated first (each against the database
and the documents before it); nothing is written unless no problem was found.
Validation only reads (no write lock); the write takes the lock. The caller owns
the transaction: it commits, or rolls back.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from biomatdb.bundles.known import known_ids, rows_by_slug
from biomatdb.bundles.schemas import OrganizationIn, ReferenceIn
from biomatdb.bundles.validation import KnownIds, ParsedBundle, parse, valid
from biomatdb.db import begin_write
from biomatdb.exchange import plan
from biomatdb.exchange.report import (
    Counts,
    ImportReport,
    ValidatedImport,
    count_written,
    shared_record_outcome,
)
from biomatdb.materials import store
from biomatdb.models import Organization, Reference
from biomatdb.models.base import utcnow

__all__ = [
    "Counts",
    "ImportReport",
    "ValidatedImport",
    "import_documents",
    "validate_documents",
    "write_documents",
]


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
        return plan.plan_documents(session, validated, may_change_shared=may_change_shared)
    if fresh_write_transaction:
        session.rollback()
    begin_write(session)
    return write_documents(
        session, validated, actor=actor, may_change_shared=may_change_shared, progress=progress
    )


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
            references=known_ids(session, Reference, frozenset(earlier_refs)),
            organizations=known_ids(session, Organization, frozenset(earlier_orgs)),
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
    upsert_shared(session, Reference, references, report.references, now, actor, may_change_shared)
    upsert_shared(
        session, Organization, organizations, report.organizations, now, actor, may_change_shared
    )
    written = store.write_entries(
        session, [e for _, e in valid(parsed.materials)], actor=actor, now=now
    )
    for item in written:
        count_written(report, item)


def upsert_shared(
    session: Session,
    model: type[Reference] | type[Organization],
    entries: Sequence[ReferenceIn | OrganizationIn],
    counts: Counts,
    now: Any,
    actor: str,
    may_change: bool,
) -> None:
    """Write references or organizations (outcomes: ``report.shared_record_outcome``).
    A curator's new record stays hidden from anonymous readers until a published
    material names it (``materials.shared_records``)."""
    existing = rows_by_slug(session, model, [e.id for e in entries])
    kind = "reference" if model is Reference else "organization"
    new_rows = []
    changes: list[dict[str, Any]] = []
    for entry in entries:
        fields = entry.model_dump(mode="json", exclude={"id"})
        row = existing.get(entry.id)
        before = None if row is None else {**_stored(row, fields), "public": row.public}
        outcome = shared_record_outcome(kind, entry.id, before, fields, may_change=may_change)
        counts.add(outcome)
        if outcome == "unchanged":
            continue
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
        else:
            for key, value in fields.items():
                setattr(row, key, value)
            row.public = True
            if outcome == "updated":
                row.updated_at = now
        changes.append(
            store.change_row(
                now,
                action=outcome,
                slug=entry.id,
                material_id=None,
                version=None,
                status=None,
                public_version=None,
                actor=actor,
                note=None,
                kind=kind,
                entry=entry.model_dump(mode="json", exclude_none=True),
            )
        )
    if new_rows:
        session.execute(insert(model), new_rows)
    store.record_changes(session, changes)
    session.flush()


def _stored(row: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {key: getattr(row, key) for key in fields}
