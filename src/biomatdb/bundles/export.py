"""Exporting the published database as one bundle (the inverse of the importer)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from biomatdb.models import (
    Material,
    Organization,
    PropertyValue,
    Reference,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.vocab import MaterialStatus

_PAGE = 500


def material_loader_options() -> list[Any]:
    """Eager loads for a whole material (no lazy load can happen while serialising)."""
    return [
        selectinload(Material.applications),
        selectinload(Material.composition),
        selectinload(Material.property_values).selectinload(PropertyValue.reference),
        selectinload(Material.summaries),
        selectinload(Material.biocompatibility),
        selectinload(Material.regulatory_records).options(
            selectinload(RegulatoryRecord.organization), selectinload(RegulatoryRecord.reference)
        ),
        selectinload(Material.supplier_offerings).selectinload(SupplierOffering.organization),
    ]


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


def material_entry(material: Material) -> dict[str, Any]:
    """A material as a bundle entry (needs :func:`material_loader_options` loaded)."""
    biocompatibility = [
        _clean(
            {
                "endpoint": b.endpoint,
                "standard": b.standard,
                "result": b.result,
                "source": b.reference.slug if b.reference else None,
            }
        )
        for b in material.biocompatibility
    ]
    return _clean(
        {
            "id": material.slug,
            "name": material.name,
            "synonyms": list(material.synonyms),
            "class": material.material_class,
            "subclass": material.subclass,
            "description": material.description,
            "degradable": material.degradable,
            "composition": [
                {"component": c.component, "fraction": c.fraction, "basis": c.basis}
                for c in material.composition
            ],
            "applications": [a.application for a in material.applications],
            "properties": [property_entry(v) for v in material.property_values],
            "biocompatibility": biocompatibility,
            "regulatory": [regulatory_entry(r) for r in material.regulatory_records],
            "suppliers": [
                _clean(
                    {
                        "organization": s.organization.slug,
                        "trade_name": s.trade_name,
                        "grade": s.grade,
                        "form": s.form,
                    }
                )
                for s in material.supplier_offerings
            ],
            "status": material.status,
            "version": material.version,
            "created_at": material.created_at.isoformat(),
            "updated_at": material.updated_at.isoformat(),
        }
    )


def property_entry(value: PropertyValue) -> dict[str, Any]:
    """A property value as given (bundle form)."""
    return _clean(
        {
            "property": value.property_key,
            "value": value.value,
            "min": value.value_min,
            "max": value.value_max,
            "unit": value.unit,
            "qualifier": value.qualifier,
            "uncertainty": value.uncertainty,
            "specimen": value.specimen,
            "method": value.method,
            "conditions": value.conditions,
            "source": value.reference.slug if value.reference else None,
        }
    )


def regulatory_entry(record: RegulatoryRecord) -> dict[str, Any]:
    """A regulatory record (bundle form)."""
    return _clean(
        {
            "jurisdiction": record.jurisdiction,
            "pathway": record.pathway,
            "status": record.status,
            "identifier": record.identifier,
            "device_class": record.device_class,
            "product_code": record.product_code,
            "device_name": record.device_name,
            "decision_date": record.decision_date.isoformat() if record.decision_date else None,
            "organization": record.organization.slug if record.organization else None,
            "source": record.reference.slug if record.reference else None,
        }
    )


def reference_entry(reference: Reference) -> dict[str, Any]:
    """A reference (bundle form)."""
    return _clean(
        {
            "id": reference.slug,
            "citation": reference.citation,
            "doi": reference.doi,
            "year": reference.year,
            "pmid": reference.pmid,
            "url": reference.url,
        }
    )


def organization_entry(organization: Organization) -> dict[str, Any]:
    """An organization (bundle form)."""
    return _clean(
        {
            "id": organization.slug,
            "name": organization.name,
            "kind": organization.kind,
            "country": organization.country,
            "website": organization.website,
        }
    )


def iter_published_materials(session: Session) -> Iterator[Material]:
    """Every published material, whole, in id order, a page at a time."""
    last = 0
    while True:
        page: Sequence[Material] = session.scalars(
            select(Material)
            .options(*material_loader_options())
            .where(Material.status == MaterialStatus.published.value, Material.id > last)
            .order_by(Material.id)
            .limit(_PAGE)
        ).all()
        if not page:
            return
        yield from page
        last = page[-1].id
        session.expunge_all()


def export_bundle(session: Session) -> dict[str, Any]:
    """The whole published database as one bundle: every published material, and
    every reference and organization (so that they round-trip even when uncited)."""
    materials = [material_entry(m) for m in iter_published_materials(session)]
    references = [
        reference_entry(r) for r in session.scalars(select(Reference).order_by(Reference.slug))
    ]
    organizations = [
        organization_entry(o)
        for o in session.scalars(select(Organization).order_by(Organization.slug))
    ]
    return {"references": references, "organizations": organizations, "materials": materials}
