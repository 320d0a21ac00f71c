"""``/materials/{id}``: one material, whole, as the API gives it: every value as
published and canonical with its conditions and citation, suppliers, regulatory
records of devices, biocompatibility; for a signed-in reader its status and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from biomatdb import catalogue
from biomatdb.web import client, security
from biomatdb.web.render import link, number, page
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

#: How a qualifier reads in front of a value.
QUALIFIERS = {"=": "", "~": "≈ ", ">=": "≥ ", "<=": "≤ "}
#: Between the bounds of a range (an en dash).
DASH = "\u2013"
#: Longest before/after text of a change shown in the history (the version is linked).
CHANGE_TEXT = 300


@router.get("/materials/{material_id}")
async def material_page(request: Request, material_id: str) -> Response:
    user = await signed_in_user(request)
    key = security.key_of(request) if user else None
    units = ",".join(u.strip() for u in request.query_params.getlist("units") if u.strip())
    path = f"/api/v1/materials/{quote(material_id, safe='')}"
    answer = await client.call(request, "GET", path, params={"units": units or None}, key=key)
    unit_problems: list[dict[str, str]] = []
    if answer.status == 400 and units:
        # Units the API refuses: say why beside the units field, and show the material
        # in its canonical units.
        unit_problems = answer.problems
        answer = await client.call(request, "GET", path, key=key)
    if not answer.ok:
        status = answer.status if 400 <= answer.status < 500 else 502
        missing: dict[str, Any] = {
            "material": None,
            "material_id": material_id,
            "problems": answer.problems,
            "status": status,
            "search_link": link("/", {"q": material_id}),
        }
        return page(request, "material.html", missing, status_code=status, signed_in=user)
    material = answer.json()
    history = None
    if user is not None:
        found = await client.call(request, "GET", f"{path}/history", key=key)
        history = found.json() if found.ok else None
    context: dict[str, Any] = {
        "material": material,
        "groups": value_groups(material),
        "units": units,
        "chosen": chosen_keys(units),
        "unit_problems": unit_problems,
        "history": history,
        "compare_link": link("/compare", {"ids": material["id"]}),
        "json_link": link(path, {"units": None if unit_problems else units or None}),
        "canonical_link": link(request.url.path) if units else None,
        "doi_url": doi_url,
        "web_url": web_url,
        "value_text": value_text,
        "plain": plain,
        "when": when,
        "change_text": change_text,
    }
    status = 400 if unit_problems else 200
    return page(request, "material.html", context, status_code=status, signed_in=user)


def value_groups(material: dict[str, Any]) -> list[dict[str, Any]]:
    """The material's values by property, in catalogue order (then any other key), each
    with the property's name, canonical (or chosen) unit and summary."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for value in material.get("properties") or []:
        by_key.setdefault(str(value["property"]), []).append(value)
    order = {p.key: n for n, p in enumerate(catalogue.CATALOGUE)}
    summary = material.get("summary") or {}
    groups = []
    for key in sorted(by_key, key=lambda k: (order.get(k, len(order)), k)):
        values = by_key[key]
        summarised = summary.get(key)
        groups.append(
            {
                "key": key,
                "name": property_name(key),
                "unit": summarised["unit"] if summarised else values[0]["canonical"]["unit"],
                "summary": summarised,
                "values": values,
            }
        )
    return groups


def chosen_keys(units: str) -> set[str]:
    """The property keys that ``units=KEY:UNIT,...`` names."""
    return {part.partition(":")[0].strip() for part in units.split(",") if ":" in part}


def property_name(key: str) -> str:
    definition = catalogue.get(key)
    return definition.name if definition is not None else key


def value_text(value: dict[str, Any]) -> str:
    """A value as published: ``≥ 860 MPa``, ``100\u2013125 GPa``, ``0.55 ± 0.03 MPa``."""
    unit = value.get("unit") or ""
    low, high, single = value.get("min"), value.get("max"), value.get("value")
    if single is not None:
        text = number(single)
    elif low is not None and high is not None:
        text = number(low) if low == high else f"{number(low)}{DASH}{number(high)}"
    elif low is not None:
        text = f"from {number(low)}"
    elif high is not None:
        text = f"up to {number(high)}"
    else:
        text = ""
    if value.get("uncertainty") is not None:
        text += f" ± {number(value['uncertainty'])}"
    qualifier = QUALIFIERS.get(str(value.get("qualifier") or "="), f"{value.get('qualifier')} ")
    return f"{qualifier}{text} {unit}".strip()


def doi_url(doi: str) -> str:
    """The resolver link of a DOI (each character that is not safe in a path quoted)."""
    return "https://doi.org/" + quote(doi, safe="/:;()")


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) address (a link to anything else is not made)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def plain(value: Any) -> str:
    """A JSON value as text: strings as they are, numbers as numbers, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    if isinstance(value, int | float):
        return number(value)
    return orjson.dumps(value).decode()


def change_text(value: Any) -> str:
    """A history change's before or after, shortened when long."""
    text = "(none)" if value is None else plain(value)
    return text if len(text) <= CHANGE_TEXT else text[: CHANGE_TEXT - 1] + "…"


def when(stamp: str | None) -> str:
    """An API time stamp as ``2026-01-31 14:05 UTC``."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M UTC")
