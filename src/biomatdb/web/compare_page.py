"""``/compare``: materials side by side (``GET /api/v1/compare``), one row per property
and one column per material; with fewer than two ids, a form to pick them (by id, or
by ticking the results of a search)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from biomatdb import catalogue
from biomatdb.web import client
from biomatdb.web.render import link, page
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

#: The compare endpoint takes 2 to 20 ids.
MIN_IDS = 2
MAX_IDS = 20
#: Search results offered to tick.
PICK_LIMIT = 50
#: Longest search text sent (the API's own limit is larger; a longer one is a typo).
MAX_QUERY = 500
_COMMAS = re.compile(r"\s*,\s*")
_COMMAS_OR_SPACES = re.compile(r"[\s,]+")


def joined(params: QueryParams, name: str, *, spaces: bool = False) -> str:
    """A parameter given once as a comma list, or repeated (ticked boxes), as one comma
    list, each item once, in order; ``spaces``: white space separates items too (ids
    typed by hand), otherwise it is kept inside an item (a unit such as ``kg / m^3``)."""
    split = _COMMAS_OR_SPACES if spaces else _COMMAS
    items: list[str] = []
    for value in params.getlist(name):
        items.extend(part.strip() for part in split.split(value) if part.strip())
    return ",".join(dict.fromkeys(items))


@router.get("/compare")
async def compare_page(request: Request) -> Response:
    user = await signed_in_user(request)
    ids = joined(request.query_params, "ids", spaces=True)
    properties = joined(request.query_params, "properties")
    units = joined(request.query_params, "units")
    q = request.query_params.get("q", "").strip()[:MAX_QUERY]
    chosen = ids.split(",") if ids else []
    status = 200
    problems: list[dict[str, str]] = []
    comparison: dict[str, Any] | None = None
    # Picking (a search for more to tick) with fewer than two ids is not yet a request
    # to compare: no error then for the one id chosen so far.
    if chosen and not (q and len(chosen) < MIN_IDS):
        answer = await client.call(
            request,
            "GET",
            "/api/v1/compare",
            params={"ids": ids, "properties": properties or None, "units": units or None},
        )
        if answer.ok:
            comparison = answer.json()["data"]
        else:
            problems = answer.problems
            status = answer.status if 400 <= answer.status < 500 else 502
    names = {m["id"]: m["name"] for m in comparison["materials"]} if comparison else {}
    picks: list[dict[str, Any]] = []
    pick_problems: list[dict[str, str]] = []
    if q:
        found = await client.call(
            request, "GET", "/api/v1/materials", params={"q": q, "limit": str(PICK_LIMIT)}
        )
        if found.ok:
            picks = found.json()["data"]
            names.update({m["id"]: m["name"] for m in picks})
        else:
            pick_problems = found.problems
    if len(chosen) < MIN_IDS:
        for one in chosen:
            if one not in names:  # the one id a material page sends: its name to tick
                path = f"/api/v1/materials/{quote(one, safe='')}"
                seen = await client.call(request, "GET", path)
                if seen.ok:
                    names[one] = seen.json()["name"]
    # What the picker offers to tick: the ids chosen (ticked), then the search's others.
    offered = [{"id": i, "name": names.get(i, i), "class": "", "checked": True} for i in chosen]
    offered += [
        {"id": m["id"], "name": m["name"], "class": m["class"], "checked": False}
        for m in picks
        if m["id"] not in chosen
    ]
    context: dict[str, Any] = {
        "ids": ids,
        "chosen": chosen,
        "properties": properties,
        "units": units,
        "q": q,
        "problems": problems,
        "pick_problems": pick_problems,
        "comparison": comparison,
        "offered": offered,
        "searched": bool(q),
        "found": len(picks),
        "min_ids": MIN_IDS,
        "max_ids": MAX_IDS,
        "catalogue": catalogue.CATALOGUE,
        "json_link": link(
            "/api/v1/compare",
            {"ids": ids, "properties": properties or None, "units": units or None},
        )
        if comparison
        else None,
    }
    return page(request, "compare.html", context, status_code=status, signed_in=user)
