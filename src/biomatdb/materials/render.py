"""Rendering a stored version (its bundle entry) as the whole-material wire type.

Every view of a whole material goes through here: the public detail (the
published version), a curator's view of the latest version, and any version of
the history; so they are all shaped, converted and expanded alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb import catalogue
from biomatdb.bundles.schemas import MaterialIn
from biomatdb.materials.projection import canonical_interval, summarize
from biomatdb.materials.schemas import (
    BiocompatibilityOut,
    CanonicalOut,
    ComponentOut,
    MaterialOut,
    OrganizationRef,
    PropertySummaryOut,
    PropertyValueOut,
    ReferenceOut,
    RegulatoryOut,
    SupplierOut,
)
from biomatdb.models import Organization, Reference


@dataclass(frozen=True)
class Links:
    """The references and organizations that entries point to, by id."""

    references: dict[str, Reference]
    organizations: dict[str, Organization]


def load_links(session: Session, entries: Iterable[dict[str, Any]]) -> Links:
    """Fetch, in two queries, every reference and organization the entries name."""
    ref_slugs: set[str] = set()
    org_slugs: set[str] = set()
    for entry in entries:
        for key in ("properties", "biocompatibility", "regulatory"):
            ref_slugs.update(item["source"] for item in entry.get(key) or [] if item.get("source"))
        org_slugs.update(
            r["organization"] for r in entry.get("regulatory") or [] if r.get("organization")
        )
        org_slugs.update(s["organization"] for s in entry.get("suppliers") or [])
    references = (
        {
            r.slug: r
            for r in session.scalars(select(Reference).where(Reference.slug.in_(sorted(ref_slugs))))
        }
        if ref_slugs
        else {}
    )
    organizations = (
        {
            o.slug: o
            for o in session.scalars(
                select(Organization).where(Organization.slug.in_(sorted(org_slugs)))
            )
        }
        if org_slugs
        else {}
    )
    return Links(references, organizations)


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


def summary_out(entry: MaterialIn) -> dict[str, PropertySummaryOut]:
    """``summary``: per property, min / max / typical in the canonical unit."""
    out = {}
    for key, (low, high, typical, count) in sorted(summarize(entry).items()):
        definition = catalogue.get(key)
        out[key] = PropertySummaryOut(
            min=low,
            max=high,
            typical=typical,
            count=count,
            unit=definition.canonical_unit if definition else "",
        )
    return out


def render(
    entry: dict[str, Any],
    *,
    status: str,
    version: int,
    created_at: datetime,
    updated_at: datetime,
    links: Links,
) -> MaterialOut:
    """A stored entry as the whole material, sources and organizations expanded."""
    material = MaterialIn.model_validate({**entry, "status": status})
    refs, orgs = links.references, links.organizations

    def source(slug: str | None) -> ReferenceOut | None:
        return reference_out(refs.get(slug)) if slug else None

    properties = []
    for value in material.properties:
        low, high = canonical_interval(value)
        definition = catalogue.get(value.property)
        properties.append(
            PropertyValueOut(
                property=value.property,
                value=value.value,
                min=value.min,
                max=value.max,
                unit=value.unit,
                qualifier=value.qualifier.value,
                uncertainty=value.uncertainty,
                specimen=value.specimen,
                method=value.method,
                conditions=value.conditions,
                source=source(value.source),
                canonical=CanonicalOut(
                    min=low, max=high, unit=definition.canonical_unit if definition else ""
                ),
            )
        )
    return MaterialOut(
        id=material.id,
        name=material.name,
        synonyms=list(material.synonyms),
        material_class=material.material_class.value,
        subclass=material.subclass,
        description=material.description,
        degradable=material.degradable,
        composition=[
            ComponentOut(component=c.component, fraction=c.fraction, basis=c.basis.value)
            for c in material.composition
        ],
        applications=[a.value for a in material.applications],
        properties=properties,
        summary=summary_out(material),
        biocompatibility=[
            BiocompatibilityOut(
                endpoint=b.endpoint.value,
                standard=b.standard,
                result=b.result.value,
                source=source(b.source),
            )
            for b in material.biocompatibility
        ],
        regulatory=[
            RegulatoryOut(
                jurisdiction=r.jurisdiction.value,
                pathway=r.pathway,
                status=r.status.value,
                identifier=r.identifier,
                device_class=r.device_class,
                product_code=r.product_code,
                device_name=r.device_name,
                decision_date=r.decision_date,
                organization=organization_ref(orgs.get(r.organization)) if r.organization else None,
                source=source(r.source),
            )
            for r in material.regulatory
        ],
        suppliers=[
            SupplierOut(
                organization=organization_ref(orgs[s.organization]),
                trade_name=s.trade_name,
                grade=s.grade,
                form=s.form,
            )
            for s in material.suppliers
        ],
        status=status,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
    )
