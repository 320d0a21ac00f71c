"""Search's extension points keep every public behaviour: fingerprints, errors, answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from biomatdb.search.request import SearchRequest, search_endpoint
from tests.helpers import search_query

#: Computed on the code before the registries: cursors issued then must keep working.
PINNED_FINGERPRINTS = [
    ({}, "5a4ea905dcedac88"),
    (
        {
            "q": "Titanium  alloy café",
            "classes": ["metal", "ceramic"],
            "applications": ["orthopedic", "dental"],
            "degradable": False,
            "props": ["youngs_modulus:10..30:GPa", "density:..5"],
            "regulatory": ["US-FDA:cleared", "JP-PMDA"],
            "supplier": "fx-org-it",
            "country": "it",
            "sort": "-prop:youngs_modulus",
            "limit": 5,
            "facets": "class,country",
        },
        "5dcd83b873228076",
    ),
    ({"sort": "-updated_at", "degradable": True}, "2c0f234cf75ec820"),
    ({"props": ["youngs_modulus:14500..29000:ksi"], "sort": "name"}, "bc8504ebceff73c7"),
]


@pytest.mark.parametrize(("given", "fingerprint"), PINNED_FINGERPRINTS)
def test_fingerprints_are_those_of_earlier_releases(
    given: dict[str, Any], fingerprint: str
) -> None:
    assert search_query(**given).fingerprint() == fingerprint


# --- one query model: a URL query and a JSON object give the same search -------------------

SAME_SEARCHES = [
    (
        "q=TITANIUM%20alloy%20Caf%C3%A9&class=metal&class=ceramic&application=orthopedic"
        "&application=dental&degradable=false&prop=youngs_modulus:10..30:GPa&prop=density:..5"
        "&regulatory=US-FDA:cleared&regulatory=JP-PMDA&supplier=fx-org-it&country=it"
        "&sort=-prop:youngs_modulus&limit=5&facets=class,country",
        {
            "q": "titanium, alloy; cafe",
            "class": ["metal", "ceramic"],
            "application": ["orthopedic", "dental"],
            "degradable": False,
            "prop": ["youngs_modulus:10..30:GPa", "density:..5"],
            "regulatory": ["US-FDA:cleared", "JP-PMDA"],
            "supplier": "fx-org-it",
            "country": "it",
            "sort": "-prop:youngs_modulus",
            "limit": 5,
            "facets": "class,country",
        },
    ),
    ("", {}),
    ("sort=-updated_at&application=dental", {"sort": "-updated_at", "application": ["dental"]}),
    ("q=peek", {"q": "peek", "class": None, "limit": None}),  # null is absent
]


def _query_of(url_query: str) -> Any:
    """The SearchQuery the GET handler builds from a URL query."""
    app = FastAPI()
    seen: list[Any] = []

    @app.get("/probe")
    @search_endpoint
    def probe(search: SearchRequest) -> None:
        seen.append(search.to_query())

    assert TestClient(app).get(f"/probe?{url_query}").status_code == 200
    return seen[0]


@pytest.mark.parametrize(("url_query", "json_object"), SAME_SEARCHES)
def test_a_url_query_and_a_json_object_are_the_same_search(
    url_query: str, json_object: dict[str, Any]
) -> None:
    from_url = _query_of(url_query)
    from_json = SearchRequest.from_json(json_object).to_query()
    assert from_json == from_url
    assert from_json.fingerprint() == from_url.fingerprint()


def test_the_first_search_keeps_its_earlier_fingerprint_from_either_side() -> None:
    url_query, json_object = SAME_SEARCHES[0]
    given, fingerprint = PINNED_FINGERPRINTS[1]
    assert given["q"] != json_object["q"]  # other spellings, the same words
    assert _query_of(url_query).fingerprint() == fingerprint
    assert SearchRequest.from_json(json_object).to_query().fingerprint() == fingerprint


BAD_SEARCHES = [
    # (URL query, the same as a JSON object): every problem, in the same order
    (
        "class=x&class=metal&class=y&prop=foo&prop=density:5..1&regulatory=US-FDA:&country=ZZ"
        "&sort=prop:nope&limit=0&facets=class,nope",
        {
            "class": ["x", "metal", "y"],
            "prop": ["foo", "density:5..1"],
            "regulatory": ["US-FDA:"],
            "country": "ZZ",
            "sort": "prop:nope",
            "limit": 0,
            "facets": "class,nope",
        },
    ),
    ("&".join(["prop=density:1..2"] * 21) + "&class=x", {"prop": ["density:1..2"] * 21}),
    ("limit=x&degradable=maybe", {"limit": "x", "degradable": "maybe"}),
    ("q=" + "a" * 1001, {"q": "a" * 1001}),
    ("sort=--name", {"sort": "--name"}),
]


@pytest.mark.parametrize(("url_query", "json_object"), BAD_SEARCHES)
def test_a_bad_json_object_reports_the_problems_of_the_url(
    client: Any, url_query: str, json_object: dict[str, Any]
) -> None:
    from biomatdb.errors import InvalidParameter

    response = client.get(f"/api/v1/materials?{url_query}")
    assert response.status_code == 400
    with pytest.raises(InvalidParameter) as caught:
        SearchRequest.from_json(json_object).to_query()
    assert [e.as_dict() for e in caught.value.errors] == response.json()["errors"]
    assert caught.value.detail == response.json()["detail"]


def test_json_only_problems_name_their_path() -> None:
    from biomatdb.errors import InvalidParameter
    from biomatdb.search.request import FILTER_PARAMETERS

    with pytest.raises(InvalidParameter) as caught:
        SearchRequest.from_json(
            {"clas": ["metal"], "prop": ["density:1..2", 5], "class": {"a": 1}, "sort": "name"},
            allowed=FILTER_PARAMETERS,
        )
    paths = [(e.path, e.message.split(";")[0]) for e in caught.value.errors]
    assert paths == [
        ("clas", "unknown parameter"),
        ("sort", "unknown parameter"),
        ("class", "Input should be a valid list"),
        ("prop[1]", "Input should be a valid string"),
    ]
    with pytest.raises(InvalidParameter) as not_an_object:
        SearchRequest.from_json(["class", "metal"])
    assert not_an_object.value.errors[0].path == ""
    # A filter object is a whole search without order or page; one value of a
    # repeatable parameter may be given bare, as in a URL.
    request = SearchRequest.from_json({"class": ["metal"]}, allowed=FILTER_PARAMETERS)
    assert request.to_query().value("classes") == ["metal"]
    bare = SearchRequest.from_json({"class": "metal"}, allowed=FILTER_PARAMETERS)
    assert bare.to_query() == request.to_query()
    assert request.cursor is None


def test_a_nested_filter_reports_its_problems_under_its_own_path() -> None:
    from biomatdb.errors import InvalidBody
    from biomatdb.search.request import FILTER_PARAMETERS, query_from_json

    def paths(data: object) -> list[str]:
        with pytest.raises(InvalidBody) as caught:
            query_from_json(data, allowed=FILTER_PARAMETERS, prefix="filter", error=InvalidBody)
        assert caught.value.detail.startswith(caught.value.errors[0].path + ": ")
        return [e.path for e in caught.value.errors]

    assert paths({"prop": ["density:1..2", "nope:1..2"], "limit": 5}) == ["filter.limit"]
    assert paths({"prop": ["density:1..2", "nope:1..2"]}) == ["filter.prop[1]"]
    assert paths("metal") == ["filter"]
    query = query_from_json({"class": ["metal"]}, allowed=FILTER_PARAMETERS, prefix="filter")
    assert query.value("classes") == ["metal"]


# --- the registries ---------------------------------------------------------------------


def test_parameters_and_their_documentation_come_from_the_registries(client: Any) -> None:
    from biomatdb.search.facets import FACETS
    from biomatdb.search.filters import FILTERS
    from biomatdb.search.params import MAX_TERMS

    operation = client.get("/openapi.json").json()["paths"]["/api/v1/materials"]["get"]
    documented = {p["name"]: p for p in operation["parameters"]}
    assert list(documented) == [
        *(p.name for f in FILTERS for p in f.parameters),
        "sort",
        "limit",
        "cursor",
        "facets",
        "units",
        "format",
    ]
    for name, cap in MAX_TERMS.items():
        assert documented[name]["schema"]["maxItems"] == cap
        assert f"at most {cap}" in documented[name]["description"]
    assert documented["facets"]["description"].startswith(
        "Comma list of " + ", ".join(FACETS.names())
    )
    assert documented["sort"]["description"].startswith("name (default), -name, updated_at")


@pytest.mark.parametrize(
    ("sort", "keyset"),
    [
        ("name", []),
        ("name", ["a"]),
        ("name", ["a", 1]),
        ("name", ["a", "b", "c"]),
        ("updated_at", ["2024-01-01", "a"]),  # no time zone
        ("updated_at", ["yesterday", "a"]),
        ("prop", [1.0]),
        ("prop", [True, "a"]),
        ("prop", ["1", "a"]),
        ("prop", [1.0, 2]),
    ],
)
def test_each_sort_refuses_a_keyset_it_never_issues(sort: str, keyset: list[Any]) -> None:
    from biomatdb.errors import InvalidParameter
    from biomatdb.search.sorts import SORTS

    with pytest.raises(InvalidParameter) as caught:
        SORTS[sort].decode(keyset)
    assert caught.value.errors[0].path == "cursor"
    assert "is not a cursor from this API" in caught.value.errors[0].message


def test_each_sort_decodes_what_it_encodes() -> None:
    from datetime import UTC, datetime

    from biomatdb.search.sorts import SORTS

    moment = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert SORTS["updated_at"].decode([SORTS["updated_at"].encode(moment), "a"]) == [moment, "a"]
    assert SORTS["name"].decode(["titanium", "fx-ti"]) == ["titanium", "fx-ti"]
    assert SORTS["prop"].decode([2**70, "a"]) == [float(2**70), "a"]
    assert SORTS["prop"].decode([None, "a"]) == [None, "a"]  # among those without the property


def test_a_new_filter_sort_and_facet_are_one_class_each(
    session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registered in copies of the registries, they work end to end in the service;
    searches that do not use the new filter keep their fingerprints."""
    from collections.abc import Iterable, Mapping

    from sqlalchemy import ColumnElement, func, select

    from biomatdb.errors import FieldProblem, InvalidParameter
    from biomatdb.materials import service
    from biomatdb.models import Material
    from biomatdb.search import query as queries
    from biomatdb.search.base import Parameter
    from biomatdb.search.facets import FACETS, Facet
    from biomatdb.search.filters import FILTERS, Filter
    from biomatdb.search.sorts import SORTS, ColumnSort

    for registry in (FILTERS, SORTS, FACETS):
        monkeypatch.setattr(registry, "_items", dict(registry._items))

    @FILTERS.register
    class SubclassFilter(Filter[str]):
        name = "subclass"
        parameters = (Parameter("subclass", str | None, None, "Exact subclass"),)

        def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> str | None:
            value: str | None = raw.get("subclass")
            if value is not None and not value.strip():
                problems.append(FieldProblem("subclass", "must not be blank"))
            return value

        def clauses(self, session: Any, value: str) -> Iterable[ColumnElement[bool]]:
            yield Material.subclass == value

    @SORTS.register
    class SlugSort(ColumnSort):
        name = "id"

        def column(self) -> Any:
            return Material.slug

    @FACETS.register
    class SubclassFacet(Facet):
        name = "subclass"

        def count(self, session: Any, where: Any, matching: Any) -> dict[str, int]:
            rows = session.execute(
                select(Material.subclass, func.count()).where(*where).group_by(Material.subclass)
            )
            return {subclass: n for subclass, n in rows if subclass is not None}

    for given, fingerprint in PINNED_FINGERPRINTS:
        assert search_query(**given).fingerprint() == fingerprint
    query = queries.build({"subclass": "protein", "sort": "-id", "limit": 1, "facets": "subclass"})
    items, total, cursor, facets, _ = service.search(session, query, after=None)
    assert ([i["id"] for i in items], total) == (["fx-silk"], 2)
    assert facets == {"subclass": {"protein": 2}}
    assert cursor is not None
    rest, _, end, _, _ = service.search(session, query, after=cursor)
    assert ([i["id"] for i in rest], end) == (["fx-collagen"], None)
    with pytest.raises(InvalidParameter) as caught:
        queries.build({"subclass": " ", "sort": "nope"})
    assert [e.path for e in caught.value.errors] == ["subclass", "sort"]
    assert "-id" in caught.value.errors[1].message
