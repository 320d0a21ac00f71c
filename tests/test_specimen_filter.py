"""``specimen=``: property ranges look only at values of the given specimens (OR).

The fixture bundle has two specimens only (``bar``, ``scaffold``), on different
properties; each test adds a small bundle (rolled back with the test) of materials
with several specimens of one property. The values are test data, not seed data.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from biomatdb.errors import InvalidParameter
from biomatdb.exchange.importer import import_documents
from biomatdb.models import PropertyValue
from biomatdb.search.filters import of_specimens
from biomatdb.search.query import SearchQuery
from biomatdb.search.request import (
    FILTER_PARAMETERS,
    SearchRequest,
    query_from_json,
    search_endpoint,
)
from tests.helpers import problem_of, search_ids, search_query

MATERIALS = "/api/v1/materials"

SPECIMENS: dict[str, Any] = {
    "materials": [
        {
            "id": "fx-ta",
            "name": "Tantalum FX",
            "class": "metal",
            "status": "published",
            "properties": [
                {"property": "youngs_modulus", "value": 186, "unit": "GPa", "specimen": "bulk"},
                {
                    "property": "youngs_modulus",
                    "min": 1.5,
                    "max": 3,
                    "unit": "GPa",
                    "specimen": "porous",
                },
                {"property": "density", "value": 16.6, "unit": "g/cm^3", "specimen": "bulk"},
            ],
        },
        {
            "id": "fx-ti-foam",
            "name": "Titanium foam FX",
            "class": "metal",
            "status": "published",
            "properties": [
                # Stored in another case: matched all the same.
                {
                    "property": "youngs_modulus",
                    "min": 2,
                    "max": 8,
                    "unit": "GPa",
                    "specimen": "Scaffold",
                },
            ],
        },
        {
            "id": "fx-nitinol",
            "name": "Nitinol FX",
            "class": "metal",
            "status": "published",
            "properties": [
                {"property": "youngs_modulus", "value": 83, "unit": "GPa", "specimen": "BULK"},
                {
                    "property": "youngs_modulus",
                    "min": 28,
                    "max": 41,
                    "unit": "GPa",
                    "specimen": "wire",
                },
            ],
        },
        {
            # Never shown: search answers published materials only.
            "id": "fx-ta-draft",
            "name": "Porous tantalum draft FX",
            "class": "metal",
            "status": "draft",
            "properties": [
                {"property": "youngs_modulus", "value": 2, "unit": "GPa", "specimen": "porous"},
            ],
        },
    ]
}

#: Near bone: trabecular to cortical.
NEAR_BONE = "prop=youngs_modulus:1..30:GPa"
#: The fixture materials with a value of youngs_modulus in 1..30 GPa (none has a specimen).
FIXTURE_NEAR_BONE = {"fx-ha", "fx-peek", "fx-plga", "fx-cfr"}


@pytest.fixture
def specimens(session: Session) -> None:
    # Published values cite a source: the fixture bundle's reference A, for every one.
    bundle = {
        "materials": [
            {**m, "properties": [{**p, "source": "fx-ref-a"} for p in m["properties"]]}
            for m in SPECIMENS["materials"]
        ]
    }
    report = import_documents(session, [("specimens", bundle)])
    assert report.ok, report.errors


def ids(client: TestClient, query: str) -> set[str]:
    return set(search_ids(client, query, whole=True))


@pytest.mark.usefixtures("specimens")
def test_a_range_looks_only_at_values_of_the_specimens(client: TestClient) -> None:
    # Without specimen: porous tantalum's 1.5-3 GPa makes tantalum match.
    assert ids(client, NEAR_BONE) == FIXTURE_NEAR_BONE | {"fx-ta", "fx-ti-foam", "fx-nitinol"}
    # Bulk tantalum (186 GPa) and bulk nitinol (83 GPa) are not near bone.
    assert ids(client, f"{NEAR_BONE}&specimen=bulk") == set()
    assert ids(client, f"{NEAR_BONE}&specimen=porous") == {"fx-ta"}
    assert ids(client, f"{NEAR_BONE}&specimen=wire") == {"fx-nitinol"}
    # Whole specimens only: no prefix or substring match.
    assert ids(client, f"{NEAR_BONE}&specimen=por") == set()
    assert ids(client, f"{NEAR_BONE}&specimen=porous%20") == set()
    # The unspecified values (specimen null) never match a specimen filter.
    assert ids(client, "prop=youngs_modulus:..&specimen=bar") == set()
    assert ids(client, "prop=tensile_strength:..&specimen=bar") == {"fx-ti-alloy"}


@pytest.mark.usefixtures("specimens")
def test_specimens_are_or_and_ignore_case(client: TestClient) -> None:
    assert ids(client, f"{NEAR_BONE}&specimen=porous&specimen=scaffold") == {
        "fx-ta",
        "fx-ti-foam",
    }
    assert ids(client, f"{NEAR_BONE}&specimen=PoRoUs") == {"fx-ta"}
    assert ids(client, "prop=youngs_modulus:80..200:GPa&specimen=Bulk") == {"fx-ta", "fx-nitinol"}
    assert ids(client, "prop=youngs_modulus:80..200:GPa&specimen=porous&specimen=BULK") == {
        "fx-ta",
        "fx-nitinol",
    }


@pytest.mark.usefixtures("specimens")
def test_each_range_is_met_by_a_value_of_one_of_the_specimens(client: TestClient) -> None:
    """Ranges are ANDed as ever, each on its own: porous modulus and bulk density."""
    both = "prop=youngs_modulus:..5:GPa&prop=density:10..:g/cm%5E3"
    assert ids(client, both) == {"fx-ta"}
    assert ids(client, f"{both}&specimen=porous") == set()  # the density is of bulk
    assert ids(client, f"{both}&specimen=bulk") == set()  # bulk modulus is 186 GPa
    assert ids(client, f"{both}&specimen=bulk&specimen=porous") == {"fx-ta"}


@pytest.mark.usefixtures("specimens")
def test_ranges_test_values_not_the_envelope(client: TestClient) -> None:
    """The interval test is unchanged: one value must overlap the range, with or
    without specimen. Tantalum's values (1.5-3 and 186 GPa) span 10-30 GPa, but
    none of them overlaps it."""
    assert ids(client, "prop=youngs_modulus:10..30:GPa") == {"fx-ha", "fx-cfr", "fx-nitinol"}
    assert ids(client, "prop=youngs_modulus:10..30:GPa&specimen=bulk&specimen=porous") == set()
    # Closed intervals, as without specimen: a bound that touches a value matches.
    assert ids(client, "prop=youngs_modulus:3..3:GPa&specimen=porous") == {"fx-ta"}
    assert ids(client, "prop=youngs_modulus:186..:GPa&specimen=bulk") == {"fx-ta"}
    # Other units, converted as ever (186 GPa = 26977.1 ksi).
    assert ids(client, "prop=youngs_modulus:26000..28000:ksi&specimen=bulk") == {"fx-ta"}


@pytest.mark.usefixtures("specimens")
def test_a_specimen_alone_needs_one_value_of_it(client: TestClient) -> None:
    assert ids(client, "specimen=porous") == {"fx-ta"}  # not the draft
    assert ids(client, "specimen=bulk") == {"fx-ta", "fx-nitinol"}
    assert ids(client, "specimen=scaffold") == {"fx-collagen", "fx-ti-foam"}
    assert ids(client, "specimen=bar&specimen=wire") == {"fx-ti-alloy", "fx-nitinol"}
    assert ids(client, "specimen=powder") == set()
    # With other filters, ANDed as ever.
    assert ids(client, "specimen=scaffold&class=metal") == {"fx-ti-foam"}


@pytest.mark.usefixtures("specimens")
def test_summary_sort_and_counts_still_use_every_value(client: TestClient) -> None:
    body = client.get(
        f"{MATERIALS}?{NEAR_BONE}&specimen=porous&specimen=scaffold"
        "&sort=-prop:youngs_modulus&facets=class"
    ).json()
    # Sorted by the typical value of all values: tantalum (mean of 2.25 and 186) first.
    assert [m["id"] for m in body["data"]] == ["fx-ta", "fx-ti-foam"]
    modulus = body["data"][0]["summary"]["youngs_modulus"]
    assert (modulus["min"], modulus["max"], modulus["count"]) == (1.5, 186, 2)
    assert modulus["typical"] == pytest.approx((2.25 + 186) / 2, rel=1e-3)  # to its digits
    assert body["meta"]["total"] == 2
    assert body["meta"]["facets"] == {"class": {"metal": 2}}


@pytest.mark.usefixtures("specimens")
def test_a_cursor_walk_with_specimens_visits_the_same_set(client: TestClient) -> None:
    for query in (
        "specimen=bulk&specimen=scaffold&specimen=bar",
        f"{NEAR_BONE}&specimen=porous&specimen=scaffold&specimen=wire&sort=prop:youngs_modulus",
        "specimen=bulk&specimen=scaffold&sort=-updated_at",
    ):
        whole = search_ids(client, query, whole=True)
        assert len(whole) >= 2
        seen: list[str] = []
        url: str | None = f"{MATERIALS}?{query}&limit=1"
        while url:
            body = client.get(url).json()
            seen += [m["id"] for m in body["data"]]
            url = body["links"]["next"]
            assert len(seen) <= len(whole)
        assert seen == whole


@pytest.mark.usefixtures("specimens")
def test_a_cursor_is_bound_to_the_specimens(client: TestClient) -> None:
    def next_cursor(query: str) -> str:
        cursor = client.get(f"{MATERIALS}?{query}&limit=1").json()["meta"]["next_cursor"]
        assert isinstance(cursor, str)
        return cursor

    plain = next_cursor(NEAR_BONE)
    porous = next_cursor(f"{NEAR_BONE}&specimen=porous&specimen=scaffold")
    for query, cursor in (
        (f"{NEAR_BONE}&specimen=porous&specimen=scaffold", plain),
        (NEAR_BONE, porous),
        (f"{NEAR_BONE}&specimen=porous", porous),
    ):
        body = problem_of(client.get(f"{MATERIALS}?{query}&limit=1&cursor={cursor}"), 400)
        assert [e["path"] for e in body["errors"]] == ["cursor"]
        assert "different filters or sort" in body["errors"][0]["message"]
    # The same specimens in another order or case are the same search.
    same = client.get(
        f"{MATERIALS}?{NEAR_BONE}&specimen=Scaffold&specimen=POROUS&limit=1&cursor={porous}"
    )
    assert same.status_code == 200, same.text
    assert [m["id"] for m in same.json()["data"]] == ["fx-ti-foam"]


def test_fingerprints() -> None:
    from biomatdb.search import query as queries

    def fingerprint(**raw: Any) -> str:
        return queries.build(raw).fingerprint()

    near_bone = ["youngs_modulus:1..30:GPa"]
    plain = fingerprint(prop=near_bone)
    assert plain == search_query(props=near_bone).fingerprint()  # as before specimen existed
    assert fingerprint(prop=near_bone, specimen=[]) == plain
    bulk = fingerprint(prop=near_bone, specimen=["bulk"])
    assert bulk != plain
    assert fingerprint(prop=near_bone, specimen=["Bulk", "bulk", "BULK"]) == bulk
    assert fingerprint(prop=near_bone, specimen=["porous"]) != bulk
    assert fingerprint(prop=near_bone, specimen=["bulk", "porous"]) == fingerprint(
        prop=near_bone, specimen=["porous", "bulk"]
    )
    assert fingerprint(specimen=["bulk"]) not in {fingerprint(), bulk}
    # A specimen is not a range: no search with specimen shares a fingerprint without.
    assert fingerprint(specimen=["bulk"]) != fingerprint(prop=["youngs_modulus:..:GPa"])


def _query_of(url_query: str) -> SearchQuery:
    """The SearchQuery a GET endpoint builds from a URL query."""
    app = FastAPI()
    seen: list[SearchQuery] = []

    @app.get("/probe")
    @search_endpoint
    def probe(search: SearchRequest) -> None:
        seen.append(search.to_query())

    assert TestClient(app).get(f"/probe?{url_query}").status_code == 200
    return seen[0]


def test_url_and_json_filter_are_the_same_search() -> None:
    url = _query_of("prop=youngs_modulus:1..30:GPa&specimen=porous&specimen=Bulk&specimen=bulk")
    as_json = SearchRequest.from_json(
        {"prop": ["youngs_modulus:1..30:GPa"], "specimen": ["BULK", "porous"]}
    ).to_query()
    as_filter = query_from_json(
        {"prop": ["youngs_modulus:1..30:GPa"], "specimen": ["porous", "bulk"]},
        allowed=FILTER_PARAMETERS,
        prefix="filter",
    )
    assert url == as_json == as_filter
    assert url.fingerprint() == as_json.fingerprint() == as_filter.fingerprint()
    assert url.value("specimens").terms == ("bulk", "porous")
    assert [r.specimens for r in url.value("ranges")] == [("bulk", "porous")]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("&".join(f"specimen=s{i}" for i in range(21)), "specimen"),
        # Identical terms count once in the search, but the cap counts what is sent.
        ("&".join(["specimen=bulk"] * 21), "specimen"),
        ("specimen=" + "a" * 201, "specimen[0]"),
        ("specimen=bulk&specimen=", "specimen[1]"),
    ],
)
def test_specimen_limits(client: TestClient, query: str, path: str) -> None:
    body = problem_of(client.get(f"{MATERIALS}?{query}"), 400)
    assert [e["path"] for e in body["errors"]] == [path]
    json_object = {"specimen": [part.partition("=")[2] for part in query.split("&")]}
    with pytest.raises(InvalidParameter) as caught:
        SearchRequest.from_json(json_object).to_query()
    assert [e.as_dict() for e in caught.value.errors] == body["errors"]


def test_specimen_caps_are_documented(client: TestClient) -> None:
    assert search_ids(client, "&".join(f"specimen=s{i}" for i in range(20))) == []
    assert search_ids(client, "specimen=" + "a" * 200) == []
    operation = client.get("/openapi.json").json()["paths"][MATERIALS]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "specimen")
    assert parameter["schema"]["maxItems"] == 20
    assert parameter["schema"]["items"] == {"type": "string", "minLength": 1, "maxLength": 200}
    assert "at most 20" in parameter["description"]
    assert "sort=prop:KEY" in parameter["description"]


def _plan(session: Session, statement: Any) -> str:
    """The query plan of ``statement`` (PostgreSQL with sequential scans off: the
    fixture tables are tiny, and the question is whether an index can serve)."""
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = list(session.execute(text(f"EXPLAIN {compiled}")).scalars())
    else:
        rows = [row[3] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    return "\n".join(rows)


INDEX = "ix_property_values_lower_specimen_property_key_canonical_min"


def test_the_specimen_subqueries_are_index_searches(session: Session) -> None:
    alone = select(PropertyValue.material_id).where(of_specimens(["bulk", "porous"]))
    ranged = select(PropertyValue.material_id).where(
        PropertyValue.property_key == "youngs_modulus",
        PropertyValue.canonical_min <= 30.0,
        PropertyValue.canonical_max >= 1.0,
        of_specimens(["bulk", "porous"]),
    )
    plan = _plan(session, alone)
    assert INDEX in plan, plan
    assert "SCAN property_values" not in plan, plan  # SQLite: no full scan
    # With a range, the planner may also pick the (property_key, canonical_min) index
    # and filter the few rows of the key's range (PostgreSQL does on tiny tables).
    plan = _plan(session, ranged)
    assert "ix_property_values_" in plan, plan
    assert "SCAN property_values" not in plan, plan
    assert "Seq Scan" not in plan, plan
