"""HTTP: the long table of property values."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from biomatdb import catalogue
from biomatdb.api import negotiation
from biomatdb.api.deps import SessionDep
from biomatdb.api.links import page_links
from biomatdb.api.params import FormatQuery, UnitsQuery
from biomatdb.api.wire import problem_responses
from biomatdb.kit.timefmt import iso_utc_or_none
from biomatdb.search.counts import last_updated
from biomatdb.search.request import FILTER_PARAMETERS, SearchRequest, taking
from biomatdb.units.output import OutputUnits
from biomatdb.values import service
from biomatdb.values.schemas import ValuesPage

router = APIRouter(prefix="/api/v1", tags=["materials"])
FORMATS = negotiation.TABLE_FORMATS


@router.get(
    "/values",
    response_model=ValuesPage,
    responses={
        **problem_responses(400, 406),
        200: {
            "description": "One page of value rows (JSON), or every row (CSV, NDJSON).",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    },
)
@taking(*FILTER_PARAMETERS, "limit", "cursor")
def list_values(
    request: Request,
    session: SessionDep,
    search: SearchRequest,
    properties: Annotated[
        str | None,
        Query(
            description="Comma list of property keys to list (default: all)",
            max_length=1000,
            examples=["youngs_modulus,density"],
        ),
    ] = None,
    units: UnitsQuery = None,
    format: FormatQuery = None,
) -> Response:
    """Every property value of the published materials the filters match, one row per
    value (material id and name, property, value / min / max as given with its unit,
    the canonical interval and unit, qualifier, uncertainty, specimen, method,
    conditions, evidence, citation and DOI), ordered by material id, property and
    position. JSON is keyset-paginated; CSV and NDJSON (`Accept` or `format`) stream
    every row. With `specimen`, only the values of those specimens are listed."""
    chosen = negotiation.choose(request.headers.get("accept"), format, FORMATS)
    search_query = search.to_query()
    query = service.ValuesQuery(
        search_query, catalogue.keys_of(properties), OutputUnits.parse(units)
    )
    if chosen != "json":
        writer = service.csv if chosen == "csv" else service.ndjson
        return negotiation.streamed_file(writer(session, query), chosen, "values")
    rows, total, next_cursor = service.page(
        session, query, after=search.cursor, limit=search_query.limit
    )
    links = page_links(request, next_cursor)
    return Response(
        orjson.dumps(
            {
                "data": rows,
                "meta": {
                    "total": total,
                    "next_cursor": next_cursor,
                    "last_updated": iso_utc_or_none(last_updated(session)),
                },
                "links": {"self": links.self, "next": links.next},
            }
        ),
        media_type="application/json",
    )
