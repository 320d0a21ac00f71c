"""Contract section 8 and issue 12's filters: material ``identifiers`` (syntax, CAS
check digit, normal form, ``identifier=``), regulatory ``gmdn``, ``biocompat=`` with
its facet, ``product_code=`` and ``decided=`` (one record meets both), and the two new
properties (``corrosion_rate``, ``swelling_ratio``).

Each test adds a small bundle, rolled back with the test. The identifiers, codes and
dates are test data, not seed data: they check behaviour, not facts.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.exporter import export_bundle
from biomatdb.exchange.importer import import_documents
from biomatdb.identifiers.schemes import cas_check_digit_ok
from biomatdb.quality import service as quality
from tests.helpers import problem_of, search_ids

MATERIALS = "/api/v1/materials"

S8: dict[str, Any] = {
    "references": [{"id": "s8-ref", "citation": "Test reference for section 8"}],
    "organizations": [{"id": "s8-maker", "name": "S8 Maker", "kind": "manufacturer"}],
    "materials": [
        {
            "id": "s8-apatite",
            "name": "Apatite S8",
            "class": "ceramic",
            "status": "published",
            "identifiers": [
                {"scheme": "chebi", "id": "chebi:52254"},
                {"scheme": "wikidata", "id": "q412252"},
                {"scheme": "cas", "id": "1306-06-5"},
            ],
            "biocompatibility": [
                {"endpoint": "cytotoxicity", "standard": "ISO 10993-5", "result": "pass"},
                {"endpoint": "sensitization", "result": "pass"},
            ],
            "regulatory": [
                {
                    "jurisdiction": "US-FDA",
                    "status": "cleared",
                    "product_code": "mqv",
                    "gmdn": "1234",
                    "decision_date": "2015-03-01",
                    "organization": "s8-maker",
                },
                {
                    "jurisdiction": "US-FDA",
                    "status": "cleared",
                    "product_code": "LYC",
                    "decision_date": "2021-07-15",
                },
            ],
        },
        {
            "id": "s8-magnesium",
            "name": "Magnesium S8",
            "class": "metal",
            "status": "published",
            "identifiers": [{"scheme": "pubchem_cid", "id": "5462224"}],
            "properties": [
                {
                    "property": "corrosion_rate",
                    "value": 0.5,
                    "unit": "mm/yr",
                    "evidence": "measured",
                    "source": "s8-ref",
                },
            ],
            "biocompatibility": [{"endpoint": "cytotoxicity", "result": "fail"}],
            "regulatory": [
                {
                    "jurisdiction": "EU-MDR",
                    "status": "ce_marked",
                    "decision_date": "2013-01-10",
                },
            ],
        },
        {
            "id": "s8-gel",
            "name": "Gel S8",
            "class": "natural",
            "status": "published",
            "properties": [
                {
                    "property": "swelling_ratio",
                    "value": 15,
                    "unit": "dimensionless",
                    "conditions": {"definition": "swollen to dry mass"},
                    "source": "s8-ref",
                },
            ],
        },
        {
            # Never found by anonymous searches.
            "id": "s8-draft",
            "name": "Draft S8",
            "class": "ceramic",
            "identifiers": [{"scheme": "chebi", "id": "CHEBI:52254"}],
            "biocompatibility": [{"endpoint": "cytotoxicity", "result": "pass"}],
        },
    ],
}


@pytest.fixture
def s8(session: Session) -> None:
    report = import_documents(session, [("s8", S8)])
    assert report.ok, report.errors


def ids(client: TestClient, query: str) -> set[str]:
    return {i for i in search_ids(client, query, whole=True) if i.startswith("s8-")}


@pytest.mark.parametrize(
    ("cas", "ok"),
    [("1306-06-5", True), ("7439-95-4", True), ("9002-88-4", True), ("1306-06-6", False)],
)
def test_cas_check_digit(cas: str, ok: bool) -> None:
    assert cas_check_digit_ok(cas) is ok


@pytest.mark.usefixtures("s8")
def test_identifiers_are_shown_in_their_normal_form_with_a_link(client: TestClient) -> None:
    found = client.get(f"{MATERIALS}/s8-apatite").json()
    assert found["identifiers"] == [
        {
            "scheme": "chebi",
            "id": "CHEBI:52254",
            "url": "https://www.ebi.ac.uk/chebi/searchId.do?chebiId=CHEBI:52254",
        },
        {"scheme": "wikidata", "id": "Q412252", "url": "https://www.wikidata.org/wiki/Q412252"},
        {
            "scheme": "cas",
            "id": "1306-06-5",
            "url": "https://commonchemistry.cas.org/detail?cas_rn=1306-06-5",
        },
    ]
    first = found["regulatory"][0]
    assert (first["gmdn"], first["product_code"], first["organization"]["id"]) == (
        "1234",
        "mqv",
        "s8-maker",
    )
    assert found["regulatory"][1]["gmdn"] is None


@pytest.mark.usefixtures("s8")
def test_identifier_filter_matches_any_spelling_of_the_id_and_is_or(client: TestClient) -> None:
    assert ids(client, "identifier=chebi:CHEBI:52254") == {"s8-apatite"}
    assert ids(client, "identifier=chebi:chebi:52254") == {"s8-apatite"}
    assert ids(client, "identifier=wikidata:q412252") == {"s8-apatite"}
    assert ids(client, "identifier=cas:1306-06-5&identifier=pubchem_cid:5462224") == {
        "s8-apatite",
        "s8-magnesium",
    }
    # A well-formed id nobody carries.
    assert ids(client, "identifier=wikidata:Q1") == set()


@pytest.mark.parametrize(
    ("query", "path", "message"),
    [
        ("identifier=chebi:52254", "identifier[0]", "'52254' is not a chebi identifier"),
        ("identifier=cas:1306-06-6", "identifier[0]", "'1306-06-6' has a wrong CAS check digit"),
        ("identifier=inchi:X", "identifier[0]", "unknown identifier scheme 'inchi'"),
        ("identifier=Q412252", "identifier[0]", "use SCHEME:ID"),
        ("biocompat=cytotox", "biocompat[0]", "unknown endpoint 'cytotox'"),
        ("biocompat=cytotoxicity:passed", "biocompat[0]", "unknown result 'passed'"),
        ("decided=2015", "decided", "use FROM..TO"),
        ("decided=2021..2015", "decided", "FROM (2021-01-01) is after TO (2015-12-31)"),
        ("decided=2019-02-30..", "decided", "'2019-02-30' is not a date"),
    ],
)
def test_bad_filters_are_a_400_that_names_the_problem(
    client: TestClient, query: str, path: str, message: str
) -> None:
    problem = problem_of(client.get(f"{MATERIALS}?{query}"), 400)
    assert [e["path"] for e in problem["errors"]] == [path]
    assert problem["errors"][0]["message"].startswith(message)


@pytest.mark.usefixtures("s8")
def test_biocompat_terms_are_and_and_a_bare_endpoint_is_any_result(client: TestClient) -> None:
    assert ids(client, "biocompat=cytotoxicity") == {"s8-apatite", "s8-magnesium"}
    assert ids(client, "biocompat=cytotoxicity:pass") == {"s8-apatite"}
    assert ids(client, "biocompat=cytotoxicity:fail") == {"s8-magnesium"}
    assert ids(client, "biocompat=cytotoxicity&biocompat=sensitization:pass") == {"s8-apatite"}
    assert ids(client, "biocompat=sensitization:fail") == set()


@pytest.mark.usefixtures("s8")
def test_biocompat_facet_counts_materials_per_endpoint_and_result(client: TestClient) -> None:
    meta = client.get(f"{MATERIALS}?q=S8&facets=biocompat").json()["meta"]
    assert meta["facets"]["biocompat"] == {
        "cytotoxicity": 2,
        "sensitization": 1,
        "cytotoxicity:fail": 1,
        "cytotoxicity:pass": 1,
        "sensitization:pass": 1,
    }


@pytest.mark.usefixtures("s8")
def test_product_code_and_decided_must_meet_on_one_record(client: TestClient) -> None:
    assert ids(client, "product_code=MQV") == {"s8-apatite"}
    assert ids(client, "product_code=lyc") == {"s8-apatite"}
    assert ids(client, "decided=2015..2015") == {"s8-apatite"}
    assert ids(client, "decided=..2013-12-31") == {"s8-magnesium"}
    assert ids(client, "decided=2013-01-10..2013-01-10") == {"s8-magnesium"}
    assert ids(client, "decided=2014..") == {"s8-apatite"}
    # MQV was decided in 2015, LYC in 2021: no record is MQV and of 2021.
    assert ids(client, "product_code=MQV&decided=2021..2021") == set()
    assert ids(client, "product_code=MQV&product_code=LYC&decided=2021..2021") == {"s8-apatite"}


@pytest.mark.usefixtures("s8")
def test_new_properties_convert_to_their_canonical_units(client: TestClient) -> None:
    gel = client.get(f"{MATERIALS}/s8-gel").json()
    assert gel["summary"]["swelling_ratio"] == {
        "min": 1500.0,
        "max": 1500.0,
        "typical": 1500.0,
        "unit": "%",
        "count": 1,
    }
    magnesium = client.get(f"{MATERIALS}/s8-magnesium").json()
    assert magnesium["properties"][0]["canonical"] == {"min": 0.5, "max": 0.5, "unit": "mm/year"}
    assert magnesium["properties"][0]["evidence"] == "measured"
    assert ids(client, "prop=corrosion_rate:..1:mm/year") == {"s8-magnesium"}
    assert ids(client, "prop=swelling_ratio:10..20:dimensionless") == {"s8-gel"}


def test_identifier_problems_are_reported_with_their_paths(session: Session) -> None:
    bundle = {
        "materials": [
            {
                "id": "s8-bad",
                "name": "Bad S8",
                "class": "ceramic",
                "identifiers": [
                    {"scheme": "cas", "id": "1306-06-6"},
                    {"scheme": "mesh", "id": "X123"},
                    {"scheme": "smiles", "id": "C"},
                ],
                "regulatory": [{"jurisdiction": "US-FDA", "status": "cleared", "gmdn": "12a"}],
            },
            {
                "id": "s8-twice",
                "name": "Twice S8",
                "class": "ceramic",
                "identifiers": [
                    {"scheme": "chebi", "id": "CHEBI:52254"},
                    {"scheme": "chebi", "id": "chebi:52254"},
                ],
            },
        ]
    }
    report = import_documents(session, [("bad", bundle)])
    assert not report.ok
    assert [(e["path"], e["message"]) for e in report.errors] == [
        (
            "materials[0].identifiers[0].id",
            "'1306-06-6' has a wrong CAS check digit",
        ),
        (
            "materials[0].identifiers[1].id",
            "'X123' is not a mesh identifier (D, C or Q and 6 to 9 digits, e.g. D006882)",
        ),
        (
            "materials[0].identifiers[2].scheme",
            "Input should be 'chebi', 'pubchem_cid', 'cas', 'mesh', 'unii' or 'wikidata'",
        ),
        ("materials[0].regulatory[0].gmdn", "not a GMDN term code: 1 to 8 digits"),
        (
            "materials[1].identifiers[1].id",
            "duplicate identifier chebi:CHEBI:52254: also identifiers[0]",
        ),
    ]


@pytest.mark.usefixtures("s8")
def test_the_bundle_export_round_trips_identifiers_and_gmdn(session: Session) -> None:
    exported = export_bundle(session)
    apatite = next(m for m in exported["materials"] if m["id"] == "s8-apatite")
    assert apatite["identifiers"] == [
        {"scheme": "chebi", "id": "CHEBI:52254"},
        {"scheme": "wikidata", "id": "Q412252"},
        {"scheme": "cas", "id": "1306-06-5"},
    ]
    assert apatite["regulatory"][0]["gmdn"] == "1234"


@pytest.mark.usefixtures("s8")
def test_the_material_page_links_the_identifiers_and_shows_the_gmdn(client: TestClient) -> None:
    page = client.get("/materials/s8-apatite").text
    assert (
        'chebi <a href="https://www.ebi.ac.uk/chebi/searchId.do?chebiId=CHEBI:52254" '
        'rel="noopener">CHEBI:52254</a>' in page
    )
    assert "<td>1234</td>" in page


CERTIFIED: dict[str, Any] = {
    "organizations": [
        {"id": "s8-holder", "name": "S8 Holder", "kind": "manufacturer"},
        {"id": "s8-body", "name": "S8 Notified Body 0000", "kind": "notified_body"},
    ],
    "materials": [
        {
            "id": "s8-certified",
            "name": "Certified S8",
            "class": "polymer",
            "status": "published",
            "regulatory": [
                {
                    "jurisdiction": "EU-MDR",
                    "status": "ce_marked",
                    "device_name": "S8 scaffold",
                    "organization": "s8-holder",
                    "notified_body": "s8-body",
                }
            ],
        }
    ],
}


def test_a_ce_mark_names_its_notified_body_everywhere(session: Session, client: TestClient) -> None:
    report = import_documents(session, [("certified", CERTIFIED)])
    assert report.ok, report.errors
    record = client.get(f"{MATERIALS}/s8-certified").json()["regulatory"][0]
    assert record["organization"] == {
        "id": "s8-holder",
        "name": "S8 Holder",
        "kind": "manufacturer",
        "country": None,
    }
    assert record["notified_body"] == {
        "id": "s8-body",
        "name": "S8 Notified Body 0000",
        "kind": "notified_body",
        "country": None,
    }
    # Each organization lists the record, saying what it is to it.
    for org, role in (("s8-holder", "holder"), ("s8-body", "notified_body")):
        listed = client.get(f"/api/v1/organizations/{org}").json()["regulatory"]
        assert [(r["material"]["id"], r["role"]) for r in listed] == [("s8-certified", role)]
    page = client.get("/materials/s8-certified").text
    assert 'notified body</span> <a href="/api/v1/organizations/s8-body">' in page
    exported = export_bundle(session)
    certified = next(m for m in exported["materials"] if m["id"] == "s8-certified")
    assert certified["regulatory"][0]["notified_body"] == "s8-body"
    # A notified body that certified a device is linked: not on the quality worklist.
    unlinked = quality.report(session, limit=1000)["sections"]["unlinked_organizations"]
    assert not [i for i in unlinked["items"] if i["organization"].startswith("s8-")]


def test_an_unknown_notified_body_is_named_with_its_path(session: Session) -> None:
    bundle = {
        "materials": [
            {
                **CERTIFIED["materials"][0],
                "regulatory": [
                    {**CERTIFIED["materials"][0]["regulatory"][0], "organization": None}
                ],
            }
        ]
    }
    report = import_documents(session, [("unknown", bundle)])
    assert [(e["path"], e["message"]) for e in report.errors] == [
        (
            "materials[0].regulatory[0].notified_body",
            "unknown organization 's8-body': define it in the bundle's 'organizations' "
            "or import it first",
        )
    ]
