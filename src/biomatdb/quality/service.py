"""What in the data deserves a curator's look: values without a DOI, class-generic
values, outliers per property and class, materials without values, conflicting values,
organizations nothing links to. Zero findings is not the aim; a worklist is.

Every section counts all its findings and lists at most ``limit`` of them, so the
answer is bounded whatever the database's size. The report is computed from the
projection (the shown version of every material, drafts included: curators fix those
too) and cached per data version (any write makes a new one).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from threading import Lock
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.kit.timefmt import iso_utc
from biomatdb.models import (
    Material,
    Organization,
    PropertySummary,
    PropertyValue,
    Reference,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.models.base import utcnow
from biomatdb.search.counts import data_version
from biomatdb.vocab import Evidence

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
#: A value is an outlier when its robust z-score (on the log of its canonical midpoint)
#: exceeds this: Iglewicz and Hoaglin's modified z-score cut-off.
OUTLIER_Z = 3.5
#: Groups (property and class) with fewer values than this have no outliers.
MIN_GROUP = 5
#: Values of one material, property and specimen farther apart than this conflict.
CONFLICT_RATIO = 3.0

SECTIONS = {
    "values_without_doi": "Property values whose source has no DOI (or that cite no source).",
    "class_generic_values": "Values given for a wider class (evidence class_generic), "
    "attached to a specific material: check whether a grade-specific source exists.",
    "outliers": f"Values whose robust z-score on the log of the canonical value, within "
    f"their property and material class, exceeds {OUTLIER_Z} (groups of at least "
    f"{MIN_GROUP} values), largest first.",
    "materials_without_properties": "Materials with no property value.",
    "conflicting_values": f"One material, property and specimen whose values lie more than "
    f"{CONFLICT_RATIO:g}x apart (canonical midpoints), widest first.",
    "unlinked_organizations": "Organizations that no supplier offering and no regulatory "
    "record names.",
}

_cache: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()
_lock = Lock()
_MAX_ENTRIES = 8


def report(session: Session, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The whole report (cached per database, data version and limit)."""
    key = (str(session.get_bind().engine.url), data_version(session), limit)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    built: dict[str, Any] = {
        "generated_at": iso_utc(utcnow()),
        "data_version": key[1],
        "limit": limit,
        "sections": {
            "values_without_doi": _values(session, _without_doi(), limit),
            "class_generic_values": _values(
                session, PropertyValue.evidence == Evidence.class_generic.value, limit
            ),
            "outliers": outliers(session, limit),
            "materials_without_properties": _materials_without_values(session, limit),
            "conflicting_values": _conflicts(session, limit),
            "unlinked_organizations": _unlinked(session, limit),
        },
    }
    for name, section in built["sections"].items():
        section["about"] = SECTIONS[name]
    with _lock:
        _cache[key] = built
        while len(_cache) > _MAX_ENTRIES:
            _cache.popitem(last=False)
    return built


def clear() -> None:
    with _lock:
        _cache.clear()


def _without_doi() -> Any:
    return or_(PropertyValue.reference_id.is_(None), Reference.doi.is_(None))


def _value_select(*columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(PropertyValue)
        .join(Material, Material.id == PropertyValue.material_id)
        .outerjoin(Reference, Reference.id == PropertyValue.reference_id)
    )


def _value_item(row: Any) -> dict[str, Any]:
    slug, status, key, position, low, high, specimen, source, evidence = row
    return {
        "material": slug,
        "status": status,
        "property": key,
        "index": position,
        "canonical": {"min": low, "max": high, "unit": catalogue.CANONICAL_UNITS[key]},
        "specimen": specimen,
        "source": source,
        "evidence": evidence,
    }


VALUE_COLUMNS = (
    Material.slug,
    Material.status,
    PropertyValue.property_key,
    PropertyValue.position,
    PropertyValue.canonical_min,
    PropertyValue.canonical_max,
    PropertyValue.specimen,
    Reference.slug,
    PropertyValue.evidence,
)


def _values(session: Session, condition: Any, limit: int) -> dict[str, Any]:
    count = session.scalar(_value_select(func.count()).where(condition)) or 0
    rows = session.execute(
        _value_select(*VALUE_COLUMNS)
        .where(condition)
        .order_by(Material.slug, PropertyValue.position)
        .limit(limit)
    )
    return {"count": count, "items": [_value_item(r) for r in rows]}


def outliers(session: Session, limit: int) -> dict[str, Any]:
    """Robust z-scores, ``0.6745 (x - median) / MAD``, of log10 canonical midpoints per
    (property, class); linear where a group has a value <= 0 (temperatures in degC).

    One query per property key (an equality on the property_values key index), its
    rows split by class and scored as numpy arrays: memory is one property's values,
    never the whole table, and no Python runs per value."""
    classes_of = dict(session.execute(select(Material.id, Material.material_class)).all())
    class_names = sorted(set(classes_of.values()))
    # Material id -> class number, as an array the value rows index into.
    lookup = np.full(max(classes_of, default=0) + 1, -1, dtype=np.int64)
    for material_id, material_class in classes_of.items():
        lookup[material_id] = class_names.index(material_class)
    scored: list[tuple[float, int, str]] = []
    for key in session.scalars(select(PropertyValue.property_key).distinct()).all():
        # (key, canonical_min, canonical_max, material_id) is an index: on SQLite, with
        # the rowid, it covers this read.
        result = session.connection().execute(
            select(
                PropertyValue.id,
                PropertyValue.material_id,
                PropertyValue.canonical_min,
                PropertyValue.canonical_max,
            ).where(PropertyValue.property_key == key)
        )
        # The driver's plain tuples: numpy reads a list of SQLAlchemy rows one item
        # at a time (40 s for 1.5M values), a list of tuples in C (a second).
        rows = result.cursor.fetchall()
        result.close()
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        ids = table[:, 0].astype(np.int64)
        classes = lookup[table[:, 1].astype(np.int64)]
        middles = (table[:, 2] + table[:, 3]) / 2
        for number in np.unique(classes):
            mine = classes == number
            found = _robust_z(ids[mine], middles[mine])
            scored += [(z, value_id, class_names[number]) for value_id, z in found]
    scored.sort(key=lambda s: (-abs(s[0]), s[1]))
    shown = scored[:limit]
    by_id = _values_by_id(session, [s[1] for s in shown])
    items = [
        {**by_id[value_id], "class": material_class, "z": round(z, 2)}
        for z, value_id, material_class in shown
    ]
    return {"count": len(scored), "items": items}


def _robust_z(
    ids: npt.NDArray[np.int64], values: npt.NDArray[np.float64]
) -> list[tuple[int, float]]:
    if len(values) < MIN_GROUP:
        return []
    if np.all(values > 0):
        values = np.log10(values)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if mad == 0 or not math.isfinite(mad):
        return []  # most values equal: no spread to measure against
    z = 0.6745 * (values - median) / mad
    flagged = np.flatnonzero(np.abs(z) > OUTLIER_Z)
    return [(int(ids[i]), float(z[i])) for i in flagged]


def _values_by_id(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        _value_select(PropertyValue.id, *VALUE_COLUMNS).where(PropertyValue.id.in_(list(ids)))
    )
    return {row[0]: _value_item(row[1:]) for row in rows}


def _materials_without_values(session: Session, limit: int) -> dict[str, Any]:
    # NOT EXISTS, an anti-join on both engines (PostgreSQL runs NOT IN over a large
    # subquery row by row).
    condition = ~exists().where(PropertyValue.material_id == Material.id)
    count = session.scalar(select(func.count()).select_from(Material).where(condition)) or 0
    rows = session.execute(
        select(Material.slug, Material.name, Material.status, Material.material_class)
        .where(condition)
        .order_by(Material.slug)
        .limit(limit)
    )
    items = [{"material": s, "name": n, "status": st, "class": c} for s, n, st, c in rows]
    return {"count": count, "items": items}


def _conflicts(session: Session, limit: int) -> dict[str, Any]:
    middle = (PropertyValue.canonical_min + PropertyValue.canonical_max) / 2
    specimen = func.lower(PropertyValue.specimen)
    low, high = func.min(middle), func.max(middle)
    # Only a material and property whose summary envelope spans more than the ratio can
    # hold a conflict: the summary rows (one per material and property) narrow the
    # grouping to those values.
    envelope = select(PropertySummary.material_id, PropertySummary.property_key).where(
        PropertySummary.value_count >= 2,
        PropertySummary.canonical_min > 0,
        PropertySummary.canonical_max > CONFLICT_RATIO * PropertySummary.canonical_min,
    )
    wide = envelope.subquery()
    grouped = (
        select(
            PropertyValue.material_id.label("material_id"),
            PropertyValue.property_key.label("property_key"),
            specimen.label("specimen"),
            low.label("low"),
            high.label("high"),
            func.count().label("n"),
        )
        .join(
            wide,
            (wide.c.material_id == PropertyValue.material_id)
            & (wide.c.property_key == PropertyValue.property_key),
        )
        .group_by(PropertyValue.material_id, PropertyValue.property_key, specimen)
        .having(and_(low > 0, high > CONFLICT_RATIO * low))
        .subquery()
    )
    count = session.scalar(select(func.count()).select_from(grouped)) or 0
    ratio = grouped.c.high / grouped.c.low
    rows = session.execute(
        select(
            Material.slug,
            grouped.c.property_key,
            grouped.c.specimen,
            grouped.c.low,
            grouped.c.high,
            grouped.c.n,
        )
        .join(Material, Material.id == grouped.c.material_id)
        .order_by(ratio.desc(), Material.slug, grouped.c.property_key)
        .limit(limit)
    )
    items = [
        {
            "material": slug,
            "property": key,
            "specimen": spec,
            "values": n,
            "lowest": lo,
            "highest": hi,
            "unit": catalogue.CANONICAL_UNITS[key],
            "ratio": round(hi / lo, 2),
        }
        for slug, key, spec, lo, hi, n in rows
    ]
    return {"count": count, "items": items}


def _unlinked(session: Session, limit: int) -> dict[str, Any]:
    condition = and_(
        ~exists().where(SupplierOffering.organization_id == Organization.id),
        ~exists().where(RegulatoryRecord.organization_id == Organization.id),
        ~exists().where(RegulatoryRecord.notified_body_id == Organization.id),
    )
    count = session.scalar(select(func.count()).select_from(Organization).where(condition)) or 0
    rows = session.execute(
        select(Organization.slug, Organization.name, Organization.kind)
        .where(condition)
        .order_by(Organization.slug)
        .limit(limit)
    )
    items = [{"organization": s, "name": n, "kind": k} for s, n, k in rows]
    return {"count": count, "items": items}
