"""The synthetic corpus: deterministic, valid, and shaped like real data."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.synth import generate, write_bundle
from tests.conftest import client_for


def test_same_seed_same_bundle_other_seed_other_bundle() -> None:
    assert generate(50, 7) == generate(50, 7)
    assert generate(50, 7) != generate(50, 8)


def test_shape() -> None:
    bundle = generate(600, 3)
    materials = bundle["materials"]
    classes = Counter(m["class"] for m in materials)
    assert set(classes) == {"metal", "ceramic", "glass", "polymer", "composite", "natural"}
    assert classes["polymer"] > classes["glass"]
    assert all(len(m["properties"]) == 15 for m in materials)
    assert {v["unit"] for m in materials for v in m["properties"]} >= {
        "GPa",
        "MPa",
        "psi",
        "ksi",
        "g/cm^3",
        "kg/m^3",
        "degC",
        "K",
        "month",
        "week",
    }
    assert all(1 <= len(m["regulatory"]) <= 3 for m in materials)
    assert 1.5 <= sum(len(m["suppliers"]) for m in materials) / len(materials) <= 2.5
    conflicting = sum(
        1 for m in materials if max(Counter(v["property"] for v in m["properties"]).values()) > 1
    )
    assert conflicting > 0


def test_imports_cleanly_and_is_searchable(empty_database: Session) -> None:
    bundle = generate(200, 5)
    report = import_documents(empty_database, [("synth", bundle)])
    assert report.ok, report.errors[:5]
    assert report.materials.created == 200
    assert report.property_values_written == 3000
    with client_for(empty_database) as client:
        body = client.get("/api/v1/materials?q=synthetic&limit=1&facets=class").json()
        assert body["meta"]["total"] == 200
        assert sum(body["meta"]["facets"]["class"].values()) == 200


@pytest.mark.dialect_free
def test_a_bundle_written_material_by_material_is_the_generated_one(tmp_path: Path) -> None:
    # A million materials cannot be generated in memory; written one at a time, the
    # file is byte for byte the bundle of generate().
    path = tmp_path / "synth.json"
    write_bundle(path, 120, 3)
    assert path.read_text(encoding="utf-8") == json.dumps(generate(120, 3), separators=(",", ":"))
