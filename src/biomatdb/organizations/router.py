"""HTTP: organizations (suppliers, manufacturers ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select, true
from sqlalchemy.orm import joinedload

from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListEnvelope, ListMeta, problem_responses
from biomatdb.auth.deps import OptionalPrincipal
from biomatdb.errors import NotFound
from biomatdb.materials.render import reference_out
from biomatdb.models import Material, Organization, RegulatoryRecord, SupplierOffering
from biomatdb.organizations.schemas import (
    MaterialBrief,
    OfferingOut,
    OrganizationDetail,
    OrganizationOut,
    OrganizationRegulatoryOut,
)
from biomatdb.search import cursor as cursors
from biomatdb.search.params import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.vocab import MaterialStatus, OrganizationKind, values

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


def _out(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.slug, name=org.name, kind=org.kind, country=org.country, website=org.website
    )


@router.get("", response_model=ListEnvelope[OrganizationOut], responses=problem_responses(400, 401))
def list_organizations(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2 code, e.g. JP")] = None,
    kind: Annotated[str | None, Query(description="manufacturer, supplier, ...")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ListEnvelope[OrganizationOut]:
    """Organizations by id, optionally of one country or kind. Without a key: only public
    ones (named by a published material, or approved by an editor)."""
    from biomatdb.errors import FieldProblem, InvalidParameter
    from biomatdb.search.params import _country

    problems: list[FieldProblem] = []
    where = [] if principal is not None else [Organization.public == true()]
    if country is not None:
        code = _country(country, problems)
        where.append(Organization.country == code)
    if kind is not None:
        if kind not in values(OrganizationKind):
            problems.append(
                FieldProblem(
                    "kind",
                    f"unknown kind {kind!r}; choose from " + ", ".join(values(OrganizationKind)),
                )
            )
        where.append(Organization.kind == kind)
    if problems:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    fingerprint = f"org:{country}:{kind}"
    stmt = select(Organization).where(*where).order_by(Organization.slug)
    if cursor:
        after = cursors.decode(cursor, fingerprint)
        if len(after) != 1 or not isinstance(after[0], str):
            raise InvalidParameter(
                "cursor is not valid",
                errors=[FieldProblem("cursor", "is not a cursor from this API")],
            )
        stmt = stmt.where(Organization.slug > after[0])
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = cursors.encode(fingerprint, [rows[limit - 1].slug]) if len(rows) > limit else None
    total = session.scalar(select(func.count()).select_from(Organization).where(*where)) or 0
    return ListEnvelope[OrganizationOut](
        data=[_out(o) for o in rows[:limit]],
        meta=ListMeta(total=total, next_cursor=next_cursor),
        links=page_links(request, next_cursor),
    )


@router.get(
    "/{organization_id}",
    response_model=OrganizationDetail,
    responses={**problem_responses(401, 404), 304: {"description": "Not modified"}},
)
def get_organization(
    organization_id: str, request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """One organization, what it supplies and the regulatory records that name it.
    Without a key, one that is not public yet is 404."""
    where = [] if principal is not None else [Organization.public == true()]
    org = session.scalars(
        select(Organization).where(Organization.slug == organization_id, *where)
    ).one_or_none()
    if org is None:
        raise NotFound(
            f"no organization has id {organization_id!r}; list them at /api/v1/organizations"
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
        .where(RegulatoryRecord.organization_id == org.id, published)
        .order_by(Material.sort_name, Material.slug, RegulatoryRecord.position)
    ).all()

    def brief(m: Material) -> MaterialBrief:
        return MaterialBrief(id=m.slug, name=m.name, material_class=m.material_class)

    detail = OrganizationDetail(
        **_out(org).model_dump(),
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
                device_name=r.device_name,
                decision_date=r.decision_date.isoformat() if r.decision_date else None,
                source=reference_out(r.reference),
            )
            for r in records
        ],
    )
    return json_with_etag(request, detail.model_dump(mode="json", by_alias=True))
