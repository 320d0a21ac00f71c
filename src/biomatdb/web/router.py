"""The pages and their assets, added to the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from biomatdb.web import (
    chart_page,
    compare_page,
    curate_page,
    material_page,
    rank_page,
    search_page,
)

ASSETS = Path(__file__).resolve().parent / "assets"
PAGES = (
    search_page.router,
    material_page.router,
    compare_page.router,
    rank_page.router,
    chart_page.router,
    curate_page.router,
)


def install(app: FastAPI) -> None:
    """Include the pages and mount ``/assets``, after the API's routers (a request is
    matched against routes in order). The pages are not under the API's strict
    parameter check: a page reads its own query and passes to the API, which is
    strict, whatever it does not read."""
    for pages in PAGES:
        app.include_router(pages)
    app.mount("/assets", StaticFiles(directory=ASSETS), name="assets")
