"""Reading references: the list, and one reference with the published materials citing it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true, union
from sqlalchemy.orm import Session

from biomatdb.errors import NotFound
from biomatdb.kit.keyset import Page, slug_page
from biomatdb.models import (
    BiocompatibilityResultRow,
    Material,
    PropertyValue,
    Reference,
    RegulatoryRecord,
    lookup,
)
from biomatdb.references.schemas import CitingMaterial, ReferenceDetail, reference_out
from biomatdb.vocab import MaterialStatus


def _visible(public_only: bool) -> list[ColumnElement[bool]]:
    # Without a key only public references show (cited by a published material, or
    # approved by an editor); a key sees all, as it sees drafts.
    return [Reference.public == true()] if public_only else []


def list_references(
    session: Session, *, public_only: bool, cursor: str | None, limit: int
) -> Page[Reference]:
    """References by id, a page at a time."""
    return slug_page(
        session,
        Reference,
        Reference.slug,
        _visible(public_only),
        fingerprint="references",
        cursor=cursor,
        limit=limit,
    )


def reference_detail(session: Session, slug: str, *, public_only: bool) -> ReferenceDetail:
    """One reference and the published materials citing it; 404 when absent or hidden."""
    reference = session.scalars(
        select(Reference).where(Reference.slug == slug, *_visible(public_only))
    ).one_or_none()
    if reference is None:
        near = lookup.near_id(session, Reference.slug, slug, *_visible(public_only))
        raise NotFound(
            f"no reference has id {slug!r}{lookup.hint(near)}; list them at /api/v1/references"
        )
    citing = union(
        select(PropertyValue.material_id).where(PropertyValue.reference_id == reference.id),
        select(BiocompatibilityResultRow.material_id).where(
            BiocompatibilityResultRow.reference_id == reference.id
        ),
        select(RegulatoryRecord.material_id).where(RegulatoryRecord.reference_id == reference.id),
    ).subquery()
    value_counts = (
        select(PropertyValue.material_id, func.count().label("n"))
        .where(PropertyValue.reference_id == reference.id)
        .group_by(PropertyValue.material_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Material.slug,
            Material.name,
            Material.material_class,
            func.coalesce(value_counts.c.n, 0),
        )
        .where(
            Material.id.in_(select(citing.c.material_id)),
            Material.status == MaterialStatus.published.value,
        )
        .outerjoin(value_counts, value_counts.c.material_id == Material.id)
        .order_by(Material.sort_name, Material.slug)
    ).all()
    base = reference_out(reference)
    assert base is not None
    return ReferenceDetail(
        **base.model_dump(),
        cited_by=[
            CitingMaterial(id=slug, name=name, material_class=cls, property_values=n)
            for slug, name, cls, n in rows
        ],
    )
