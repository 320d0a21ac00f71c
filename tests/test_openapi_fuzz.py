"""Property-based fuzzing of the read API against its own OpenAPI document (schemathesis).

Every GET operation of ``/openapi.json`` is exercised in-process (ASGI, no server)
against the test database of ``conftest.py`` (migrated, holding the search fixture
bundle, every test rolled back). Checks on every response: no 5xx, status code and
content type documented, body valid against the documented schema, and (our own
check) every problem+json body a valid RFC 9457 problem whose ``status`` is the
response status.

Generation is bounded (``MAX_EXAMPLES`` per operation, plus schemathesis' coverage
and explicit-example phases) and deterministic (fixed seed, derandomized Hypothesis,
no example database), so a CI failure reproduces locally.

The rest of the file is hand-written adversarial input: hostile ``q`` / ``prop`` /
other parameters of ``/api/v1/materials``, forged cursors, hostile path ids, each
answered 200 (or 404 for ids), or 400 as problem+json, never 5xx; plus a walk of
every detail resource and a search test with valid parameters only, validated by
the same schemathesis checks (random data almost never names an existing id or a
valid filter, so the fuzzer alone would leave those 200 schemas unchecked).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import orjson
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from biomatdb import catalogue, units
from biomatdb.api import problems
from biomatdb.api.deps import get_session
from biomatdb.api.wire import Problem
from biomatdb.app import create_app
from biomatdb.kit import cursor as cursors
from biomatdb.search.params import FACETS
from biomatdb.vocab import Application, Jurisdiction, MaterialClass, RegulatoryStatus, values
from tests.helpers import search_query

# Property-based over the whole read API: `make test` and CI run it, `make test-fast` not.
pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40
SEED = 20240517
PROBLEM = "application/problem+json"
ON_POSTGRES = bool(os.environ.get("BIOMATDB_TEST_DATABASE_URL"))  # as conftest.py decides
BUNDLE = json.loads(
    (Path(__file__).parent / "fixtures" / "search_bundle.json").read_text(encoding="utf-8")
)

READ_OPERATIONS = {
    "/health",
    "/ready",
    "/metrics",
    "/api/v1/materials",
    "/api/v1/materials/{material_id}",
    "/api/v1/organizations",
    "/api/v1/organizations/{organization_id}",
    "/api/v1/references",
    "/api/v1/references/{reference_id}",
    "/api/v1/properties",
    "/api/v1/properties/{key}",
    "/api/v1/vocabularies",
    "/api/v1/compare",
    "/api/v1/charts/ashby",
    "/api/v1/values",
    "/api/v1/info",
    "/problems/{problem_type}",
    # Need a key: fuzzed anonymously they answer 401 problems (writes: tests/test_curation*).
    "/api/v1/materials/{material_id}/history",
    "/api/v1/materials/{material_id}/history/{version}",
    "/api/v1/changes",
    "/api/v1/drafts",
    "/api/v1/me",
    "/api/v1/quality",
}

# --- the app, bound to the test's session -----------------------------------------------


def fuzz_config(seed: int = SEED, max_examples: int = MAX_EXAMPLES) -> schemathesis.Config:
    """Bounded, reproducible generation (positive and negative data)."""
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "generation": {
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
        }
    )


def bind(app: FastAPI, session: Session) -> None:
    """Every request of ``app`` reads through ``session`` (as conftest's ``client`` does)."""

    def override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = override


# The schema is loaded eagerly, from an app built at import time (building it and
# serving /openapi.json touch no database). ``schemathesis.pytest.from_fixture`` would
# be the natural lazy alternative, but schemathesis 4.32's LazySchema reads
# ``request.node._nodeid``, which pytest 9.2 no longer has (AttributeError at run
# time), so instead the ``fuzz_app`` fixture points this app at each test's session.
FUZZ_APP = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ_APP, config=fuzz_config())


@pytest.fixture
def fuzz_app(session: Session) -> Iterator[FastAPI]:
    bind(FUZZ_APP, session)
    try:
        yield FUZZ_APP
    finally:
        FUZZ_APP.dependency_overrides.clear()


_PROBLEM_VALIDATOR = jsonschema_rs.validator_for(Problem.model_json_schema())


def problem_details_conformance(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Every error is a valid problem+json document whose status is the response's.

    Independent of the OpenAPI document, so it holds even while BUG-1 keeps
    schemathesis from validating problem bodies.
    """
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert content_type == PROBLEM, f"{response.status_code} answered as {content_type!r}"
    body = json.loads(response.content)
    errors = [e.message for e in _PROBLEM_VALIDATOR.iter_errors(body)]
    assert not errors, f"not a problem document: {errors}"
    assert body["status"] == response.status_code, body
    slug = body["type"].removeprefix("/problems/")
    assert body["type"] == f"/problems/{slug}", body["type"]
    assert slug in problems.PROBLEM_DOCS, body["type"]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_details_conformance,
]


# --- the fuzzer -------------------------------------------------------------------------


@pytest.mark.usefixtures("fuzz_app")
@schema.include(method="GET").parametrize()
def test_read_api_conforms_to_openapi(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_every_get_operation_is_fuzzed() -> None:
    """The fuzz test covers the whole read API: a GET route missing from the document,
    or a new one, is noticed here (and then listed in READ_OPERATIONS)."""
    document = create_app().openapi()
    gets = {path for path, item in document["paths"].items() if "get" in item}
    assert gets == READ_OPERATIONS
    fuzzed = {result.ok().path for result in schema.include(method="GET").get_all_operations()}
    assert fuzzed == READ_OPERATIONS


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_ref_of_the_openapi_document_resolves() -> None:
    document = create_app().openapi()
    dangling = set()
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                dangling.add(ref)
                break
            node = node[part]
    assert not dangling, f"$refs to nothing: {sorted(dangling)}"


# --- valid requests, checked by the same schemathesis checks ----------------------------


def call(
    path: str,
    *,
    query: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> schemathesis.Response:
    """One request through schemathesis (so its checks apply), validated."""
    case = schema[path]["GET"].Case(
        query=query or {}, path_parameters=path_parameters or {}, headers=headers or {}
    )
    return case.call_and_validate(checks=CHECKS)


def listed_ids(path: str) -> list[str]:
    ids: list[str] = []
    query: dict[str, Any] = {"limit": 2}
    while True:
        response = call(path, query=query)
        assert response.status_code == 200
        body = response.json()
        ids += [item["id"] for item in body["data"]]
        if body["meta"]["next_cursor"] is None:
            assert len(ids) == len(set(ids)) == body["meta"]["total"], (path, ids)
            return ids
        query = {"limit": 2, "cursor": body["meta"]["next_cursor"]}


@pytest.mark.usefixtures("fuzz_app")
def test_every_detail_resource_conforms() -> None:
    """Each listed resource's detail (and its 304 on a matching ETag) is as documented."""
    published = sorted(m["id"] for m in BUNDLE["materials"] if m["status"] == "published")
    materials = listed_ids("/api/v1/materials")
    assert sorted(materials) == published
    organizations = listed_ids("/api/v1/organizations")
    assert sorted(organizations) == sorted(o["id"] for o in BUNDLE["organizations"])
    references = listed_ids("/api/v1/references")
    assert sorted(references) == sorted(r["id"] for r in BUNDLE["references"])
    properties = [p["key"] for p in call("/api/v1/properties").json()["data"]]
    assert properties == [p.key for p in catalogue.CATALOGUE]
    details = (
        [("/api/v1/materials/{material_id}", "material_id", i) for i in materials]
        + [("/api/v1/organizations/{organization_id}", "organization_id", i) for i in organizations]
        + [("/api/v1/references/{reference_id}", "reference_id", i) for i in references]
        + [("/api/v1/properties/{key}", "key", k) for k in properties]
    )
    for path, name, value in details:
        response = call(path, path_parameters={name: value})
        assert response.status_code == 200, (path, value)
        etag = response.headers["etag"][0]
        again = call(path, path_parameters={name: value}, headers={"If-None-Match": etag})
        assert again.status_code == 304, (path, value)
        assert again.content == b""
    for slug in problems.PROBLEM_DOCS:
        response = call("/problems/{problem_type}", path_parameters={"problem_type": slug})
        assert response.status_code == 200, slug
    draft = next(m["id"] for m in BUNDLE["materials"] if m["status"] != "published")
    assert (
        call("/api/v1/materials/{material_id}", path_parameters={"material_id": draft}).status_code
        == 404
    )


def _units_by_property() -> dict[str, list[str]]:
    candidates = [
        "GPa",
        "MPa",
        "kPa",
        "Pa",
        "psi",
        "ksi",
        "N/mm²",
        "g/cc",
        "g/cm³",
        "kg/m^3",
        "%",
        "dimensionless",
        "°",
        "degree",
        "rad",
        "°C",
        "℃",
        "K",
        "°F",
        "µm",
        "μm",
        "mm",
        "nm",
        "month",
        "months",
        "week",
        "days",
        "year",
        "MPa·m½",
        "MPa√m",
        "MPa*m^0.5",
        "HV",
        "kgf/mm^2",
    ]
    found: dict[str, list[str]] = {}
    for definition in catalogue.CATALOGUE:
        usable = []
        for unit in candidates:
            try:
                units.conversion(unit, definition.key)
            except units.UnitError:
                continue
            usable.append(unit)
        found[definition.key] = usable
    return found


UNITS_BY_PROPERTY = _units_by_property()
BOUND = st.one_of(
    st.none(),
    st.integers(-50, 3000),
    st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: round(x, 4)),
)


@st.composite
def property_ranges(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(sorted(UNITS_BY_PROPERTY)))
    low, high = draw(BOUND), draw(BOUND)
    if low is not None and high is not None and low > high:
        low, high = high, low
    text = f"{key}:{'' if low is None else low}..{'' if high is None else high}"
    unit = draw(st.none() | st.sampled_from(UNITS_BY_PROPERTY[key] or [None]))
    return text if unit is None else f"{text}:{unit}"


NAME_WORDS = sorted({w for m in BUNDLE["materials"] for w in m["name"].split()})
SORTS = ["name", "-name", "updated_at", "-updated_at"] + [
    f"{sign}prop:{p.key}" for p in catalogue.CATALOGUE for sign in ("", "-")
]
VALID_SEARCH = st.fixed_dictionaries(
    # small pages, so most searches take several pages (and their cursors)
    {"limit": st.sampled_from([1, 2, 3, 5, 200])},
    optional={
        "q": st.lists(
            st.sampled_from([*NAME_WORDS, "TITANIUM", "alloy", "nothing"]), min_size=1, max_size=3
        ).map(" ".join),
        "class": st.lists(st.sampled_from(values(MaterialClass)), max_size=2),
        "application": st.lists(st.sampled_from(values(Application)), max_size=2),
        "degradable": st.sampled_from(["true", "false"]),
        "prop": st.lists(property_ranges(), max_size=2),
        "regulatory": st.lists(
            st.sampled_from(
                values(Jurisdiction)[:3]
                + [f"{j}:{s}" for j in values(Jurisdiction)[:3] for s in values(RegulatoryStatus)]
            ),
            max_size=2,
        ),
        "supplier": st.sampled_from([*(o["id"] for o in BUNDLE["organizations"]), "nobody"]),
        "country": st.sampled_from(["IT", "JP", "US", "it", "FR"]),
        "sort": st.sampled_from(SORTS),
        "facets": st.lists(st.sampled_from(FACETS), unique=True, max_size=5).map(",".join),
    },
)


@pytest.mark.usefixtures("fuzz_app")
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=VALID_SEARCH)
def test_valid_searches_conform_and_paginate(query: dict[str, Any]) -> None:
    """Valid filters are accepted; every page conforms; the pages partition the total."""
    seen: list[str] = []
    page_query = dict(query)
    for _ in range(60):
        response = call("/api/v1/materials", query=page_query)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
        page_query = {**query, "cursor": cursor}
    assert len(seen) == len(set(seen)) == body["meta"]["total"], (query, seen)


@pytest.mark.usefixtures("fuzz_app")
@pytest.mark.parametrize("sort", SORTS)
def test_pages_follow_the_unpaginated_order(sort: str) -> None:
    """Keyset pages of 2 (ties, materials without the property, descending orders)
    concatenate to exactly the one-page answer."""
    whole = call("/api/v1/materials", query={"sort": sort, "limit": 200}).json()
    expected = [item["id"] for item in whole["data"]]
    assert len(expected) == whole["meta"]["total"]
    paged: list[str] = []
    query: dict[str, Any] = {"sort": sort, "limit": 2}
    for _ in range(len(expected) + 1):
        body = call("/api/v1/materials", query=query).json()
        paged += [item["id"] for item in body["data"]]
        if body["meta"]["next_cursor"] is None:
            break
        query = {"sort": sort, "limit": 2, "cursor": body["meta"]["next_cursor"]}
    assert paged == expected


# --- hand-written adversarial queries on /api/v1/materials ------------------------------

ADVERSARIAL_Q = [
    '"NEAR(a b)" OR * : & | ! ( ) \'',
    "titanium & | ! ( ) : * ' \"",
    "a:* & b:*",
    "NEAR(titanium alloy, 2)",
    "material_fts:titanium",
    "document:titanium OR 1=1",
    "{document}: titanium",
    "titanium NOT alloy AND ^ -x +y",
    '"""',
    "'; DROP TABLE materials; --",
    "!!!",
    "''",
    "<->",
    "titanium <-> alloy <2> x",
    "\\",
    "%",
    "_",
    "*",
    "()",
    "a" * 1000,  # max_length
    "中" * 1000,  # one 3000-byte word
    "x " * 32,
    "x y " * 17,  # 34 words but 2 distinct
    " ".join(f"w{i}" for i in range(32)),  # MAX_QUERY_WORDS distinct words
    "ﬃ" * 1000,  # NFKD expands to 3000 characters
    "Ti‑6Al‑4V",
    "café CAFÉ Café",
    "Zürich Ωμέγα Привет 東京 العربية עברית",
    "🦴🧪💉",
    "\u0301\u0301\u0301",  # lone combining accents
    "\u200b\u200d\ufeff",  # zero-width characters
    "\u202etitanium",  # right-to-left override
    "titanium\x00alloy",
    "\x00",
    "\x01\x1f\x7f",
    "\ud7ff\ue000\uffff",
    "𝕥𝕚𝕥𝕒𝕟𝕚𝕦𝕞",  # mathematical letters (NFKD: titanium)
    "٣٤٥ ١٢",  # Arabic-Indic digits
    "²³½",
    "",
    " ",
]


def get_materials(client: TestClient, params: dict[str, Any] | str) -> Any:
    if isinstance(params, str):
        return client.get(f"/api/v1/materials?{params}")
    return client.get("/api/v1/materials", params=params)


def assert_answered(response: Any, what: str, *, ok: int = 200) -> None:
    """``ok`` (200, or 404 for ids) as documented, or a 400 problem document."""
    allowed = {ok, 400}
    assert response.status_code in allowed, (what, response.status_code, response.text[:2000])
    content_type = response.headers["content-type"].split(";")[0].strip()
    body = response.json()
    if response.status_code >= 400:
        assert content_type == PROBLEM, (what, content_type)
        errors = [e.message for e in _PROBLEM_VALIDATOR.iter_errors(body)]
        assert not errors, (what, errors, body)
        assert body["status"] == response.status_code, (what, body)
        assert body["detail"], (what, body)
    else:
        assert content_type == "application/json", (what, content_type)
        if "data" in body and "meta" in body:
            assert isinstance(body["data"], list), (what, body)
            assert isinstance(body["meta"]["total"], int), (what, body)


@pytest.mark.parametrize("q", ADVERSARIAL_Q, ids=range(len(ADVERSARIAL_Q)))
def test_adversarial_full_text_query(client: TestClient, q: str) -> None:
    assert_answered(get_materials(client, {"q": q}), repr(q))
    # The same text with the facets and a property sort on top.
    assert_answered(
        get_materials(client, {"q": q, "facets": ",".join(FACETS), "sort": "-prop:density"}),
        repr(q),
    )


def test_query_syntax_is_never_interpreted(client: TestClient) -> None:
    """Operators and quotes are word breaks: these queries mean the same as their words."""
    plain = get_materials(client, {"q": "titanium"})
    assert plain.status_code == 200
    ids = [m["id"] for m in plain.json()["data"]]
    assert ids
    for noisy in (
        '"titanium"',
        "titanium:*",
        "(titanium)",
        "!titanium",
        "titanium & |",
        "TITANIUM'",
        "  titanium\t\n",
        "𝕥𝕚𝕥𝕒𝕟𝕚𝕦𝕞",
        "ti\x00tanium".replace("\x00", ""),
    ):
        response = get_materials(client, {"q": noisy})
        assert response.status_code == 200, (noisy, response.text)
        assert [m["id"] for m in response.json()["data"]] == ids, noisy


def test_too_many_words_is_a_400(client: TestClient) -> None:
    response = get_materials(client, {"q": " ".join(f"w{i}" for i in range(33))})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert [e["path"] for e in response.json()["errors"]] == ["q"]


def test_query_longer_than_max_length_is_a_400(client: TestClient) -> None:
    response = get_materials(client, {"q": "a" * 1001})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert [e["path"] for e in response.json()["errors"]] == ["q"]


ADVERSARIAL_PROP = [
    "youngs_modulus:10..30:GPa",
    "youngs_modulus:10..30:ＧＰａ",  # fullwidth letters
    "youngs_modulus:10..30:µPa",
    "youngs_modulus:10..30:μPa",
    "youngs_modulus:10..30:N/mm²",
    "youngs_modulus:10..30:kN·mm⁻²",
    "youngs_modulus:10..30:GPa·m½",
    "youngs_modulus:10..30:°C",
    "youngs_modulus:10..30:℃",
    "youngs_modulus:10..30:🦴",
    "youngs_modulus:10..30:\u0000",
    "youngs_modulus:10..30:GPa\u0000",
    "youngs_modulus:10..30:\u202eaPG",
    "youngs_modulus:10..30:\u200bGPa",
    "youngs_modulus:10..30:GPa**GPa**GPa",
    "youngs_modulus:10..30:GPa^1e308",
    "youngs_modulus:10..30:GPa^-1",
    "youngs_modulus:10..30:10**400 * Pa",
    "youngs_modulus:10..30:1e400 Pa",
    "youngs_modulus:10..30:1e-400 Pa",
    "youngs_modulus:10..30:__import__('os')",
    "youngs_modulus:10..30:Pa)",
    "youngs_modulus:10..30:(((((((((Pa",
    "youngs_modulus:10..30:" + "k" * 500 + "Pa",
    "youngs_modulus:10..30:" + "(" * 300 + "Pa" + ")" * 300,
    "youngs_modulus:10..30:" + "Pa*" * 300 + "1",
    "youngs_modulus:10..30:[Pa]",
    "youngs_modulus:10..30:Pa/0",
    "youngs_modulus:10..30:0 Pa",
    "youngs_modulus:10..30:degC",
    "youngs_modulus:10..30:%",
    "youngs_modulus:10..30:",
    "youngs_modulus:10..30: ",
    "youngs_modulus:10..30:GPa:extra",
    "youngs_modulus:1e308..1e308:GPa",
    "youngs_modulus:-1e308..1e308:TPa",
    "youngs_modulus:1e308..:YPa",
    "youngs_modulus:1e-320..1e-310:GPa",
    "youngs_modulus:nan..inf",
    "youngs_modulus:-inf..",
    "youngs_modulus:0x10..0x20",
    "youngs_modulus:１..３",  # fullwidth digits (float() accepts them)
    "youngs_modulus:٣..٤",  # Arabic-Indic digits (float() accepts them)
    "youngs_modulus:1_0..3_0",
    "youngs_modulus:..",
    "youngs_modulus:30..10",
    "youngs_modulus:....",
    "youngs_modulus",
    ":",
    "::",
    "\u0000:\u0000..\u0000:\u0000",
    "density:..5:g/cc",
    "density:..5:g/cm³",
    "density:..5:kg·m⁻³",
    "density:..5:lb/ft^3",
    "water_contact_angle:10..80:°",
    "water_contact_angle:10..80:rad",
    "water_contact_angle:10..80:%",
    "porosity:10..80:%",
    "porosity:10..80:degree",
    "fracture_toughness:1..5:MPa√m",
    "fracture_toughness:1..5:MPa m½",
    "fracture_toughness:1..5:MPa·m^(1/2)",
    "glass_transition_temperature:-50..50:°F",
    "glass_transition_temperature:-1e308..1e308:°F",
    "glass_transition_temperature:0..1:K",
    "glass_transition_temperature:-1e308..:degR",
]


@pytest.mark.parametrize("prop", ADVERSARIAL_PROP, ids=range(len(ADVERSARIAL_PROP)))
def test_adversarial_property_range(client: TestClient, prop: str) -> None:
    assert_answered(get_materials(client, {"prop": prop}), repr(prop))
    assert_answered(
        get_materials(client, {"prop": [prop, prop], "sort": "prop:youngs_modulus"}), repr(prop)
    )


ADVERSARIAL_OTHER: list[Any] = [
    pytest.param({"supplier": "\x00"}),
    pytest.param({"supplier": "x\x00y"}),
    {"supplier": "'; --"},
    {"supplier": "中" * 3000},
    {"country": "\x00\x00"},
    {"country": "ıt"},  # dotless i upper-cases to I
    {"country": "ＩＴ"},
    {"country": " it "},
    {"class": ["metal", "\x00"]},
    {"application": ["ortho%"]},
    {"regulatory": ["US-FDA:\x00"]},
    {"regulatory": [":"]},
    {"sort": "prop:\x00"},
    {"sort": "-prop:"},
    {"sort": "--name"},
    {"facets": ",,, ,class,class"},
    {"facets": "\x00"},
    {"limit": "0"},
    {"limit": "-1"},
    {"limit": "201"},
    {"limit": "99999999999999999999999999"},
    {"limit": "1e3"},
    {"limit": "١٢"},
    {"degradable": "maybe"},
    {"cursor": "\x00"},
    {"cursor": "!!!!"},
    {"cursor": "e30"},  # {}
    {"cursor": "x" * 2001},
    {"cursor": "=" * 100},
]


@pytest.mark.parametrize("params", ADVERSARIAL_OTHER, ids=range(len(ADVERSARIAL_OTHER)))
def test_adversarial_other_parameters(client: TestClient, params: dict[str, Any]) -> None:
    assert_answered(get_materials(client, params), repr(params))


RAW_QUERIES: list[Any] = [
    "q=%00",
    "q=ti%00tanium",
    "prop=youngs_modulus:1..2:G%00Pa",
    "prop=%00",
    pytest.param("supplier=%00"),
    "country=%00",
    "sort=%00",
    "facets=%00",
    "cursor=%00",
    "class=%00",
    "regulatory=%00",
    "q=%ff%fe",
    "q=%C0%80",
    "q=%ED%A0%80",
    "prop=youngs_modulus:1..2:%ED%A0%80",
    "q=%",
    "q=%zz",
    "q&q=&q=%20",
    "limit=%00",
    "degradable=%00",
    "q=" + quote("中" * 600),
    "q=a&q=b",
    "limit=1&limit=2",
    "prop=youngs_modulus:1..2&prop=density:..9&prop=",
]


@pytest.mark.parametrize("query", RAW_QUERIES, ids=range(len(RAW_QUERIES)))
def test_raw_query_strings(client: TestClient, query: str) -> None:
    """Percent-encoded bytes written straight into the URL (not via a params dict)."""
    assert_answered(get_materials(client, query), query)


# --- forged cursors: the cursor format is not signed, so a client can write any --------


def materials_fingerprint(sort: str | None) -> str:
    query = search_query(sort=sort)
    return query.fingerprint()


def raw_cursor(fingerprint: str, key_json: str) -> str:
    """A cursor from raw JSON (orjson.dumps cannot write every value orjson.loads reads)."""
    payload = f'{{"v":{cursors.VERSION},"f":"{fingerprint}","k":{key_json}}}'.encode()
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


FORGED_MATERIAL_CURSORS: list[Any] = [
    pytest.param(None, '["\\u0000","\\u0000"]'),
    pytest.param(None, '["titanium","x\\u0000y"]'),
    (None, orjson.dumps(["中" * 500, "🦴"]).decode()),
    (None, "[1,2]"),
    (None, "[null,null]"),
    (None, "[]"),
    (None, '["a","b","c"]'),
    (None, "{}"),
    pytest.param("updated_at", '["2024-01-01T00:00:00+00:00","\\u0000"]'),
    ("updated_at", '["9999-12-31T23:59:59+14:00","a"]'),
    ("updated_at", '["0001-01-01T00:00:00-14:00","a"]'),
    ("updated_at", '["2024-01-01","a"]'),
    ("updated_at", '["\\u0000","a"]'),
    ("prop:density", '[1e308,"a"]'),
    ("prop:density", '[-1e308,"a"]'),
    ("prop:density", '[9223372036854775807,"a"]'),
    ("prop:density", '[-9223372036854775808,"a"]'),
    pytest.param("prop:density", '[18446744073709551615,"a"]'),
    ("prop:density", '[18446744073709551616,"a"]'),  # parsed as a float
    ("prop:density", '[-9223372036854775809,"a"]'),  # parsed as a float
    ("prop:density", '[1e400,"a"]'),  # orjson refuses infinity
    pytest.param("prop:density", '[null,"\\u0000"]'),
    ("prop:density", '[true,"a"]'),
    ("prop:density", '["1","a"]'),
    ("-prop:density", '[0.0,"a"]'),
    ("-prop:density", '[5e-324,"a"]'),
]


@pytest.mark.parametrize(
    ("sort", "key_json"), FORGED_MATERIAL_CURSORS, ids=range(len(FORGED_MATERIAL_CURSORS))
)
def test_forged_materials_cursor(client: TestClient, sort: str | None, key_json: str) -> None:
    params: dict[str, Any] = {"cursor": raw_cursor(materials_fingerprint(sort), key_json)}
    if sort is not None:
        params["sort"] = sort
    assert_answered(get_materials(client, params), repr((sort, key_json)))


FORGED_LIST_CURSORS: list[Any] = [
    ("/api/v1/references", "references", '["fx-ref-a"]'),
    ("/api/v1/references", "references", "[1]"),
    ("/api/v1/references", "references", '["a","b"]'),
    pytest.param("/api/v1/references", "references", '["\\u0000"]'),
    ("/api/v1/organizations", "org:None:None", '["fx-org-it"]'),
    ("/api/v1/organizations", "org:None:None", "[null]"),
    pytest.param("/api/v1/organizations", "org:None:None", '["\\u0000"]'),
]


@pytest.mark.parametrize(
    ("path", "fingerprint", "key_json"), FORGED_LIST_CURSORS, ids=range(len(FORGED_LIST_CURSORS))
)
def test_forged_list_cursor(client: TestClient, path: str, fingerprint: str, key_json: str) -> None:
    response = client.get(path, params={"cursor": raw_cursor(fingerprint, key_json)})
    assert_answered(response, f"{path} {key_json}")


# --- hostile ids in paths ----------------------------------------------------------------

HOSTILE_IDS = [
    "%00",
    "x%00y",
    "%20",
    "..%2F..",
    "%E4%B8%AD" * 300,
    "%F0%9F%A6%B4",
    "'%3B--",
    "a" * 5000,
    "%ED%A0%80",
    "%FF",
]
DETAIL_PATHS = [
    "/api/v1/materials/",
    "/api/v1/organizations/",
    "/api/v1/references/",
    "/api/v1/properties/",
]


HOSTILE_DETAILS = [
    pytest.param(
        prefix + raw_id,
        id=f"{prefix.split('/')[3]}-{index}",
    )
    for prefix in DETAIL_PATHS
    for index, raw_id in enumerate(HOSTILE_IDS)
]


@pytest.mark.parametrize("url", HOSTILE_DETAILS)
def test_hostile_detail_ids(client: TestClient, url: str) -> None:
    assert_answered(client.get(url), url[:60], ok=404)
