"""The data quality report (``GET /api/v1/quality``, ``biomatdb quality``): each section
finds exactly what it should in a small bundle added to the search fixture (rolled
back after each test). The numbers are test data."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.quality import service
from tests.conftest import auth
from tests.helpers import problem_of
from tests.test_cli import run


def rate(value: float) -> dict[str, Any]:
    return {"property": "corrosion_rate", "value": value, "unit": "mm/year", "source": "q-doi"}


QUALITY: dict[str, Any] = {
    "references": [
        {"id": "q-doi", "citation": "Q with DOI", "doi": "10.1000/q-test"},
        {"id": "q-nodoi", "citation": "Q without DOI"},
    ],
    "organizations": [
        {"id": "q-alone", "name": "Q Alone Ltd", "kind": "supplier"},
        {"id": "q-used", "name": "Q Used Ltd", "kind": "supplier"},
    ],
    "materials": [
        # Six corroding metals: five near 0.25 mm/year, one at 30 (an outlier).
        *(
            {
                "id": f"q-mg-{i}",
                "name": f"Q magnesium {i}",
                "class": "metal",
                "status": "published",
                "properties": [rate(v)],
            }
            for i, v in enumerate([0.2, 0.25, 0.3, 0.22, 0.28, 30.0])
        ),
        {
            "id": "q-conflict",
            "name": "Q conflict",
            "class": "polymer",
            "status": "published",
            "properties": [
                # bulk: 1 and 5 GPa, 5x apart; film: 1 and 2 GPa, 2x (no conflict)
                {
                    "property": "youngs_modulus",
                    "value": 1,
                    "unit": "GPa",
                    "specimen": "bulk",
                    "source": "q-doi",
                },
                {
                    "property": "youngs_modulus",
                    "value": 5,
                    "unit": "GPa",
                    "specimen": "Bulk",
                    "source": "q-doi",
                },
                {
                    "property": "youngs_modulus",
                    "value": 1,
                    "unit": "GPa",
                    "specimen": "film",
                    "source": "q-doi",
                },
                {
                    "property": "youngs_modulus",
                    "value": 2,
                    "unit": "GPa",
                    "specimen": "film",
                    "source": "q-nodoi",
                    "evidence": "class_generic",
                },
            ],
            "suppliers": [{"organization": "q-used"}],
        },
        {"id": "q-empty", "name": "Q empty", "class": "natural"},
    ],
}


@pytest.fixture
def quality(session: Session) -> None:
    report = import_documents(session, [("quality", QUALITY)])
    assert report.ok, report.errors
    service.clear()


def mine(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i
        for i in section["items"]
        if str(i.get("material") or i.get("organization")).startswith("q-")
    ]


@pytest.mark.usefixtures("quality")
def test_each_section_finds_exactly_its_cases(session: Session) -> None:
    found = service.report(session, limit=1000)["sections"]
    outliers = [i for i in mine(found["outliers"]) if i["property"] == "corrosion_rate"]
    assert [(i["material"], i["canonical"]["min"], i["class"]) for i in outliers] == [
        ("q-mg-5", 30.0, "metal")
    ]
    assert outliers[0]["z"] > service.OUTLIER_Z
    assert mine(found["conflicting_values"]) == [
        {
            "material": "q-conflict",
            "property": "youngs_modulus",
            "specimen": "bulk",
            "values": 2,
            "lowest": 1.0,
            "highest": 5.0,
            "unit": "GPa",
            "ratio": 5.0,
        }
    ]
    assert [
        (i["material"], i["index"], i["source"]) for i in mine(found["values_without_doi"])
    ] == [("q-conflict", 3, "q-nodoi")]
    assert [(i["material"], i["index"]) for i in mine(found["class_generic_values"])] == [
        ("q-conflict", 3)
    ]
    assert mine(found["materials_without_properties"]) == [
        {"material": "q-empty", "name": "Q empty", "status": "draft", "class": "natural"}
    ]
    assert mine(found["unlinked_organizations"]) == [
        {"organization": "q-alone", "name": "Q Alone Ltd", "kind": "supplier"}
    ]


@pytest.mark.usefixtures("quality")
def test_sections_count_everything_and_list_at_most_limit(session: Session) -> None:
    whole = service.report(session, limit=1000)["sections"]
    short = service.report(session, limit=1)["sections"]
    for name, section in short.items():
        assert section["count"] == whole[name]["count"], name
        assert len(section["items"]) == min(1, section["count"]), name
        assert section["about"] == service.SECTIONS[name]


@pytest.mark.usefixtures("quality")
def test_the_api_is_for_curators(client: TestClient, keys: dict[str, str]) -> None:
    problem_of(client.get("/api/v1/quality"), 401)
    problem_of(client.get("/api/v1/quality", headers=auth(keys["reader"])), 403)
    answer = client.get("/api/v1/quality?limit=5", headers=auth(keys["curator"]))
    assert answer.status_code == 200
    body = answer.json()
    assert body["limit"] == 5
    assert list(body["sections"]) == list(service.SECTIONS)
    assert mine(body["sections"]["unlinked_organizations"]) == [
        {"organization": "q-alone", "name": "Q Alone Ltd", "kind": "supplier"}
    ]
    for bad in ("0", "1001"):
        problem = problem_of(
            client.get(f"/api/v1/quality?limit={bad}", headers=auth(keys["curator"])), 400
        )
        assert problem["errors"][0]["path"] == "limit"


def test_the_cli_prints_a_worklist(cli_database: str) -> None:
    assert run("seed")[0] == 0
    code, out, err = run("quality", "--limit", "2")
    assert code == 0, err
    for name in service.SECTIONS:
        assert f"\n{name}: " in f"\n{out}"
    assert "... and " in out  # the seed has more than 2 values without a DOI
