"""Every bad request gets a 4xx problem document that names what to fix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def cursor_for(client: TestClient, query: str) -> str:
    cursor = client.get(f"/api/v1/materials?{query}&limit=1").json()["meta"]["next_cursor"]
    assert cursor
    return str(cursor)


# (request, status, error path or None, words the message must contain)
BAD_REQUESTS = [
    ("/api/v1/materials?prop=unknown_prop:1..2", 400, "prop[0]", ["unknown property"]),
    (
        "/api/v1/materials?prop=youngs_modulus:1..2:bananas",
        400,
        "prop[0]",
        ["unknown unit", "bananas"],
    ),
    (
        "/api/v1/materials?prop=youngs_modulus:1..2:furlong",
        400,
        "prop[0]",
        ["furlong", "[length]", "youngs_modulus"],
    ),
    (
        "/api/v1/materials?prop=youngs_modulus:1..2:g/cm^3",
        400,
        "prop[0]",
        ["g/cm^3", "youngs_modulus", "dimension"],
    ),
    ("/api/v1/materials?prop=density:1..2:MPa", 400, "prop[0]", ["MPa", "density"]),
    ("/api/v1/materials?prop=glass_transition_temperature:1..2:GPa", 400, "prop[0]", ["GPa"]),
    ("/api/v1/materials?prop=water_contact_angle:1..2:%25", 400, "prop[0]", ["angle"]),
    ("/api/v1/materials?prop=youngs_modulus", 400, "prop[0]", ["malformed"]),
    ("/api/v1/materials?prop=youngs_modulus:5", 400, "prop[0]", ["malformed range"]),
    ("/api/v1/materials?prop=youngs_modulus:a..b", 400, "prop[0]", ["finite numbers"]),
    ("/api/v1/materials?prop=youngs_modulus:nan..1", 400, "prop[0]", ["finite numbers"]),
    ("/api/v1/materials?prop=youngs_modulus:1..inf", 400, "prop[0]", ["finite numbers"]),
    ("/api/v1/materials?prop=youngs_modulus:10..1", 400, "prop[0]", ["greater than"]),
    (
        "/api/v1/materials?prop=density:1..2&prop=youngs_modulus:9..3",
        400,
        "prop[1]",
        ["greater than"],
    ),
    ("/api/v1/materials?prop=:1..2", 400, "prop[0]", ["unknown property"]),
    ("/api/v1/materials?class=rock", 400, "class[0]", ["unknown class", "metal"]),
    ("/api/v1/materials?class=metal&class=Metal", 400, "class[1]", ["unknown class"]),
    ("/api/v1/materials?application=knees", 400, "application[0]", ["unknown application"]),
    ("/api/v1/materials?degradable=maybe", 400, "degradable", []),
    ("/api/v1/materials?limit=0", 400, "limit", ["between 1 and 200"]),
    ("/api/v1/materials?limit=201", 400, "limit", ["between 1 and 200"]),
    ("/api/v1/materials?limit=-5", 400, "limit", []),
    ("/api/v1/materials?limit=ten", 400, "limit", []),
    ("/api/v1/materials?cursor=not-a-cursor", 400, "cursor", ["not a cursor"]),
    ("/api/v1/materials?cursor=eyJ2IjoxfQ", 400, "cursor", ["not a cursor"]),
    ("/api/v1/materials?cursor=%F0%9F%92%A5", 400, "cursor", []),
    ("/api/v1/materials?sort=price", 400, "sort", ["unknown sort"]),
    ("/api/v1/materials?sort=prop:unknown_prop", 400, "sort", ["unknown property"]),
    ("/api/v1/materials?sort=prop:", 400, "sort", ["unknown property"]),
    ("/api/v1/materials?regulatory=FDA", 400, "regulatory[0]", ["unknown jurisdiction"]),
    (
        "/api/v1/materials?regulatory=US-FDA:blessed",
        400,
        "regulatory[0]",
        ["unknown regulatory status"],
    ),
    ("/api/v1/materials?regulatory=US-FDA:", 400, "regulatory[0]", ["empty status"]),
    ("/api/v1/materials?country=Italy", 400, "country", ["ISO 3166-1"]),
    ("/api/v1/materials?country=XX", 400, "country", ["ISO 3166-1"]),
    ("/api/v1/materials?country=1T", 400, "country", ["ISO 3166-1"]),
    ("/api/v1/materials?facets=colour", 400, "facets", ["unknown facet"]),
    ("/api/v1/materials?q=" + "+".join(f"w{i}" for i in range(40)), 400, "q", ["too many words"]),
    ("/api/v1/materials/no-such-material", 404, None, ["no-such-material"]),
    ("/api/v1/materials/fx-draft", 404, None, ["fx-draft"]),
    ("/api/v1/organizations/no-such-org", 404, None, ["no-such-org"]),
    ("/api/v1/organizations?country=ZZ", 400, "country", ["ISO 3166-1"]),
    ("/api/v1/organizations?kind=wizard", 400, "kind", ["unknown kind"]),
    ("/api/v1/organizations?limit=0", 400, "limit", []),
    ("/api/v1/organizations?cursor=bogus", 400, "cursor", []),
    ("/api/v1/references/no-such-reference", 404, None, ["no-such-reference"]),
    ("/api/v1/references?cursor=bogus", 400, "cursor", []),
    ("/api/v1/properties/no_such_property", 404, None, ["no_such_property"]),
    ("/api/v1/no-such-endpoint", 404, None, ["/docs"]),
]


@pytest.mark.parametrize(
    ("url", "status", "path", "words"),
    BAD_REQUESTS,
    ids=[case[0].removeprefix("/api/v1/") for case in BAD_REQUESTS],
)
def test_bad_request_gets_problem_json(
    client: TestClient, url: str, status: int, path: str | None, words: list[str]
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"]
    assert body["detail"]
    if path is not None:
        assert path in [e["path"] for e in body["errors"]], body
        message = next(e["message"] for e in body["errors"] if e["path"] == path)
        for word in words:
            assert word in message, message
    else:
        for word in words:
            assert word in body["detail"], body["detail"]


def test_every_problem_is_reported_at_once(client: TestClient) -> None:
    response = client.get(
        "/api/v1/materials?prop=foo:1..2&prop=density:3..1&limit=0"
        "&class=rock&country=XX&sort=bad&facets=nope"
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == [
        "class[0]",
        "prop[0]",
        "prop[1]",
        "country",
        "sort",
        "limit",
        "facets",
    ]


def test_cursor_from_other_filters_is_refused(client: TestClient) -> None:
    cursor = cursor_for(client, "class=metal")
    response = client.get(f"/api/v1/materials?class=ceramic&cursor={cursor}")
    assert response.status_code == 400
    assert "different filters or sort" in response.json()["errors"][0]["message"]
    other_sort = client.get(f"/api/v1/materials?class=metal&sort=-name&cursor={cursor}")
    assert other_sort.status_code == 400
    # Same filters, another page size or facets: still valid.
    ok = client.get(f"/api/v1/materials?class=metal&limit=5&facets=class&cursor={cursor}")
    assert ok.status_code == 200


def test_tampered_cursor_is_400_not_500(client: TestClient) -> None:
    import base64
    import json

    cursor = cursor_for(client, "sort=prop:density")
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for key in (["x", 1], [1, 2, 3], [None, None], [True, "a"], [{"a": 1}, "b"]):
        payload["k"] = key
        forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        response = client.get(f"/api/v1/materials?sort=prop:density&cursor={forged}")
        assert response.status_code == 400, (key, response.text)
    cursor = cursor_for(client, "sort=updated_at")
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["k"] = ["yesterday", "fx-alumina"]
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert client.get(f"/api/v1/materials?sort=updated_at&cursor={forged}").status_code == 400


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        "*",
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "a:b",
        "title:x",
        "(",
        ")",
        "&",
        "|",
        "!",
        "a & | b",
        "^",
        "-",
        "\\",
        "'; DROP TABLE materials; --",
        "\u0000",
        "💥",
        "中文",
        "x" * 1000,
    ],
)
def test_any_text_is_safe_in_q(client: TestClient, q: str) -> None:
    response = client.get("/api/v1/materials", params={"q": q})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert isinstance(response.json()["data"], list)


def test_empty_result_is_200_not_404(client: TestClient) -> None:
    response = client.get("/api/v1/materials?q=unobtainium")
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 0


def test_problem_types_resolve_to_documentation(client: TestClient) -> None:
    body = client.get("/api/v1/materials?limit=0").json()
    doc = client.get(body["type"])
    assert doc.status_code == 200
    assert "parameter" in doc.json()["description"]
    assert client.get("/problems/no-such-type").status_code == 404


def test_every_problem_type_is_documented() -> None:
    from biomatdb import errors
    from biomatdb.api.problems import _TITLES, PROBLEM_DOCS

    slugs = {slug for slug, _ in _TITLES.values()}
    slugs |= {
        cls.type_slug
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.BiomatdbError)
    }
    # Written by the server itself (431, 414, 400, 408) and by the 503 limits.
    from biomatdb.server import PROBLEM_SLUGS

    slugs |= set(PROBLEM_SLUGS) | {"query-timeout", "write-busy"}
    assert slugs <= set(PROBLEM_DOCS)


def test_a_bad_key_is_a_401_on_every_api_route_even_where_a_key_changes_nothing(
    client: TestClient,
) -> None:
    bad = {"Authorization": "Bearer bmdb_not_a_key"}
    for path in (
        "/api/v1/materials?class=metal",
        "/api/v1/properties",
        "/api/v1/values?limit=1",
        "/api/v1/info",
        "/api/v1/charts/ashby?x=density&y=youngs_modulus&format=json",
    ):
        answer = client.get(path, headers=bad)
        assert answer.status_code == 401, path
        assert answer.json()["detail"] == "the API key is unknown or revoked", path
        assert client.get(path).status_code == 200, path  # anonymous: as before
    malformed = client.get("/api/v1/materials", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401
    assert malformed.json()["detail"] == "use 'Authorization: Bearer <api key>'"
