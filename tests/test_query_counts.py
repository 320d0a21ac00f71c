"""No N+1: the number of SQL statements per request does not grow with the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.search import counts


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    connection = session.connection()

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def statements_for(client: TestClient, session: Session, url: str) -> int:
    with counting(session) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_search_statement_count_is_independent_of_page_size(
    client: TestClient, session: Session
) -> None:
    counts.clear()
    one = statements_for(client, session, "/api/v1/materials?limit=1")
    counts.clear()
    many = statements_for(client, session, "/api/v1/materials?limit=200")
    assert one == many
    # page (summaries come in its rows), applications, data version, total, last update
    assert many == 5
    counts.clear()
    with_facets = statements_for(
        client, session, "/api/v1/materials?limit=200&facets=class,application,country"
    )
    assert with_facets == many + 3


def test_counts_are_cached_until_the_next_write(client: TestClient, session: Session) -> None:
    from biomatdb.api import pagecache

    url = "/api/v1/materials?class=metal&facets=class"
    cold = statements_for(client, session, url)
    kept = statements_for(client, session, url)
    assert kept == 1  # the same question: the kept page, after reading the data version
    pagecache.clear()
    warm = statements_for(client, session, url)
    assert warm == cold - 2  # no total, no facet query
    assert client.get(url).json()["meta"]["total"] == 3
    new = {"materials": [{"id": "fx-new", "name": "New", "class": "metal", "status": "published"}]}
    assert import_documents(session, [("new", new)]).ok
    body = client.get(url).json()
    assert body["meta"]["total"] == 4
    assert body["meta"]["facets"] == {"class": {"metal": 4}}


def test_detail_statement_count_is_fixed(client: TestClient, session: Session) -> None:
    # A fixed number of statements, whatever the number of values and links
    # (nothing to look up when the material cites nothing).
    four_values = statements_for(client, session, "/api/v1/materials/fx-ti-alloy")
    two_records = statements_for(client, session, "/api/v1/materials/fx-alumina")
    empty = statements_for(client, session, "/api/v1/materials/fx-hydrogel")
    # the material with its public version (one join), the references, the organizations
    assert four_values == two_records == 3
    assert empty == 1


def test_organization_and_reference_pages_are_fixed(client: TestClient, session: Session) -> None:
    assert statements_for(client, session, "/api/v1/organizations/fx-org-it") == (
        statements_for(client, session, "/api/v1/organizations/fx-org-us")
    )
    assert statements_for(client, session, "/api/v1/references/fx-ref-a") == (
        statements_for(client, session, "/api/v1/references/fx-ref-b")
    )
