"""Reading organizations: the list (by country and kind), and one organization with
what it supplies and the regulatory records that name it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session, joinedload

from biomatdb.errors import FieldProblem, InvalidParameter, NotFound
from biomatdb.kit.keyset import Page, slug_page
from biomatdb.models import Material, Organization, RegulatoryRecord, SupplierOffering, lookup
from biomatdb.organizations.schemas import (
    MaterialBrief,
    OfferingOut,
    OrganizationDetail,
    OrganizationRegulatoryOut,
    organization_out,
)
from biomatdb.references.schemas import reference_out
from biomatdb.search.filters import country_code
from biomatdb.vocab import MaterialStatus, OrganizationKind, values


def _visible(public_only: bool) -> list[ColumnElement[bool]]:
    # Without a key only public organizations show (named by a published material,
    # or approved by an editor); a key sees all, as it sees drafts.
    return [Organization.public == true()] if public_only else []


def list_organizations(
    session: Session,
    *,
    public_only: bool,
    country: list[str] | None,
    kind: list[str] | None,
    cursor: str | None,
    limit: int,
) -> Page[Organization]:
    """Organizations by id, optionally of some countries or kinds (each OR); 400 naming
    every bad filter."""
    problems: list[FieldProblem] = []
    where = _visible(public_only)
    for name, given in (("country", country), ("kind", kind)):
        if given and len(set(given)) > MAX_TERMS:
            problems.append(FieldProblem(name, f"at most {MAX_TERMS} values; got {len(given)}"))
    countries = sorted({c for c in (country_code(c, problems) for c in country or []) if c})
    if countries:
        where.append(Organization.country.in_(countries))
    kinds = sorted(set(kind or []))
    for unknown in (k for k in kinds if k not in values(OrganizationKind)):
        problems.append(
            FieldProblem(
                "kind",
                f"unknown kind {unknown!r}; choose from " + ", ".join(values(OrganizationKind)),
            )
        )
    if kinds:
        where.append(Organization.kind.in_(kinds))
    if problems:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    return slug_page(
        session,
        Organization,
        Organization.slug,
        where,
        fingerprint=_fingerprint(countries, kinds),
        cursor=cursor,
        limit=limit,
    )


#: At most this many values of ``country`` or ``kind``.
MAX_TERMS = 20


def _fingerprint(countries: list[str], kinds: list[str]) -> str:
    """What a cursor is bound to; one value (or none) is written as before repeats
    existed, so that earlier cursors stay valid."""

    def part(values: list[str]) -> str:
        return "None" if not values else values[0] if len(values) == 1 else "|".join(values)

    return f"org:{part(countries)}:{part(kinds)}"


def organization_detail(session: Session, slug: str, *, public_only: bool) -> OrganizationDetail:
    """One organization, with what it supplies and the regulatory records naming it (of
    published materials); 404 when absent or hidden."""
    org = session.scalars(
        select(Organization).where(Organization.slug == slug, *_visible(public_only))
    ).one_or_none()
    if org is None:
        near = lookup.near_id(session, Organization.slug, slug, *_visible(public_only))
        raise NotFound(
            f"no organization has id {slug!r}{lookup.hint(near)}; list them at "
            "/api/v1/organizations"
        )
    published = Material.status == MaterialStatus.published.value
    offerings = session.scalars(
        select(SupplierOffering)
        .join(SupplierOffering.material)
        .options(joinedload(SupplierOffering.material))
        .where(SupplierOffering.organization_id == org.id, published)
        .order_by(Material.sort_name, Material.slug, SupplierOffering.position)
    ).all()
    records = session.scalars(
        select(RegulatoryRecord)
        .join(RegulatoryRecord.material)
        .options(joinedload(RegulatoryRecord.material), joinedload(RegulatoryRecord.reference))
        .where(
            or_(
                RegulatoryRecord.organization_id == org.id,
                RegulatoryRecord.notified_body_id == org.id,
            ),
            published,
        )
        .order_by(Material.sort_name, Material.slug, RegulatoryRecord.position)
    ).all()

    def brief(m: Material) -> MaterialBrief:
        return MaterialBrief(id=m.slug, name=m.name, material_class=m.material_class)

    return OrganizationDetail(
        **organization_out(org).model_dump(),
        supplies=[
            OfferingOut(
                material=brief(o.material), trade_name=o.trade_name, grade=o.grade, form=o.form
            )
            for o in offerings
        ],
        regulatory=[
            OrganizationRegulatoryOut(
                material=brief(r.material),
                jurisdiction=r.jurisdiction,
                pathway=r.pathway,
                status=r.status,
                identifier=r.identifier,
                device_class=r.device_class,
                product_code=r.product_code,
                gmdn=r.gmdn,
                device_name=r.device_name,
                decision_date=r.decision_date.isoformat() if r.decision_date else None,
                role="notified_body" if r.notified_body_id == org.id else "holder",
                source=reference_out(r.reference),
            )
            for r in records
        ],
    )
