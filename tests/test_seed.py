"""The shipped seed data imports cleanly and has the breadth the project promises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.bundles.reader import read_file
from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material, Organization, PropertyValue, RegulatoryRecord
from tests.conftest import client_for

SEED = Path(__file__).resolve().parents[1] / "seed"


@pytest.fixture
def seeded(empty_database: Session) -> Session:
    files = sorted(SEED.glob("*.json"))
    report = import_documents(empty_database, [(f.name, read_file(f)) for f in files])
    assert report.ok, report.errors[:20]
    empty_database.commit()
    return empty_database


def test_seed_breadth(seeded: Session) -> None:
    classes = Counter(seeded.scalars(select(Material.material_class)))
    assert set(classes) == {"metal", "ceramic", "glass", "polymer", "composite", "natural"}
    assert sum(classes.values()) >= 40
    assert seeded.scalar(select(func.count()).select_from(Organization)) >= 15
    countries = set(seeded.scalars(select(Organization.country)))
    assert {"IT", "JP"} <= countries
    identified = seeded.scalar(
        select(func.count())
        .select_from(RegulatoryRecord)
        .where(RegulatoryRecord.identifier.is_not(None))
    )
    assert identified is not None
    assert identified >= 10
    unsourced = seeded.scalar(
        select(func.count()).select_from(PropertyValue).where(PropertyValue.reference_id.is_(None))
    )
    assert unsourced == 0
    slugs = set(seeded.scalars(select(Material.slug)))
    for required in (
        "cp-titanium-grade-2",
        "ti-6al-4v-eli",
        "cocrmo-astm-f75",
        "stainless-steel-316l",
        "magnesium-az31",
        "nitinol",
        "alumina",
        "zirconia-3y-tzp",
        "hydroxyapatite",
        "beta-tricalcium-phosphate",
        "bioglass-45s5",
        "peek",
        "plla",
        "collagen-type-i",
        "silk-fibroin",
        "chitosan",
        "alginate",
        "hyaluronic-acid",
    ):
        assert required in slugs


def test_seed_reimport_changes_nothing(seeded: Session) -> None:
    files = sorted(SEED.glob("*.json"))
    report = import_documents(seeded, [(f.name, read_file(f)) for f in files])
    assert report.ok
    assert not report.changed


def test_seed_is_searchable(seeded: Session) -> None:
    with client_for(seeded) as client:
        titanium = client.get("/api/v1/materials?q=titanium&class=metal&limit=200").json()
        assert {"cp-titanium-grade-2", "ti-6al-4v-eli"} <= {m["id"] for m in titanium["data"]}
        stiff = client.get("/api/v1/materials?prop=youngs_modulus:300..:GPa&limit=200").json()
        assert "alumina" in {m["id"] for m in stiff["data"]}
        fda = client.get("/api/v1/materials?regulatory=US-FDA&facets=country").json()
        assert fda["meta"]["total"] >= 5
        italy = client.get("/api/v1/materials?country=IT&limit=200").json()
        assert italy["meta"]["total"] >= 1
