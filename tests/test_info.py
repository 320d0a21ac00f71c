"""``GET /api/v1/info`` (issue 10, item 7): versions, terms, how to cite, counts."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb import __version__
from biomatdb.exchange.importer import import_documents
from tests.conftest import auth, client_for

INFO = "/api/v1/info"
ROOT = Path(__file__).resolve().parents[1]


def test_info_names_the_versions_and_the_terms(client: TestClient) -> None:
    response = client.get(INFO)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "meta"}
    data = body["data"]
    assert data["name"] == "biomatdb"
    assert data["software_version"] == __version__
    assert data["api_version"] == "1.1"
    assert data["available_api_versions"] == [{"url": "/api/v1", "version": "1.1"}]
    assert data["data_license"] == {
        "id": "CC-BY-4.0",
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert data["software_license"]["id"] == "Apache-2.0"
    assert "CC BY 4.0" in data["attribution"]
    assert "source" in data["attribution"]
    assert f"data version {data['data_version']}" in data["how_to_cite"]
    assert data["formats"] == ["json", "csv", "ndjson"]
    assert data["documentation"]["openapi"] == "/openapi.json"
    assert body["meta"]["last_updated"] == data["last_updated"]


def test_info_counts_what_the_lists_show(client: TestClient) -> None:
    counts = client.get(INFO).json()["data"]["counts"]

    def total(url: str) -> int:
        value: int = client.get(url).json()["meta"]["total"]
        return value

    assert counts == {
        "materials": total("/api/v1/materials"),
        "references": total("/api/v1/references"),
        "organizations": total("/api/v1/organizations"),
        "property_values": total("/api/v1/values"),
    }
    assert counts["materials"] == 12  # the fixture's published materials (not the draft)
    assert counts["property_values"] > counts["materials"]


def test_info_follows_the_data(client: TestClient, session: Session, keys: dict[str, str]) -> None:
    before = client.get(INFO).json()["data"]
    new = {
        "materials": [
            {"id": "fx-info", "name": "Info", "class": "metal", "status": "published"},
            {"id": "fx-info-draft", "name": "Draft", "class": "metal"},
        ]
    }
    assert import_documents(session, [("new", new)]).ok
    after = client.get(INFO).json()["data"]
    assert after["counts"]["materials"] == before["counts"]["materials"] + 1
    assert after["data_version"] > before["data_version"]
    assert after["last_updated"] > before["last_updated"]
    feed = client.get("/api/v1/changes?limit=1000", headers=auth(keys["reader"])).json()
    assert after["last_updated"] == feed["data"][-1]["at"]
    assert after["data_version"] == feed["data"][-1]["seq"]


def test_info_of_an_empty_database(empty_database: Session) -> None:
    with client_for(empty_database) as client:
        body = client.get(INFO).json()
    assert body["data"]["counts"] == {
        "materials": 0,
        "references": 0,
        "organizations": 0,
        "property_values": 0,
    }
    assert body["data"]["data_version"] == 0
    assert body["data"]["last_updated"] is None
    assert body["meta"] == {"last_updated": None}


def test_info_uses_the_public_base_url_in_its_links(client: TestClient) -> None:
    # An allowed Host (testserver is not one): absolute URLs, as in list links.
    data = client.get(INFO, headers={"Host": "localhost"}).json()["data"]
    assert data["available_api_versions"][0]["url"] == "http://localhost/api/v1"
    assert data["documentation"]["redoc"] == "http://localhost/redoc"


def test_the_data_licence_file_is_at_the_top_of_the_repository() -> None:
    text = (ROOT / "LICENSE-DATA").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text
    assert "CC-BY-4.0" in text
    assert "How to give credit" in text
