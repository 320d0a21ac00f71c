"""A property range in name order (the default sort): exact pages, both directions,
whatever the path the database takes (on PostgreSQL the values are walked in name
order through their copy of the material's sort name: search.sorts.NameSort)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material, PropertyValue
from tests.test_search import walk

RANGE = "prop=youngs_modulus:500..600"  # beyond every fixture material (alumina: 380)


def modulus(*gpa: float) -> list[dict[str, Any]]:
    return [
        {"property": "youngs_modulus", "unit": "GPa", "source": "fx-ref-a", "value": v} for v in gpa
    ]


def material(slug: str, name: str, *gpa: float, status: str = "published") -> dict[str, Any]:
    return {
        "id": slug,
        "name": name,
        "class": "ceramic",
        "status": status,
        "properties": modulus(*gpa),
    }


@pytest.fixture
def stiff(session: Session) -> Session:
    """Materials that test the order: a name shared by two (the id decides), three
    values in range on one material (one row), a value out of range only, a draft,
    and a material renamed by a later version (it moves to its new place)."""
    bundle = {
        "materials": [
            material("st-same-b", "Same stiff name", 550),
            material("st-same-a", "Same stiff name", 520),
            material("st-three", "Boron stiff", 510, 540, 590),
            material("st-out", "Carbide stiff", 450),
            material("st-draft", "Draft stiff", 550, status="draft"),
            material("st-renamed", "Zirconium stiff", 560),
            material("st-edge", "Édge stiff", 600),
        ]
    }
    assert import_documents(session, [("stiff", bundle)]).ok
    renamed = {"materials": [material("st-renamed", "Alumina stiff", 560)]}
    assert import_documents(session, [("renamed", renamed)]).ok
    return session


BY_NAME = ["st-renamed", "st-three", "st-edge", "st-same-a", "st-same-b"]


@pytest.mark.parametrize("limit", [1, 2, 200])
def test_a_range_in_name_order_both_ways(stiff: Session, client: TestClient, limit: int) -> None:
    assert walk(client, f"/api/v1/materials?{RANGE}&limit={limit}") == BY_NAME
    # Descending by name, ties still by id ascending.
    assert walk(client, f"/api/v1/materials?{RANGE}&limit={limit}&sort=-name") == [
        "st-same-a",
        "st-same-b",
        "st-edge",
        "st-three",
        "st-renamed",
    ]


def test_a_range_in_name_order_with_other_filters(stiff: Session, client: TestClient) -> None:
    # Two ranges (the second one a subquery), and a text filter beside the range.
    assert walk(client, f"/api/v1/materials?{RANGE}&prop=youngs_modulus:530..545&limit=1") == [
        "st-three"
    ]
    assert walk(client, f"/api/v1/materials?{RANGE}&q=same&limit=1") == [
        "st-same-a",
        "st-same-b",
    ]
    body = client.get(f"/api/v1/materials?{RANGE}&limit=2").json()
    assert body["meta"]["total"] == len(BY_NAME)


def test_values_carry_their_materials_sort_name(stiff: Session) -> None:
    rows = stiff.execute(
        select(Material.slug, Material.sort_name, PropertyValue.material_sort_name).join(
            PropertyValue, PropertyValue.material_id == Material.id
        )
    ).all()
    assert rows
    assert all(copied == own for _, own, copied in rows)
    assert {own for slug, own, _ in rows if slug == "st-renamed"} == {"alumina stiff"}


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def remember(*args: Any) -> None:
        seen.append(args[2])

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", remember)
    yield seen
    event.remove(engine, "before_cursor_execute", remember)


def test_postgresql_walks_the_values_in_name_order(
    stiff: Session, client: TestClient, statements: list[str]
) -> None:
    """The page's query reads the range from the values' name-ordered index on
    PostgreSQL; SQLite keeps its own plan (a temporary b-tree would sort every match)."""
    assert client.get(f"/api/v1/materials?{RANGE}&limit=2").status_code == 200
    page = [s for s in statements if "ORDER BY" in s and "FROM materials" in s]
    assert len(page) == 1
    walks_values = "ORDER BY property_values.material_sort_name" in page[0]
    assert walks_values == (stiff.get_bind().dialect.name == "postgresql")
