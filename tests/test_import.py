"""The importer: all-or-nothing, every error with its path, idempotent, round-trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.bundles.reader import decode
from biomatdb.errors import InvalidBundle
from biomatdb.exchange.exporter import export_bundle
from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material, PropertyValue, Reference
from tests.conftest import SEARCH_BUNDLE, client_for, load_json


def material(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "new-mat",
        "name": "New material",
        "class": "metal",
        "status": "published",
    }
    base.update(fields)
    return base


def value(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "property": "youngs_modulus",
        "value": 100,
        "unit": "GPa",
        "source": "fx-ref-a",
    }
    base.update(fields)
    return base


def errors_of(session: Session, bundle: Any) -> list[tuple[str, str]]:
    report = import_documents(session, [("bundle", bundle)])
    assert not report.ok
    return [(e["path"], e["message"]) for e in report.errors]


def paths_of(session: Session, bundle: Any) -> list[str]:
    return [p for p, _ in errors_of(session, bundle)]


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_error_is_reported_with_its_path_and_nothing_is_written(session: Session) -> None:
    before = (count(session, Material), count(session, PropertyValue), count(session, Reference))
    bundle = {
        "references": [
            {"id": "ok-ref", "citation": "A real-looking citation"},
            {"id": "Bad_Ref", "citation": "x"},
        ],
        "organizations": [{"id": "org-x", "name": "X", "kind": "wizard", "country": "XX"}],
        "materials": [
            material(id="good-one", properties=[value(source="ok-ref")]),
            material(id="Bad Slug!", name="", **{"class": "rock"}),
            material(
                id="units",
                properties=[
                    value(unit="bananas"),
                    value(property="density", unit="MPa"),
                    value(property="no_such_property"),
                    value(value=float("nan")),
                    value(value=None, min=5, max=2),
                    value(value=-3),
                    value(source="missing-ref"),
                    value(source=None),
                    value(min=1),
                    value(property="porosity", value=120, unit="%"),
                ],
            ),
            material(id="good-one"),
            material(
                id="links",
                suppliers=[{"organization": "nobody"}],
                regulatory=[
                    {
                        "jurisdiction": "US-FDA",
                        "status": "cleared",
                        "organization": "ghost",
                        "source": "ghost-ref",
                    },
                    {"jurisdiction": "MARS", "status": "cleared"},
                ],
                applications=["orthopedic", "orthopedic"],
                extra_field=1,
            ),
        ],
    }
    assert paths_of(session, bundle) == [
        "materials[1].class",
        "materials[1].id",
        "materials[1].name",
        "materials[2].properties[0].unit",
        "materials[2].properties[1].unit",
        "materials[2].properties[2].property",
        "materials[2].properties[3].value",
        "materials[2].properties[4].min",
        "materials[2].properties[5].value",
        "materials[2].properties[6].source",
        "materials[2].properties[7].source",
        "materials[2].properties[8].value",
        "materials[2].properties[9].value",
        "materials[3].id",
        "materials[4].extra_field",
        "materials[4].regulatory[1].jurisdiction",
        "organizations[0].country",
        "organizations[0].kind",
        "references[1].id",
    ]
    assert (
        count(session, Material),
        count(session, PropertyValue),
        count(session, Reference),
    ) == before


def test_error_messages_say_what_to_fix(session: Session) -> None:
    bundle = {
        "materials": [
            material(
                properties=[
                    value(unit="MPa*m^0.5"),
                    value(min=9, max=1, value=None),
                    value(source="nope"),
                ]
            )
        ]
    }
    assert errors_of(session, bundle) == [
        (
            "materials[0].properties[0].unit",
            "unit 'MPa*m^0.5' has dimension [mass] / [length] ** 0.5 / [time] ** 2 but "
            "youngs_modulus needs [mass] / [length] / [time] ** 2 (e.g. GPa)",
        ),
        ("materials[0].properties[1].min", "min (9.0) is greater than max (1.0)"),
        (
            "materials[0].properties[2].source",
            "unknown reference 'nope': define it in the bundle's 'references' or import it first",
        ),
    ]


def test_links_to_missing_organizations_and_duplicates(session: Session) -> None:
    bundle = {
        "materials": [
            material(
                suppliers=[{"organization": "nobody"}],
                regulatory=[
                    {
                        "jurisdiction": "US-FDA",
                        "status": "cleared",
                        "organization": "ghost",
                        "source": "ghost-ref",
                    }
                ],
                applications=["orthopedic", "orthopedic"],
            )
        ]
    }
    assert paths_of(session, bundle) == [
        "materials[0].applications[1]",
        "materials[0].regulatory[0].organization",
        "materials[0].regulatory[0].source",
        "materials[0].suppliers[0].organization",
    ]


@pytest.mark.parametrize(
    ("bundle", "path"),
    [
        ([], ""),
        ({"materials": {}}, "materials"),
        ({"materialz": []}, "materialz"),
        ({"materials": [material(degradable="yes")]}, "materials[0].degradable"),
        (
            {"materials": [material(properties=[value(value="114")])]},
            "materials[0].properties[0].value",
        ),
        (
            {
                "materials": [
                    material(composition=[{"component": "Ti", "fraction": 1.5, "basis": "mass"}])
                ]
            },
            "materials[0].composition[0].fraction",
        ),
        (
            {
                "materials": [
                    material(composition=[{"component": "Ti", "fraction": 0.5, "basis": "weight"}])
                ]
            },
            "materials[0].composition[0].basis",
        ),
        ({"materials": [material(applications=["knees"])]}, "materials[0].applications[0]"),
        ({"materials": [material(status="live")]}, "materials[0].status"),
        ({"materials": [material(name="x" * 301)]}, "materials[0].name"),
        (
            {
                "materials": [
                    material(
                        regulatory=[
                            {
                                "jurisdiction": "US-FDA",
                                "status": "cleared",
                                "decision_date": "2019-13-45",
                            }
                        ]
                    )
                ]
            },
            "materials[0].regulatory[0].decision_date",
        ),
        (
            {"references": [{"id": "r", "citation": "c", "doi": "https://doi.org/10.1/x"}]},
            "references[0].doi",
        ),
        (
            {
                "materials": [
                    material(
                        properties=[value(property="water_contact_angle", value=200, unit="degree")]
                    )
                ]
            },
            "materials[0].properties[0].value",
        ),
        (
            {
                "materials": [
                    material(
                        properties=[
                            value(property="glass_transition_temperature", value=-10, unit="K")
                        ]
                    )
                ]
            },
            "materials[0].properties[0].value",
        ),
    ],
)
def test_single_problem_paths(session: Session, bundle: Any, path: str) -> None:
    assert paths_of(session, bundle) == [path]


def test_json_decoding_errors() -> None:
    with pytest.raises(InvalidBundle) as caught:
        decode(b'{"materials": [}')
    assert caught.value.errors[0].message.startswith("invalid JSON at line 1 column")
    with pytest.raises(InvalidBundle) as caught:
        decode(b'{"materials": [], "materials": []}')
    assert "duplicate key 'materials'" in caught.value.errors[0].message
    with pytest.raises(InvalidBundle):
        decode(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InvalidBundle):
        decode(b"\xff\xfe")
    with pytest.raises(InvalidBundle) as caught:
        decode(b'{"materials": [{"id": "a", "name": "x\\u0000y"}]}')
    assert [e.path for e in caught.value.errors] == ["materials[0].name"]
    nan = decode(b'{"materials": [{"value": NaN}]}')
    assert nan["materials"][0]["value"] != nan["materials"][0]["value"]


def test_dry_run_reports_but_writes_nothing(session: Session) -> None:
    bundle = {"materials": [material(properties=[value()])]}
    with session.begin_nested() as savepoint:
        report = import_documents(session, [("b", bundle)], dry_run=True)
        savepoint.rollback()
    assert report.ok
    assert report.materials.created == 1
    assert report.summary().endswith("(dry run: nothing was written)")
    assert session.scalar(select(Material).where(Material.slug == "new-mat")) is None


def test_reimport_changes_nothing_and_says_so(session: Session) -> None:
    bundle = load_json(SEARCH_BUNDLE)
    before = session.execute(
        select(Material.slug, Material.version, Material.updated_at).order_by(Material.slug)
    ).all()
    report = import_documents(session, [("again", bundle)])
    assert report.ok
    assert report.materials.as_dict() == {"created": 0, "updated": 0, "unchanged": 13}
    assert report.references.as_dict() == {"created": 0, "updated": 0, "unchanged": 2}
    assert report.summary() == "nothing changed: every entry is already in the database as given"
    after = session.execute(
        select(Material.slug, Material.version, Material.updated_at).order_by(Material.slug)
    ).all()
    assert after == before


def test_changed_entry_is_updated_and_versioned(session: Session, client: TestClient) -> None:
    bundle = load_json(SEARCH_BUNDLE)
    peek = next(m for m in bundle["materials"] if m["id"] == "fx-peek")
    peek["properties"][0] = {
        "property": "youngs_modulus",
        "value": 4.1,
        "unit": "GPa",
        "source": "fx-ref-a",
    }
    report = import_documents(session, [("changed", bundle)])
    assert report.materials.as_dict() == {"created": 0, "updated": 1, "unchanged": 12}
    detail = client.get("/api/v1/materials/fx-peek").json()
    assert detail["version"] == 2
    assert detail["summary"]["youngs_modulus"]["typical"] == 4.1
    hits = client.get("/api/v1/materials?prop=youngs_modulus:4..4.2").json()["data"]
    assert [m["id"] for m in hits] == ["fx-peek"]
    # The full-text index follows the update too.
    peek["description"] = "Renamed thermoplastic"
    import_documents(session, [("changed", bundle)])
    assert [m["id"] for m in client.get("/api/v1/materials?q=renamed").json()["data"]] == [
        "fx-peek"
    ]
    assert client.get("/api/v1/materials?q=spinal%20cages").json()["data"] == []


def test_documents_import_in_order_and_may_refer_to_earlier_ones(session: Session) -> None:
    refs = {"references": [{"id": "later-ref", "citation": "Cited by the next document"}]}
    mats = {"materials": [material(properties=[value(source="later-ref")])]}
    report = import_documents(session, [("refs", refs), ("mats", mats)])
    assert report.ok, report.errors
    failing = import_documents(
        session,
        [
            ("mats", {"materials": [material(id="other", properties=[value(source="nowhere")])]}),
            ("refs", refs),
        ],
    )
    assert [e["path"] for e in failing.errors] == ["mats: materials[0].properties[0].source"]


ROUND_TRIP_QUERIES = [
    "",
    "sort=-name",
    "prop=youngs_modulus:100..200",
    "prop=youngs_modulus:14500..29000:ksi",
    "prop=glass_transition_temperature:413..423:K",
    "q=bone",
    "q=cafe",
    "regulatory=US-FDA",
    "country=IT",
    "supplier=fx-org-jp",
    "sort=prop:youngs_modulus",
    "degradable=true",
    "facets=class,application,regulatory,country,degradable",
]


def _answers(client: TestClient) -> list[Any]:
    answers = []
    for query in ROUND_TRIP_QUERIES:
        body = client.get(f"/api/v1/materials?{query}&limit=200").json()
        for item in body["data"]:
            item.pop("updated_at")
        answers.append((body["data"], body["meta"]["total"], body["meta"]["facets"]))
    for slug in ("fx-ti-alloy", "fx-peek", "fx-collagen"):
        detail = client.get(f"/api/v1/materials/{slug}").json()
        for key in ("created_at", "updated_at"):
            detail.pop(key)
        answers.append(detail)
    return answers


def test_export_then_import_into_empty_database_answers_the_same(
    session: Session, client: TestClient, empty_database: Session, tmp_path: Path
) -> None:
    exported = export_bundle(session)
    assert "fx-draft" not in {m["id"] for m in exported["materials"]}
    # Through a file, as `biomatdb export` and `biomatdb import` do.
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    report = import_documents(empty_database, [("export", decode(path.read_bytes()))])
    assert report.ok, report.errors
    assert report.materials.created == 12
    empty_database.commit()

    with client_for(empty_database) as copy_client:
        assert _answers(copy_client) == _answers(client)
    # And exporting the copy gives the same bundle (server fields aside).
    again = export_bundle(empty_database)
    strip = _strip_server_fields
    assert strip(again) == strip(exported)
    # Re-importing the export into the original database changes nothing.
    assert import_documents(session, [("export", exported)]).changed is False


def _strip_server_fields(bundle: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(bundle)
    for entry in copied["materials"]:
        for key in ("version", "created_at", "updated_at"):
            entry.pop(key, None)
    return copied
