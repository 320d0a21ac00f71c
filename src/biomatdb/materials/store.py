"""Writing materials: versions, the projection the public sees, and the change log.

Every write path (bundle import, single-material POST/PUT/PATCH, status
changes) goes through here, so each gets the same versioning and feed entries.

Rules:
* A new or changed entry becomes a new version (``latest_version``); an
  unchanged one (same content hash, status included) is a no-op.
* The projection (``materials`` row and child tables, which search reads) shows
  the public version of a published material; a newer draft of it waits in
  ``material_versions`` until it is published. A material that is not public
  projects its latest version, hidden from anonymous readers by its status.
* Projecting a published version makes public the references and organizations
  it names (``shared_records``): a curator's new ones wait for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn
from biomatdb.db import bulk_insert, new_ids
from biomatdb.errors import Conflict
from biomatdb.kit.chunks import chunks
from biomatdb.kit.documents import field_diff
from biomatdb.kit.hashing import json_hash
from biomatdb.materials import projection, shared_records
from biomatdb.materials.sections import section_changes
from biomatdb.materials.workflow import Transition
from biomatdb.models import Change, Material, MaterialVersion
from biomatdb.models.base import table_of, utcnow
from biomatdb.vocab import MaterialStatus

PUBLISHED = MaterialStatus.published.value
#: Fields of an entry that are not content (kept per version row instead).
NOT_CONTENT = {"status", "version", "created_at", "updated_at"}


def entry_payload(entry: MaterialIn) -> dict[str, Any]:
    """The stored form of an entry: its content, without status and server fields."""
    return entry.model_dump(mode="json", by_alias=True, exclude=NOT_CONTENT)


def content_hash(entry: MaterialIn, payload: dict[str, Any] | None = None) -> str:
    """A stable hash of an entry's content and status (``payload``: its stored form,
    when the caller has it already)."""
    return json_hash({**(payload or entry_payload(entry)), "status": entry.status.value})


@dataclass(frozen=True, slots=True)
class Written:
    """What happened to one entry."""

    slug: str
    outcome: Literal["created", "updated", "unchanged"]
    version: int
    property_values: int = 0
    #: An update: what it does to each section (``sections.section_changes``).
    changes: dict[str, Any] | None = None


@dataclass(slots=True)
class _State:
    id: int
    content_hash: str
    latest_version: int
    published_version: int | None
    status: str  # of the projection


def _states(session: Session, slugs: Sequence[str]) -> dict[str, _State]:
    found: dict[str, _State] = {}
    for chunk in chunks(slugs):
        rows = session.execute(
            select(
                Material.slug,
                Material.id,
                Material.content_hash,
                Material.latest_version,
                Material.published_version,
                Material.status,
            ).where(Material.slug.in_(chunk))
        )
        for slug, mid, digest, latest, published, status in rows:
            found[slug] = _State(mid, digest, latest, published, status)
    return found


@dataclass
class _Batch:
    """The rows one call of :func:`write_entries` appends, written together at the end."""

    actor: str
    now: datetime
    note: str | None
    payloads: dict[str, dict[str, Any]]
    versions: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    fresh: list[projection.Target] = field(default_factory=list)
    changed: list[projection.Target] = field(default_factory=list)
    results: list[Written] = field(default_factory=list)


def write_entries(
    session: Session,
    entries: Sequence[MaterialIn],
    *,
    actor: str,
    now: datetime | None = None,
    note: str | None = None,
) -> list[Written]:
    """Create or update materials from validated entries (one version each when changed)."""
    batch = _Batch(actor, now or utcnow(), note, {e.id: entry_payload(e) for e in entries})
    states = _states(session, [e.id for e in entries])
    created: list[tuple[MaterialIn, str]] = []
    updated: list[tuple[MaterialIn, str, _State]] = []
    for entry in entries:
        digest = content_hash(entry, batch.payloads[entry.id])
        state = states.get(entry.id)
        if state is None:
            created.append((entry, digest))
        elif state.content_hash == digest:
            batch.results.append(Written(entry.id, "unchanged", state.latest_version))
        else:
            updated.append((entry, digest, state))
    _create(session, batch, created)
    _update(session, batch, updated)
    bulk_insert(session, table_of(MaterialVersion), batch.versions)
    projection.project(session, batch.fresh, now=batch.now, fresh=True)
    projection.project(session, batch.changed, now=batch.now)
    shared_records.publish_shared_records(
        session, [t.entry for t in batch.fresh + batch.changed if t.status == PUBLISHED]
    )
    bulk_insert(session, table_of(Change), batch.changes)
    session.flush()
    return batch.results


def _create(session: Session, batch: _Batch, created: list[tuple[MaterialIn, str]]) -> None:
    """New materials: their rows (one multi-row INSERT per chunk), version 1, a feed entry."""
    now = batch.now
    rows = [
        {
            **projection.material_fields(entry),
            "status": entry.status.value,
            "version": 1,
            "latest_version": 1,
            "published_version": 1 if entry.status.value == PUBLISHED else None,
            "content_hash": digest,
            "created_at": now,
            "updated_at": now,
        }
        for entry, digest in created
    ]
    # Ids taken first, then one COPY (PostgreSQL) or executemany (SQLite): an INSERT
    # ... RETURNING of 1,000 rows is a statement of 240 KB that SQLAlchemy compiles
    # and psycopg parses again for every batch (a tenth of a PostgreSQL import).
    table = table_of(Material)
    ids = new_ids(session, table, len(rows))
    bulk_insert(session, table, [{"id": mid, **row} for mid, row in zip(ids, rows, strict=True)])
    for mid, (entry, digest) in zip(ids, created, strict=True):
        status = entry.status.value
        payload = batch.payloads[entry.id]
        batch.versions.append(
            _version_row(mid, 1, entry, digest, batch.actor, now, diff=None, payload=payload)
        )
        public_version = 1 if status == PUBLISHED else None
        batch.changes.append(
            change_row(
                now, "created", entry.id, mid, 1, status, public_version, batch.actor, batch.note
            )
        )
        batch.fresh.append(projection.Target(mid, entry, 1, status))
        batch.results.append(Written(entry.id, "created", 1, len(entry.properties)))


def _update(session: Session, batch: _Batch, updated: list[tuple[MaterialIn, str, _State]]) -> None:
    """Changed materials: a new version each; the projection follows unless a published
    material gets a pending draft (the public keeps its version until that is published)."""
    if not updated:
        return
    previous = _version_entries(session, [(s.id, s.latest_version) for _, _, s in updated])
    pending = (MaterialStatus.draft.value, MaterialStatus.in_review.value)
    for entry, digest, state in updated:
        version = state.latest_version + 1
        status = entry.status.value
        payload = batch.payloads[entry.id]
        stored = previous.get((state.id, state.latest_version))
        diff = field_diff(stored, payload)
        batch.versions.append(
            _version_row(
                state.id, version, entry, digest, batch.actor, batch.now, diff=diff, payload=payload
            )
        )
        values: dict[str, Any] = {"content_hash": digest, "latest_version": version}
        public_version: int | None = None
        if status == PUBLISHED:
            values["published_version"] = public_version = version
        if state.status == PUBLISHED and status in pending:
            public_version = state.published_version  # a pending edit; the public keeps v
        else:
            batch.changed.append(projection.Target(state.id, entry, version, status))
        session.execute(update(Material).where(Material.id == state.id).values(**values))
        batch.changes.append(
            change_row(
                batch.now,
                "updated",
                entry.id,
                state.id,
                version,
                status,
                public_version,
                batch.actor,
                batch.note,
            )
        )
        batch.results.append(
            Written(
                entry.id,
                "updated",
                version,
                len(entry.properties),
                changes=section_changes(stored, payload),
            )
        )


def _version_row(
    material_id: int,
    version: int,
    entry: MaterialIn,
    digest: str,
    actor: str,
    now: datetime,
    *,
    diff: list[dict[str, Any]] | None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "material_id": material_id,
        "version": version,
        "status": entry.status.value,
        "entry": payload if payload is not None else entry_payload(entry),
        "content_hash": digest,
        "created_at": now,
        "created_by": actor,
        "diff": diff,
    }


def change_row(
    now: datetime,
    action: str,
    slug: str,
    material_id: int | None,
    version: int | None,
    status: str | None,
    public_version: int | None,
    actor: str,
    note: str | None,
    *,
    kind: str = "material",
    entry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": now,
        "kind": kind,
        "action": action,
        "subject": slug,
        "material_id": material_id,
        "version": version,
        "status": status,
        "public_version": public_version,
        "actor": actor,
        "note": note,
        "entry": entry,
    }


def record_change(session: Session, **fields: Any) -> None:
    """Append one change (references and organizations use this)."""
    now = fields.pop("now", None) or utcnow()
    record_changes(session, [change_row(now, **fields)])


def record_changes(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append changes (rows of :func:`change_row`), in order, with one statement."""
    bulk_insert(session, table_of(Change), rows)


def _version_entries(
    session: Session, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, Any]]:
    found: dict[tuple[int, int], dict[str, Any]] = {}
    ids = sorted({mid for mid, _ in keys})
    wanted = set(keys)
    for chunk in chunks(ids):
        rows = session.execute(
            select(
                MaterialVersion.material_id, MaterialVersion.version, MaterialVersion.entry
            ).where(MaterialVersion.material_id.in_(chunk))
        )
        for mid, version, entry in rows:
            if (mid, version) in wanted:
                found[(mid, version)] = entry
    return found


# --- the review workflow (the moves themselves are in ``workflow``) -----------------------


def change_status(
    session: Session,
    material: Material,
    latest: MaterialVersion,
    transition: Transition,
    *,
    actor: str,
    note: str | None,
    now: datetime | None = None,
) -> None:
    """Apply a review move (the caller has found it and checked the role)."""
    now = now or utcnow()
    target = transition.target
    if transition.of_public:  # retraction withdraws the public version
        public = _version(session, material.id, material.published_version)
        public.status = target
        projection.set_projection_status(session, material.id, target, now)
        public_version = None
        version = public.version
    else:
        latest.status = target
        version = latest.version
        if target == PUBLISHED:
            entry = MaterialIn.model_validate({**latest.entry, "status": target})
            material.published_version = latest.version
            projection.project(
                session, [projection.Target(material.id, entry, latest.version, target)], now=now
            )
            shared_records.publish_shared_records(session, [entry])
            public_version = latest.version
        elif material.status == PUBLISHED and material.version != latest.version:
            public_version = material.published_version  # a pending edit changed status
        else:
            projection.set_projection_status(session, material.id, target, now)
            public_version = None
    material.content_hash = _status_hash(latest)
    record_change(
        session,
        now=now,
        action=transition.action,
        slug=material.slug,
        material_id=material.id,
        version=version,
        status=target,
        public_version=public_version,
        actor=actor,
        note=note,
    )
    session.flush()


def _status_hash(latest: MaterialVersion) -> str:
    return json_hash({**latest.entry, "status": latest.status})


def _version(session: Session, material_id: int, version: int | None) -> MaterialVersion:
    row = session.scalar(
        select(MaterialVersion).where(
            MaterialVersion.material_id == material_id, MaterialVersion.version == version
        )
    )
    if row is None:  # pragma: no cover - versions are never deleted
        raise Conflict(f"version {version} of the material is missing")
    return row


def planned_outcomes(
    session: Session, entries: Sequence[MaterialIn], planned: dict[str, str]
) -> list[Written]:
    """What :func:`write_entries` would do with ``entries``, without writing (dry runs).

    ``planned`` maps the slugs of entries planned by earlier documents of the same
    import to their content hash, and is updated: a later document sees them.
    """
    states = _states(session, [e.id for e in entries if e.id not in planned])
    stored = _version_entries(session, [(s.id, s.latest_version) for s in states.values()])
    results: list[Written] = []
    for entry in entries:
        payload = entry_payload(entry)
        digest = content_hash(entry, payload)
        before = planned.get(entry.id)
        state = states.get(entry.id)
        if before is None and state is not None:
            before = state.content_hash
        planned[entry.id] = digest
        if before is None:
            results.append(Written(entry.id, "created", 1, len(entry.properties)))
        elif before == digest:
            results.append(Written(entry.id, "unchanged", 0))
        else:
            old = stored.get((state.id, state.latest_version)) if state is not None else None
            changes = section_changes(old, payload)
            results.append(Written(entry.id, "updated", 0, len(entry.properties), changes=changes))
    return results
