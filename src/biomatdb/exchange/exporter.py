"""Exporting the published database as one bundle (the inverse of the importer)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn, named_records
from biomatdb.kit.documents import clean_entry
from biomatdb.models import Material, MaterialVersion, Organization, Reference
from biomatdb.models.history import shown_version
from biomatdb.references.schemas import reference_json
from biomatdb.vocab import MaterialStatus

_PAGE = 1000


def published_entry(
    entry: dict[str, Any], *, version: int, created_at: Any, updated_at: Any
) -> dict[str, Any]:
    """A stored published version as a bundle entry, server fields included."""
    return clean_entry(
        {
            **entry,
            "status": MaterialStatus.published.value,
            "version": version,
            "created_at": created_at.isoformat(),
            "updated_at": updated_at.isoformat(),
        }
    )


def iter_published_entries(
    session: Session, where: Sequence[ColumnElement[bool]] = ()
) -> Iterator[dict[str, Any]]:
    """Every published material's public version (those matching ``where``, search
    conditions, when given), in id order, a page at a time."""
    last = 0
    while True:
        rows = session.execute(
            select(
                Material.id,
                Material.created_at,
                MaterialVersion.version,
                MaterialVersion.entry,
                MaterialVersion.created_at,
            )
            .join(MaterialVersion, shown_version())
            .where(Material.status == MaterialStatus.published.value, Material.id > last, *where)
            .order_by(Material.id)
            .limit(_PAGE)
        ).all()
        if not rows:
            return
        for _, created_at, version, entry, updated_at in rows:
            yield published_entry(
                entry, version=version, created_at=created_at, updated_at=updated_at
            )
        last = rows[-1][0]


def reference_entry(reference: Reference) -> dict[str, Any]:
    """A reference (bundle form: the wire form without nulls)."""
    data = reference_json(reference)
    assert data is not None
    return clean_entry(data)


def organization_entry(organization: Organization) -> dict[str, Any]:
    """An organization (bundle form)."""
    return clean_entry(
        {
            "id": organization.slug,
            "name": organization.name,
            "kind": organization.kind,
            "country": organization.country,
            "website": organization.website,
        }
    )


def export_bundle(
    session: Session, where: Sequence[ColumnElement[bool]] | None = None
) -> dict[str, Any]:
    """The whole published database as one bundle: every published material, and
    every reference and organization (so that they round-trip even when uncited).

    ``where`` (the conditions of a search): only the matching materials, with the
    references and organizations they name (a bundle that imports on its own).
    """
    materials = list(iter_published_entries(session, where or ()))
    references = list(session.scalars(select(Reference).order_by(Reference.slug)))
    organizations = list(session.scalars(select(Organization).order_by(Organization.slug)))
    if where is not None:
        cited, named = named_records(MaterialIn.model_validate(m) for m in materials)
        references = [r for r in references if r.slug in cited]
        organizations = [o for o in organizations if o.slug in named]
    return {
        "references": [reference_entry(r) for r in references],
        "organizations": [organization_entry(o) for o in organizations],
        "materials": materials,
    }
