"""Compare (contract section 6): published materials side by side, aligned by property."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.helpers import problem_of

URL = "/api/v1/compare"


def compare(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data: dict[str, Any] = response.json()["data"]
    return data


def summary(client: TestClient, slug: str) -> dict[str, Any]:
    body = client.get(f"/api/v1/materials/{slug}").json()
    found: dict[str, Any] = body["summary"]
    return found


def test_rows_are_aligned_with_null_where_a_material_lacks_the_property(
    client: TestClient,
) -> None:
    data = compare(client, "ids=fx-ti-alloy,fx-peek,fx-ha")
    assert [(m["id"], m["class"]) for m in data["materials"]] == [
        ("fx-ti-alloy", "metal"),
        ("fx-peek", "polymer"),
        ("fx-ha", "ceramic"),
    ]
    summaries = {slug: summary(client, slug) for slug in ("fx-ti-alloy", "fx-peek", "fx-ha")}
    keys = {key for s in summaries.values() for key in s}
    # One row per property at least one of them has, in catalogue order.
    from biomatdb import catalogue

    assert [row["key"] for row in data["properties"]] == [
        p.key for p in catalogue.CATALOGUE if p.key in keys
    ]
    for row in data["properties"]:
        assert list(row["values"]) == ["fx-ti-alloy", "fx-peek", "fx-ha"]
        assert row["unit"] == catalogue.BY_KEY[row["key"]].canonical_unit
        for slug, value in row["values"].items():
            expected = summaries[slug].get(row["key"])
            if expected is None:
                assert value is None
            else:
                assert value == {k: expected[k] for k in ("min", "max", "typical", "count")}
    assert any(None in row["values"].values() for row in data["properties"])


def test_the_rows_asked_for_come_even_when_nobody_has_them(client: TestClient) -> None:
    data = compare(client, "ids=fx-ti-alloy,fx-steel&properties=water_contact_angle,density")
    assert [row["key"] for row in data["properties"]] == ["density", "water_contact_angle"]
    angle = data["properties"][1]
    assert angle["values"] == {"fx-ti-alloy": None, "fx-steel": None}
    assert angle["name"]
    assert angle["unit"] == "degree"


def test_an_unknown_or_unpublished_id_is_a_404_naming_each(client: TestClient) -> None:
    body = problem_of(client.get(f"{URL}?ids=fx-ti-alloy,nothing-here,fx-draft"), 404)
    assert "'nothing-here'" in body["detail"]
    assert "'fx-draft'" in body["detail"]
    assert [e["path"] for e in body["errors"]] == ["ids", "ids"]


def test_a_draft_is_not_compared_even_with_a_key(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get(f"{URL}?ids=fx-ti-alloy,fx-draft", headers=auth(keys["reader"]))
    problem_of(response, 404)


@pytest.mark.parametrize(
    ("ids", "count"),
    [
        ("fx-ti-alloy", 1),
        ("fx-ti-alloy,fx-ti-alloy", 1),  # the same id twice is one material
        (",".join(f"m-{i}" for i in range(21)), 21),
        (",,", 0),
    ],
)
def test_fewer_than_2_or_more_than_20_ids_is_a_400(
    client: TestClient, ids: str, count: int
) -> None:
    body = problem_of(client.get(f"{URL}?ids={ids}"), 400)
    assert body["errors"] == [
        {"path": "ids", "message": f"give 2 to 20 material ids, comma-separated; got {count}"}
    ]


def test_ids_are_required_and_bounded(client: TestClient) -> None:
    assert problem_of(client.get(URL), 400)["errors"][0]["path"] == "ids"
    assert problem_of(client.get(f"{URL}?ids={'a' * 3001}"), 400)["errors"][0]["path"] == "ids"


def test_an_unknown_property_is_a_400_naming_it(client: TestClient) -> None:
    body = problem_of(client.get(f"{URL}?ids=fx-ti-alloy,fx-steel&properties=density,colour"), 400)
    assert body["errors"] == [
        {
            "path": "properties",
            "message": "unknown property 'colour'; see /api/v1/properties for the catalogue",
        }
    ]
