"""Curators' and editors' writes to single materials: create, replace, merge-patch,
review transitions, and the history of versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.auth.keys import Principal
from biomatdb.bundles.known import validate_materials
from biomatdb.bundles.schemas import MaterialIn
from biomatdb.errors import (
    Conflict,
    FieldProblem,
    InvalidBody,
    PreconditionFailed,
    PreconditionRequired,
)
from biomatdb.materials import store, workflow
from biomatdb.materials.service import current_tag, version_row
from biomatdb.models import Change, Material, MaterialVersion
from biomatdb.vocab import MaterialStatus


def validate_entry(session: Session, raw: Any) -> MaterialIn:
    """One material entry, validated like a bundle's; 422 with paths like
    ``properties[0].unit`` on any problem."""
    entries, problems = validate_materials(session, [raw])
    if problems:
        raise InvalidBody(
            f"the material has {len(problems)} problem(s); nothing was written",
            errors=[
                FieldProblem(p.path.removeprefix("materials[0]").lstrip("."), p.message)
                for p in problems
            ],
        )
    return entries[0]


def check_if_match(session: Session, material: Material, tags: set[str] | None) -> None:
    """Optimistic concurrency: 428 without If-Match, 412 when none of its ``tags`` (the
    entity tags, unquoted; ``*`` matches any) is the latest version's."""
    if tags is None:
        raise PreconditionRequired(
            "send If-Match with the ETag of the material's current version (from GET)"
        )
    if "*" in tags:
        return
    if current_tag(session, material) not in tags:
        raise PreconditionFailed(
            f"material {material.slug!r} changed since that ETag (now at version "
            f"{material.latest_version}); GET it again and reapply your change"
        )


def create(session: Session, raw: Any, principal: Principal) -> Material:
    """A new material from one entry; 409 when the id exists."""
    workflow.check_entry_statuses(principal, [("", raw)])
    entry = validate_entry(session, raw)
    if session.scalar(select(Material.id).where(Material.slug == entry.id)) is not None:
        raise Conflict(
            f"material {entry.id!r} exists; change it with PUT or PATCH "
            f"/api/v1/materials/{entry.id}"
        )
    store.write_entries(session, [entry], actor=principal.name)
    return _material(session, entry.id)


def latest_entry(session: Session, material: Material) -> dict[str, Any]:
    """The latest version as a bundle entry (with its status)."""
    row = version_row(session, material, material.latest_version)
    return {**row.entry, "status": row.status}


def replace(session: Session, material: Material, raw: Any, principal: Principal) -> Material:
    """Replace the latest version with a whole entry (the caller checked If-Match)."""
    if isinstance(raw, dict):
        if "id" not in raw:
            raw = {**raw, "id": material.slug}
        elif raw["id"] != material.slug:
            raise InvalidBody(
                "the id in the body is not the id in the URL",
                errors=[FieldProblem("id", f"must be {material.slug!r} (ids never change)")],
            )
    workflow.check_entry_statuses(principal, [("", raw)])
    entry = validate_entry(session, raw)
    store.write_entries(session, [entry], actor=principal.name)
    return _material(session, material.slug)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patch(session: Session, material: Material, patch_doc: Any, principal: Principal) -> Material:
    """Apply a JSON merge patch to the latest version."""
    if not isinstance(patch_doc, dict):
        raise InvalidBody(
            "a merge patch must be a JSON object",
            errors=[FieldProblem("", "expected an object of fields to change")],
        )
    # An edit is a new draft unless the patch sets the status itself (as PUT's
    # entry does): publishing stays a separate, editor-only step.
    base = {**latest_entry(session, material), "status": MaterialStatus.draft.value}
    return replace(session, material, merge_patch(base, patch_doc), principal)


def change_status(
    session: Session, material: Material, target: str, note: str | None, principal: Principal
) -> Material:
    """Move a material through review (the moves and roles: ``workflow.TRANSITIONS``)."""
    latest = version_row(session, material, material.latest_version)
    transition = workflow.check_move(
        principal, material.status, latest.status, target, material.slug
    )
    if target == workflow.PUBLISHED:
        # The one publish rule: the entry must pass the validation of a published
        # bundle entry (every value cites a source ...), however it gets there.
        validate_entry(session, {**latest.entry, "status": target})
    store.change_status(session, material, latest, transition, actor=principal.name, note=note)
    return _material(session, material.slug)


def _material(session: Session, slug: str) -> Material:
    session.expire_all()
    return session.scalars(select(Material).where(Material.slug == slug)).one()


def history(session: Session, material: Material) -> dict[str, Any]:
    """Every version (who, when, what changed) and every event, oldest first."""
    versions = session.scalars(
        select(MaterialVersion)
        .where(MaterialVersion.material_id == material.id)
        .order_by(MaterialVersion.version)
    ).all()
    events = session.scalars(
        select(Change).where(Change.material_id == material.id).order_by(Change.seq)
    ).all()
    return {
        "id": material.slug,
        "latest_version": material.latest_version,
        "published_version": material.version
        if material.status == MaterialStatus.published.value
        else None,
        "versions": [
            {
                "version": v.version,
                "status": v.status,
                "created_at": v.created_at,
                "created_by": v.created_by,
                "changes": v.diff or [],
                "href": f"/api/v1/materials/{material.slug}/history/{v.version}",
            }
            for v in versions
        ],
        "events": [
            {
                "seq": e.seq,
                "at": e.at,
                "action": e.action,
                "version": e.version,
                "status": e.status,
                "actor": e.actor,
                "note": e.note,
            }
            for e in events
        ],
    }
