"""Reading materials: search results and whole materials, as wire types."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from biomatdb import catalogue, packed
from biomatdb.errors import NotFound
from biomatdb.kit import cursor
from biomatdb.kit.hashing import json_hash
from biomatdb.kit.timefmt import iso_utc
from biomatdb.materials.render import Links, load_links, render
from biomatdb.models import Material, MaterialVersion, lookup
from biomatdb.models.history import shown_version
from biomatdb.search import counts, fulltext, repository
from biomatdb.search.params import SearchQuery
from biomatdb.units.output import CANONICAL, OutputUnits
from biomatdb.vocab import MaterialStatus


class Found(NamedTuple):
    """A page of search results: items (JSON-ready dicts), the total, the next page's
    cursor, the facets counted (None: none asked for), and those still being counted
    (see ``counts``)."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None
    facets_pending: list[str]


def search(
    session: Session,
    query: SearchQuery,
    *,
    after: str | None,
    out: OutputUnits = CANONICAL,
    version: int | None = None,
    defer_facets: bool = False,
) -> Found:
    """Run a search. ``version``: the data version, when the caller has read it in this
    transaction. ``defer_facets``: facets that do not fit their share of the request's
    time are left to the background (the API's way); otherwise each is counted here."""
    fingerprint = query.fingerprint()
    key = cursor.decode(after, fingerprint) if after else None
    where = repository.conditions(session, query)
    rows, last_key = repository.page(session, query, where, key)
    applications = repository.applications_of(session, [r[0] for r in rows])
    items = [list_item(row, applications[row[0]], out) for row in rows]
    counted = counts.totals(
        session,
        fingerprint,
        query.facets,
        where,
        version=version,
        conditions=(lambda other: repository.conditions(other, query)) if defer_facets else None,
    )
    next_cursor = cursor.encode(fingerprint, last_key) if last_key is not None else None
    return Found(items, counted.total, next_cursor, counted.facets, counted.pending)


def did_you_mean(session: Session, query: SearchQuery) -> list[str] | None:
    """For a search with ``q`` that found nothing: corrected texts that would find
    something with the same filters (maybe none); None for a search without ``q``."""
    words = query.value("words")
    if not words:
        return None
    found: list[str] = []
    for corrected in fulltext.suggestions(session, words, counts.data_version(session)):
        trial = copy.copy(query)
        trial.filters = {**query.filters, "words": corrected}
        if repository.total(session, repository.conditions(session, trial)):
            found.append(" ".join(corrected))
    return found


def list_item(row: Any, applications: list[str], out: OutputUnits = CANONICAL) -> dict[str, Any]:
    """A search result in wire form (the shape of ``MaterialListItem``), its values in
    the units of ``out`` and rounded to their sources' digits."""
    _, slug, name, material_class, subclass, degradable, updated_at, summary = row
    values = packed.unpack(summary)
    return {
        "id": slug,
        "name": name,
        "class": material_class,
        "subclass": subclass,
        "degradable": degradable,
        "applications": applications,
        "summary": _canonical_summary(values) if not out.chosen else _summary_in(values, out),
        "updated_at": iso_utc(updated_at),
    }


def _summary_in(values: dict[str, packed.Summary], out: OutputUnits) -> dict[str, Any]:
    return {
        key: {
            "min": out.show(key, low, digits),
            "max": out.show(key, high, digits),
            "typical": out.show(key, typical, digits),
            "unit": out.unit(key),
            "count": n,
        }
        for key, (low, high, typical, n, digits) in values.items()
    }


def _canonical_summary(values: dict[str, packed.Summary]) -> dict[str, Any]:
    """:func:`_summary_in` for canonical units, inlined: a page of 20 results shows
    some 500 numbers, and the general path's calls cost about a millisecond of it.
    The rounding is :func:`biomatdb.units.round_significant`'s, to the same digits."""
    canonical = catalogue.CANONICAL_UNITS
    log10, floor, isfinite = math.log10, math.floor, math.isfinite
    shown: dict[str, Any] = {}
    for key, (low, high, typical, n, digits) in values.items():
        places = (digits or 12) - 1
        rounded = [
            v if v == 0 or not isfinite(v) else round(v, places - floor(log10(abs(v))))
            for v in (low, high, typical)
        ]
        shown[key] = {
            "min": rounded[0],
            "max": rounded[1],
            "typical": rounded[2],
            "unit": canonical.get(key, ""),
            "count": n,
        }
    return shown


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
        visible = [] if latest else [Material.status == MaterialStatus.published.value]
        near = lookup.near_id(session, Material.slug, slug, *visible)
        raise NotFound(
            f"no {'' if latest else 'published '}material has id {slug!r}{lookup.hint(near)}; "
            "search /api/v1/materials for the ids that exist"
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


@dataclass(frozen=True, slots=True)
class View:
    """A material as the caller may see it, and its entity tag."""

    payload: dict[str, Any]
    #: Identifies this representation: changes with the version, its status, its
    #: content, and the references and organizations it embeds (see :func:`entity_tag`).
    tag: str


def entity_tag(material_id: int, version: int, status: str, content_hash: str, links: Links) -> str:
    """The tag of one version as shown: ``(id, version, status, content hash)`` and the
    stamps of the references and organizations it expands (an editor's correction of
    a citation changes the representation, so it must change the tag too)."""
    linked = [
        sorted((r.slug, iso_utc(r.updated_at)) for r in links.references.values()),
        sorted((o.slug, iso_utc(o.updated_at)) for o in links.organizations.values()),
    ]
    return json_hash([material_id, version, status, content_hash, linked])[:32]


def material_view(
    session: Session, material: Material, *, latest: bool, out: OutputUnits = CANONICAL
) -> View:
    """The whole material as the caller may see it: the latest or the public version."""
    number = material.latest_version if latest else material.version
    row = version_row(session, material, number)
    return render_version(session, material, row, out)


def current_tag(session: Session, material: Material) -> str:
    """The tag of the latest version (what If-Match is checked against), without
    rendering it: the version row and its linked records."""
    row = version_row(session, material, material.latest_version)
    links = load_links(session, [row.entry])
    return entity_tag(material.id, row.version, row.status, row.content_hash, links)


def render_version(
    session: Session, material: Material, row: MaterialVersion, out: OutputUnits = CANONICAL
) -> View:
    """One version, whole."""
    links = load_links(session, [row.entry])
    payload = render(
        row.entry,
        status=row.status,
        version=row.version,
        created_at=material.created_at,
        updated_at=row.created_at,
        links=links,
        out=out,
    )
    tag = entity_tag(material.id, row.version, row.status, row.content_hash, links)
    return View(payload, _in_units(tag, out))


def _in_units(tag: str, out: OutputUnits) -> str:
    """The tag of a representation in other units: another tag (caches must not mix
    them), which If-Match does not accept (write with the tag of a plain GET)."""
    return tag if not out.chosen else tag + "-" + json_hash(out.text)[:8]


def public_view(session: Session, slug: str, out: OutputUnits = CANONICAL) -> View:
    """The published version of a material, whole, in one query plus its links (the
    anonymous detail request: Core rows, no ORM objects)."""
    row = session.execute(
        select(
            Material.id,
            Material.created_at,
            MaterialVersion.entry,
            MaterialVersion.status,
            MaterialVersion.version,
            MaterialVersion.created_at,
            MaterialVersion.content_hash,
        )
        .join(MaterialVersion, shown_version())
        .where(Material.slug == slug, Material.status == MaterialStatus.published.value)
    ).one_or_none()
    if row is None:
        near = lookup.near_id(
            session, Material.slug, slug, Material.status == MaterialStatus.published.value
        )
        raise NotFound(
            f"no published material has id {slug!r}{lookup.hint(near)}; search "
            "/api/v1/materials for the ids that exist"
        )
    material_id, created_at, entry, status, version, updated_at, content_hash = row
    links = load_links(session, [entry])
    payload = render(
        entry,
        status=status,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
        links=links,
        out=out,
    )
    tag = entity_tag(material_id, version, status, content_hash, links)
    return View(payload, _in_units(tag, out))


# --- drafts: materials whose latest version is not published ------------------------------

#: The statuses of ``GET /api/v1/drafts`` (a latest version that is not public, nor withdrawn).
DRAFT_STATUSES = (MaterialStatus.draft.value, MaterialStatus.in_review.value)


@dataclass(frozen=True, slots=True)
class DraftsPage:
    """One page of drafts (wire-ready dicts), how many match in all, the next cursor."""

    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None


def drafts(
    session: Session,
    *,
    statuses: list[str],
    author: str | None,
    after: str | None,
    limit: int,
) -> DraftsPage:
    """Materials whose latest version has one of ``statuses`` (and, with ``author``, was
    written by that key), by id: one query for the page (name and class read from the
    latest version's entry, not from the projection, which may show the published
    version of a material with a pending edit), one for the total."""
    chosen = sorted(set(statuses))
    latest = and_(
        MaterialVersion.material_id == Material.id,
        MaterialVersion.version == Material.latest_version,
    )
    where: list[ColumnElement[bool]] = [MaterialVersion.status.in_(chosen)]
    if author is not None:
        where.append(MaterialVersion.created_by == author)
    fingerprint = f"drafts:{'|'.join(chosen)}:{author if author is not None else '*'}"
    stmt = (
        select(
            Material.slug,
            MaterialVersion.entry["name"].as_string(),
            MaterialVersion.entry["class"].as_string(),
            MaterialVersion.status,
            MaterialVersion.version,
            MaterialVersion.created_at,
            MaterialVersion.created_by,
        )
        .join(MaterialVersion, latest)
        .where(*where)
        .order_by(Material.slug)
    )
    if after:
        key = cursor.decode(after, fingerprint)
        if len(key) != 1 or not isinstance(key[0], str):
            raise cursor.bad_cursor()
        stmt = stmt.where(Material.slug > key[0])
    rows = session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    total = session.scalar(
        select(func.count()).select_from(Material).join(MaterialVersion, latest).where(*where)
    )
    items = [
        {
            "id": slug,
            "name": name,
            "class": material_class,
            "status": status,
            "version": version,
            "updated_at": iso_utc(written_at),
            "updated_by": written_by,
        }
        for slug, name, material_class, status, version, written_at, written_by in rows
    ]
    next_cursor = cursor.encode(fingerprint, [rows[-1][0]]) if more else None
    return DraftsPage(items, total or 0, next_cursor)
