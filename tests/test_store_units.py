"""Unit tests of the write path's parts, without HTTP: versions and outcomes
(``store``), the projection's arithmetic, ``field_diff`` and ``merge_patch``."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.bundles.schemas import MaterialIn, PropertyValueIn
from biomatdb.kit.documents import field_diff
from biomatdb.materials import projection, store
from biomatdb.materials.curation import merge_patch
from biomatdb.models import Change, Material, MaterialVersion, PropertySummary, PropertyValue

ENTRY: dict[str, Any] = {
    "id": "unit-alloy",
    "name": "Unit alloy",
    "class": "metal",
    "status": "draft",
    "properties": [
        {"property": "youngs_modulus", "min": 100, "max": 120, "unit": "GPa", "source": "fx-ref-a"},
        {"property": "youngs_modulus", "value": 14500, "unit": "ksi", "source": "fx-ref-a"},
    ],
}


def entry(**changes: Any) -> MaterialIn:
    return MaterialIn.model_validate({**ENTRY, **changes})


def versions_of(session: Session, slug: str) -> list[tuple[int, str]]:
    return [
        (v, s)
        for v, s in session.execute(
            select(MaterialVersion.version, MaterialVersion.status)
            .join(Material, Material.id == MaterialVersion.material_id)
            .where(Material.slug == slug)
            .order_by(MaterialVersion.version)
        )
    ]


# --- store.write_entries: outcomes, versions, the change log ---------------------------------


def test_a_new_entry_is_created_as_version_1_with_a_feed_entry(session: Session) -> None:
    feed_before = session.scalar(select(func.count()).select_from(Change))
    [written] = store.write_entries(session, [entry()], actor="unit")
    assert (written.slug, written.outcome, written.version, written.property_values) == (
        "unit-alloy",
        "created",
        1,
        2,
    )
    assert versions_of(session, "unit-alloy") == [(1, "draft")]
    assert session.scalar(select(func.count()).select_from(Change)) == (feed_before or 0) + 1


def test_the_same_entry_again_changes_nothing(session: Session) -> None:
    store.write_entries(session, [entry()], actor="unit")
    [again] = store.write_entries(session, [entry()], actor="unit")
    assert (again.outcome, again.version) == ("unchanged", 1)
    assert versions_of(session, "unit-alloy") == [(1, "draft")]


def test_a_changed_entry_is_a_new_version_with_its_diff(session: Session) -> None:
    store.write_entries(session, [entry()], actor="unit")
    [changed] = store.write_entries(session, [entry(name="Unit alloy B")], actor="unit")
    assert (changed.outcome, changed.version) == ("updated", 2)
    diff = session.scalar(
        select(MaterialVersion.diff)
        .join(Material, Material.id == MaterialVersion.material_id)
        .where(Material.slug == "unit-alloy", MaterialVersion.version == 2)
    )
    assert diff == [{"path": "name", "before": "Unit alloy", "after": "Unit alloy B"}]


def test_a_draft_of_a_published_material_waits_while_the_public_keeps_its_version(
    session: Session,
) -> None:
    store.write_entries(session, [entry(status="published")], actor="unit")
    store.write_entries(session, [entry(status="draft", name="Renamed draft")], actor="unit")
    material = session.scalars(select(Material).where(Material.slug == "unit-alloy")).one()
    assert (material.status, material.version, material.latest_version) == ("published", 1, 2)
    assert material.name == "Unit alloy"  # the projection still shows version 1


def test_planned_outcomes_predict_the_write(session: Session) -> None:
    store.write_entries(session, [entry()], actor="unit")
    planned: dict[str, str] = {}
    plan = store.planned_outcomes(
        session, [entry(), entry(id="unit-new"), entry(name="X")], planned
    )
    # The third entry repeats the first id with other content: planned after it, an update.
    assert [(p.slug, p.outcome) for p in plan] == [
        ("unit-alloy", "unchanged"),
        ("unit-new", "created"),
        ("unit-alloy", "updated"),
    ]
    assert versions_of(session, "unit-new") == []  # nothing written


# --- the projection -------------------------------------------------------------------------


def test_the_projection_stores_canonical_intervals_and_summaries(session: Session) -> None:
    store.write_entries(session, [entry(status="published")], actor="unit")
    material_id = session.scalar(select(Material.id).where(Material.slug == "unit-alloy"))
    intervals = sorted(
        session.execute(
            select(PropertyValue.canonical_min, PropertyValue.canonical_max).where(
                PropertyValue.material_id == material_id
            )
        ).all()
    )
    ksi = 14500 * 6.894757293168361 / 1000  # 14,500 ksi in GPa
    assert intervals == [(pytest.approx(ksi), pytest.approx(ksi)), (100.0, 120.0)]
    summary = session.execute(
        select(
            PropertySummary.canonical_min, PropertySummary.typical, PropertySummary.value_count
        ).where(PropertySummary.material_id == material_id)
    ).one()
    assert summary[0] == pytest.approx(ksi)
    assert summary[1] == pytest.approx((110 + ksi) / 2)
    assert summary[2] == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"value": 2, "unit": "GPa"}, (2.0, 2.0)),
        ({"min": 1, "max": 3, "unit": "GPa"}, (1.0, 3.0)),
        ({"min": 1, "unit": "GPa"}, (1.0, 1.0)),  # one bound is the interval's both ends
        ({"max": 3000, "unit": "MPa"}, (3.0, 3.0)),
    ],
)
def test_canonical_intervals(value: dict[str, Any], expected: tuple[float, float]) -> None:
    parsed = PropertyValueIn.model_validate({"property": "youngs_modulus", **value})
    assert projection.canonical_interval(parsed) == expected


def test_typical_values_are_finite_even_at_the_largest_floats() -> None:
    assert projection.typical_value([(1.0, 3.0), (5.0, 5.0)]) == 3.5
    huge = projection.typical_value([(1.7e308, 1.7e308), (1.6e308, 1.7e308)])
    assert math.isfinite(huge)
    assert huge == pytest.approx(1.675e308)


# --- field_diff and merge_patch -------------------------------------------------------------


def test_field_diff_names_each_changed_leaf() -> None:
    before = {"name": "A", "properties": [{"value": 1}, {"value": 2}], "gone": True}
    after = {"name": "B", "properties": [{"value": 1}, {"value": 3}, {"value": 4}], "new": 1}
    assert field_diff(before, after) == [
        {"path": "gone", "before": True, "after": None},
        {"path": "name", "before": "A", "after": "B"},
        {"path": "new", "before": None, "after": 1},
        {"path": "properties[1].value", "before": 2, "after": 3},
        {"path": "properties[2]", "before": None, "after": {"value": 4}},
    ]
    assert field_diff(after, after) == []
    assert field_diff(None, after) == []  # a first version has no diff


def test_merge_patch_follows_rfc_7396() -> None:
    # RFC 7396, section 3's example.
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }
    assert merge_patch({"a": 1}, ["not", "an", "object"]) == ["not", "an", "object"]
    assert merge_patch("scalar", {"a": {"b": None}}) == {"a": {}}
