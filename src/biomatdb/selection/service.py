"""Compare: published materials side by side, one aligned row per property."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.errors import FieldProblem, InvalidParameter, NotFound
from biomatdb.models import Material
from biomatdb.search.repository import published_among, summary_rows
from biomatdb.selection.schemas import (
    ComparedMaterial,
    ComparedProperty,
    ComparedValue,
    Comparison,
)
from biomatdb.units.output import CANONICAL, OutputUnits

MIN_IDS = 2
MAX_IDS = 20


def parse_ids(text: str) -> list[str]:
    """The material ids of ``ids=a,b,c`` in order, each once; 400 unless 2 to 20."""
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not MIN_IDS <= len(ids) <= MAX_IDS:
        message = f"give {MIN_IDS} to {MAX_IDS} material ids, comma-separated; got {len(ids)}"
        raise InvalidParameter(f"ids: {message}", errors=[FieldProblem("ids", message)])
    return ids


def parse_properties(text: str | None) -> list[str] | None:
    """The property keys of ``properties=k1,k2`` in catalogue order (None: all that the
    materials have); 400 naming every unknown key."""
    return catalogue.keys_of(text)


def compare(
    session: Session, ids: list[str], keys: list[str] | None, out: OutputUnits = CANONICAL
) -> Comparison:
    """The materials' property summaries aligned by property (two queries), in the
    units of ``out``."""
    rows = session.execute(
        select(Material.id, Material.slug, Material.name, Material.material_class).where(
            *published_among(session, ids)
        )
    ).all()
    found = {slug: (mid, name, cls) for mid, slug, name, cls in rows}
    missing = [slug for slug in ids if slug not in found]
    if missing:
        raise NotFound(
            "no published material has id "
            + ", ".join(repr(m) for m in missing)
            + "; search /api/v1/materials for the ids that exist",
            errors=[FieldProblem("ids", f"unknown or unpublished material {m!r}") for m in missing],
        )
    slug_of = {found[slug][0]: slug for slug in ids}
    table: dict[str, dict[str, ComparedValue]] = {}
    for mid, key, low, high, typical, count, digits in summary_rows(session, list(slug_of), keys):
        table.setdefault(key, {})[slug_of[mid]] = ComparedValue(
            min=out.show(key, low, digits),
            max=out.show(key, high, digits),
            typical=out.show(key, typical, digits),
            count=count,
        )
    shown = keys if keys is not None else [p.key for p in catalogue.CATALOGUE if p.key in table]
    return Comparison(
        materials=[
            ComparedMaterial(id=slug, name=found[slug][1], material_class=found[slug][2])
            for slug in ids
        ],
        properties=[_row(key, table.get(key, {}), ids, out) for key in shown],
    )


def _row(
    key: str, values: dict[str, ComparedValue], ids: list[str], out: OutputUnits
) -> ComparedProperty:
    definition = catalogue.BY_KEY[key]
    return ComparedProperty(
        key=key,
        name=definition.name,
        unit=out.unit(key),
        values={slug: values.get(slug) for slug in ids},
    )
