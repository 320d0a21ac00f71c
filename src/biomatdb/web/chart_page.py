"""``/chart``: the Ashby chart of a search's materials (``GET /api/v1/charts/ashby``).

The page is a GET form, so its URL is the whole chart. Its fields: ``x`` and ``y``
(property keys; default ``density`` and ``youngs_modulus``), ``xunit`` and
``yunit`` (default: canonical), ``scale`` (``log``, the default, or ``linear``),
and the search filters as the search page sends them ("Chart these": ``q``,
``class``, ``application``, ``prop`` ... and the picker's ``pk``/``pmin``/``pmax``/
``pu``). Any other parameter goes to the API as it is, which names it if it does not
know it.

The chart is the API's own SVG, inline, each material's mark wrapped in a link to
its page (``<a href="/materials/ID">``: a click opens it without JavaScript; the
mark's ``<title>`` is the tooltip). Under it, a table of the plotted materials from
the same API's JSON (``format=json``), for screen readers and keyboards.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from biomatdb import catalogue
from biomatdb.web import client
from biomatdb.web.forms import PICKER_FIELDS, SEARCH_PARAMETERS, SearchForm
from biomatdb.web.rank_page import Problem, candidates_context, filter_problem, status_of
from biomatdb.web.render import link, page, safe_svg
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

CHART_API = "/api/v1/charts/ashby"
#: The chart's own fields (besides the search filters).
CHART_FIELDS = ("x", "y", "xunit", "yunit", "scale")
DEFAULT_X, DEFAULT_Y = "density", "youngs_modulus"
SCALES = (("log", "Logarithmic"), ("linear", "Linear"))
#: Most rows the table of plotted materials shows (the JSON link has them all).
TABLE_MAX = 200
#: A material's mark in the API's SVG (its name is XML-escaped: no ``<`` inside).
_MARK = re.compile(r'<g class="material[^"]*" data-id="([^"]*)">.*?</g>', re.DOTALL)
_LABELS = {
    "x": "Horizontal axis (x)",
    "y": "Vertical axis (y)",
    "xunit": "Unit of x",
    "yunit": "Unit of y",
    "scale": "Scale",
}


def linked_marks(svg: str) -> str:
    """The API's SVG document as markup for a page: from ``<svg`` on (no XML
    declaration, no doctype), each material's mark wrapped in a link to its page."""

    def wrap(mark: re.Match[str]) -> str:
        slug = quote(html.unescape(mark.group(1)), safe="")
        return f'<a href="/materials/{slug}">{mark.group(0)}</a>'

    start = svg.find("<svg")
    return _MARK.sub(wrap, svg[start:] if start >= 0 else svg)


def chart_problem(path: str, message: str) -> Problem:
    """A problem of the chart's parameters mapped to the form's field."""
    if path in _LABELS:
        return Problem(path, _LABELS[path], message, path)
    if path.partition("[")[0] in SEARCH_PARAMETERS:
        return filter_problem(path, message)
    return Problem(None, f"Parameter {path}" if path else "The chart", message, path)


@router.get("/chart")
async def chart_page(request: Request) -> Response:
    params = request.query_params
    form = SearchForm.read(params)
    user = await signed_in_user(request)
    axes = {
        "x": params.get("x", "").strip() or DEFAULT_X,
        "y": params.get("y", "").strip() or DEFAULT_Y,
        "xunit": params.get("xunit", "").strip(),
        "yunit": params.get("yunit", "").strip(),
        "scale": params.get("scale", "").strip() or "log",
    }
    own = {*CHART_FIELDS, *SEARCH_PARAMETERS, *PICKER_FIELDS, "format"}
    # Everything the page does not read goes to the API, which names what it does not
    # know (a typo is shown, never silently dropped).
    passed = {
        name: params.getlist(name) for name in dict.fromkeys(params.keys()) if name not in own
    }
    query: dict[str, Any] = {**form.api_filters(), **axes, **passed}
    data_answer = await client.call(request, "GET", CHART_API, params={**query, "format": "json"})
    data: dict[str, Any] | None = data_answer.json() if data_answer.ok else None
    answer = data_answer
    svg = ""
    if data is not None:
        answer = await client.call(
            request, "GET", CHART_API, params={**query, "format": "svg"}, accept="image/svg+xml"
        )
        if answer.ok:
            svg = linked_marks(answer.body.decode())
    problems = [chart_problem(p["path"], p["message"]) for p in answer.problems]
    if not answer.ok and not problems:
        problems = [Problem(None, "The chart", answer.detail or "failed", "")]
    context: dict[str, Any] = {
        **candidates_context(form),
        "axes": axes,
        "known_keys": {p.key for p in catalogue.CATALOGUE},
        "scales": SCALES,
        "problems": problems,
        "invalid": {p.field for p in problems if p.field},
        "svg": safe_svg(svg) if svg else None,
        "data": data,
        "rows": data["data"][:TABLE_MAX] if data else [],
        "svg_link": link(CHART_API, {**query, "format": "svg"}),
        "json_link": link(CHART_API, {**query, "format": "json"}),
    }
    return page(request, "chart.html", context, status_code=status_of(answer), signed_in=user)
