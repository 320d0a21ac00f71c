"""Plumbing that many test files share: checking problem answers, reading search ids."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from biomatdb.search.params import SearchQuery, parse_search

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The RFC 9457 problem document of ``response``, after checking its status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    return body


def search_ids(client: TestClient, query: str, *, whole: bool = False) -> list[str]:
    """The ids a search answers, in order. ``whole``: one page of up to 200, which must
    hold every match (``meta.total``)."""
    url = f"/api/v1/materials?{query}" + ("&limit=200" if whole else "")
    response = client.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    if whole:
        assert body["meta"]["total"] == len(body["data"])
    return [item["id"] for item in body["data"]]


#: Every keyword of ``parse_search`` at its "not given" value.
NO_PARAMETERS: dict[str, Any] = {
    "q": None,
    "classes": [],
    "applications": [],
    "degradable": None,
    "props": [],
    "regulatory": [],
    "supplier": None,
    "country": None,
    "sort": None,
    "limit": 20,
    "facets": None,
}


def search_query(**given: Any) -> SearchQuery:
    """The validated search of ``given`` parameters (``parse_search`` keywords), the rest
    not given: what a cursor's fingerprint is computed from."""
    return parse_search(**{**NO_PARAMETERS, **given})
