"""Reading materials: search results and whole materials, as wire types."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.bundles.export import material_loader_options
from biomatdb.errors import NotFound
from biomatdb.materials.schemas import (
    BiocompatibilityOut,
    CanonicalOut,
    ComponentOut,
    MaterialListItem,
    MaterialOut,
    OrganizationRef,
    PropertySummaryOut,
    PropertyValueOut,
    ReferenceOut,
    RegulatoryOut,
    SupplierOut,
)
from biomatdb.models import Material, Organization, PropertySummary, Reference
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


def reference_out(reference: Reference | None) -> ReferenceOut | None:
    """A reference, expanded."""
    if reference is None:
        return None
    return ReferenceOut(
        id=reference.slug,
        citation=reference.citation,
        doi=reference.doi,
        year=reference.year,
        pmid=reference.pmid,
        url=reference.url,
    )


def organization_ref(organization: Organization | None) -> OrganizationRef | None:
    """An organization, briefly."""
    if organization is None:
        return None
    return OrganizationRef(
        id=organization.slug,
        name=organization.name,
        kind=organization.kind,
        country=organization.country,
    )


def get_published(session: Session, slug: str) -> Material:
    """A whole published material, or 404 (drafts look absent to anonymous readers)."""
    material = session.scalars(
        select(Material)
        .options(*material_loader_options())
        .where(Material.slug == slug, Material.status == MaterialStatus.published.value)
    ).one_or_none()
    if material is None:
        raise NotFound(
            f"no published material has id {slug!r}; search /api/v1/materials "
            "for the ids that exist"
        )
    return material


def material_out(material: Material) -> MaterialOut:
    """A whole material, every source expanded."""
    properties = []
    for value in material.property_values:
        definition = catalogue.get(value.property_key)
        properties.append(
            PropertyValueOut(
                property=value.property_key,
                value=value.value,
                min=value.value_min,
                max=value.value_max,
                unit=value.unit,
                qualifier=value.qualifier,
                uncertainty=value.uncertainty,
                specimen=value.specimen,
                method=value.method,
                conditions=value.conditions,
                source=reference_out(value.reference),
                canonical=CanonicalOut(
                    min=value.canonical_min,
                    max=value.canonical_max,
                    unit=definition.canonical_unit if definition else "",
                ),
            )
        )
    return MaterialOut(
        id=material.slug,
        name=material.name,
        synonyms=list(material.synonyms),
        material_class=material.material_class,
        subclass=material.subclass,
        description=material.description,
        degradable=material.degradable,
        composition=[
            ComponentOut(component=c.component, fraction=c.fraction, basis=c.basis)
            for c in material.composition
        ],
        applications=[a.application for a in material.applications],
        properties=properties,
        summary=summaries(material.summaries),
        biocompatibility=[
            BiocompatibilityOut(
                endpoint=b.endpoint,
                standard=b.standard,
                result=b.result,
                source=reference_out(b.reference),
            )
            for b in material.biocompatibility
        ],
        regulatory=[
            RegulatoryOut(
                jurisdiction=r.jurisdiction,
                pathway=r.pathway,
                status=r.status,
                identifier=r.identifier,
                device_class=r.device_class,
                product_code=r.product_code,
                device_name=r.device_name,
                decision_date=r.decision_date,
                organization=organization_ref(r.organization),
                source=reference_out(r.reference),
            )
            for r in material.regulatory_records
        ],
        suppliers=[
            SupplierOut(
                organization=organization_ref(s.organization),
                trade_name=s.trade_name,
                grade=s.grade,
                form=s.form,
            )
            for s in material.supplier_offerings
        ],
        status=material.status,
        version=material.version,
        created_at=material.created_at,
        updated_at=material.updated_at,
    )


def as_json_ready(model: Any) -> Any:
    """Dump a wire model by alias (``class``), as JSON-compatible data."""
    return model.model_dump(mode="json", by_alias=True)
