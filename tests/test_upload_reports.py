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


def test_a_dry_run_and_an_import_say_what_an_update_removes(
    client: TestClient, keys: dict[str, str]
) -> None:
    """fx-ti-alloy (fixture): 4 property values, one supplier, one FDA record. The new
    version keeps one modulus (changed), drops the other values, the supplier and the
    record, and adds an application."""
    current = client.get("/api/v1/materials/fx-ti-alloy", headers=auth(keys["editor"])).json()
    entry = {
        "id": "fx-ti-alloy",
        "name": current["name"],
        "class": "metal",
        **{key: current[key] for key in ("subclass", "description", "degradable", "synonyms")},
        "applications": [*current["applications"], "spinal"],
        "properties": [
            {"property": "youngs_modulus", "value": 112, "unit": "GPa", "source": "fx-ref-a"}
        ],
    }
    expected = {
        "id": "fx-ti-alloy",
        "fields": [],
        "sections": {
            "properties": {
                "added": 0,
                "changed": 1,
                "removed": 3,
                "removed_ids": ["youngs_modulus#2", "tensile_strength", "density"],
            },
            # a record without an identifier is named by jurisdiction and device
            "regulatory": {
                "added": 0,
                "changed": 0,
                "removed": 1,
                "removed_ids": ["US-FDA:Fixture hip stem"],
            },
            "suppliers": {"added": 0, "changed": 0, "removed": 1, "removed_ids": ["fx-org-it"]},
            "applications": {"added": 1, "changed": 0, "removed": 0, "removed_ids": []},
        },
    }
    for dry_run in ("true", "false"):
        response = client.post(
            f"/api/v1/imports?dry_run={dry_run}",
            json={"materials": [entry]},
            headers=auth(keys["editor"]),
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["materials"]["updated"] == 1
        assert report["changes"] == [expected], dry_run
