"""Dry runs: what an import would do, found by reading only (no write lock taken)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from biomatdb.bundles.known import rows_by_slug
from biomatdb.bundles.schemas import OrganizationIn, ReferenceIn
from biomatdb.bundles.validation import valid
from biomatdb.exchange.report import (
    Counts,
    ImportReport,
    ValidatedImport,
    count_written,
    shared_record_outcome,
)
from biomatdb.materials import store
from biomatdb.models import Organization, Reference


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
            plan_shared(session, model, [e for _, e in entries], counts, shared, may_change_shared)
        planned = store.planned_outcomes(
            session, [e for _, e in valid(parsed.materials)], materials
        )
        for item in planned:
            count_written(report, item)
    return report


def plan_shared(
    session: Session,
    model: type[Reference] | type[Organization],
    entries: Sequence[ReferenceIn | OrganizationIn],
    counts: Counts,
    planned: dict[Any, dict[str, Any]],
    may_change: bool,
) -> None:
    """Count what :func:`importer.upsert_shared` would do (same outcomes, same 403)."""
    stored = rows_by_slug(session, model, [e.id for e in entries if (model, e.id) not in planned])
    kind = "reference" if model is Reference else "organization"
    for entry in entries:
        fields = entry.model_dump(mode="json", exclude={"id"})
        row = stored.get(entry.id)
        before = planned.get((model, entry.id))
        if before is None and row is not None:
            before = {k: getattr(row, k) for k in fields}
            before["public"] = row.public
        outcome = shared_record_outcome(kind, entry.id, before, fields, may_change=may_change)
        counts.add(outcome)
        planned[(model, entry.id)] = {
            **fields,
            "public": may_change or bool(before and before["public"]),
        }
