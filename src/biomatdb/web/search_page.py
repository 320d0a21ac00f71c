"""``/``: search, filters with facet counts, results, and the way on to the tools."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from biomatdb import catalogue
from biomatdb.vocab import Application, Jurisdiction, MaterialClass, RegulatoryStatus
from biomatdb.web import client
from biomatdb.web.forms import COMMON_UNITS, PICKER_FIELDS, SearchForm
from biomatdb.web.render import link, page
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

FACETS = "class,application,regulatory,country,degradable"
#: Parameters of the page that are not filters but go to the API as they are.
PAGING = ("sort", "cursor", "limit")
#: Rows per page unless the URL asks otherwise (the API allows up to 200).
PAGE_SIZE = 20
#: Most results that "compare these" sends (the compare endpoint takes 2 to 20).
COMPARE_MAX = 20


@router.get("/")
async def search_page(request: Request) -> Response:
    form = SearchForm.read(request.query_params)
    user = await signed_in_user(request)
    # Everything the page does not read itself goes to the API, which refuses what it
    # does not know (a typo is named on the page, never silently dropped).
    passed = {
        name: request.query_params.getlist(name)
        for name in dict.fromkeys(request.query_params.keys())
        if name not in PICKER_FIELDS and name not in form.values
    }
    params: dict[str, Any] = {
        **form.api_filters(),
        "limit": str(PAGE_SIZE),
        **passed,
        "facets": FACETS,
        "units": form.units() or None,
    }
    answer = await client.call(request, "GET", "/api/v1/materials", params=params)
    found = answer.json() if answer.ok else None
    keep = {**form.page_params(), **{k: v for k, v in passed.items() if k in ("sort", "limit")}}
    filters = form.api_filters()
    context: dict[str, Any] = {
        "form": form,
        "problems": answer.problems,
        "found": found,
        "items": found["data"] if found else [],
        "facets": (found["meta"].get("facets") or {}) if found else {},
        # Facets the API is still counting (a large database): shown as "…", not 0.
        "pending": (found["meta"].get("facets_pending") or []) if found else [],
        "columns": [catalogue.get(key) for key in form.filtered_keys()],
        "catalogue": catalogue.CATALOGUE,
        "units": COMMON_UNITS,
        "classes": [c.value for c in MaterialClass],
        "applications": [a.value for a in Application],
        "regulatory_choices": _regulatory_choices(),
        "sort": request.query_params.get("sort", ""),
        "sorts": _sorts(form),
        "next_link": link("/", {**keep, "cursor": found["meta"]["next_cursor"]})
        if found and found["meta"].get("next_cursor")
        else None,
        "first_link": link("/", keep) if request.query_params.get("cursor") else None,
        "suggestions": [
            (text, link("/", {**keep, "q": text}))
            for text in (found["meta"].get("did_you_mean") or [] if found else [])
        ],
        "compare_link": link(
            "/compare", {"ids": ",".join(i["id"] for i in found["data"][:COMPARE_MAX])}
        )
        if found and len(found["data"]) >= 2
        else None,
        "rank_link": link("/rank", filters),
        "chart_link": link("/chart", filters),
        "csv_link": link(
            "/api/v1/materials", {**filters, "format": "csv", "units": form.units() or None}
        ),
        "searched": bool(request.query_params),
    }
    status = 200 if answer.ok else (answer.status if 400 <= answer.status < 500 else 502)
    return page(request, "search.html", context, status_code=status, signed_in=user)


def _regulatory_choices() -> list[tuple[str, str]]:
    """(value, label) of the regulatory filter: each jurisdiction, then with a status."""
    choices = [(j.value, f"{j.value}: any status") for j in Jurisdiction]
    for jurisdiction in Jurisdiction:
        for status in RegulatoryStatus:
            choices.append(
                (f"{jurisdiction.value}:{status.value}", f"{jurisdiction.value}: {status.value}")
            )
    return choices


def _sorts(form: SearchForm) -> list[tuple[str, str]]:
    sorts = [("", "Name, A to Z"), ("-name", "Name, Z to A"), ("-updated_at", "Recently updated")]
    if form.one("q"):
        sorts.insert(0, ("relevance", "Relevance"))
    for key in form.filtered_keys():
        definition = catalogue.get(key)
        if definition is not None:
            sorts.append((f"prop:{key}", f"{definition.name}, low to high"))
            sorts.append((f"-prop:{key}", f"{definition.name}, high to low"))
    return sorts
