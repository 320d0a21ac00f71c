"""HTTP: choosing between materials (compare, rank)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from biomatdb.api.body import JSON, read_json
from biomatdb.api.deps import SessionDep
from biomatdb.api.params import UnitsQuery
from biomatdb.api.wire import problem_responses
from biomatdb.selection import ranking, service
from biomatdb.selection.schemas import ComparisonOut, RankOut
from biomatdb.settings import get_settings
from biomatdb.units.output import OutputUnits

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
            examples=["ti-6al-4v-eli,cocrmo-astm-f75"],
        ),
    ],
    properties: Annotated[
        str | None,
        Query(
            description="Comma list of property keys to show (default: every property "
            "that at least one of the materials has)",
            max_length=1000,
            examples=["youngs_modulus,density"],
        ),
    ] = None,
    units: UnitsQuery = None,
) -> Response:
    """Materials side by side: one row per property, each material's min, max, typical
    value and count in the canonical unit (or the one asked for in `units`), or null
    where it has none."""
    comparison = service.compare(
        session,
        service.parse_ids(ids),
        service.parse_properties(properties),
        OutputUnits.parse(units),
    )
    body = ComparisonOut(data=comparison).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json")


@router.post(
    "/rank",
    response_model=RankOut,
    responses=problem_responses(413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/RankIn"}}},
        }
    },
)
async def rank(request: Request, session: SessionDep) -> Response:
    """Rank candidates by several criteria at once (multi-criteria decision making).

    Candidates come from `ids` and / or `filter` (the intersection when both are
    given; every published material when neither is); at most 10,000. Methods:
    `topsis` (target-based, Jahan et al. 2012), `vikor` (comprehensive VIKOR, Jahan
    et al. 2011; lower score is better), `waspas` and `weighted_sum`. Candidates
    lacking a value are listed in `meta.excluded`. Every problem of the body is one
    422 with a path per problem (`criteria[1].unit`, `filter.prop[0]`).
    """
    raw = await read_json(request, accept=(JSON,), limit=get_settings().max_body_bytes)
    body = ranking.parse(raw)
    result = await run_in_threadpool(ranking.rank, session, body)
    return Response(orjson.dumps(result), media_type="application/json")
