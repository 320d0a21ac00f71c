"""Facets too slow for a request are left out of its answer and counted in the background.

At a million materials the five facets over the whole database took 10.5 s on
PostgreSQL: over the request's 5 s budget, so the search page without a filter was a
503 every time and never cached. Now a request gives its facets
``BIOMATDB_FACET_TIME_LIMIT_SECONDS``; a facet not counted by then is cancelled, named
in ``meta.facets_pending``, and counted once per data version by a background thread.

A slow facet is made here by running an endless query in its place, but only on the
request's (bounded) engine: the background's engine counts it for real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from biomatdb import db, settings
from biomatdb.api import pagecache
from biomatdb.db import make_engine
from biomatdb.search import counts
from biomatdb.search.facets import CountryFacet
from tests.test_attack_findings import _endless_query
from tests.test_web_search import Page

URL = "/api/v1/materials?limit=2&facets=class,degradable,country"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set the facet and background limits (seconds) for the test."""

    def set_limits(facet: float = 0.3, background: float = 30.0) -> None:
        monkeypatch.setenv("BIOMATDB_FACET_TIME_LIMIT_SECONDS", str(facet))
        monkeypatch.setenv("BIOMATDB_BACKGROUND_COUNT_TIMEOUT_SECONDS", str(background))
        settings.get_settings.cache_clear()

    set_limits()
    yield set_limits
    monkeypatch.undo()
    settings.get_settings.cache_clear()


@pytest.fixture
def request_engine(database_url: str, limits: Any) -> Iterator[Engine]:
    """The API's engine as served: every request has 5 s of database time."""
    engine = make_engine(database_url, query_timeout=5.0, lock_timeout=0.5)
    yield engine
    counts.clear()  # the background's own engines are closed with it
    engine.dispose()


class SlowCountry:
    """Replaces the country facet: endless on the request's engine; on the
    background's, real, after ``gate`` opens (when ``endless_everywhere``: endless
    there too). ``background_calls``: how many counts the background started."""

    def __init__(self, request_engine: Engine) -> None:
        self.request_engine = request_engine
        self.gate = threading.Event()
        self.gate.set()
        self.endless_everywhere = False
        self.background_calls = 0
        self.original = CountryFacet.count

    def count(self, facet: Any, session: Session, where: Any, matching: Any) -> dict[str, int]:
        engine = session.get_bind().engine
        if engine is not self.request_engine:
            self.background_calls += 1
            assert self.gate.wait(20)
            if not self.endless_everywhere:
                return self.original(facet, session, where, matching)
        session.execute(text(_endless_query(engine.dialect.name))).all()
        raise AssertionError("the endless query ended")


@pytest.fixture
def slow_country(
    request_engine: Engine, reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> SlowCountry:
    """The slow country facet (after the reference answer was counted without it)."""
    slow = SlowCountry(request_engine)

    def count(facet: Any, session: Session, where: Any, matching: Any) -> dict[str, int]:
        return slow.count(facet, session, where, matching)

    monkeypatch.setattr(CountryFacet, "count", count)
    return slow


@pytest.fixture
def served(request_engine: Engine) -> Iterator[TestClient]:
    """The API as served (a session per request), on the request engine."""
    from biomatdb.api.deps import get_session, session_dependency
    from biomatdb.app import create_app

    factory = sessionmaker(bind=request_engine, expire_on_commit=False)
    app = create_app()
    app.dependency_overrides[get_session] = session_dependency(lambda: factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def reference(database_url: str) -> dict[str, Any]:
    """The answer's meta with every facet counted in the request (no limits at all)."""
    from biomatdb.api.deps import get_session, session_dependency
    from biomatdb.app import create_app

    engine = make_engine(database_url)
    try:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app = create_app()
        app.dependency_overrides[get_session] = session_dependency(lambda: factory)
        with TestClient(app) as client:
            meta: dict[str, Any] = client.get(URL).json()["meta"]
    finally:
        engine.dispose()
    counts.clear()
    pagecache.clear()
    assert meta["facets"]["country"]  # the fixture has suppliers in several countries
    assert "facets_pending" not in meta
    return meta


def test_a_slow_facet_is_left_out_then_counted_in_the_background(
    served: TestClient, slow_country: SlowCountry, reference: dict[str, Any]
) -> None:
    first = served.get(URL)
    assert first.status_code == 200
    meta = first.json()["meta"]
    assert meta["facets"] == {
        "class": reference["facets"]["class"],
        "degradable": reference["facets"]["degradable"],
    }
    assert meta["facets_pending"] == ["country"]
    # Read after the cancelled count (PostgreSQL's transaction went on: a savepoint).
    assert meta["last_updated"] == reference["last_updated"]
    assert meta["total"] == reference["total"]
    # Not the answer of this data version: neither tagged nor kept.
    assert "etag" not in first.headers
    assert first.headers["cache-control"] == "no-store"

    assert counts.BACKGROUND.wait(20)
    assert slow_country.background_calls == 1
    second = served.get(URL)
    assert second.status_code == 200
    assert second.json()["meta"]["facets"] == reference["facets"]
    assert "facets_pending" not in second.json()["meta"]
    tag = second.headers["etag"]
    assert served.get(URL, headers={"If-None-Match": tag}).status_code == 304


def test_a_deferred_facet_is_counted_once_however_many_ask(
    served: TestClient, slow_country: SlowCountry, reference: dict[str, Any]
) -> None:
    slow_country.gate.clear()  # the background count waits while three requests come
    answers = [served.get(URL).json()["meta"] for _ in range(3)]
    slow_country.gate.set()
    assert [a["facets_pending"] for a in answers] == [["country"]] * 3
    assert counts.BACKGROUND.wait(20)
    assert slow_country.background_calls == 1
    assert served.get(URL).json()["meta"]["facets"] == reference["facets"]


def test_the_background_queue_is_bounded(
    served: TestClient, slow_country: SlowCountry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counts.BackgroundCounts, "MAX_QUEUED", 1)
    monkeypatch.setattr(counts, "BACKGROUND", counts.BackgroundCounts())
    slow_country.gate.clear()
    urls = [f"{URL}&class={c}" for c in ("metal", "polymer", "ceramic")]
    first = [served.get(url).json()["meta"] for url in urls]
    assert [m["facets_pending"] for m in first] == [["country"]] * 3
    slow_country.gate.set()
    assert counts.BACKGROUND.wait(20)
    # The first was taken by the thread and the second queued; the third was dropped
    # (the queue held one) and is asked for again by the next request that needs it.
    assert slow_country.background_calls == 2
    assert [("facets_pending" in served.get(url).json()["meta"]) for url in urls] == [
        False,
        False,
        True,
    ]
    assert counts.BACKGROUND.wait(20)
    assert "facets_pending" not in served.get(urls[2]).json()["meta"]
    assert slow_country.background_calls == 3


def test_a_background_count_over_its_limit_is_not_retried_at_once(
    served: TestClient,
    slow_country: SlowCountry,
    limits: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits(facet=0.3, background=0.5)
    slow_country.endless_everywhere = True
    assert served.get(URL).json()["meta"]["facets_pending"] == ["country"]
    assert counts.BACKGROUND.wait(20)
    assert slow_country.background_calls == 1  # it timed out
    # Neither counted in the request again nor queued again, until a minute passed.
    again = served.get(URL)
    assert again.json()["meta"]["facets_pending"] == ["country"]
    assert counts.BACKGROUND.wait(20)
    assert slow_country.background_calls == 1
    monkeypatch.setattr(counts.BackgroundCounts, "RETRY_AFTER", 0.0)
    slow_country.endless_everywhere = False
    assert served.get(URL).json()["meta"]["facets_pending"] == ["country"]
    assert counts.BACKGROUND.wait(20)
    assert slow_country.background_calls == 2
    assert "facets_pending" not in served.get(URL).json()["meta"]


def test_without_a_facet_limit_a_slow_facet_is_the_request_timeout(
    database_url: str, limits: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``BIOMATDB_FACET_TIME_LIMIT_SECONDS=0``: facets share the request's budget, and
    a search whose facets do not fit it is a 503 (nothing is deferred)."""
    from biomatdb.api.deps import get_session, session_dependency
    from biomatdb.app import create_app

    limits(facet=0)
    engine = make_engine(database_url, query_timeout=0.5)
    slow = SlowCountry(engine)
    monkeypatch.setattr(CountryFacet, "count", lambda f, s, w, m: slow.count(f, s, w, m))
    try:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app = create_app()
        app.dependency_overrides[get_session] = session_dependency(lambda: factory)
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get(URL)
        assert response.status_code == 503
        assert response.json()["type"] == "/problems/query-timeout"
        assert slow.background_calls == 0
    finally:
        engine.dispose()


def test_the_search_page_shows_a_pending_count_as_pending(
    served: TestClient, slow_country: SlowCountry
) -> None:
    from unittest.mock import patch

    from biomatdb.search.facets import ClassFacet

    original = ClassFacet.count

    def slow_class(facet: Any, session: Session, where: Any, matching: Any) -> dict[str, int]:
        if session.get_bind().engine is slow_country.request_engine:
            return slow_country.count(facet, session, where, matching)
        return original(facet, session, where, matching)

    slow_country.gate.clear()
    with patch.object(ClassFacet, "count", slow_class):
        html = served.get("/").text
        slow_country.gate.set()
        assert counts.BACKGROUND.wait(20)
    page = Page(html)
    assert page.counts["n-class-metal"] == "…"
    assert "Still counting the suppliers' countries" in html
    assert 'id="counts-pending"' in html
    after = Page(served.get("/").text)
    assert after.counts["n-class-metal"] not in ("…", "0")
    assert 'id="counts-pending"' not in served.get("/").text


def test_a_narrower_budget_ends_with_its_block(request_engine: Engine) -> None:
    """A facet's share of the budget must not stay on the connection: on PostgreSQL the
    SET LOCAL statement_timeout of the share would cut the request's next statements."""
    import time

    db.start_budget(5.0)
    try:
        with request_engine.connect() as connection, connection.begin():
            with db.budget_until(time.monotonic() + 0.3), pytest.raises(DBAPIError) as caught:
                connection.execute(text(_endless_query(request_engine.dialect.name))).all()
            assert db.out_of_time(caught.value)
        with request_engine.connect() as connection, connection.begin():
            with db.budget_until(time.monotonic() + 0.3):
                assert connection.execute(text("SELECT 1")).scalar() == 1
            if request_engine.dialect.name == "postgresql":
                shown = str(connection.execute(text("SHOW statement_timeout")).scalar())
                milliseconds = int(shown[:-2]) if shown.endswith("ms") else int(shown[:-1]) * 1000
                assert milliseconds > 4000, shown
            else:  # SQLite keeps no state: a statement after the block has the whole rest
                assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        db.start_budget(None)


def test_the_facets_of_a_request_share_one_limit(
    served: TestClient, slow_country: SlowCountry, reference: dict[str, Any]
) -> None:
    """The limit is for all the facets of a request: after a slow one used it up, the
    next ones wait for the background too, so a search with five slow facets holds a
    worker for the limit once, not five times."""
    meta = served.get("/api/v1/materials?limit=2&facets=country,class").json()["meta"]
    assert (meta["facets"], meta["facets_pending"]) == ({}, ["country", "class"])
    assert counts.BACKGROUND.wait(20)
    counted = served.get("/api/v1/materials?limit=2&facets=country,class").json()["meta"]
    assert counted["facets"] == {
        "country": reference["facets"]["country"],
        "class": reference["facets"]["class"],
    }


def test_failures_remembered_are_bounded(
    request_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed count waits a minute before it is asked for again; the failures kept
    for that are bounded (the oldest forgotten first), whatever the searches."""
    monkeypatch.setattr(counts.BackgroundCounts, "MAX_FAILED", 2)
    background = counts.BackgroundCounts()

    def broken(session: Session) -> Any:
        raise RuntimeError("a search that cannot be built")

    keys = [("db", f"search {n}", 1, "country") for n in range(3)]
    for key in keys:
        background.submit(key, request_engine, broken)
        assert background.wait(20)
    assert [background.has(key) for key in keys] == [False, True, True]
    background.clear()
