"""Reproductions of the findings of the attack on the running service (issue 7).

Each test failed on the code before the fix (a 500, a hang bounded by a timeout,
a wrong answer); findings 1 and 4 live in ``test_unit_grammar.py`` and
``test_server_limits.py``, finding 10 in ``test_shared_records_review.py``.
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from biomatdb import settings as settings_module
from biomatdb.api import links
from biomatdb.db import begin_write, make_engine, overload_kind, start_budget
from tests.conftest import auth, client_for
from tests.helpers import problem_of, search_ids, search_query

MATERIALS = "/api/v1/materials"


# --- 2. many repeated prop / regulatory terms ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "term", "limit"),
    [
        ("prop", "youngs_modulus:1..2:GPa", 20),
        ("regulatory", "US-FDA", 20),
        ("class", "metal", 20),
        ("application", "orthopedic", 50),
    ],
)
def test_repeatable_parameters_are_capped(
    client: TestClient, name: str, term: str, limit: int
) -> None:
    over = "&".join([f"{name}={term}"] * (limit + 1))
    body = problem_of(client.get(f"{MATERIALS}?{over}"), 400)
    assert body["errors"] == [
        {"path": name, "message": f"at most {limit} {name} terms per search; got {limit + 1}"}
    ]
    at_limit = "&".join([f"{name}={term}"] * limit)
    assert client.get(f"{MATERIALS}?{at_limit}").status_code == 200


def test_a_thousand_terms_is_a_400_not_a_500(client: TestClient) -> None:
    """SQLite answered 500 ("Expression tree is too large") from 992 terms on."""
    many = "&".join(f"prop=youngs_modulus:{i}..{i + 1}:GPa" for i in range(1000))
    problem_of(client.get(f"{MATERIALS}?{many}"), 400)


def test_twenty_terms_still_answer_exactly(client: TestClient) -> None:
    """At the cap, the answer is the one a single term gives (the same range 20 times)."""
    one = search_ids(client, "prop=youngs_modulus:100..130:GPa")
    twenty = search_ids(client, "&".join(["prop=youngs_modulus:100..130:GPa"] * 20))
    assert twenty == one
    assert one  # the fixture has such materials


# --- 2. every statement of a request is bounded in time --------------------------------------


@pytest.fixture
def bounded_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, query_timeout=1.0, lock_timeout=0.5)
    yield engine
    engine.dispose()


def bounded_client(engine: Engine) -> TestClient:
    """The API as served (a session per request, committed or rolled back), on ``engine``."""
    from biomatdb.api.deps import get_session, session_dependency
    from biomatdb.app import create_app

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app = create_app()
    app.dependency_overrides[get_session] = session_dependency(lambda: factory)
    return TestClient(app, raise_server_exceptions=False)


def _endless_query(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT pg_sleep(30)"
    # Counts to a billion: minutes of work for SQLite's virtual machine.
    return (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
        "SELECT count(*) FROM c"
    )


def test_a_statement_over_the_query_timeout_is_cancelled(bounded_engine: Engine) -> None:
    """PostgreSQL kept a 1,000-term query running 11 minutes after the client left."""
    with bounded_engine.connect() as connection, pytest.raises(DBAPIError) as caught:
        connection.execute(text(_endless_query(bounded_engine.dialect.name)))
    assert overload_kind(caught.value) == "timeout"


def test_short_statements_are_never_interrupted(bounded_engine: Engine) -> None:
    with bounded_engine.connect() as connection:
        for _ in range(200):
            assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_request_has_one_budget_for_all_its_statements(bounded_engine: Engine) -> None:
    """At 100,000 materials, a search's counts were six statements of a few seconds each
    (27 s in all) although none alone passed the statement timeout."""
    import time

    from biomatdb.errors import ServiceUnavailable

    start_budget(1.0)
    began = time.monotonic()
    try:
        with bounded_engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            time.sleep(0.6)  # the request spends most of its budget elsewhere
            # Cancelled when the budget runs out; on a machine so busy that it already
            # has, refused before it runs: either way, stopped by the budget.
            with pytest.raises((DBAPIError, ServiceUnavailable)) as caught:
                connection.execute(text(_endless_query(bounded_engine.dialect.name)))
            assert isinstance(caught.value, ServiceUnavailable) or (
                overload_kind(caught.value) == "timeout"
            )
            stopped = time.monotonic() - began
            connection.rollback()
            time.sleep(max(0.0, 1.05 - (time.monotonic() - began)))
            with pytest.raises(ServiceUnavailable):  # nothing left: refused before running
                connection.execute(text("SELECT 1"))
    finally:
        start_budget(None)
    # Cancelled when the request's budget ran out (1 s), not a statement timeout later.
    assert stopped < 1.25


def test_a_search_over_the_timeout_answers_503(
    bounded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from biomatdb.search import repository

    dialect = bounded_engine.dialect.name

    def slow_total(session: Session, where: Any) -> int:
        return int(session.execute(text(_endless_query(dialect))).scalar() or 0)

    monkeypatch.setattr(repository, "total", slow_total)
    with bounded_client(bounded_engine) as client:
        response = client.get(f"{MATERIALS}?class=metal")
        body = problem_of(response, 503)
        assert body["type"] == "/problems/query-timeout"
        assert response.headers["retry-after"] == "5"
        # The service goes on: the next request (another search) is answered.
        monkeypatch.undo()
        assert client.get(f"{MATERIALS}?class=ceramic").status_code == 200


# --- 3. memory does not grow with query shapes ------------------------------------------------


def test_the_statement_cache_is_bounded(database_url: str) -> None:
    """Each distinct count of prop terms was a new cached statement (6.5 MB at 600 terms)."""
    engine = make_engine(database_url, statement_cache_size=10)
    try:
        with Session(engine) as session, client_for(session) as client:
            for count in range(1, 21):
                terms = "&".join(f"prop=youngs_modulus:{i}..{i + 500}:GPa" for i in range(count))
                assert client.get(f"{MATERIALS}?{terms}").status_code == 200
        cache = engine._compiled_cache
        assert cache is not None
        # SQLAlchemy's LRU cache prunes back to its capacity once it is half as full again.
        assert cache.capacity == 10
        assert len(cache) <= 15
    finally:
        engine.dispose()


# --- 5. bounds that overflow ------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        "density:1e308..:kg/mm%5E3",  # finite, then inf in g/cm^3
        "youngs_modulus:..-1e308:TPa",  # -inf, and NaN after the tolerance
        "youngs_modulus:-1e308..1e308:TPa",
    ],
)
def test_bounds_that_overflow_in_conversion_are_a_400(client: TestClient, term: str) -> None:
    body = problem_of(client.get(f"{MATERIALS}?prop={term}"), 400)
    assert body["errors"][0]["path"] == "prop[0]"
    assert "out of range once converted" in body["errors"][0]["message"]


def test_overflowing_bounds_do_not_poison_the_counts(client: TestClient) -> None:
    """Before: the overflowing search cached total 0 under the fingerprint of
    ``density:..`` (inf and None both became JSON null), which then showed 19 items
    with ``total: 0`` and ``facets: {}`` until the next write."""
    from biomatdb.search import counts

    client.get(f"{MATERIALS}?prop=density:1e308..:kg/mm%5E3&facets=class")
    after = client.get(f"{MATERIALS}?prop=density:..&facets=class").json()["meta"]
    counts.clear()
    fresh = client.get(f"{MATERIALS}?prop=density:..&facets=class").json()["meta"]
    assert fresh["total"] > 0
    assert (after["total"], after["facets"]) == (fresh["total"], fresh["facets"])


def test_fingerprints_are_exact() -> None:
    """A bound that is inf (or NaN) and no bound at all must never share a fingerprint."""
    from biomatdb.search.params import PropertyRange, SearchQuery

    def fingerprint(low: float | None, high: float | None) -> str:
        return SearchQuery(ranges=[PropertyRange("density", low, high, "")]).fingerprint()

    unbounded = fingerprint(None, None)
    assert fingerprint(math.inf, None) != unbounded
    assert fingerprint(None, math.nan) != unbounded
    assert fingerprint(1.0, 2.0) != fingerprint(1.0, 2.0000000000000004)


def test_a_value_that_overflows_in_conversion_is_refused(
    client: TestClient, keys: dict[str, str]
) -> None:
    entry = {
        "id": "overflowing",
        "name": "Overflowing",
        "class": "metal",
        "properties": [{"property": "youngs_modulus", "value": 1e308, "unit": "TPa"}],
    }
    body = problem_of(client.post(MATERIALS, json=entry, headers=auth(keys["curator"])), 422)
    assert [e["path"] for e in body["errors"]] == ["properties[0].value"]


# --- 6. every stored value reads back, on both databases --------------------------------------


@pytest.mark.parametrize("value", [2e19, 1e-300, 1.7e308, 123456789012345678.0])
def test_extreme_values_are_stored_and_read_back(
    client: TestClient, keys: dict[str, str], value: float
) -> None:
    """PostgreSQL's jsonb printed 2e19 as an integer over 64 bits, which orjson refused:
    the POST answered 500 after committing, and the material stayed unreadable."""
    entry = {
        "id": "extreme",
        "name": "Extreme",
        "class": "metal",
        "properties": [
            {"property": "youngs_modulus", "value": value, "unit": "Pa", "source": "fx-ref-a"}
        ],
    }
    created = client.post(MATERIALS, json=entry, headers=auth(keys["curator"]))
    assert created.status_code == 201, created.text
    for url in (f"{MATERIALS}/extreme", f"{MATERIALS}/extreme/history/1"):
        read = client.get(url, headers=auth(keys["reader"]))
        assert read.status_code == 200, read.text
        stored = read.json()["properties"][0]
        assert stored["value"] == value
        assert stored["canonical"]["min"] == pytest.approx(value / 1e9, rel=1e-11)
    history = client.get(f"{MATERIALS}/extreme/history", headers=auth(keys["reader"]))
    assert history.status_code == 200


# --- 7. one publish rule ----------------------------------------------------------------------


def test_publishing_by_status_change_needs_sources(
    client: TestClient, keys: dict[str, str]
) -> None:
    entry = {
        "id": "unsourced",
        "name": "Unsourced",
        "class": "metal",
        "properties": [{"property": "youngs_modulus", "value": 100, "unit": "GPa"}],
    }
    assert client.post(MATERIALS, json=entry, headers=auth(keys["curator"])).status_code == 201
    submit = client.post(
        f"{MATERIALS}/unsourced/status", json={"status": "in_review"}, headers=auth(keys["curator"])
    )
    assert submit.status_code == 200
    publish = client.post(
        f"{MATERIALS}/unsourced/status", json={"status": "published"}, headers=auth(keys["editor"])
    )
    body = problem_of(publish, 422)
    assert body["errors"] == [
        {
            "path": "properties[0].source",
            "message": "a published property value must cite a source (a reference id)",
        }
    ]
    assert client.get(f"{MATERIALS}/unsourced").status_code == 404  # still not public
    latest = client.get(f"{MATERIALS}/unsourced", headers=auth(keys["reader"])).json()
    assert latest["status"] == "in_review"


# --- 8. imports do not block the service ------------------------------------------------------


def _reference_bundle(count: int, prefix: str = "ref") -> dict[str, Any]:
    return {
        "references": [{"id": f"{prefix}-{i}", "citation": f"Citation {i}"} for i in range(count)]
    }


def test_more_entries_than_one_request_may_carry_is_413(
    client: TestClient, keys: dict[str, str]
) -> None:
    limit = settings_module.get_settings().max_import_entries
    response = client.post(
        "/api/v1/imports?dry_run=true",
        json=_reference_bundle(limit + 1),
        headers=auth(keys["editor"]),
    )
    body = problem_of(response, 413)
    assert f"at most {limit}" in body["detail"]
    assert "biomatdb import" in body["detail"]


def test_an_ndjson_import_over_the_entry_limit_is_413(
    client: TestClient, keys: dict[str, str]
) -> None:
    """Before: 240k minimal lines as a dry run took 32 s (SQLite) / 79 s and +1.1 GB."""
    limit = settings_module.get_settings().max_import_entries
    lines = b"\n".join(b'{"id": "m-%d"}' % i for i in range(limit + 1))
    response = client.post(
        "/api/v1/imports?dry_run=true",
        content=lines,
        headers={**auth(keys["curator"]), "Content-Type": "application/x-ndjson"},
    )
    assert f"has {limit + 1} entries" in problem_of(response, 413)["detail"]


@pytest.fixture
def writer_holding_the_lock(bounded_engine: Engine) -> Iterator[None]:
    """Another connection holds the write lock (a long import) until the test ends."""
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with Session(bounded_engine.execution_options(biomatdb_lock_timeout=None)) as other:
            begin_write(other)
            held.set()
            release.wait(30)
            other.rollback()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def test_a_dry_run_does_not_wait_for_the_write_lock(
    keys_outside: dict[str, str], bounded_engine: Engine, writer_holding_the_lock: None
) -> None:
    with bounded_client(bounded_engine) as client:
        dry = client.post(
            "/api/v1/imports?dry_run=true",
            json=_reference_bundle(3, "dry"),
            headers=auth(keys_outside["editor"]),
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["references"] == {"created": 3, "updated": 0, "unchanged": 0}


def test_a_write_that_cannot_get_the_lock_is_a_503(
    keys_outside: dict[str, str], bounded_engine: Engine, writer_holding_the_lock: None
) -> None:
    """Before: SQLite answered 500 "database is locked"; PostgreSQL queued without end."""
    with bounded_client(bounded_engine) as client:
        response = client.post(
            "/api/v1/imports",
            json=_reference_bundle(3, "late"),
            headers=auth(keys_outside["editor"]),
        )
        body = problem_of(response, 503)
        assert body["type"] == "/problems/write-busy"
        assert response.headers["retry-after"] == "2"
        assert "nothing was written" in body["detail"]
        assert client.get("/api/v1/references/late-0").status_code == 404


@pytest.fixture
def keys_outside(database_url: str) -> Iterator[dict[str, str]]:
    """Keys committed to the shared database (for clients on their own engine), then removed."""
    from biomatdb.auth.keys import create_key
    from biomatdb.models import ApiKey

    engine = make_engine(database_url)
    with Session(engine) as session:
        made = {
            role: create_key(session, name=f"outside-{role}", role=role)[1]
            for role in ("reader", "editor")
        }
        session.commit()
    yield made
    with Session(engine) as session:
        session.query(ApiKey).filter(ApiKey.name.like("outside-%")).delete()
        session.commit()
    engine.dispose()


def test_queued_writers_wait_without_a_thread_and_give_up(
    client: TestClient, keys: dict[str, str], configured: Any
) -> None:
    """Before: 45 writers queued behind an import held 40 worker threads (and their
    connections), and an anonymous search waited 21.5 s for a thread."""
    import anyio

    configured(lock_timeout_seconds="0.2")
    app: Any = client.app
    app.state.write_gate = anyio.Semaphore(2)

    async def take_every_slot() -> None:
        for _ in range(2):
            await app.state.write_gate.acquire()

    client.portal.call(take_every_slot)  # type: ignore[union-attr]
    response = client.post(
        "/api/v1/imports", json=_reference_bundle(1, "queued"), headers=auth(keys["editor"])
    )
    body = problem_of(response, 503)
    assert body["type"] == "/problems/write-busy"
    assert client.get(f"{MATERIALS}?class=metal").status_code == 200  # readers go on


# --- 9. 500s on bad input ---------------------------------------------------------------------


def _cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def test_a_cursor_with_an_empty_keyset_is_a_400(client: TestClient) -> None:
    query = search_query(sort="prop:youngs_modulus")
    forged = _cursor({"v": 1, "f": query.fingerprint(), "k": []})
    body = problem_of(client.get(f"{MATERIALS}?sort=prop:youngs_modulus&cursor={forged}"), 400)
    assert body["errors"][0]["path"] == "cursor"


def test_a_change_feed_cursor_beyond_32_bits_is_an_empty_page(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = client.get("/api/v1/changes?since=2147483648", headers=auth(keys["reader"]))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


@pytest.mark.parametrize("since", ["²", "-1", "1e3", "x"])
def test_a_change_feed_cursor_that_is_not_a_number_is_a_400(
    client: TestClient, keys: dict[str, str], since: str
) -> None:
    response = client.get(f"/api/v1/changes?since={since}", headers=auth(keys["reader"]))
    assert problem_of(response, 400)["errors"][0]["path"] == "since"


def test_a_history_version_in_unicode_digits_is_a_404(
    client: TestClient, keys: dict[str, str]
) -> None:
    material = search_ids(client, "limit=1")[0]
    response = client.get(f"{MATERIALS}/{material}/history/²", headers=auth(keys["reader"]))
    problem_of(response, 404)


# --- 11. HTTP hygiene -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [(f"{MATERIALS}?class=metal", 200), (f"{MATERIALS}?class=x", 400), ("/nowhere", 404)],
)
def test_every_answer_carries_the_hardening_headers(
    client: TestClient, url: str, status: int
) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["x-frame-options"] == "DENY"


def test_the_docs_page_may_load_its_scripts(client: TestClient) -> None:
    # Its own scripts only: the assets are served by the service (no CDN).
    policy = client.get("/docs").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "https:" not in policy


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set BIOMATDB_* variables for one test (the settings are cached per process)."""

    def configure(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"BIOMATDB_{name.upper()}", value)
        settings_module.get_settings.cache_clear()
        links._configured.cache_clear()

    yield configure
    monkeypatch.undo()
    settings_module.get_settings.cache_clear()
    links._configured.cache_clear()


def test_a_forged_host_never_reaches_the_links(client: TestClient) -> None:
    response = client.get(f"{MATERIALS}?limit=1", headers={"Host": "evil.example"})
    page = response.json()["links"]
    assert page["self"] == "/api/v1/materials?limit=1"
    assert page["next"].startswith("/api/v1/materials?limit=1&cursor=")


def test_an_allowed_host_gets_absolute_links(client: TestClient) -> None:
    response = client.get(f"{MATERIALS}?limit=1", headers={"Host": "localhost:8000"})
    assert response.json()["links"]["self"] == "http://localhost:8000/api/v1/materials?limit=1"


def test_the_public_base_url_wins(client: TestClient, configured: Any) -> None:
    configured(public_base_url="https://biomatdb.example.org/")
    response = client.get(f"{MATERIALS}?limit=1", headers={"Host": "localhost"})
    page = response.json()["links"]
    assert page["self"] == "https://biomatdb.example.org/api/v1/materials?limit=1"
    assert page["next"].startswith("https://biomatdb.example.org/api/v1/materials?limit=1&cursor=")


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ISO-8859-1"])
def test_a_body_declared_in_another_charset_is_a_415(
    client: TestClient, keys: dict[str, str], charset: str
) -> None:
    response = client.post(
        MATERIALS,
        content=b'{"id": "x"}',
        headers={**auth(keys["curator"]), "Content-Type": f"application/json; charset={charset}"},
    )
    body = problem_of(response, 415)
    assert f"charset={charset.lower()}" in body["detail"]


def test_a_utf8_charset_is_accepted(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/imports?dry_run=true",
        content=orjson.dumps(_reference_bundle(1, "utf8")),
        headers={**auth(keys["editor"]), "Content-Type": 'application/json; charset="UTF-8"'},
    )
    assert response.status_code == 200, response.text
