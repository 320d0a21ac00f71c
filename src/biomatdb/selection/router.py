"""HTTP: choosing between materials (compare)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from biomatdb.api.deps import SessionDep
from biomatdb.api.wire import problem_responses
from biomatdb.selection import service
from biomatdb.selection.schemas import ComparisonOut

router = APIRouter(prefix="/api/v1", tags=["choosing"])


@router.get("/compare", response_model=ComparisonOut, responses=problem_responses(400, 404))
def compare(
    session: SessionDep,
    ids: Annotated[
        str,
        Query(
            description=f"{service.MIN_IDS} to {service.MAX_IDS} published material ids, "
            "comma-separated, e.g. ti-6al-4v-eli,cocrmo-astm-f75",
            max_length=3000,
        ),
    ],
    properties: Annotated[
        str | None,
        Query(
            description="Comma list of property keys to show (default: every property "
            "that at least one of the materials has)",
            max_length=1000,
        ),
    ] = None,
) -> Response:
    """Materials side by side: one row per property, each material's min, max, typical
    value and count in the canonical unit, or null where it has none."""
    comparison = service.compare(
        session, service.parse_ids(ids), service.parse_properties(properties)
    )
    body = ComparisonOut(data=comparison).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json")
