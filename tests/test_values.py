"""The values table (``GET /api/v1/values``): one row per property value of the
matching materials, in JSON pages, CSV and NDJSON."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.values import service
from biomatdb.values.schemas import COLUMNS
from tests.helpers import problem_of

URL = "/api/v1/values"
REF_A = "Fixture source A (test data, not a real publication)"


def page(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def walk(client: TestClient, query: str, limit: int = 3) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    body = page(client, f"{query}&limit={limit}")
    rows += body["data"]
    while body["meta"]["next_cursor"]:
        body = page(client, f"{query}&limit={limit}&cursor={body['meta']['next_cursor']}")
        rows += body["data"]
    return rows


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["material_id"], r["property"]) for r in rows]


def test_one_row_per_value_in_material_property_order(client: TestClient) -> None:
    body = page(client, "class=metal&limit=200")
    assert body["meta"] == {
        "total": 10,
        "next_cursor": None,
        "last_updated": body["meta"]["last_updated"],
    }
    assert keys(body["data"]) == [
        ("fx-mg", "degradation_time"),
        ("fx-mg", "density"),
        ("fx-mg", "youngs_modulus"),
        ("fx-steel", "density"),
        ("fx-steel", "tensile_strength"),
        ("fx-steel", "youngs_modulus"),
        ("fx-ti-alloy", "density"),
        ("fx-ti-alloy", "tensile_strength"),
        ("fx-ti-alloy", "youngs_modulus"),
        ("fx-ti-alloy", "youngs_modulus"),
    ]
    steel = body["data"][4]
    assert steel == {
        "material_id": "fx-steel",
        "material_name": "Stainless steel FX",
        "property": "tensile_strength",
        "value": None,
        "min": 70000.0,
        "max": 90000.0,
        "unit": "psi",
        "canonical_min": 483.0,  # 70,000 psi to the 3 digits a source of 1 digit gets
        "canonical_max": 621.0,
        "canonical_unit": "MPa",
        "qualifier": "=",
        "uncertainty": None,
        "specimen": None,
        "method": None,
        "conditions": None,
        "evidence": None,
        "source": "fx-ref-a",
        "citation": REF_A,
        "doi": None,
    }
    ti = body["data"][7]
    assert (ti["qualifier"], ti["specimen"], ti["method"]) == (">=", "bar", "ASTM E8")
    # The two moduli of the titanium alloy in their given order: 110 GPa, 16,000 ksi.
    assert [(r["value"], r["unit"]) for r in body["data"][8:]] == [
        (110.0, "GPa"),
        (16000.0, "ksi"),
    ]


def test_pages_walk_to_the_whole_table(client: TestClient) -> None:
    whole = page(client, "limit=200")
    assert len(whole["data"]) == whole["meta"]["total"]
    assert walk(client, "") == whole["data"]
    assert (
        walk(client, "class=metal&class=ceramic", limit=4)
        == page(client, "class=metal&class=ceramic&limit=200")["data"]
    )


def test_properties_specimens_and_units_narrow_and_convert(client: TestClient) -> None:
    density = page(client, "properties=density&limit=200")["data"]
    assert {r["property"] for r in density} == {"density"}
    assert page(client, "properties=density")["meta"]["total"] == 4
    only_bar = page(client, "specimen=bar")["data"]
    assert keys(only_bar) == [("fx-ti-alloy", "tensile_strength")]
    kpa = page(client, "class=metal&properties=youngs_modulus&units=youngs_modulus:kPa")
    assert [(r["canonical_min"], r["canonical_unit"]) for r in kpa["data"]] == [
        (45e6, "kPa"),
        (193e6, "kPa"),
        (110e6, "kPa"),
        (110e6, "kPa"),  # 16,000 ksi, to 3 digits
    ]


def test_csv_parses_back_to_the_json_rows(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BATCH", 4)  # several batches
    response = client.get(f"{URL}?format=csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    whole = page(client, "limit=200")
    assert len(rows) == whole["meta"]["total"]
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["material_id"], r["property"]) for r in rows] == keys(whole["data"])
    steel = next(r for r in rows if r["material_id"] == "fx-steel" and r["min"])
    assert (steel["min"], steel["max"], steel["canonical_min"], steel["doi"]) == (
        "70000",
        "90000",
        "483",
        "",
    )


def test_ndjson_is_the_json_rows_one_per_line(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BATCH", 4)
    response = client.get(URL, headers={"Accept": "application/x-ndjson"})
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert lines == page(client, "limit=200")["data"]


def test_conditions_and_evidence_are_listed(client: TestClient, session: Session) -> None:
    bundle = {
        "materials": [
            {
                "id": "fx-conditions",
                "name": "Conditions FX",
                "class": "polymer",
                "status": "published",
                "properties": [
                    {
                        "property": "tensile_strength",
                        "value": 60,
                        "unit": "MPa",
                        "source": "fx-ref-b",
                        "evidence": "measured",
                        "conditions": {"temperature": "37 degC", "medium": "PBS"},
                    }
                ],
            }
        ]
    }
    assert import_documents(session, [("conditions", bundle)]).ok
    row = page(client, "q=conditions")["data"][0]
    assert (row["evidence"], row["conditions"]) == (
        "measured",
        {"temperature": "37 degC", "medium": "PBS"},
    )
    text = client.get(f"{URL}?q=conditions&format=csv").text
    cells = next(csv.DictReader(io.StringIO(text, newline="")))
    assert orjson.loads(cells["conditions"]) == {"temperature": "37 degC", "medium": "PBS"}
    assert cells["evidence"] == "measured"
    detail = client.get("/api/v1/materials/fx-conditions").json()
    assert detail["properties"][0]["evidence"] == "measured"


def test_bad_parameters_are_400s_naming_them(client: TestClient) -> None:
    problem = problem_of(client.get(f"{URL}?properties=colour"), 400)
    assert [e["path"] for e in problem["errors"]] == ["properties"]
    problem = problem_of(client.get(f"{URL}?cursor=abc"), 400)
    assert [e["path"] for e in problem["errors"]] == ["cursor"]
    cursor = page(client, "limit=1")["meta"]["next_cursor"]
    problem = problem_of(client.get(f"{URL}?class=metal&limit=1&cursor={cursor}"), 400)
    assert [e["path"] for e in problem["errors"]] == ["cursor"]
    problem = problem_of(client.get(f"{URL}?limit=201"), 400)
    assert [e["path"] for e in problem["errors"]] == ["limit"]
    problem_of(client.get(URL, headers={"Accept": "application/xml"}), 406)
