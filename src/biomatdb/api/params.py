"""Query parameters that several endpoints share (declared once, documented alike)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from biomatdb.units.output import MAX_LENGTH, PARAMETER_DOC

#: ``units=youngs_modulus:kPa,density:kg/m^3`` (parsed by ``OutputUnits.parse``).
UnitsQuery = Annotated[
    str | None,
    Query(
        description=PARAMETER_DOC,
        max_length=MAX_LENGTH,
        openapi_examples={"hydrogel": {"value": "youngs_modulus:kPa,density:kg/m^3"}},
    ),
]

#: ``format=json|csv|ndjson``: the answer's format, over the Accept header.
FormatQuery = Annotated[
    Literal["json", "csv", "ndjson"] | None,
    Query(
        description="json (a page), csv or ndjson (every match, streamed); overrides the "
        "Accept header (text/csv, application/x-ndjson)"
    ),
]
