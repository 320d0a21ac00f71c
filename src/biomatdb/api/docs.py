"""The API's documentation pages, Swagger UI (``/docs``) and ReDoc (``/redoc``), with
their scripts, styles and icon served by the service itself (``/static/...``), so that
they work on a network without the internet (no CDN, no web fonts).

The assets are vendored from npm (``swagger-ui-dist`` 5, ``redoc`` 2) with their
licences, under ``biomatdb/static/`` (they ship in the wheel); see its README.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
SWAGGER_JS = "/static/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/swagger-ui/swagger-ui.css"
FAVICON = "/static/swagger-ui/favicon-32x32.png"
REDOC_JS = "/static/redoc/redoc.standalone.js"


def install(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Mount ``/static`` and add the two pages (the app is built with
    ``docs_url=None, redoc_url=None``; the pages are not in the OpenAPI document)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    oauth2_redirect_url = f"{docs_url}/oauth2-redirect"

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=base + str(app.openapi_url),
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=base + oauth2_redirect_url,
            swagger_js_url=base + SWAGGER_JS,
            swagger_css_url=base + SWAGGER_CSS,
            swagger_favicon_url=base + FAVICON,
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(
            openapi_url=base + str(app.openapi_url),
            title=f"{app.title} - ReDoc",
            redoc_js_url=base + REDOC_JS,
            redoc_favicon_url=base + FAVICON,
            with_google_fonts=False,
        )
