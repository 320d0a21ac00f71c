"""The searchable projection of a material: its row, child rows, summaries and
full-text document, rebuilt from a bundle entry whenever the visible version changes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from biomatdb import packed, units
from biomatdb.bundles.schemas import MaterialIn, PropertyValueIn, named_records
from biomatdb.db import bulk_insert
from biomatdb.kit.chunks import chunks
from biomatdb.models import (
    BiocompatibilityResultRow,
    CompositionComponent,
    Material,
    MaterialApplication,
    MaterialIdentifier,
    Organization,
    PropertySummary,
    PropertyValue,
    Reference,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.models.base import table_of
from biomatdb.search import fulltext

CHILD_TABLES = (
    MaterialApplication,
    MaterialIdentifier,
    CompositionComponent,
    PropertyValue,
    PropertySummary,
    BiocompatibilityResultRow,
    RegulatoryRecord,
    SupplierOffering,
)


def canonical_interval(value: PropertyValueIn) -> tuple[float, float]:
    """The closed interval of a (validated) value in its property's canonical unit."""
    convert = units.conversion(value.unit, value.property)
    return units.canonical_interval(convert, value.value, value.min, value.max)


def canonical_intervals(entry: MaterialIn) -> list[tuple[float, float]]:
    """The canonical interval of each of the entry's values, in order: computed once per
    entry (the value rows, the summary rows and the packed summary all need them)."""
    found = entry._intervals
    if found is None:
        found = entry._intervals = [canonical_interval(v) for v in entry.properties]
    return found


class Target(NamedTuple):
    """What one material's projection must show."""

    material_id: int
    entry: MaterialIn
    version: int
    status: str


def project(
    session: Session,
    targets: Sequence[Target],
    *,
    now: datetime,
    fresh: bool = False,
) -> int:
    """Make each material's projection show its target's entry, version and status.

    ``fresh``: the materials were just inserted and have no child rows yet.
    Returns the number of property values written.
    """
    if not targets:
        return 0
    ids = [t.material_id for t in targets]
    if not fresh:
        for model in CHILD_TABLES:
            for chunk in chunks(ids):
                session.execute(delete(model).where(model.material_id.in_(chunk)))
        # One executemany for all rows (an ORM update per row costs ~0.5 ms each).
        table = table_of(Material)
        fields = [*material_fields(targets[0].entry), "status", "version", "updated_at"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("target_id"))
            .values({name: bindparam(f"new_{name}") for name in fields})
        )
        session.execute(
            statement,
            [
                {
                    "target_id": mid,
                    **{f"new_{k}": v for k, v in material_fields(entry).items()},
                    "new_status": status,
                    "new_version": version,
                    "new_updated_at": now,
                }
                for mid, entry, version, status in targets
            ],
        )
    written, org_names = _insert_children(session, [(t.material_id, t.entry) for t in targets])
    index = fulltext.for_session(session)
    # Just-created materials have nothing to remove from the index.
    (index.add if fresh else index.replace)(
        session, {t.material_id: _document(t.entry, org_names) for t in targets}
    )
    return written


def set_projection_status(session: Session, material_id: int, status: str, now: datetime) -> None:
    """Change only the visibility of the projected version."""
    session.execute(
        update(Material).where(Material.id == material_id).values(status=status, updated_at=now)
    )


def material_fields(entry: MaterialIn) -> dict[str, Any]:
    """The ``materials`` columns that come from an entry."""
    return {
        "slug": entry.id,
        "name": entry.name,
        "sort_name": sort_name(entry),
        "material_class": entry.material_class.value,
        "subclass": entry.subclass,
        "description": entry.description,
        "degradable": entry.degradable,
        "synonyms": list(entry.synonyms),
        # Every property summary in one column, so that a page of results (or an
        # export batch) reads them with the material row (see biomatdb.packed).
        "summary": packed.pack(summarize(entry)),
    }


def sort_name(entry: MaterialIn) -> str:
    """The form of the name that orders materials (``materials.sort_name``, copied to
    each of its property values)."""
    return fulltext.normalize(entry.name) or entry.name.casefold()


def _document(entry: MaterialIn, org_names: dict[str, str]) -> str:
    """The full text of a material: its names and description, its suppliers (trade
    names, organizations' names) and its regulatory records (device names,
    identifiers such as K-numbers and PMA numbers, applicants' names).
    ``org_names``: organization names by id. The order is that of revision 0007's
    rebuild (``alembic/versions/20261201_0007_fulltext_document.py``)."""
    return fulltext.document(
        [
            entry.name,
            *entry.synonyms,
            entry.subclass,
            entry.description,
            *(part for s in entry.suppliers for part in (s.trade_name, org_names[s.organization])),
            *(
                part
                for r in entry.regulatory
                for part in (
                    r.device_name,
                    r.identifier,
                    org_names[r.organization] if r.organization else None,
                )
            ),
        ]
    )


Rows = dict[type[Any], list[dict[str, Any]]]


def _insert_children(
    session: Session, work: list[tuple[int, MaterialIn]]
) -> tuple[int, dict[str, str]]:
    """The child rows of each (material id, entry): one multi-row insert per table.
    Returns the number of property values and the names of the organizations named
    (read with their ids, for the full-text documents)."""
    cited, named = named_records(e for _, e in work)
    ref_ids = _ids_by_slug(session, Reference, cited)
    org_ids: dict[str, int] = {}
    org_names: dict[str, str] = {}
    for chunk in chunks(sorted(named)):
        for slug, oid, name in session.execute(
            select(Organization.slug, Organization.id, Organization.name).where(
                Organization.slug.in_(chunk)
            )
        ):
            org_ids[slug] = oid
            org_names[slug] = name
    rows: Rows = defaultdict(list)
    for mid, entry in work:
        _listing_rows(mid, entry, rows)
        _value_rows(mid, entry, ref_ids, rows)
        _record_rows(mid, entry, ref_ids, org_ids, rows)
    for model, model_rows in rows.items():
        bulk_insert(session, table_of(model), model_rows)
    return len(rows[PropertyValue]), org_names


def _listing_rows(mid: int, entry: MaterialIn, rows: Rows) -> None:
    for pos, app in enumerate(entry.applications):
        rows[MaterialApplication].append(
            {"material_id": mid, "application": app.value, "position": pos}
        )
    for pos, identifier in enumerate(entry.identifiers):
        rows[MaterialIdentifier].append(
            {
                "material_id": mid,
                "position": pos,
                "scheme": identifier.scheme.value,
                "value": identifier.id,
            }
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


def _value_rows(mid: int, entry: MaterialIn, ref_ids: dict[str, int], rows: Rows) -> None:
    """Property values with their canonical intervals, and one summary per property."""
    name = sort_name(entry)
    for pos, (value, (low, high)) in enumerate(
        zip(entry.properties, canonical_intervals(entry), strict=True)
    ):
        rows[PropertyValue].append(
            {
                "material_id": mid,
                "material_sort_name": name,
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
                "evidence": value.evidence.value if value.evidence else None,
                "method": value.method,
                "conditions": value.conditions,
                "reference_id": ref_ids[value.source] if value.source else None,
            }
        )
    for key, (low, high, typical, count, digits) in summarize(entry).items():
        rows[PropertySummary].append(
            {
                "material_id": mid,
                "property_key": key,
                "canonical_min": low,
                "canonical_max": high,
                "typical": typical,
                "value_count": count,
                "digits": digits,
            }
        )


def summarize(entry: MaterialIn) -> dict[str, tuple[float, float, float, int, int]]:
    """Per property: ``(min, max, typical, count, digits)`` of the entry's values in
    the canonical unit (the summary rows, and ``materials.summary`` in one column);
    computed once per entry."""
    if entry._summary is None:
        entry._summary = _summarize(entry)
    return entry._summary


def _summarize(entry: MaterialIn) -> dict[str, tuple[float, float, float, int, int]]:
    intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    given: dict[str, list[float | None]] = defaultdict(list)
    for value, interval in zip(entry.properties, canonical_intervals(entry), strict=True):
        intervals[value.property].append(interval)
        given[value.property] += (value.value, value.min, value.max)
    return {
        key: (
            min(lo for lo, _ in found),
            max(hi for _, hi in found),
            typical_value(found),
            len(found),
            units.derived_digits(given[key]),
        )
        for key, found in intervals.items()
    }


def _record_rows(
    mid: int, entry: MaterialIn, ref_ids: dict[str, int], org_ids: dict[str, int], rows: Rows
) -> None:
    """Biocompatibility results, regulatory records and supplier offerings."""
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
                "gmdn": rec.gmdn,
                "device_name": rec.device_name,
                "decision_date": rec.decision_date,
                "organization_id": org_ids[rec.organization] if rec.organization else None,
                "notified_body_id": org_ids[rec.notified_body] if rec.notified_body else None,
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


def typical_value(intervals: Sequence[tuple[float, float]]) -> float:
    """The mean of the midpoints of a material's values of one property."""
    count = len(intervals)
    mean = sum((lo + hi) / 2 for lo, hi in intervals) / count
    if not math.isfinite(mean):
        # Values near the largest float (1.7e308) overflow the plain sum; halving and
        # dividing first keeps the mean finite (the common case keeps its exact digits).
        mean = sum((lo / 2 + hi / 2) / count for lo, hi in intervals)
    return units.round_significant(mean)


def _ids_by_slug(session: Session, model: Any, slugs: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(slugs)
    for chunk in chunks(ordered):
        rows = session.execute(select(model.slug, model.id).where(model.slug.in_(chunk)))
        found.update(dict(rows.all()))
    return found
