"""HTTP as clients expect (issue 10, item 6): HEAD, no redirect for a trailing slash,
gzip (streams included), CORS off unless configured, offline documentation pages, and
one list envelope with ``meta.last_updated`` on every list."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb import settings as settings_module
from biomatdb.api import links
from biomatdb.app import create_app
from biomatdb.exchange.importer import import_documents
from biomatdb.models import Change
from tests.conftest import auth, client_for

MATERIALS = "/api/v1/materials"
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


# --- HEAD ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        MATERIALS,
        f"{MATERIALS}?class=metal&facets=class",
        f"{MATERIALS}/fx-ti-alloy",
        "/api/v1/organizations",
        "/api/v1/references",
        "/api/v1/properties",
        "/api/v1/properties/density",
        "/api/v1/vocabularies",
        "/api/v1/values?limit=5",
        "/api/v1/compare?ids=fx-ti-alloy,fx-steel",
        "/api/v1/info",
        "/health",
        "/openapi.json",
        "/docs",
        "/redoc",
    ],
)
def test_head_answers_as_get_without_a_body(client: TestClient, url: str) -> None:
    got = client.get(url, headers=IDENTITY)
    head = client.head(url, headers=IDENTITY)
    assert got.status_code == head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers.get("etag") == got.headers.get("etag")
    assert head.headers["x-content-type-options"] == "nosniff"


def test_head_keeps_errors_and_validators(client: TestClient) -> None:
    missing = client.head(f"{MATERIALS}/no-such-material")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.content == b""
    assert client.head(f"{MATERIALS}?class=x").status_code == 400
    etag = client.get(f"{MATERIALS}/fx-ti-alloy").headers["etag"]
    again = client.head(f"{MATERIALS}/fx-ti-alloy", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("url", [f"{MATERIALS}?format=csv", "/api/v1/values?format=ndjson"])
def test_head_of_an_export_sends_its_headers_only(client: TestClient, url: str) -> None:
    head = client.head(url, headers=GZIP)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == client.get(url).headers["content-type"]


def test_a_post_only_path_still_refuses_head(client: TestClient) -> None:
    assert client.head("/api/v1/imports").status_code == 405


# --- trailing slash -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [f"{MATERIALS}?class=metal", f"{MATERIALS}/fx-ti-alloy", "/api/v1/properties", "/health"],
)
def test_a_trailing_slash_answers_like_the_path_without_it(client: TestClient, url: str) -> None:
    path, _, query = url.partition("?")
    slashed = f"{path}/" + (f"?{query}" if query else "")
    response = client.get(slashed, follow_redirects=False)
    assert response.status_code == 200, response.text
    assert "location" not in response.headers
    assert response.json() == client.get(url).json()


def test_a_post_with_a_trailing_slash_reaches_its_route(
    client: TestClient, keys: dict[str, str]
) -> None:
    body = {"id": "fx-slash", "name": "Slash", "class": "metal"}
    response = client.post(
        f"{MATERIALS}/", json=body, headers=auth(keys["curator"]), follow_redirects=False
    )
    assert response.status_code == 201, response.text


# --- gzip -----------------------------------------------------------------------------------


def test_bodies_over_1_kb_are_gzipped_when_asked(client: TestClient) -> None:
    big = client.get(f"{MATERIALS}?limit=200", headers=GZIP)
    assert big.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in big.headers["vary"].lower()
    assert big.json()["data"]  # decoded by the client
    plain = client.get(f"{MATERIALS}?limit=200", headers=IDENTITY)
    assert "content-encoding" not in plain.headers
    assert plain.json() == big.json()
    small = client.get("/health", headers=GZIP)
    assert "content-encoding" not in small.headers


async def _asgi_get(app: Any, path: str, query: str, headers: dict[str, str]) -> list[Any]:
    """The ASGI messages an app sends for one GET (no client in between)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("path", "query", "media_type"),
    [
        (MATERIALS, "format=csv", "text/csv"),
        (MATERIALS, "format=ndjson", "application/x-ndjson"),
        ("/api/v1/values", "format=ndjson", "application/x-ndjson"),
        ("/api/v1/values", "format=csv", "text/csv"),
        ("/api/v1/charts/ashby", "x=density&y=youngs_modulus", "image/svg+xml"),
    ],
)
def test_exports_and_charts_stay_streamed_under_gzip(
    session: Session, path: str, query: str, media_type: str
) -> None:
    from biomatdb.api.deps import get_session

    app = create_app()

    def override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = override
    sent = asyncio.run(_asgi_get(app, path, query, {"Accept-Encoding": "gzip"}))
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200
    assert headers["content-type"].startswith(media_type)
    assert headers["content-encoding"] == "gzip"
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    body = gzip.decompress(b"".join(m["body"] for m in bodies))
    assert body
    if media_type != "image/svg+xml":  # streamed: no length known up front, several sends
        assert "content-length" not in headers
        assert len(bodies) >= 2
        assert bodies[0].get("more_body") is True
    plain = TestClient(app).get(f"{path}?{query}", headers=IDENTITY)
    assert plain.content == body


# --- CORS -----------------------------------------------------------------------------------


@pytest.fixture
def cors_client(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("BIOMATDB_CORS_ORIGINS", "https://app.example.org, https://lab.example.edu")
    settings_module.get_settings.cache_clear()
    links._configured.cache_clear()
    try:
        with client_for(session) as test_client:
            yield test_client
    finally:
        monkeypatch.undo()
        settings_module.get_settings.cache_clear()
        links._configured.cache_clear()


def test_cors_is_off_by_default(client: TestClient) -> None:
    response = client.get(MATERIALS, headers={"Origin": "https://app.example.org"})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    preflight = client.options(
        MATERIALS,
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_for_a_listed_origin(cors_client: TestClient) -> None:
    origin = "https://lab.example.edu"
    response = cors_client.get(MATERIALS, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    assert response.headers["x-content-type-options"] == "nosniff"  # still hardened
    preflight = cors_client.options(
        f"{MATERIALS}/fx-ti-alloy",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "if-match" in allowed
    assert preflight.headers["content-security-policy"].startswith("default-src 'none'")


def test_cors_refuses_an_unlisted_origin(cors_client: TestClient) -> None:
    origin = "https://evil.example"
    response = cors_client.get(MATERIALS, headers={"Origin": origin})
    assert response.status_code == 200  # the data is public; the browser withholds it
    assert "access-control-allow-origin" not in response.headers
    preflight = cors_client.options(
        MATERIALS, headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


# --- documentation pages, offline -----------------------------------------------------------

CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_their_own_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    urls = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    assert urls
    assert "http://" not in html, "no CDN, no web fonts"
    assert "https://" not in html, "no CDN, no web fonts"
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert asset.headers["content-type"].split(";")[0] in CONTENT_TYPES[suffix], url
        assert len(asset.content) > 100, url
    assert "/openapi.json" in html
    assert client.get("/openapi.json").status_code == 200


def test_the_vendored_assets_carry_their_licences(client: TestClient) -> None:
    for url in ("/static/swagger-ui/LICENSE", "/static/redoc/LICENSE"):
        assert client.get(url).status_code == 200, url
    assert "swagger-ui-dist" in client.get("/static/README.md").text


def test_the_oauth2_redirect_page_is_served(client: TestClient) -> None:
    response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "https://" not in response.text


# --- one list envelope, with meta.last_updated ----------------------------------------------

LISTS = [
    MATERIALS,
    f"{MATERIALS}?facets=class",
    "/api/v1/values",
    "/api/v1/organizations",
    "/api/v1/references",
    "/api/v1/properties",
    "/api/v1/changes",
]


def _last_change_time(client: TestClient, keys: dict[str, str]) -> str:
    feed = client.get("/api/v1/changes?since=0&limit=1000", headers=auth(keys["reader"]))
    return str(feed.json()["data"][-1]["at"])


@pytest.mark.parametrize("url", LISTS)
def test_every_list_has_the_envelope(client: TestClient, keys: dict[str, str], url: str) -> None:
    response = client.get(url, headers=auth(keys["reader"]) if "changes" in url else {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "meta", "links"}
    assert isinstance(body["data"], list)
    assert body["data"]
    meta = body["meta"]
    assert isinstance(meta["total"], int)
    assert meta["total"] >= len(body["data"])
    assert "next_cursor" in meta
    assert meta["last_updated"] == _last_change_time(client, keys)
    assert set(body["links"]) == {"self", "next"}
    assert body["links"]["self"].endswith(url.removeprefix("/api/v1"))
    if "facets=" in url:
        assert meta["facets"]["class"]
    elif url == MATERIALS:
        assert meta["facets"] is None  # documented: no facet asked for
    else:
        assert "facets" not in meta, "no null that means nothing"
        assert None not in (v for k, v in meta.items() if k != "next_cursor")


def test_the_change_feed_keeps_has_more_and_counts(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = auth(keys["reader"])
    first = client.get("/api/v1/changes?limit=2", headers=headers).json()
    everything = client.get("/api/v1/changes?limit=1000", headers=headers).json()
    total = len(everything["data"])
    assert first["meta"]["total"] == everything["meta"]["total"] == total
    assert first["meta"]["has_more"] is True
    assert first["links"]["next"] is not None
    cursor = first["meta"]["next_cursor"]
    rest = client.get(f"/api/v1/changes?since={cursor}&limit=1000", headers=headers).json()
    assert rest["meta"]["total"] == total - 2 == len(rest["data"])
    assert rest["meta"]["has_more"] is False
    assert rest["links"]["next"] is None
    assert rest["meta"]["next_cursor"]  # kept, to poll later


def test_last_updated_moves_with_a_write(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    before = client.get(MATERIALS).json()["meta"]["last_updated"]
    new = {"materials": [{"id": "fx-new", "name": "New", "class": "metal", "status": "published"}]}
    assert import_documents(session, [("new", new)]).ok
    after = client.get(MATERIALS).json()["meta"]["last_updated"]
    assert after > before
    assert after == _last_change_time(client, keys)
    assert client.get("/api/v1/organizations").json()["meta"]["last_updated"] == after


def test_last_updated_is_null_for_an_empty_database(empty_database: Session) -> None:
    assert empty_database.query(Change).count() == 0
    with client_for(empty_database) as client:
        for url in (MATERIALS, "/api/v1/organizations", "/api/v1/properties"):
            meta = client.get(url).json()["meta"]
            assert meta["last_updated"] is None, url
            assert meta["total"] == (0 if url != "/api/v1/properties" else meta["total"])


# --- enums and examples in the OpenAPI document ---------------------------------------------


def test_fixed_vocabularies_are_enums_and_every_search_parameter_has_examples(
    client: TestClient,
) -> None:
    from biomatdb.vocab import Application, MaterialClass, OrganizationKind, values

    document = client.get("/openapi.json").json()
    search = {p["name"]: p for p in document["paths"][MATERIALS]["get"]["parameters"]}
    assert search["class"]["schema"]["items"]["enum"] == values(MaterialClass)
    assert search["application"]["schema"]["items"]["enum"] == values(Application)
    assert {"name", "-name", "prop:youngs_modulus", "-prop:density"} <= set(
        search["sort"]["schema"]["enum"]
    )
    assert re.fullmatch(search["facets"]["schema"]["pattern"], "class,application")
    assert re.fullmatch(search["regulatory"]["schema"]["items"]["pattern"], "US-FDA:cleared")
    assert not re.fullmatch(search["regulatory"]["schema"]["items"]["pattern"], "XX:cleared")
    for name, parameter in search.items():
        if name in ("cursor",):  # opaque: there is no meaningful example
            continue
        schema = parameter["schema"]
        assert "examples" in schema or "examples" in parameter or "enum" in str(schema), name
    organizations = {
        p["name"]: p for p in document["paths"]["/api/v1/organizations"]["get"]["parameters"]
    }
    assert _enum(organizations["kind"]["schema"]) == values(OrganizationKind)
    ashby = {p["name"]: p for p in document["paths"]["/api/v1/charts/ashby"]["get"]["parameters"]}
    assert "youngs_modulus" in _enum(ashby["x"]["schema"])


def _enum(schema: Any) -> list[Any]:
    """The first ``enum`` in a schema (on it, its items or one of its alternatives)."""
    if isinstance(schema, dict):
        if "enum" in schema:
            return list(schema["enum"])
        for value in schema.values():
            found = _enum(value)
            if found:
                return found
    if isinstance(schema, list):
        for value in schema:
            found = _enum(value)
            if found:
                return found
    return []
