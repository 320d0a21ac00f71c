"""Entity tags of materials: made in the domain from (id, version, status, content hash)
and the records the representation embeds; formatted as HTTP in ``api.etag``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth

NEW: dict[str, Any] = {
    "id": "tagged-alloy",
    "name": "Tagged alloy",
    "class": "metal",
    "properties": [
        {"property": "youngs_modulus", "value": 100, "unit": "GPa", "source": "fx-ref-a"}
    ],
}
URL = "/api/v1/materials/tagged-alloy"


def test_the_tag_names_the_version_not_the_moment(client: TestClient, keys: dict[str, str]) -> None:
    created = client.post("/api/v1/materials", json=NEW, headers=auth(keys["curator"]))
    tag = created.headers["etag"]
    assert tag.startswith('"')
    assert len(tag) == 34
    again = client.get(URL, headers=auth(keys["reader"]))
    assert again.headers["etag"] == tag
    assert (
        client.get(URL, headers={**auth(keys["reader"]), "If-None-Match": tag}).status_code == 304
    )
    # A weak If-Match never matches (strong comparison, RFC 9110).
    weak = client.patch(
        URL, json={"name": "X"}, headers={**auth(keys["curator"]), "If-Match": f"W/{tag}"}
    )
    assert weak.status_code == 412
    changed = client.patch(
        URL, json={"name": "Renamed"}, headers={**auth(keys["curator"]), "If-Match": tag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != tag
    submitted = client.post(
        f"{URL}/status", json={"status": "in_review"}, headers=auth(keys["curator"])
    )
    assert submitted.headers["etag"] != changed.headers["etag"]  # the status is part of it


def test_editing_an_embedded_reference_changes_the_tag(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Otherwise If-None-Match would answer 304 with a stale citation."""
    client.post("/api/v1/materials", json=NEW, headers=auth(keys["curator"]))
    before = client.get(URL, headers=auth(keys["reader"])).headers["etag"]
    reference = client.get("/api/v1/references/fx-ref-a").json()
    entry = {k: v for k, v in reference.items() if v is not None and k != "cited_by"}
    entry["citation"] += " (corrected)"
    imported = client.post(
        "/api/v1/imports", json={"references": [entry]}, headers=auth(keys["editor"])
    )
    assert imported.status_code == 200, imported.text
    after = client.get(URL, headers={**auth(keys["reader"]), "If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before
    assert after.json()["properties"][0]["source"]["citation"].endswith("(corrected)")


# --- search answers: ETag from the data version and the request, 304, page cache ------

SEARCH = "/api/v1/materials?class=metal&facets=class"


def test_a_search_answer_is_tagged_and_a_client_that_has_it_gets_304(
    client: TestClient, keys: dict[str, str]
) -> None:
    from biomatdb.api import pagecache

    first = client.get(SEARCH)
    tag = first.headers["etag"]
    assert tag.startswith('"s')
    assert first.headers["cache-control"] == "no-cache"
    assert pagecache.stats()[0] == 1
    again = client.get(SEARCH)
    assert again.content == first.content  # the kept page, byte for byte
    assert again.headers["etag"] == tag
    unchanged = client.get(SEARCH, headers={"If-None-Match": f'"other", {tag}'})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == tag
    assert client.head(SEARCH, headers={"If-None-Match": tag}).status_code == 304
    # another question, another tag
    assert client.get("/api/v1/materials?class=ceramic").headers["etag"] != tag
    assert client.get(SEARCH + "&limit=5").headers["etag"] != tag

    # A write changes the data version: the same question is answered afresh.
    published = {**NEW, "id": "tagged-metal", "status": "published"}
    written = client.post(
        "/api/v1/imports", json={"materials": [published]}, headers=auth(keys["editor"])
    )
    assert written.status_code == 200, written.text
    after = client.get(SEARCH, headers={"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
    assert "tagged-metal" in [m["id"] for m in after.json()["data"]]
    assert after.json()["meta"]["total"] == first.json()["meta"]["total"] + 1


def test_the_page_cache_is_bounded_in_bytes(client: TestClient) -> None:
    from biomatdb.api import pagecache

    limit = 64 * 1024
    for i in range(60):
        body = f"/api/v1/materials?limit={i % 50 + 1}&class=metal".encode()
        pagecache._remember(f'"x{i}"', body * 200, limit)  # ~6-8 KB each
    pages, size = pagecache.stats()
    assert 0 < size <= limit
    assert pages < 60
    pagecache._remember('"huge"', b"x" * limit, limit)  # more than an eighth: not kept
    assert pagecache.stats()[0] == pages
