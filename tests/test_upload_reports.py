"""Uploads tell everything (issue 10): a curator's import that sets an editor-only
status gets its role problems and every other problem in one answer."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.helpers import problem_of


def material(index: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"up-{index}", "name": f"Upload {index}", "class": "polymer", **fields}


def test_role_problems_come_with_every_other_problem(
    client: TestClient, keys: dict[str, str]
) -> None:
    bundle = {
        "materials": [
            material(0, status="published"),
            material(1, status="retracted", properties=[{"property": "density", "value": 1}]),
            material(2, **{"class": "mineral"}),
            material(3, properties=[{"property": "stiffness", "value": 1, "unit": "GPa"}]),
        ]
    }
    response = client.post("/api/v1/imports", json=bundle, headers=auth(keys["curator"]))
    problem = problem_of(response, 403)
    paths = [e["path"] for e in problem["errors"]]
    assert paths[:2] == ["materials[0].status", "materials[1].status"]
    assert "materials[1].properties[0].unit" in paths
    assert "materials[2].class" in paths
    assert "materials[3].properties[0].property" in paths
    assert "other problem(s); nothing was written" in problem["detail"]
    assert client.get("/api/v1/materials/up-0", headers=auth(keys["curator"])).status_code == 404


def test_an_editor_gets_only_the_validation_problems(
    client: TestClient, keys: dict[str, str]
) -> None:
    bundle = {"materials": [material(0, status="published", **{"class": "mineral"})]}
    response = client.post("/api/v1/imports", json=bundle, headers=auth(keys["editor"]))
    assert [e["path"] for e in problem_of(response, 422)["errors"]] == ["materials[0].class"]
