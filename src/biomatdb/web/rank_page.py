"""``/rank``: rank candidates by several criteria at once (``POST /api/v1/rank``).

The page is a GET form, so its URL is the whole ranking (shareable, bookmarkable).
Its fields:

* The candidates, as the search page sends them ("Rank these"): the API's search
  filters ``q``, ``class``, ``application``, ``degradable``, ``prop``
  (``KEY:MIN..MAX[:UNIT]``), ``regulatory``, ``supplier``, ``country``,
  ``specimen`` (the search page's property picker ``pk``/``pmin``/``pmax``/``pu``
  is read too and becomes ``prop``), and / or ``ids`` (material ids, comma- or
  space-separated, repeatable). Both given: the intersection; neither: every
  published material. They become the body's ``filter`` and ``ids``.
* The criteria, one row each, repeated together: ``ck`` (property key), ``cg``
  (goal: ``max``, ``min`` or ``target``), ``ct`` (the target value), ``cu`` (the
  target's unit, default canonical), ``cw`` (weight, default equal). A row counts
  when any of ``ck``, ``ct``, ``cu``, ``cw`` is filled; the filled rows become
  ``criteria[0]``, ``criteria[1]`` ... in order (and are shown first).
* ``method`` (``topsis``, ``vikor``, ``waspas``, ``weighted_sum``), ``v`` (VIKOR's
  weight of group utility) and ``lambda`` (WASPAS's weight of the sum model).

A form without criteria shows the form (and the candidates), nothing else. Numbers
go to the API as typed: it names what is wrong (a 422 whose paths are mapped back
to the form's fields, each problem linked to its field).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from biomatdb import catalogue
from biomatdb.vocab import Application, MaterialClass
from biomatdb.web import client
from biomatdb.web.forms import COMMON_UNITS, SearchForm
from biomatdb.web.render import link, number, page
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

#: The criteria rows' fields, one value per row.
CRITERION_FIELDS = ("ck", "cg", "ct", "cu", "cw")
#: Rows the form shows at least (the filled ones, then empty ones up to this).
CRITERIA_ROWS = 3
#: Most criteria rows read from a URL (the API takes at most 20 criteria).
MAX_CRITERIA_ROWS = 20
GOALS = (
    ("max", "Higher is better (max)"),
    ("min", "Lower is better (min)"),
    ("target", "Closest to a target"),
)
METHODS = (
    ("topsis", "TOPSIS (target-based)"),
    ("vikor", "VIKOR (comprehensive; lower score is better)"),
    ("waspas", "WASPAS"),
    ("weighted_sum", "Weighted sum"),
)
#: Filters that take one value (the others are lists in the API's JSON filter).
SINGLE_FILTERS = ("q", "degradable")
#: Filters the form shows as fields; the others ride along as hidden fields.
EDITABLE_FILTERS = ("q", "class", "application", "prop")
#: Most ranked rows and excluded candidates shown (the API ranks up to 10,000).
SHOWN_MAX = 200
#: A number as typed that is sent as a JSON number (anything else is sent as text,
#: for the API to name the problem).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INDEX = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+))?")
#: The fields of a criterion row by the body's field name.
_CRITERION_PATHS = {
    "property": "ck",
    "name": "ck",
    "values": "ck",
    "goal": "cg",
    "target": "ct",
    "unit": "cu",
    "weight": "cw",
}
_CRITERION_LABELS = {"ck": "property", "cg": "goal", "ct": "target", "cu": "unit", "cw": "weight"}


@dataclass(frozen=True, slots=True)
class CriterionRow:
    """One criterion as typed."""

    key: str = ""
    goal: str = "max"
    target: str = ""
    unit: str = ""
    weight: str = ""

    @property
    def filled(self) -> bool:
        return bool(self.key or self.target or self.unit or self.weight)

    def as_json(self) -> dict[str, Any]:
        criterion: dict[str, Any] = {"goal": self.goal or "max"}
        if self.key:
            criterion["property"] = self.key
        if self.target:
            criterion["target"] = as_number(self.target)
        if self.unit:
            criterion["unit"] = self.unit
        if self.weight:
            criterion["weight"] = as_number(self.weight)
        return criterion


def as_number(text: str) -> float | str:
    """A typed number as a JSON number; other text as it is (the API names it)."""
    if _NUMBER.fullmatch(text) and math.isfinite(value := float(text)):
        return value
    return text


def read_rows(params: QueryParams) -> list[CriterionRow]:
    """The filled criteria rows of a URL, in order."""
    columns = [params.getlist(name)[:MAX_CRITERIA_ROWS] for name in CRITERION_FIELDS]
    rows = [
        CriterionRow(*(value.strip() for value in row))
        for row in zip_longest(*columns, fillvalue="")
    ]
    return [row for row in rows if row.filled]


def read_ids(params: QueryParams) -> list[str] | None:
    """``ids`` as a list (None when no id is given)."""
    ids = [one for text in params.getlist("ids") for one in re.split(r"[\s,]+", text) if one]
    return ids or None


# --- the candidates (shared with the chart page) ---------------------------------------


def filter_json(filters: dict[str, list[str]]) -> dict[str, Any]:
    """The API's JSON ``filter`` of a form's filters (single ones as strings)."""
    return {
        name: values[0] if name in SINGLE_FILTERS else values for name, values in filters.items()
    }


def summary(filters: dict[str, list[str]], ids: list[str] | None = None) -> list[str]:
    """The candidates in words, one phrase per filter."""
    parts: list[str] = []
    if ids is not None:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        parts.append(f"{len(ids)} chosen material{'s' * (len(ids) != 1)} ({shown})")
    for name, values in filters.items():
        if name == "q":
            parts.append(f"matching \u201c{values[0]}\u201d")
        elif name == "prop":
            parts.extend(prop_phrase(text) for text in values)
        elif name == "degradable":
            parts.append("degradable" if values[0].lower() == "true" else "not degradable")
        elif name == "country":
            parts.append("supplier country " + " or ".join(values))
        else:
            shown_values = (value.replace("_", " ") for value in values)
            parts.append(f"{name} " + " or ".join(shown_values))
    return parts or ["every published material"]


def prop_phrase(text: str) -> str:
    """``youngs_modulus:10..30:GPa`` as "Young's modulus 10-30 GPa" (en dash; else as given)."""
    key, _, rest = text.partition(":")
    bounds, _, unit = rest.partition(":")
    low, dots, high = bounds.partition("..")
    definition = catalogue.get(key)
    if definition is None or not dots:
        return text
    unit = unit or definition.canonical_unit
    if low and high:
        shown = f"{low}\u2013{high}"
    elif low:
        shown = f"\u2265 {low}"
    elif high:
        shown = f"\u2264 {high}"
    else:
        return f"with a {definition.name.lower()}"
    return f"{definition.name} {shown} {unit}"


def candidates_context(form: SearchForm, ids: list[str] | None = None) -> dict[str, Any]:
    """What the templates' candidates fieldset shows."""
    filters = form.api_filters()
    return {
        "filters": filters,
        "hidden_filters": {n: v for n, v in filters.items() if n not in EDITABLE_FILTERS},
        "props": [*filters.get("prop", []), ""],
        "summary": summary(filters, ids),
        "search_link": link("/", filters),
        "classes": [c.value for c in MaterialClass],
        "applications": [a.value for a in Application],
        "catalogue": catalogue.CATALOGUE,
        "units": COMMON_UNITS,
    }


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem of the API's answer, as the page shows it: the field to fix (its
    id, to link to), a label for it, the message, and the API's path."""

    field: str | None
    label: str
    message: str
    path: str


def filter_problem(path: str, message: str, *, prefix: str = "") -> Problem:
    """A problem of a search filter (``q``, ``prop[1]``), ``prefix`` removed."""
    inner = path.removeprefix(prefix)
    match = _INDEX.match(inner)
    name = match.group(1) if match else inner
    if name == "prop" and match:
        return Problem(f"prop{int(match.group(2)) + 1}", "Property range", message, path)
    fields = {"q": "q", "class": "class-fieldset", "application": "application-fieldset"}
    label = {"q": "Text"}.get(name, f"Filter {name}" if name else "Filter")
    return Problem(fields.get(name), label, message, path)


def rank_problem(path: str, message: str) -> Problem:
    """A problem of the rank body mapped to the form (``criteria[0].unit`` -> cu1)."""
    match = _INDEX.match(path)
    if path.startswith("criteria"):
        if match and match.group(1) == "criteria":
            number = int(match.group(2)) + 1
            row_field = _CRITERION_PATHS.get(match.group(3) or "", "ck")
            what = _CRITERION_LABELS[row_field] if match.group(3) else ""
            label = f"Criterion {number}" + (f", {what}" if what else "")
            return Problem(f"{row_field}{number}", label, message, path)
        return Problem("ck1", "Criteria", message, path)
    if path.startswith("filter"):
        return filter_problem(path, message, prefix="filter.")
    if path.startswith("ids"):
        index = f" {int(match.group(2)) + 1}" if match else ""
        return Problem("ids", f"Material id{index}", message, path)
    fields: dict[str, tuple[str | None, str]] = {
        "method": ("method", "Method"),
        "params.v": ("v", "VIKOR v"),
        "params.lambda": ("lambda", "WASPAS \u03bb"),
    }
    field, shown = fields.get(path, (None, "The request"))
    return Problem(field, shown, message, path)


def status_of(answer: client.Answer) -> int:
    """The page's status: 200, the API's 4xx, or 502 for the API's failure."""
    if answer.ok:
        return 200
    return answer.status if 400 <= answer.status < 500 else 502


# --- the page ------------------------------------------------------------------------


@router.get("/rank")
async def rank_page(request: Request) -> Response:
    params = request.query_params
    form = SearchForm.read(params)
    ids = read_ids(params)
    rows = read_rows(params)
    method = params.get("method", "").strip() or "topsis"
    v, lam = params.get("v", "").strip(), params.get("lambda", "").strip()
    user = await signed_in_user(request)
    result: dict[str, Any] | None = None
    problems: list[Problem] = []
    status = 200
    if rows:
        body: dict[str, Any] = {"method": method, "criteria": [r.as_json() for r in rows]}
        filters = form.api_filters()
        if filters:
            body["filter"] = filter_json(filters)
        if ids is not None:
            body["ids"] = ids
        method_params = {
            name: as_number(value) for name, value in (("v", v), ("lambda", lam)) if value
        }
        if method_params:
            body["params"] = method_params
        answer = await client.call(request, "POST", "/api/v1/rank", body=orjson.dumps(body))
        status = status_of(answer)
        if answer.ok:
            result = answer.json()
        else:
            problems = [rank_problem(p["path"], p["message"]) for p in answer.problems]
            if not problems:
                problems = [Problem(None, "The ranking", answer.detail or "failed", "")]
    shown_rows = [*rows, *[CriterionRow()] * max(CRITERIA_ROWS - len(rows), 1)]
    context: dict[str, Any] = {
        **candidates_context(form, ids),
        "ids": ", ".join(ids or []),
        "rows": shown_rows,
        "goals": GOALS,
        "methods": METHODS,
        "method": method,
        "v": v,
        "lam": lam,
        "problems": problems,
        "invalid": {p.field for p in problems if p.field},
        "ranking": _ranking(result) if result else None,
        "asked": bool(rows),
    }
    return page(request, "rank.html", context, status_code=status, signed_in=user)


def _ranking(result: dict[str, Any]) -> dict[str, Any]:
    """The answer as the results table shows it: a column per criterion."""
    meta = result["meta"]
    columns = []
    for used in meta["criteria"]:
        definition = catalogue.get(used["criterion"])
        name = definition.name if definition else used["criterion"]
        goal = {
            "max": "higher is better",
            "min": "lower is better",
            "target": f"closest to {number(used['target'])} {used['unit'] or ''}",
        }[used["goal"]]
        columns.append({**used, "name": name, "goal": goal.strip()})
    items = result["data"]
    return {
        "columns": columns,
        "ranked": items[:SHOWN_MAX],
        "total": meta["total"],
        "excluded": meta["excluded"][:SHOWN_MAX],
        "excluded_total": len(meta["excluded"]),
        "method": meta["method"],
        "lower_is_better": meta["method"] == "vikor",
        "has_details": any(item["details"] for item in items),
        "names": {
            used["criterion"]: col["name"]
            for used, col in zip(meta["criteria"], columns, strict=True)
        },
    }
