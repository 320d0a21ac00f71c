"""No silent wrong answers (issue 10): parameters an endpoint does not take, and
repeats of single-valued ones, are 400s; repeated ``country`` and ``supplier`` mean
OR; ``regulatory=J:S1|S2`` means any of the statuses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from biomatdb.app import create_app
from tests.helpers import problem_of, search_ids

#: A real value for each path parameter of the API (fixture ids).
PATH_VALUES = {
    "material_id": "fx-mg",
    "organization_id": "fx-org-it",
    "reference_id": "fx-ref-a",
    "key": "density",
    "version": "1",
    "problem_type": "invalid-parameter",
}


def get_paths() -> list[str]:
    document = create_app().openapi()
    paths = []
    for path, item in document["paths"].items():
        if "get" in item:
            for name, value in PATH_VALUES.items():
                path = path.replace("{" + name + "}", value)
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", get_paths())
def test_every_get_refuses_a_parameter_it_does_not_take(client: TestClient, path: str) -> None:
    problem = problem_of(client.get(f"{path}?bogus=1"), 400)
    assert [e["path"] for e in problem["errors"]] == ["bogus"]
    assert "unknown parameter 'bogus'" in problem["errors"][0]["message"]
    assert "this endpoint takes" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("url", "name", "suggestion"),
    [
        ("/api/v1/materials?clas=metal", "clas", "class"),
        ("/api/v1/materials?limt=5", "limt", "limit"),
        ("/api/v1/materials?offset=20", "offset", None),
        ("/api/v1/materials?fields=id", "fields", None),
        ("/api/v1/materials?id=fx-mg", "id", None),
        ("/api/v1/organizations?q=japan", "q", None),
        ("/api/v1/references?doi=10.1000/x", "doi", None),
        ("/api/v1/compare?ids=fx-mg,fx-steel&propertys=density", "propertys", "properties"),
    ],
)
def test_a_typo_is_named_with_the_near_miss(
    client: TestClient, url: str, name: str, suggestion: str | None
) -> None:
    error = problem_of(client.get(url), 400)["errors"][0]
    assert error["path"] == name
    if suggestion is None:
        assert "did you mean" not in error["message"]
    else:
        assert f"did you mean {suggestion!r}?" in error["message"]


def test_the_problem_lists_what_the_endpoint_takes(client: TestClient) -> None:
    message = problem_of(client.get("/api/v1/organizations?q=x"), 400)["errors"][0]["message"]
    assert message.endswith("this endpoint takes country, kind, limit, cursor")


@pytest.mark.parametrize(
    ("query", "name"),
    [("limit=1&limit=2", "limit"), ("q=steel&q=alloy", "q"), ("sort=name&sort=-name", "sort")],
)
def test_a_repeated_single_valued_parameter_is_a_400(
    client: TestClient, query: str, name: str
) -> None:
    problem = problem_of(client.get(f"/api/v1/materials?{query}"), 400)
    assert problem["errors"] == [
        {"path": name, "message": f"given 2 times; {name} takes one value"}
    ]


def test_every_problem_of_a_request_is_reported_at_once(client: TestClient) -> None:
    problem = problem_of(client.get("/api/v1/materials?clas=metal&limit=1&limit=2&x=1"), 400)
    assert sorted(e["path"] for e in problem["errors"]) == ["clas", "limit", "x"]


def test_a_post_refuses_unknown_query_parameters_too(client: TestClient) -> None:
    body = {"criteria": [{"property": "density", "goal": "min"}]}
    problem = problem_of(client.post("/api/v1/rank?method=vikor", json=body), 400)
    assert [e["path"] for e in problem["errors"]] == ["method"]


def test_repeated_countries_mean_or(client: TestClient) -> None:
    italy = set(search_ids(client, "country=IT", whole=True))
    japan = set(search_ids(client, "country=JP", whole=True))
    assert italy == {"fx-ti-alloy", "fx-cfr", "fx-silk"}
    assert japan == {"fx-mg", "fx-alumina"}
    assert set(search_ids(client, "country=IT&country=jp", whole=True)) == italy | japan


def test_repeated_suppliers_mean_or_and_meet_the_country_in_one_offering(
    client: TestClient,
) -> None:
    both = set(search_ids(client, "supplier=fx-org-it&supplier=fx-org-us", whole=True))
    assert both == {"fx-ti-alloy", "fx-cfr", "fx-silk", "fx-steel", "fx-peek"}
    # The country applies to the same offering: US suppliers among IT and US ones.
    assert set(
        search_ids(client, "supplier=fx-org-it&supplier=fx-org-us&country=US", whole=True)
    ) == {"fx-steel", "fx-peek"}


def test_organizations_take_repeated_countries_and_kinds(client: TestClient) -> None:
    body = client.get("/api/v1/organizations?country=IT&country=JP").json()
    assert [o["id"] for o in body["data"]] == ["fx-org-it", "fx-org-jp"]
    body = client.get("/api/v1/organizations?kind=supplier&kind=distributor").json()
    assert [o["id"] for o in body["data"]] == ["fx-org-jp", "fx-org-us"]


def test_regulatory_statuses_joined_by_a_bar_mean_any_of_them(client: TestClient) -> None:
    cleared = set(search_ids(client, "regulatory=US-FDA:cleared", whole=True))
    approved = set(search_ids(client, "regulatory=US-FDA:approved", whole=True))
    assert cleared == {"fx-ti-alloy", "fx-alumina", "fx-peek"}
    assert approved == {"fx-collagen"}
    either = set(search_ids(client, "regulatory=US-FDA:cleared|approved", whole=True))
    assert either == cleared | approved
    # A bare jurisdiction: any record, whatever its status.
    assert set(search_ids(client, "regulatory=US-FDA", whole=True)) == either
    # Repeats stay AND.
    assert set(
        search_ids(client, "regulatory=US-FDA:cleared|approved&regulatory=JP-PMDA", whole=True)
    ) == {"fx-alumina"}


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("US-FDA:cleared|gone", "unknown regulatory status 'gone'"),
        ("US-FDA:cleared|", "empty status"),
        ("US-FDA:", "empty status"),
    ],
)
def test_bad_status_lists_are_400s(client: TestClient, term: str, message: str) -> None:
    problem = problem_of(client.get(f"/api/v1/materials?regulatory={term}"), 400)
    assert problem["errors"][0]["path"] == "regulatory[0]"
    assert message in problem["errors"][0]["message"]


def test_one_status_keeps_its_fingerprint(client: TestClient) -> None:
    """A cursor of ``regulatory=US-FDA:cleared`` from before the bar existed still
    works: the same search, the same fingerprint."""
    from tests.helpers import search_query

    single = search_query(regulatory=["US-FDA:cleared"]).fingerprint()
    assert search_query(regulatory=["US-FDA:cleared|cleared"]).fingerprint() == single
    assert search_query(regulatory=["US-FDA:approved|cleared"]).fingerprint() != single


@pytest.mark.parametrize(
    ("path", "near"),
    [
        ("/api/v1/materials/fx-ti", "fx-ti-alloy"),
        ("/api/v1/materials/fx-stel", "fx-steel"),
        ("/api/v1/materials/fx-draft", None),  # not published: not suggested anonymously
        ("/api/v1/materials/zz-nothing-like-it", None),
    ],
)
def test_an_unknown_id_suggests_the_near_one(
    client: TestClient, path: str, near: str | None
) -> None:
    detail = problem_of(client.get(path), 404)["detail"]
    if near is None:
        assert "did you mean" not in detail
    else:
        assert f"did you mean {near!r}?" in detail


@pytest.mark.parametrize(
    ("url", "path", "hint"),
    [
        ("/api/v1/materials?prop=youngs_modulos:1..2", "prop[0]", "did you mean 'youngs_modulus'?"),
        ("/api/v1/materials?prop=youngs_modulus:1..2:Gpa", "prop[0]", "did you mean 'GPa'?"),
        ("/api/v1/materials?sort=prop:densty", "sort", "did you mean 'density'?"),
        ("/api/v1/compare?ids=fx-mg,fx-steel&properties=densiti", "properties", "'density'?"),
        ("/api/v1/materials?units=youngs_modulus:mpa", "units", "did you mean 'MPa'?"),
    ],
)
def test_property_keys_and_unit_spellings_suggest_the_near_miss(
    client: TestClient, url: str, path: str, hint: str
) -> None:
    error = problem_of(client.get(url), 400)["errors"][0]
    assert error["path"] == path
    assert hint in error["message"]


def test_unknown_organizations_and_references_suggest_the_near_one(client: TestClient) -> None:
    detail = problem_of(client.get("/api/v1/organizations/fx-org-i"), 404)["detail"]
    assert "did you mean 'fx-org-it'?" in detail
    detail = problem_of(client.get("/api/v1/references/fx-ref"), 404)["detail"]
    assert "did you mean 'fx-ref-a'?" in detail
