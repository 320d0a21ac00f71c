"""Search answers exactly right over the fixture bundle, whatever the units."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from tests.helpers import search_ids

ALL_BY_NAME = [
    "fx-alumina",
    "fx-bioglass",
    "fx-cfr",
    "fx-collagen",
    "fx-hydrogel",
    "fx-ha",
    "fx-mg",
    "fx-peek",
    "fx-plga",
    "fx-silk",
    "fx-steel",
    "fx-ti-alloy",
]


def ids(client: TestClient, query: str) -> list[str]:
    return search_ids(client, query, whole=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Property ranges: overlap of closed intervals, in any unit of the dimension.
        ("prop=youngs_modulus:100..200", ["fx-ha", "fx-steel", "fx-ti-alloy"]),
        ("prop=youngs_modulus:100..200:GPa", ["fx-ha", "fx-steel", "fx-ti-alloy"]),
        ("prop=youngs_modulus:100000..200000:MPa", ["fx-ha", "fx-steel", "fx-ti-alloy"]),
        ("prop=youngs_modulus:14500000..29000000:psi", ["fx-ha", "fx-steel", "fx-ti-alloy"]),
        ("prop=youngs_modulus:14500..29000:ksi", ["fx-ha", "fx-steel", "fx-ti-alloy"]),
        # Closed interval: values touching a bound match (HA 7..13, glass 35).
        ("prop=youngs_modulus:13..35", ["fx-bioglass", "fx-cfr", "fx-ha"]),
        ("prop=youngs_modulus:..0.001", ["fx-collagen", "fx-silk"]),
        ("prop=youngs_modulus:..1:MPa", ["fx-collagen", "fx-silk"]),
        ("prop=youngs_modulus:300..", ["fx-alumina"]),
        ("prop=youngs_modulus:..", [m for m in ALL_BY_NAME if m != "fx-hydrogel"]),
        # A value given in ksi (16000 ksi = 110.3 GPa) is found by a GPa range.
        ("prop=youngs_modulus:110.2..110.4&class=metal", ["fx-ti-alloy"]),
        ("prop=youngs_modulus:193..194", ["fx-steel"]),
        ("prop=youngs_modulus:28000..28000:ksi", ["fx-steel"]),
        ("prop=density:4..5", ["fx-ti-alloy"]),
        ("prop=density:4000..5000:kg/m^3", ["fx-ti-alloy"]),
        ("prop=density:4000..5000:kg%2Fm%5E3", ["fx-ti-alloy"]),
        # Offset units: 416.15 K stored, asked in degC, K and degF.
        ("prop=glass_transition_temperature:140..150:degC", ["fx-peek"]),
        ("prop=glass_transition_temperature:413..423:K", ["fx-peek"]),
        ("prop=glass_transition_temperature:284..302:degF", ["fx-peek"]),
        ("prop=glass_transition_temperature:40..46", ["fx-plga"]),
        # Time: 12..24 weeks overlaps 1..3 months.
        ("prop=degradation_time:1..3:month", ["fx-mg", "fx-plga"]),
        ("prop=degradation_time:..4:week", []),
        ("prop=tensile_strength:600..700:MPa", ["fx-steel"]),
        ("prop=tensile_strength:90..100:MPa", ["fx-peek"]),
        ("prop=porosity:30..50:%", ["fx-ha"]),
        ("prop=vickers_hardness:1800..2100:HV", ["fx-alumina"]),
        ("prop=fracture_toughness:4.5..4.6:MPa*m^0.5", ["fx-alumina"]),
        # Repeated prop: AND.
        ("prop=youngs_modulus:100..200&prop=density:..5", ["fx-ti-alloy"]),
        # class and application: OR among repeats.
        ("class=ceramic&class=glass", ["fx-alumina", "fx-bioglass", "fx-ha"]),
        ("class=metal", ["fx-mg", "fx-steel", "fx-ti-alloy"]),
        ("application=spinal", ["fx-cfr", "fx-peek"]),
        (
            "application=spinal&application=wound_healing",
            ["fx-bioglass", "fx-cfr", "fx-collagen", "fx-peek"],
        ),
        ("degradable=true", ["fx-bioglass", "fx-collagen", "fx-mg", "fx-plga", "fx-silk"]),
        (
            "degradable=false",
            ["fx-alumina", "fx-cfr", "fx-hydrogel", "fx-peek", "fx-steel", "fx-ti-alloy"],
        ),
        # Regulatory: AND among repeats.
        ("regulatory=US-FDA", ["fx-alumina", "fx-collagen", "fx-peek", "fx-ti-alloy"]),
        ("regulatory=US-FDA:approved", ["fx-collagen"]),
        ("regulatory=EU-MDR:ce_marked", ["fx-steel"]),
        ("regulatory=US-FDA&regulatory=JP-PMDA", ["fx-alumina"]),
        ("regulatory=CN-NMPA", []),
        ("supplier=fx-org-it", ["fx-cfr", "fx-silk", "fx-ti-alloy"]),
        ("supplier=nobody-has-this", []),
        ("country=JP", ["fx-alumina", "fx-mg"]),
        ("country=jp", ["fx-alumina", "fx-mg"]),
        ("country=FR", []),
        ("country=IT&class=natural", ["fx-silk"]),
        # Full text: every word, any field, case and accents ignored.
        ("q=titanium", ["fx-ti-alloy"]),
        ("q=TITANIUM%20alloy", ["fx-ti-alloy"]),
        ("q=silk%20fibroin", ["fx-silk"]),
        ("q=cafe", ["fx-silk"]),
        ("q=caf%C3%A9", ["fx-silk"]),
        ("q=FixPEEK", ["fx-peek"]),
        ("q=peek", ["fx-cfr", "fx-peek"]),
        ("q=bone", ["fx-bioglass", "fx-ha"]),
        ("q=bone%20glass", ["fx-bioglass"]),
        ("q=calcium%20phosphate", ["fx-ha"]),
        ("q=unobtainium", []),
        ("q=", ALL_BY_NAME),
        # Everything combined.
        (
            "q=peek&class=composite&prop=youngs_modulus:10..20&application=orthopedic&country=IT",
            ["fx-cfr"],
        ),
    ],
)
def test_search_result_sets(client: TestClient, query: str, expected: list[str]) -> None:
    assert ids(client, query) == expected


def test_default_listing_is_every_published_material_by_name(client: TestClient) -> None:
    body = client.get("/api/v1/materials").json()
    assert [m["id"] for m in body["data"]] == ALL_BY_NAME
    assert body["meta"] == {
        "total": 12,
        "next_cursor": None,
        "last_updated": body["meta"]["last_updated"],
        "facets": None,
    }
    assert body["meta"]["last_updated"]
    assert "fx-draft" not in [m["id"] for m in body["data"]]


def test_reverse_name_sort(client: TestClient) -> None:
    assert ids(client, "sort=-name") == list(reversed(ALL_BY_NAME))


TYPICAL_ORDER = [  # mean of midpoints of youngs_modulus, GPa
    "fx-collagen",
    "fx-silk",
    "fx-plga",
    "fx-peek",
    "fx-cfr",
    "fx-bioglass",
    "fx-mg",
    "fx-ha",
    "fx-ti-alloy",
    "fx-steel",
    "fx-alumina",
]


def test_sort_by_property_typical_value_with_missing_last(client: TestClient) -> None:
    assert ids(client, "sort=prop:youngs_modulus") == [*TYPICAL_ORDER, "fx-hydrogel"]
    assert ids(client, "sort=-prop:youngs_modulus") == [*reversed(TYPICAL_ORDER), "fx-hydrogel"]


def walk(client: TestClient, url: str) -> list[str]:
    seen: list[str] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [m["id"] for m in body["data"]]
        url = body["links"]["next"]
        assert (url is None) == (body["meta"]["next_cursor"] is None)
        pages += 1
        assert pages < 50
    return seen


@pytest.mark.parametrize(
    "sort",
    [
        "name",
        "-name",
        "updated_at",
        "-updated_at",
        "prop:youngs_modulus",
        "-prop:youngs_modulus",
        "prop:density",
        "-prop:density",
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 5])
def test_cursor_walk_visits_every_match_once_in_order(
    client: TestClient, sort: str, limit: int
) -> None:
    full = ids(client, f"sort={sort}")
    assert walk(client, f"/api/v1/materials?sort={sort}&limit={limit}") == full
    assert sorted(full) == sorted(ALL_BY_NAME)


def test_cursor_walk_with_filters(client: TestClient) -> None:
    assert walk(
        client, "/api/v1/materials?prop=youngs_modulus:..200&limit=2&sort=-prop:youngs_modulus"
    ) == [
        "fx-steel",
        "fx-ti-alloy",
        "fx-ha",
        "fx-mg",
        "fx-bioglass",
        "fx-cfr",
        "fx-peek",
        "fx-plga",
        "fx-silk",
        "fx-collagen",
    ]


def test_cursor_is_stable_under_inserts(client: TestClient, session: Session) -> None:
    first = client.get("/api/v1/materials?limit=3").json()
    assert [m["id"] for m in first["data"]] == ALL_BY_NAME[:3]
    # Between two pages, a material is published that sorts before the cursor and
    # one that sorts after it: the walk neither repeats nor skips what it had left.
    new = {
        "materials": [
            {"id": "fx-new-a", "name": "Aaa new FX", "class": "metal", "status": "published"},
            {"id": "fx-new-z", "name": "Zzz new FX", "class": "metal", "status": "published"},
        ]
    }
    assert import_documents(session, [("new", new)]).ok
    rest = walk(client, first["links"]["next"])
    assert rest == [*ALL_BY_NAME[3:], "fx-new-z"]


def test_facets_over_whole_and_filtered_sets(client: TestClient) -> None:
    body = client.get(
        "/api/v1/materials?facets=class,application,regulatory,country,degradable&limit=1"
    ).json()
    facets = body["meta"]["facets"]
    assert facets["class"] == {
        "ceramic": 2,
        "composite": 1,
        "glass": 1,
        "metal": 3,
        "natural": 2,
        "polymer": 3,
    }
    assert facets["country"] == {"IT": 3, "JP": 2, "US": 2}
    assert facets["regulatory"] == {
        "EU-MDR": 1,
        "EU-MDR:ce_marked": 1,
        "JP-PMDA": 1,
        "JP-PMDA:approved": 1,
        "US-FDA": 4,
        "US-FDA:approved": 1,
        "US-FDA:cleared": 3,
    }
    assert facets["degradable"] == {"true": 5, "false": 6, "unknown": 1}
    assert facets["application"] == {
        "cardiovascular": 1,
        "dental": 4,
        "drug_delivery": 1,
        "maxillofacial": 1,
        "ophthalmic": 1,
        "orthopedic": 6,
        "spinal": 2,
        "tissue_engineering": 2,
        "wound_healing": 2,
    }
    assert body["meta"]["total"] == 12
    filtered = client.get("/api/v1/materials?degradable=true&facets=class").json()["meta"]
    assert filtered["facets"] == {"class": {"glass": 1, "metal": 1, "natural": 2, "polymer": 1}}


def test_summary_in_canonical_units(client: TestClient) -> None:
    item = next(m for m in client.get("/api/v1/materials?q=titanium").json()["data"])
    summary: dict[str, Any] = item["summary"]
    assert set(summary) == {"youngs_modulus", "tensile_strength", "density"}
    modulus = summary["youngs_modulus"]
    assert modulus["unit"] == "GPa"
    # 110 GPa and 16,000 ksi (110.316116691 GPa, stored so for filters), shown to
    # the 3 significant digits of the most precise source.
    assert modulus["min"] == 110
    assert modulus["max"] == 110
    assert modulus["typical"] == 110
    assert modulus["count"] == 2
    assert summary["density"] == {
        "min": 4.43,
        "max": 4.43,
        "typical": 4.43,
        "unit": "g/cm^3",
        "count": 1,
    }
    assert item["class"] == "metal"
    assert item["applications"] == ["orthopedic", "dental"]


def test_detail_is_whole_with_given_and_canonical_values(client: TestClient) -> None:
    response = client.get("/api/v1/materials/fx-peek")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "fx-peek"
    assert body["class"] == "polymer"
    tg = next(p for p in body["properties"] if p["property"] == "glass_transition_temperature")
    assert tg["value"] == 416.15
    assert tg["unit"] == "K"
    assert tg["canonical"] == {"min": 143.0, "max": 143.0, "unit": "degC"}
    assert tg["source"]["id"] == "fx-ref-a"
    assert tg["source"]["citation"].startswith("Fixture source A")
    assert body["suppliers"] == [
        {
            "organization": {
                "id": "fx-org-us",
                "name": "Fixture USA",
                "kind": "distributor",
                "country": "US",
            },
            "trade_name": "FixPEEK LT1",
            "grade": None,
            "form": "rod",
        }
    ]
    assert body["regulatory"][0]["source"]["id"] == "fx-ref-b"
    assert body["version"] == 1


def test_detail_etag_and_not_modified(client: TestClient) -> None:
    first = client.get("/api/v1/materials/fx-ti-alloy")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    again = client.get("/api/v1/materials/fx-ti-alloy", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/api/v1/materials/fx-ti-alloy", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200


def test_drafts_look_absent(client: TestClient) -> None:
    response = client.get("/api/v1/materials/fx-draft")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert ids(client, "q=draft") == []


def test_organization_lists_offerings_and_records(client: TestClient) -> None:
    body = client.get("/api/v1/organizations/fx-org-jp").json()
    assert body["country"] == "JP"
    assert [s["material"]["id"] for s in body["supplies"]] == ["fx-alumina", "fx-mg"]
    assert [(r["material"]["id"], r["jurisdiction"]) for r in body["regulatory"]] == [
        ("fx-alumina", "JP-PMDA")
    ]
    listing = client.get("/api/v1/organizations?country=IT").json()
    assert [o["id"] for o in listing["data"]] == ["fx-org-it"]
    assert walk(client, "/api/v1/organizations?limit=1") == ["fx-org-it", "fx-org-jp", "fx-org-us"]


def test_reference_lists_what_cites_it(client: TestClient) -> None:
    body = client.get("/api/v1/references/fx-ref-b").json()
    assert [(m["id"], m["property_values"]) for m in body["cited_by"]] == [
        ("fx-collagen", 1),
        ("fx-ha", 1),
        ("fx-peek", 0),
        ("fx-ti-alloy", 1),
    ]
    assert walk(client, "/api/v1/references?limit=1") == ["fx-ref-a", "fx-ref-b"]


def test_property_catalogue(client: TestClient) -> None:
    data = client.get("/api/v1/properties").json()["data"]
    keys = {p["key"] for p in data}
    assert {
        "density",
        "youngs_modulus",
        "tensile_strength",
        "yield_strength",
        "compressive_strength",
        "elongation_at_break",
        "fracture_toughness",
        "vickers_hardness",
        "fatigue_strength",
        "porosity",
        "pore_size",
        "degradation_time",
        "water_contact_angle",
        "glass_transition_temperature",
        "melting_temperature",
    } <= keys
    modulus = next(p for p in data if p["key"] == "youngs_modulus")
    assert modulus["canonical_unit"] == "GPa"
    assert modulus["dimension"] == "[mass] / [length] / [time] ** 2"


def test_links_self_and_next(client: TestClient) -> None:
    body = client.get("/api/v1/materials?class=metal&limit=2").json()
    assert body["links"]["self"].endswith("/api/v1/materials?class=metal&limit=2")
    assert "cursor=" in body["links"]["next"]
    assert "class=metal" in body["links"]["next"]


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
