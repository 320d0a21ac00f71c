"""HTTP: the Ashby chart (a property map) of the materials a search matches."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from biomatdb import catalogue
from biomatdb.api import negotiation
from biomatdb.api.deps import SessionDep
from biomatdb.api.params import UnitsQuery
from biomatdb.api.wire import problem_responses
from biomatdb.charts import render, service
from biomatdb.charts.schemas import AshbyChartOut, Scale
from biomatdb.search.request import SearchRequest, search_endpoint
from biomatdb.units import MAX_UNIT_LENGTH
from biomatdb.units.output import OutputUnits

router = APIRouter(prefix="/api/v1/charts", tags=["choosing"])

SVG = "image/svg+xml"
JSON = "application/json"
FORMATS = {"svg": SVG, "json": JSON}
#: The axes take the keys of the property catalogue (the OpenAPI ``enum``).
PROPERTY_KEYS = [p.key for p in catalogue.CATALOGUE]
KEY_HELP = "A property key of the catalogue (/api/v1/properties), e.g. "


@router.get(
    "/ashby",
    response_model=AshbyChartOut,
    response_model_by_alias=True,
    responses={
        200: {
            "description": f"The chart ({SVG}, the default), or its data ({JSON}).",
            "content": {SVG: {"schema": {"type": "string"}}},
        },
        **problem_responses(400, 406),
    },
)
@search_endpoint
def ashby_chart(
    request: Request,
    session: SessionDep,
    search: SearchRequest,
    x: Annotated[
        str,
        Query(
            description=KEY_HELP + "density",
            max_length=64,
            examples=["density"],
            json_schema_extra={"enum": PROPERTY_KEYS},
        ),
    ],
    y: Annotated[
        str,
        Query(
            description=KEY_HELP + "youngs_modulus",
            max_length=64,
            examples=["youngs_modulus"],
            json_schema_extra={"enum": PROPERTY_KEYS},
        ),
    ],
    xunit: Annotated[
        str | None,
        Query(
            description="Unit of the x axis (default: the property's canonical unit); any "
            "unit of the property's dimension, e.g. kg/m^3",
            max_length=MAX_UNIT_LENGTH,
            examples=["kg/m^3"],
        ),
    ] = None,
    yunit: Annotated[
        str | None,
        Query(
            description="Unit of the y axis, as xunit",
            max_length=MAX_UNIT_LENGTH,
            examples=["MPa"],
        ),
    ] = None,
    scale: Annotated[Scale, Query(description="Scale of both axes")] = "log",
    output: Annotated[
        Literal["svg", "json"] | None,
        Query(
            alias="format",
            description=f"svg or json: overrides the Accept header ({SVG} unless it "
            f"prefers {JSON})",
        ),
    ] = None,
    units: UnitsQuery = None,
) -> Response:
    """An Ashby chart: every published material matching the search filters that has
    both properties, as the box from its minimum to its maximum on both axes (a dot
    for a single value), coloured by class, each mark titled with the material's name.

    The answer is SVG unless `format=json` or the Accept header prefers
    `application/json` (then the plotted data: per material its x and y min, typical
    and max in the chart's units, to the significant digits of its sources, at least
    3). An Accept that allows neither (and no `*/*`) is a 406.

    * Axis units: `xunit` / `yunit`, else the unit `units` gives the property
      (`units=youngs_modulus:MPa`), else the canonical unit.

    * Filters are those of `GET /api/v1/materials`. `sort`, `limit`, `cursor` and
      `facets` are checked as there but do not change the chart: it plots every match.
    * At most 20,000 materials: beyond, a 400 asks to narrow the filters.
    * On a log scale (the default) a material with a value <= 0 cannot be placed: it
      is left out and counted (`meta.skipped`; a note under the SVG).
    * 400 for an unknown property (`x`, `y`) or a unit that is unknown or of another
      dimension (`xunit`, `yunit`), each named in `errors`.
    """
    chosen = negotiation.choose(request.headers.get("accept"), output, FORMATS)
    query = search.to_query()
    out = OutputUnits.parse(units)
    x_axis, y_axis = service.parse_axes(
        x, y, xunit or out.chosen_unit(x), yunit or out.chosen_unit(y), scale
    )
    chart = service.chart(session, query, x_axis, y_axis)
    headers = {"Vary": "Accept"}
    if chosen == "json":
        return Response(orjson.dumps(service.chart_json(chart)), media_type=JSON, headers=headers)
    return Response(render.svg(chart), media_type=SVG, headers=headers)
