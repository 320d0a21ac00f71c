"""Importing bundles: the one write path of ``biomatdb import``, ``seed`` and HTTP.

All-or-nothing: every document is validated first (each against the database
and the documents before it); nothing is written unless no problem was found.
The caller owns the transaction: it commits, or rolls back for a dry run.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn, OrganizationIn, ReferenceIn
from biomatdb.bundles.validation import KnownIds, ParsedBundle, parse, valid
from biomatdb.errors import FieldProblem
from biomatdb.models import (
    BiocompatibilityResultRow,
    CompositionComponent,
    Material,
    MaterialApplication,
    Organization,
    PropertySummary,
    PropertyValue,
    Reference,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.models.base import utcnow
from biomatdb.search import fulltext

_CHILD_TABLES = (
    MaterialApplication,
    CompositionComponent,
    PropertyValue,
    PropertySummary,
    BiocompatibilityResultRow,
    RegulatoryRecord,
    SupplierOffering,
)
_CHUNK = 500


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
    session: Session, documents: Sequence[tuple[str, Any]], *, dry_run: bool = False
) -> ImportReport:
    """Validate and (unless there is any error) write decoded bundles, in order.

    ``documents`` is ``[(name, decoded JSON), ...]``. Error paths are prefixed by
    the document name when there is more than one document.
    """
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
    if report.errors:
        return report
    for parsed in parsed_documents:
        _write(session, parsed, report)
    session.flush()
    return report


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
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        found.update(session.scalars(select(model.slug).where(model.slug.in_(chunk))))
    return found


def content_hash(entry: MaterialIn) -> str:
    """A stable hash of a material entry's content (server fields excluded)."""
    payload = entry.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _slug_map(session: Session, model: Any, slugs: Sequence[str]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for start in range(0, len(slugs), _CHUNK):
        chunk = list(slugs[start : start + _CHUNK])
        for row in session.scalars(select(model).where(model.slug.in_(chunk))):
            rows[row.slug] = row
    return rows


def _write(session: Session, parsed: ParsedBundle, report: ImportReport) -> None:
    now = utcnow()
    _upsert_simple(
        session, Reference, [e for _, e in valid(parsed.references)], report.references, now
    )
    _upsert_simple(
        session,
        Organization,
        [e for _, e in valid(parsed.organizations)],
        report.organizations,
        now,
    )
    _write_materials(session, parsed, report, now)


def _upsert_simple(
    session: Session,
    model: type[Reference] | type[Organization],
    entries: Sequence[ReferenceIn | OrganizationIn],
    counts: Counts,
    now: Any,
) -> None:
    existing = _slug_map(session, model, [e.id for e in entries])
    new_rows = []
    for entry in entries:
        fields = entry.model_dump(mode="json", exclude={"id"})
        row = existing.get(entry.id)
        if row is None:
            new_rows.append({"slug": entry.id, **fields, "created_at": now, "updated_at": now})
            counts.created += 1
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for key, value in fields.items():
                setattr(row, key, value)
            row.updated_at = now
            counts.updated += 1
        else:
            counts.unchanged += 1
    if new_rows:
        session.execute(insert(model), new_rows)
    session.flush()


def _write_materials(
    session: Session, parsed: ParsedBundle, report: ImportReport, now: Any
) -> None:
    entries = valid(parsed.materials)
    existing = _existing_materials(session, [e.id for _, e in entries])

    to_create: list[tuple[int, MaterialIn, str]] = []
    to_update: list[tuple[int, MaterialIn, str, int]] = []
    for index, entry in entries:
        digest = content_hash(entry)
        found = existing.get(entry.id)
        if found is None:
            to_create.append((index, entry, digest))
        elif found[1] == digest:
            report.materials.unchanged += 1
        else:
            to_update.append((index, entry, digest, found[0]))
    report.materials.created += len(to_create)
    report.materials.updated += len(to_update)
    if not to_create and not to_update:
        return

    ids: dict[str, int] = {}
    if to_create:
        rows = [
            _material_row(entry, digest) | {"version": 1, "created_at": now, "updated_at": now}
            for _, entry, digest in to_create
        ]
        for start in range(0, len(rows), _CHUNK):
            result = session.execute(
                insert(Material).returning(Material.id, Material.slug), rows[start : start + _CHUNK]
            )
            ids.update({slug: mid for mid, slug in result})
    if to_update:
        updated_ids = [mid for *_, mid in to_update]
        for model in _CHILD_TABLES:
            for start in range(0, len(updated_ids), _CHUNK):
                session.execute(
                    delete(model).where(model.material_id.in_(updated_ids[start : start + _CHUNK]))
                )
        for _, entry, digest, mid in to_update:
            session.execute(
                update(Material)
                .where(Material.id == mid)
                .values(
                    **_material_row(entry, digest), version=Material.version + 1, updated_at=now
                )
            )
            ids[entry.id] = mid

    work = [(i, e) for i, e, _ in to_create] + [(i, e) for i, e, _, _ in to_update]
    report.property_values_written += _insert_children(session, parsed, work, ids)
    fts = fulltext.for_session(session)
    fts.replace(session, {ids[e.id]: _document(e) for _, e in work})


def _existing_materials(session: Session, slugs: list[str]) -> dict[str, tuple[int, str, int]]:
    found: dict[str, tuple[int, str, int]] = {}
    for start in range(0, len(slugs), _CHUNK):
        for mid, slug, digest, version in session.execute(
            select(Material.id, Material.slug, Material.content_hash, Material.version).where(
                Material.slug.in_(slugs[start : start + _CHUNK])
            )
        ):
            found[slug] = (mid, digest, version)
    return found


def _material_row(entry: MaterialIn, digest: str) -> dict[str, Any]:
    return {
        "slug": entry.id,
        "name": entry.name,
        "sort_name": fulltext.normalize(entry.name) or entry.name.casefold(),
        "material_class": entry.material_class.value,
        "subclass": entry.subclass,
        "description": entry.description,
        "degradable": entry.degradable,
        "synonyms": list(entry.synonyms),
        "status": entry.status.value,
        "content_hash": digest,
    }


def _document(entry: MaterialIn) -> str:
    return fulltext.document(
        [
            entry.name,
            *entry.synonyms,
            entry.subclass,
            entry.description,
            *(s.trade_name for s in entry.suppliers),
        ]
    )


def _insert_children(
    session: Session, parsed: ParsedBundle, work: list[tuple[int, MaterialIn]], ids: dict[str, int]
) -> int:
    all_entries = [e for _, e in work]
    ref_ids = _ids_by_slug(
        session,
        Reference,
        {
            s
            for e in all_entries
            for s in (
                *(p.source for p in e.properties),
                *(b.source for b in e.biocompatibility),
                *(r.source for r in e.regulatory),
            )
            if s
        },
    )
    org_ids = _ids_by_slug(
        session,
        Organization,
        {
            s
            for e in all_entries
            for s in (
                *(r.organization for r in e.regulatory),
                *(o.organization for o in e.suppliers),
            )
            if s
        },
    )

    rows: dict[type[Any], list[dict[str, Any]]] = defaultdict(list)
    for index, entry in work:
        mid = ids[entry.id]
        canonical = parsed.canonical[index]
        for pos, app in enumerate(entry.applications):
            rows[MaterialApplication].append(
                {"material_id": mid, "application": app.value, "position": pos}
            )
        for pos, comp in enumerate(entry.composition):
            rows[CompositionComponent].append(
                {
                    "material_id": mid,
                    "position": pos,
                    "component": comp.component,
                    "fraction": comp.fraction,
                    "basis": comp.basis.value,
                }
            )
        per_property: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for pos, value in enumerate(entry.properties):
            low, high = canonical[pos]
            per_property[value.property].append((low, high))
            rows[PropertyValue].append(
                {
                    "material_id": mid,
                    "property_key": value.property,
                    "position": pos,
                    "value": value.value,
                    "value_min": value.min,
                    "value_max": value.max,
                    "unit": value.unit,
                    "canonical_min": low,
                    "canonical_max": high,
                    "qualifier": value.qualifier.value,
                    "uncertainty": value.uncertainty,
                    "specimen": value.specimen,
                    "method": value.method,
                    "conditions": value.conditions,
                    "reference_id": ref_ids[value.source] if value.source else None,
                }
            )
        for key, intervals in per_property.items():
            rows[PropertySummary].append(
                {
                    "material_id": mid,
                    "property_key": key,
                    "canonical_min": min(lo for lo, _ in intervals),
                    "canonical_max": max(hi for _, hi in intervals),
                    "typical": typical_value(intervals),
                    "value_count": len(intervals),
                }
            )
        for pos, bio in enumerate(entry.biocompatibility):
            rows[BiocompatibilityResultRow].append(
                {
                    "material_id": mid,
                    "position": pos,
                    "endpoint": bio.endpoint.value,
                    "standard": bio.standard,
                    "result": bio.result.value,
                    "reference_id": ref_ids[bio.source] if bio.source else None,
                }
            )
        for pos, rec in enumerate(entry.regulatory):
            rows[RegulatoryRecord].append(
                {
                    "material_id": mid,
                    "position": pos,
                    "jurisdiction": rec.jurisdiction.value,
                    "pathway": rec.pathway,
                    "status": rec.status.value,
                    "identifier": rec.identifier,
                    "device_class": rec.device_class,
                    "product_code": rec.product_code,
                    "device_name": rec.device_name,
                    "decision_date": rec.decision_date,
                    "organization_id": org_ids[rec.organization] if rec.organization else None,
                    "reference_id": ref_ids[rec.source] if rec.source else None,
                }
            )
        for pos, offer in enumerate(entry.suppliers):
            rows[SupplierOffering].append(
                {
                    "material_id": mid,
                    "position": pos,
                    "organization_id": org_ids[offer.organization],
                    "trade_name": offer.trade_name,
                    "grade": offer.grade,
                    "form": offer.form,
                }
            )
    for model, model_rows in rows.items():
        for start in range(0, len(model_rows), 5000):
            session.execute(insert(model), model_rows[start : start + 5000])
    return len(rows[PropertyValue])


def typical_value(intervals: Sequence[tuple[float, float]]) -> float:
    """The mean of the midpoints of a material's values of one property."""
    from biomatdb.units import round_significant

    return round_significant(sum((lo + hi) / 2 for lo, hi in intervals) / len(intervals))


def _ids_by_slug(session: Session, model: Any, slugs: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(slugs)
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(
            select(model.slug, model.id).where(model.slug.in_(ordered[start : start + _CHUNK]))
        )
        found.update(dict(rows.all()))
    return found


def problems_as_errors(problems: Sequence[FieldProblem]) -> list[dict[str, str]]:
    """Problems in the wire shape of ``errors``."""
    return [p.as_dict() for p in problems]
