"""HTTP: references and what cites them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from sqlalchemy import func, select, true, union

from biomatdb.api.deps import SessionDep
from biomatdb.api.etag import json_with_etag
from biomatdb.api.links import page_links
from biomatdb.api.wire import ListEnvelope, ListMeta, WireModel, problem_responses
from biomatdb.auth.deps import OptionalPrincipal
from biomatdb.errors import FieldProblem, InvalidParameter, NotFound
from biomatdb.materials.render import reference_out
from biomatdb.materials.schemas import ReferenceOut
from biomatdb.models import (
    BiocompatibilityResultRow,
    Material,
    PropertyValue,
    Reference,
    RegulatoryRecord,
)
from biomatdb.search import cursor as cursors
from biomatdb.search.params import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.vocab import MaterialStatus

router = APIRouter(prefix="/api/v1/references", tags=["references"])


class CitingMaterial(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")
    property_values: int = Field(description="How many of its property values cite it.")


class ReferenceDetail(ReferenceOut):
    cited_by: list[CitingMaterial] = Field(description="Published materials that cite it.")


@router.get("", response_model=ListEnvelope[ReferenceOut], responses=problem_responses(400, 401))
def list_references(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ListEnvelope[ReferenceOut]:
    """All references, by id. Without a key: only public ones (cited by a published
    material, or approved by an editor)."""
    where = [] if principal is not None else [Reference.public == true()]
    stmt = select(Reference).where(*where).order_by(Reference.slug)
    if cursor:
        after = cursors.decode(cursor, "references")
        if len(after) != 1 or not isinstance(after[0], str):
            raise InvalidParameter(
                "cursor is not valid",
                errors=[FieldProblem("cursor", "is not a cursor from this API")],
            )
        stmt = stmt.where(Reference.slug > after[0])
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = (
        cursors.encode("references", [rows[limit - 1].slug]) if len(rows) > limit else None
    )
    total = session.scalar(select(func.count()).select_from(Reference).where(*where)) or 0
    return ListEnvelope[ReferenceOut](
        data=[reference_out(r) for r in rows[:limit]],
        meta=ListMeta(total=total, next_cursor=next_cursor),
        links=page_links(request, next_cursor),
    )


@router.get(
    "/{reference_id}",
    response_model=ReferenceDetail,
    responses={**problem_responses(401, 404), 304: {"description": "Not modified"}},
)
def get_reference(
    reference_id: str, request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """A reference and the published materials that cite it. Without a key, one that is
    not public yet is 404."""
    where = [] if principal is not None else [Reference.public == true()]
    reference = session.scalars(
        select(Reference).where(Reference.slug == reference_id, *where)
    ).one_or_none()
    if reference is None:
        raise NotFound(f"no reference has id {reference_id!r}; list them at /api/v1/references")
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
    detail = ReferenceDetail(
        **base.model_dump(),
        cited_by=[
            CitingMaterial(id=slug, name=name, material_class=cls, property_values=n)
            for slug, name, cls, n in rows
        ],
    )
    return json_with_etag(request, detail.model_dump(mode="json", by_alias=True))
