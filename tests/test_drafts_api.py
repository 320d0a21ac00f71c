"""``GET /api/v1/drafts``: the materials whose latest version is not published."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import auth
from tests.helpers import problem_of
from tests.test_query_counts import counting


def material(slug: str, name: str | None = None) -> dict[str, Any]:
    return {
        "id": slug,
        "name": name or slug.replace("-", " ").title(),
        "class": "polymer",
        "properties": [
            {"property": "youngs_modulus", "value": 3, "unit": "GPa", "source": "fx-ref-a"}
        ],
    }


def create(client: TestClient, key: str, slug: str, name: str | None = None) -> None:
    response = client.post("/api/v1/materials", json=material(slug, name), headers=auth(key))
    assert response.status_code == 201, response.text


def move(client: TestClient, key: str, slug: str, target: str) -> None:
    response = client.post(
        f"/api/v1/materials/{slug}/status", json={"status": target}, headers=auth(key)
    )
    assert response.status_code == 200, response.text


def drafts(client: TestClient, key: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/drafts{query}", headers=auth(key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def listed(client: TestClient, key: str, query: str = "") -> list[tuple[str, str]]:
    return [(item["id"], item["status"]) for item in drafts(client, key, query)["data"]]


def workbench(client: TestClient, keys: dict[str, str]) -> None:
    """Drafts of two keys, one in review, one published (not a draft), one published
    with a pending edit (listed by its edit), one retracted (not a draft)."""
    curator, editor = keys["curator"], keys["editor"]
    create(client, curator, "wb-b-draft")
    create(client, curator, "wb-a-review")
    move(client, curator, "wb-a-review", "in_review")
    create(client, editor, "wb-c-editor-draft")
    create(client, curator, "wb-d-published")
    move(client, curator, "wb-d-published", "in_review")
    move(client, editor, "wb-d-published", "published")
    create(client, curator, "wb-e-edited", "Edited, first name")
    move(client, curator, "wb-e-edited", "in_review")
    move(client, editor, "wb-e-edited", "published")
    etag = client.get("/api/v1/materials/wb-e-edited", headers=auth(editor)).headers["etag"]
    edit = client.patch(
        "/api/v1/materials/wb-e-edited",
        json={"name": "Edited, second name"},
        headers={**auth(editor), "If-Match": etag},
    )
    assert edit.status_code == 200, edit.text
    create(client, curator, "wb-f-retracted")
    move(client, curator, "wb-f-retracted", "in_review")
    move(client, editor, "wb-f-retracted", "published")
    move(client, editor, "wb-f-retracted", "retracted")


def test_lists_drafts_and_reviews_by_id(client: TestClient, keys: dict[str, str]) -> None:
    workbench(client, keys)
    expected = [
        ("fx-draft", "draft"),  # of the fixture bundle, imported by the CLI
        ("wb-a-review", "in_review"),
        ("wb-b-draft", "draft"),
        ("wb-c-editor-draft", "draft"),
        ("wb-e-edited", "draft"),
    ]
    assert listed(client, keys["reader"]) == expected
    assert listed(client, keys["reader"], "?status=draft&status=in_review") == expected
    assert listed(client, keys["editor"], "?status=in_review") == [("wb-a-review", "in_review")]
    assert listed(client, keys["reader"], "?status=draft") == [
        e for e in expected if e[1] == "draft"
    ]
    body = drafts(client, keys["reader"])
    assert body["meta"]["total"] == 5
    assert body["meta"]["next_cursor"] is None
    assert body["meta"]["last_updated"] is not None
    assert body["links"] == {"self": "/api/v1/drafts", "next": None}


def test_items_describe_the_latest_version(client: TestClient, keys: dict[str, str]) -> None:
    workbench(client, keys)
    items = {item["id"]: item for item in drafts(client, keys["reader"])["data"]}
    edited = items["wb-e-edited"]
    # The pending edit, not the published version that search shows.
    assert {k: edited[k] for k in ("name", "class", "status", "version", "updated_by")} == {
        "name": "Edited, second name",
        "class": "polymer",
        "status": "draft",
        "version": 2,
        "updated_by": "test-editor",
    }
    assert edited["updated_at"].endswith("Z")
    assert items["wb-a-review"]["updated_by"] == "test-curator"
    assert items["fx-draft"]["updated_by"] == "cli"
    assert set(edited) == {"id", "name", "class", "status", "version", "updated_at", "updated_by"}
    public = client.get("/api/v1/materials/wb-e-edited").json()
    assert (public["name"], public["version"]) == ("Edited, first name", 1)


def test_mine_is_what_the_key_wrote_last(client: TestClient, keys: dict[str, str]) -> None:
    workbench(client, keys)
    assert listed(client, keys["curator"], "?mine=true") == [
        ("wb-a-review", "in_review"),
        ("wb-b-draft", "draft"),
    ]
    assert listed(client, keys["editor"], "?mine=true") == [
        ("wb-c-editor-draft", "draft"),
        ("wb-e-edited", "draft"),
    ]
    assert listed(client, keys["curator"], "?mine=true&status=in_review") == [
        ("wb-a-review", "in_review")
    ]
    assert listed(client, keys["reader"], "?mine=true") == []
    assert drafts(client, keys["reader"], "?mine=true")["meta"]["total"] == 0
    # mine=false is everyone's.
    assert len(listed(client, keys["curator"], "?mine=false")) == 5


def test_needs_a_key(client: TestClient) -> None:
    problem_of(client.get("/api/v1/drafts"), 401)
    problem_of(client.get("/api/v1/drafts", headers=auth("bmdb_not-a-key")), 401)


def test_pages_by_id_with_a_bound_cursor(client: TestClient, keys: dict[str, str]) -> None:
    workbench(client, keys)
    key = keys["reader"]
    seen: list[str] = []
    query = "?limit=2"
    pages = 0
    while True:
        body = drafts(client, key, query)
        pages += 1
        assert body["meta"]["total"] == 5
        assert len(body["data"]) <= 2
        seen += [item["id"] for item in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            assert body["links"]["next"] is None
            break
        assert body["links"]["next"] == f"/api/v1/drafts?limit=2&cursor={cursor}"
        query = f"?limit=2&cursor={cursor}"
    assert pages == 3
    assert seen == ["fx-draft", "wb-a-review", "wb-b-draft", "wb-c-editor-draft", "wb-e-edited"]

    # A draft added behind the cursor does not shift the next page (keyset, no OFFSET).
    first = drafts(client, key, "?limit=2")
    create(client, keys["curator"], "wb-0-new")
    second = drafts(client, key, f"?limit=2&cursor={first['meta']['next_cursor']}")
    assert [i["id"] for i in second["data"]] == ["wb-b-draft", "wb-c-editor-draft"]

    # A cursor resumes only the listing it came from.
    cursor = first["meta"]["next_cursor"]
    other = problem_of(
        client.get(f"/api/v1/drafts?status=draft&cursor={cursor}", headers=auth(key)), 400
    )
    assert other["errors"][0]["path"] == "cursor"
    mine = client.get(f"/api/v1/drafts?mine=true&cursor={cursor}", headers=auth(key))
    assert problem_of(mine, 400)["errors"][0]["path"] == "cursor"
    forged = problem_of(
        client.get("/api/v1/drafts?cursor=bm90LWEtY3Vyc29y", headers=auth(key)), 400
    )
    assert forged["errors"][0]["path"] == "cursor"


def test_bad_parameters_are_problems(client: TestClient, keys: dict[str, str]) -> None:
    headers = auth(keys["reader"])
    for query, path in [
        ("status=published", "status[0]"),
        ("status=draft&status=bogus", "status[1]"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("mine=perhaps", "mine"),
        ("mine=true&mine=false", "mine"),
        ("sort=name", "sort"),
    ]:
        body = problem_of(client.get(f"/api/v1/drafts?{query}", headers=headers), 400)
        assert [e["path"] for e in body["errors"]] == [path], (query, body)
    assert drafts(client, keys["reader"], "?limit=200")["meta"]["total"] == 1


def test_one_query_per_page_whatever_its_size(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    for n in range(6):
        create(client, keys["curator"], f"wb-many-{n}")
    key = keys["reader"]

    def statements(query: str) -> int:
        with counting(session) as seen:
            drafts(client, key, query)
        return len(seen)

    one, all_ = statements("?limit=1"), statements("?limit=50")
    assert one == all_
    # the key, the page, the total, the last update
    assert all_ == 4


def test_conforms_to_the_openapi_document_with_a_key(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """The anonymous fuzzer (tests/test_openapi_fuzz.py) only meets the 401; with a key,
    generated parameters get 200 pages or 400 problems, each as documented."""
    from hypothesis import HealthCheck, given, settings

    from tests.test_openapi_fuzz import CHECKS, FUZZ_APP, bind, schema

    workbench(client, keys)
    operation = schema["/api/v1/drafts"]["GET"]
    headers = auth(keys["curator"])
    bind(FUZZ_APP, session)
    try:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzzed(case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code in (200, 400), response.text

        fuzzed()
        cursor = drafts(client, keys["curator"], "?limit=1")["meta"]["next_cursor"]
        for query in (
            {},
            {"status": ["in_review"]},
            {"mine": "true", "limit": 1},
            {"limit": 1, "cursor": cursor},
        ):
            case = operation.Case(query=query, headers=headers)
            response = case.call_and_validate(checks=CHECKS)
            assert response.status_code == 200
            assert response.json()["data"]
    finally:
        FUZZ_APP.dependency_overrides.clear()
