"""Reading materials: search results and whole materials, as wire types."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.errors import NotFound
from biomatdb.materials.render import load_links, render
from biomatdb.materials.schemas import (
    MaterialListItem,
    MaterialOut,
    PropertySummaryOut,
)
from biomatdb.models import Material, MaterialVersion, PropertySummary
from biomatdb.search import cursor, repository
from biomatdb.search.params import SearchQuery
from biomatdb.vocab import MaterialStatus


def search(
    session: Session, query: SearchQuery, *, after: str | None
) -> tuple[list[MaterialListItem], int, str | None, dict[str, dict[str, int]] | None]:
    """Run a search: (items, total, next cursor, facets)."""
    fingerprint = query.fingerprint()
    key = cursor.decode(after, fingerprint) if after else None
    where = repository.conditions(session, query)
    materials, last_key = repository.page(session, query, where, key)
    items = [list_item(m) for m in materials]
    total = repository.total(session, where)
    next_cursor = cursor.encode(fingerprint, last_key) if last_key is not None else None
    facets = repository.facets(session, query.facets, where) if query.facets else None
    return items, total, next_cursor, facets


def summaries(rows: list[PropertySummary]) -> dict[str, PropertySummaryOut]:
    """``summary``: per property, min / max / typical in the canonical unit."""
    out = {}
    for row in rows:
        definition = catalogue.get(row.property_key)
        unit = definition.canonical_unit if definition else ""
        out[row.property_key] = PropertySummaryOut(
            min=row.canonical_min,
            max=row.canonical_max,
            typical=row.typical,
            unit=unit,
            count=row.value_count,
        )
    return out


def list_item(material: Material) -> MaterialListItem:
    """A material as a search result."""
    return MaterialListItem(
        id=material.slug,
        name=material.name,
        material_class=material.material_class,
        subclass=material.subclass,
        degradable=material.degradable,
        applications=[a.application for a in material.applications],
        summary=summaries(material.summaries),
        updated_at=material.updated_at,
    )


def get_material(session: Session, slug: str, *, latest: bool) -> Material:
    """A material row; 404 when absent or (``latest`` False) not published.

    ``latest``: the caller holds a key and sees the newest version, whatever its
    status; anonymous readers see only the published version (drafts look absent).
    """
    stmt = select(Material).where(Material.slug == slug)
    if not latest:
        stmt = stmt.where(Material.status == MaterialStatus.published.value)
    material = session.scalars(stmt).one_or_none()
    if material is None:
        raise NotFound(
            f"no {'' if latest else 'published '}material has id {slug!r}; search "
            "/api/v1/materials for the ids that exist"
        )
    return material


def version_row(session: Session, material: Material, version: int) -> MaterialVersion:
    """One stored version of a material, or 404."""
    row = session.scalar(
        select(MaterialVersion).where(
            MaterialVersion.material_id == material.id, MaterialVersion.version == version
        )
    )
    if row is None:
        raise NotFound(
            f"material {material.slug!r} has no version {version}; versions 1 to "
            f"{material.latest_version} exist"
        )
    return row


def material_view(session: Session, material: Material, *, latest: bool) -> MaterialOut:
    """The whole material as the caller may see it: the latest or the public version."""
    number = material.latest_version if latest else material.version
    row = version_row(session, material, number)
    return render_version(session, material, row)


def render_version(session: Session, material: Material, row: MaterialVersion) -> MaterialOut:
    """One version, whole."""
    return render(
        row.entry,
        status=row.status,
        version=row.version,
        created_at=material.created_at,
        updated_at=row.created_at,
        links=load_links(session, [row.entry]),
    )


def as_json_ready(model: Any) -> Any:
    """Dump a wire model by alias (``class``), as JSON-compatible data."""
    return model.model_dump(mode="json", by_alias=True)
