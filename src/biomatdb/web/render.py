"""HTML out: the Jinja2 environment of the pages (autoescaping everything) and the
answer that every page returns."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from biomatdb import __version__
from biomatdb.web import security
from biomatdb.web.client import Params, query_string


@functools.cache
def environment() -> Environment:
    """One environment per process. Autoescape on for every template: names and
    descriptions come from uploads, so ``<script>`` in a name renders as text."""
    env = Environment(
        loader=PackageLoader("biomatdb.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["number"] = number
    env.filters["urlpart"] = lambda text: quote(str(text), safe="")
    env.globals["query"] = query_string
    env.globals["version"] = __version__
    return env


def number(value: Any) -> str:
    """A value as the API gives it (already rounded to its significant digits), without
    a trailing ``.0`` on whole numbers; '' for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}".replace(",", "\u2009")
        return f"{value:g}" if abs(value) >= 1e6 or abs(value) < 1e-4 else repr(value)
    return str(value)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    signed_in: dict[str, str] | None = None,
) -> HTMLResponse:
    """The rendered page; a CSRF token cookie is set when the browser has none (every
    form that writes carries the token, see :mod:`biomatdb.web.security`)."""
    token, fresh = security.csrf_token(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            path=request.url.path,
            csrf=token,
            signed_in=signed_in,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["cache-control"] = "no-store" if signed_in else "no-cache"
    if fresh:
        security.set_csrf_cookie(request, response, token)
    return response


def link(path: str, params: Params | None = None) -> str:
    """``path?query`` for a link or a redirect."""
    query = query_string(params)
    return f"{path}?{query}" if query else path


def safe_svg(svg: str) -> Markup:
    """Mark SVG written by the service (the chart: every text in it is XML-escaped
    by :mod:`biomatdb.charts.render`) as safe to put in a page."""
    return Markup(svg)
