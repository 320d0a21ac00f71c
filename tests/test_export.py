"""Export (contract section 6): every match of a search as CSV or NDJSON, streamed in
the search's order, with units in the headers and the spreadsheet formula guard."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.search import stream
from tests.helpers import problem_of

URL = "/api/v1/materials"
BASE = ["id", "name", "class", "subclass", "degradable", "applications"]


def walk(client: TestClient, query: str) -> list[dict[str, Any]]:
    """Every item of a search, page by page through the cursors (limit 2)."""
    items: list[dict[str, Any]] = []
    url: str | None = f"{URL}?{query}&limit=2"
    while url:
        body = client.get(url).json()
        items += body["data"]
        cursor = body["meta"]["next_cursor"]
        url = f"{URL}?{query}&limit=2&cursor={cursor}" if cursor else None
    return items


def csv_rows(client: TestClient, query: str, **headers: str) -> list[dict[str, str]]:
    response = client.get(f"{URL}?{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


def total(client: TestClient, query: str) -> int:
    count: int = client.get(f"{URL}?{query}").json()["meta"]["total"]
    return count


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3, so that every export here spans several keyset batches."""
    monkeypatch.setattr(stream, "BATCH", 3)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "class=metal",
        "prop=youngs_modulus:..50:GPa",
        "sort=-name",
        "sort=prop:youngs_modulus",
        "sort=-prop:density&class=metal&class=ceramic",
        "q=alloy",
    ],
)
def test_csv_has_every_match_in_the_search_order(client: TestClient, query: str) -> None:
    rows = csv_rows(client, f"{query}&format=csv")
    assert len(rows) == total(client, query)
    assert [r["id"] for r in rows] == [item["id"] for item in walk(client, query)]


@pytest.mark.parametrize(
    "query", ["", "class=polymer", "sort=-prop:youngs_modulus", "limit=1&cursor=ignored"]
)
def test_ndjson_lines_are_the_search_items_of_the_cursor_walk(
    client: TestClient, query: str
) -> None:
    response = client.get(f"{URL}?{query}", headers={"Accept": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    plain = query.replace("limit=1&cursor=ignored", "")  # limit and cursor do not apply
    assert lines == walk(client, plain)


def test_the_accept_header_and_the_format_parameter_give_the_same_file(
    client: TestClient,
) -> None:
    by_header = client.get(f"{URL}?class=metal", headers={"Accept": "text/csv"})
    by_format = client.get(f"{URL}?class=metal&format=csv")
    assert by_header.content == by_format.content
    # format wins over the header; q-values order the header's choices.
    assert client.get(f"{URL}?format=json", headers={"Accept": "text/csv"}).json()["data"]
    preferred = client.get(URL, headers={"Accept": "text/csv;q=0.5, application/x-ndjson"})
    assert preferred.headers["content-type"] == "application/x-ndjson"
    assert (
        client.get(URL, headers={"Accept": "text/*"}).headers["content-type"].startswith("text/csv")
    )


def test_csv_columns_are_the_properties_present_with_units_in_the_headers(
    client: TestClient,
) -> None:
    response = client.get(f"{URL}?class=metal&format=csv")
    header = next(csv.reader(io.StringIO(response.text)))
    assert header == [
        *BASE,
        "density [g/cm^3]",
        "density min [g/cm^3]",
        "density max [g/cm^3]",
        "youngs_modulus [GPa]",
        "youngs_modulus min [GPa]",
        "youngs_modulus max [GPa]",
        "tensile_strength [MPa]",
        "tensile_strength min [MPa]",
        "tensile_strength max [MPa]",
        "degradation_time [month]",
        "degradation_time min [month]",
        "degradation_time max [month]",
    ]
    rows = {r["id"]: r for r in csv_rows(client, "class=metal&format=csv")}
    steel = rows["fx-steel"]
    assert (steel["name"], steel["class"], steel["degradable"]) == (
        "Stainless steel FX",
        "metal",
        "false",
    )
    # 28,000 ksi and 70,000-90,000 psi, shown to their sources' digits (at least 3).
    assert steel["youngs_modulus [GPa]"] == "193"
    assert (steel["tensile_strength min [MPa]"], steel["tensile_strength max [MPa]"]) == (
        "483",
        "621",
    )
    assert rows["fx-mg"]["tensile_strength [MPa]"] == ""  # it has none
    assert rows["fx-ti-alloy"]["applications"] == "orthopedic;dental"


def test_csv_in_the_units_asked_for(client: TestClient) -> None:
    rows = csv_rows(client, "class=metal&format=csv&units=youngs_modulus:kPa,density:kg/m^3")
    assert "youngs_modulus [kPa]" in rows[0]
    assert "density max [kg/m^3]" in rows[0]
    mg = next(r for r in rows if r["id"] == "fx-mg")
    assert (mg["youngs_modulus [kPa]"], mg["density [kg/m^3]"]) == ("45000000", "1780")


def test_an_empty_result_is_a_header_or_nothing(client: TestClient) -> None:
    response = client.get(f"{URL}?q=nothingmatchesthis&format=csv")
    assert response.text == ",".join(BASE) + "\r\n"
    assert client.get(f"{URL}?q=nothingmatchesthis&format=ndjson").content == b""


def test_text_a_spreadsheet_would_run_is_guarded(client: TestClient, session: Session) -> None:
    bundle = {
        "materials": [
            {
                "id": "fx-formula",
                "name": '=HYPERLINK("http://example.com","x")',
                "class": "polymer",
                "subclass": "-2+3",
                "status": "published",
                "properties": [
                    {"property": "density", "value": 1.5, "unit": "g/cm^3", "source": "fx-ref-a"}
                ],
            },
            {
                "id": "fx-at",
                "name": "@SUM(1)",
                "class": "polymer",
                "subclass": "+1",
                "status": "published",
            },
        ]
    }
    assert import_documents(session, [("formula", bundle)]).ok
    rows = {r["id"]: r for r in csv_rows(client, "class=polymer&format=csv")}
    assert rows["fx-formula"]["name"] == '\'=HYPERLINK("http://example.com","x")'
    assert rows["fx-formula"]["subclass"] == "'-2+3"
    assert rows["fx-formula"]["density [g/cm^3]"] == "1.5"  # numbers are not text
    assert (rows["fx-at"]["name"], rows["fx-at"]["subclass"]) == ("'@SUM(1)", "'+1")
    assert rows["fx-peek"]["name"] == "PEEK FX"  # ordinary text is untouched


def test_unknown_formats_are_refused_clearly(client: TestClient) -> None:
    problem = problem_of(client.get(URL, headers={"Accept": "image/png"}), 406)
    assert "text/csv" in problem["detail"]
    assert "format=csv" in problem["detail"]
    problem = problem_of(client.get(f"{URL}?format=xlsx"), 400)
    assert [e["path"] for e in problem["errors"]] == ["format"]


def test_export_checks_its_parameters_before_streaming(client: TestClient) -> None:
    problem = problem_of(client.get(f"{URL}?format=csv&prop=youngs_modulus:x..:GPa"), 400)
    assert [e["path"] for e in problem["errors"]] == ["prop[0]"]
    problem = problem_of(client.get(f"{URL}?format=csv&units=youngs_modulus:g"), 400)
    assert [e["path"] for e in problem["errors"]] == ["units"]
