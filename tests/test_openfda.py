"""``biomatdb import-openfda``: openFDA 510(k) / De Novo / PMA records to regulatory
entries, through the validating, all-or-nothing import.

``tests/fixtures/openfda/510k-palacos.json`` holds three real records (its README gives
each field's source); the other records below are synthetic (``K9999xx``-style
numbers, ``TEST`` names) and check the rules, not facts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.db import make_engine
from biomatdb.errors import FieldProblem
from biomatdb.exchange import openfda
from biomatdb.models import Material, RegulatoryRecord
from tests.test_cli import run

FIXTURES = Path(__file__).parent / "fixtures" / "openfda"
PALACOS = FIXTURES / "510k-palacos.json"
MAPPING = FIXTURES / "mapping-pmma.json"


def seed() -> None:
    code, _, err = run("seed")
    assert code == 0, err


def records_of(url: str, slug: str) -> list[tuple[str | None, str | None, str | None]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(
                RegulatoryRecord.identifier,
                RegulatoryRecord.product_code,
                RegulatoryRecord.decision_date,
            )
            .join(Material, Material.id == RegulatoryRecord.material_id)
            .where(Material.slug == slug)
            .order_by(RegulatoryRecord.position)
        ).all()
    engine.dispose()
    return [(i, p, str(d) if d else None) for i, p, d in rows]


def test_real_records_add_only_what_the_material_lacks(cli_database: str) -> None:
    seed()
    before = records_of(cli_database, "pmma-bone-cement")
    assert ("K150119", None, "2015-06-17") in before
    code, out, err = run("import-openfda", str(PALACOS), "--mapping", str(MAPPING), "--dry-run")
    assert code == 0, err
    assert "3 record(s): 1 added, 2 already present, 0 matched no material" in out
    assert records_of(cli_database, "pmma-bone-cement") == before  # a dry run writes nothing
    code, out, err = run("import-openfda", str(PALACOS), "--mapping", str(MAPPING))
    assert code == 0, err
    after = records_of(cli_database, "pmma-bone-cement")
    assert after == [*before, ("K213812", "LOD", "2022-02-02")]
    # The record cites its own reference, with the FDA database page.
    detail = run("export", "--format", "bundle")[1]
    bundle = json.loads(detail)
    reference = next(r for r in bundle["references"] if r["id"] == "openfda-k213812")
    assert reference["url"] == (
        "https://www.accessdata.fda.gov/scripts/cdrh/cfdocs/cfpmn/pmn.cfm?ID=K213812"
    )
    assert reference["citation"].startswith("U.S. FDA 510(k) K213812: PALACOS MV pro")
    # Running it again changes nothing.
    code, out, _ = run("import-openfda", str(PALACOS), "--mapping", str(MAPPING))
    assert code == 0
    assert "0 added, 3 already present" in out
    assert records_of(cli_database, "pmma-bone-cement") == after


def synthetic(tmp_path: Path, results: list[Any], mapping: dict[str, Any]) -> list[str]:
    data = tmp_path / "records.json"
    data.write_text(json.dumps({"results": results}))
    rules = tmp_path / "mapping.json"
    rules.write_text(json.dumps(mapping))
    return [str(data), "--mapping", str(rules)]


def test_status_pathway_applicant_and_what_is_skipped(cli_database: str, tmp_path: Path) -> None:
    seed()
    args = synthetic(
        tmp_path,
        [
            {
                "k_number": "K999901",
                "device_name": "TEST PEEK CAGE",
                "decision_code": "SESE",
                "decision_date": "20200102",
                "applicant": "Test Applicant Inc.",
                "country_code": "US",
                "openfda": {"device_class": "2"},
            },
            {
                "k_number": "DEN999902",
                "device_name": "TEST PEEK ANCHOR",
                "decision_code": "DENG",
                "decision_date": "2021-03-04",
            },
            {"k_number": "K999903", "device_name": "TEST OTHER", "decision_code": "SESE"},
            {
                "pma_number": "P999904",
                "supplement_number": "",
                "trade_name": "TEST PEEK DISC",
                "decision_code": "APPR",
                "decision_date": "2019-05-06",
                "openfda": {"device_class": "3"},
            },
            {
                "pma_number": "P999904",
                "supplement_number": "S001",
                "trade_name": "TEST PEEK DISC",
                "decision_code": "APPR",
            },
            {
                "pma_number": "P999905",
                "supplement_number": "",
                "trade_name": "TEST PEEK PLUG",
                "decision_code": "DENY",
            },
        ],
        {
            "device_names": [{"pattern": "*peek*", "materials": ["peek"]}],
            "applicants": {"TEST APPLICANT INC.": "test-applicant"},
        },
    )
    code, out, err = run("import-openfda", *args, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["openfda"] == {
        "records": 6,
        "added": 3,
        "already_present": 0,
        "not_marketing": ["P999905"],
        "pma_supplements": 1,
        "unmatched": ["K999903"],
    }
    peek = next(m for m in json.loads(run("export")[1])["materials"] if m["id"] == "peek")
    added = peek["regulatory"][-3:]
    assert [
        (r["identifier"], r["pathway"], r["status"], r.get("device_class"), r["decision_date"])
        for r in added
    ] == [
        ("K999901", "510k", "cleared", "II", "2020-01-02"),
        ("DEN999902", "de_novo", "approved", None, "2021-03-04"),
        ("P999904", "pma", "approved", "III", "2019-05-06"),
    ]
    assert added[0]["organization"] == "test-applicant"
    organizations = json.loads(run("export")[1])["organizations"]
    assert {
        "id": "test-applicant",
        "name": "Test Applicant Inc.",
        "kind": "manufacturer",
        "country": "US",
    } in organizations


def test_problems_are_listed_and_nothing_is_written(cli_database: str, tmp_path: Path) -> None:
    seed()
    before = records_of(cli_database, "peek")
    args = synthetic(
        tmp_path,
        [
            {"device_name": "TEST NO NUMBER"},
            "not a record",
            {"k_number": "K999906", "device_name": "TEST PEEK"},
        ],
        {
            "device_names": [{"pattern": "*PEEK*", "materials": ["peek", "no-such-material"]}],
            "product_codes": {"XYZ": []},
            "colour": "blue",
        },
    )
    code, _, err = run("import-openfda", *args)
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("error")] == [
        "error: colour: unknown field; use product_codes, device_names, applicants",
        "error: product_codes.XYZ: a material id or a list of them",
        f"error: {args[0]}: results[0]: neither k_number (510(k), De Novo) nor pma_number",
        f"error: {args[0]}: results[1]: a record is a JSON object",
    ]
    assert records_of(cli_database, "peek") == before


def test_an_unknown_material_in_the_mapping_is_an_error(cli_database: str, tmp_path: Path) -> None:
    seed()
    args = synthetic(
        tmp_path,
        [{"k_number": "K999907", "device_name": "TEST PEEK"}],
        {"device_names": [{"pattern": "*PEEK*", "materials": ["no-such-material"]}]},
    )
    code, _, err = run("import-openfda", *args)
    assert code == 1
    assert "error: mapping: no-such-material: no material 'no-such-material' in the database" in err


def test_files_that_are_not_openfda_say_so(cli_database: str, tmp_path: Path) -> None:
    bad = tmp_path / "bundle.json"
    bad.write_text('{"materials": []}')
    code, _, err = run("import-openfda", str(bad), "--mapping", str(MAPPING))
    assert code == 1
    assert f'error: {bad}: not an openFDA file: expected {{"results": [...]}}' in err
    code, _, err = run("import-openfda", str(tmp_path / "missing.json"), "--mapping", str(MAPPING))
    assert code == 2
    assert "cannot read" in err
    assert "Traceback" not in err


def test_mapping_bounds() -> None:
    problems: list[FieldProblem] = []
    openfda.read_mapping(
        {"device_names": [{"pattern": "x" * 201, "materials": ["peek"]}]}, problems
    )
    assert [p.message for p in problems] == ["1 to 200 characters"]
    problems = []
    openfda.read_mapping({"product_codes": {f"C{i}": ["peek"] for i in range(1001)}}, problems)
    assert [p.message for p in problems] == ["at most 1000 rules"]
