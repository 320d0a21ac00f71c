"""References and organizations a curator adds stay hidden from anonymous readers until
a published material names them or an editor approves them (audit finding 10)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from biomatdb import migrations
from biomatdb.db import make_engine
from biomatdb.materials.shared_records import publish_shared_records
from biomatdb.models import Reference
from tests.conftest import DatabaseFactory, auth

DRAFT: dict[str, Any] = {
    "id": "rv-alloy",
    "name": "Review alloy",
    "class": "metal",
    "properties": [{"property": "youngs_modulus", "value": 100, "unit": "GPa", "source": "rv-ref"}],
    "biocompatibility": [{"endpoint": "cytotoxicity", "result": "pass", "source": "rv-ref-bio"}],
    "regulatory": [
        {
            "jurisdiction": "US-FDA",
            "status": "cleared",
            "organization": "rv-org-reg",
            "source": "rv-ref-reg",
        }
    ],
    "suppliers": [{"organization": "rv-org", "trade_name": "RV-1"}],
}
NEW_REFS = ["rv-ref", "rv-ref-bio", "rv-ref-reg", "rv-ref-unused"]
NEW_ORGS = ["rv-org", "rv-org-reg", "rv-org-unused"]
CITED_REFS = {"rv-ref", "rv-ref-bio", "rv-ref-reg"}
NAMED_ORGS = {"rv-org", "rv-org-reg"}


def bundle(materials: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "references": [{"id": r, "citation": f"Citation of {r}"} for r in NEW_REFS],
        "organizations": [
            {"id": o, "name": f"Org {o}", "kind": "supplier", "country": "DE"} for o in NEW_ORGS
        ],
        "materials": [DRAFT] if materials is None else materials,
    }


def listed(client: TestClient, path: str, headers: dict[str, str] | None = None) -> set[str]:
    """Every id of a list, page by page (limit=1, so every cursor is followed), and
    checked against meta.total of every page."""
    ids: list[str] = []
    totals: set[int] = set()
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit=1"
    while url is not None:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["data"]]
        totals.add(body["meta"]["total"])
        cursor = body["meta"]["next_cursor"]
        url = (
            None
            if cursor is None
            else f"{path}{'&' if '?' in path else '?'}limit=1&cursor={cursor}"
        )
    assert ids == sorted(ids)
    assert totals == {len(ids)}
    return set(ids)


def total(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.text
    return int(response.json()["meta"]["total"])


def visible(client: TestClient, headers: dict[str, str] | None = None) -> tuple[set[str], set[str]]:
    return listed(client, "/api/v1/references", headers), listed(
        client, "/api/v1/organizations", headers
    )


def status(client: TestClient, key: str, slug: str, target: str) -> None:
    response = client.post(
        f"/api/v1/materials/{slug}/status", json={"status": target}, headers=auth(key)
    )
    assert response.status_code == 200, response.text


def test_a_curators_draft_import_is_hidden_until_the_material_is_published(
    client: TestClient, keys: dict[str, str]
) -> None:
    refs_before, orgs_before = visible(client)
    # The fixture bundle's, imported by an operator (the CLI): public.
    assert refs_before == {"fx-ref-a", "fx-ref-b"}
    assert orgs_before == {"fx-org-it", "fx-org-jp", "fx-org-us"}
    imported = client.post("/api/v1/imports", json=bundle(), headers=auth(keys["curator"]))
    assert imported.status_code == 200, imported.text
    assert imported.json()["references"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert imported.json()["organizations"] == {"created": 3, "updated": 0, "unchanged": 0}

    # Anonymous: nothing new, in lists, totals, filters and detail pages.
    assert visible(client) == (refs_before, orgs_before)
    assert (total(client, "/api/v1/references"), total(client, "/api/v1/organizations")) == (2, 3)
    assert listed(client, "/api/v1/organizations?country=DE") == set()
    assert listed(client, "/api/v1/organizations?kind=supplier") == (
        listed(client, "/api/v1/organizations?kind=supplier", auth(keys["reader"])) - set(NEW_ORGS)
    )
    for ref in NEW_REFS:
        assert client.get(f"/api/v1/references/{ref}").status_code == 404
    for org in NEW_ORGS:
        assert client.get(f"/api/v1/organizations/{org}").status_code == 404
    missing = client.get("/api/v1/references/rv-ref")
    assert missing.headers["content-type"] == "application/problem+json"

    # Any key sees everything, as it sees drafts.
    reader = auth(keys["reader"])
    assert visible(client, reader) == (refs_before | set(NEW_REFS), orgs_before | set(NEW_ORGS))
    assert listed(client, "/api/v1/organizations?country=DE", reader) == set(NEW_ORGS)
    assert (
        total(client, "/api/v1/references", reader),
        total(client, "/api/v1/organizations", reader),
    ) == (6, 6)
    assert client.get("/api/v1/references/rv-ref", headers=reader).json()["cited_by"] == []
    assert client.get("/api/v1/organizations/rv-org", headers=reader).status_code == 200

    # Submitting is not enough; publishing shows exactly what the material names.
    status(client, keys["curator"], "rv-alloy", "in_review")
    assert visible(client) == (refs_before, orgs_before)
    status(client, keys["editor"], "rv-alloy", "published")
    assert visible(client) == (refs_before | CITED_REFS, orgs_before | NAMED_ORGS)
    assert listed(client, "/api/v1/organizations?country=DE") == NAMED_ORGS
    assert (total(client, "/api/v1/references"), total(client, "/api/v1/organizations")) == (5, 5)
    cited = client.get("/api/v1/references/rv-ref").json()["cited_by"]
    assert [(c["id"], c["property_values"]) for c in cited] == [("rv-alloy", 1)]
    supplies = client.get("/api/v1/organizations/rv-org").json()["supplies"]
    assert [s["material"]["id"] for s in supplies] == ["rv-alloy"]
    assert client.get("/api/v1/organizations/rv-org-reg").status_code == 200
    # Never cited by a published material: still hidden.
    assert client.get("/api/v1/references/rv-ref-unused").status_code == 404
    assert client.get("/api/v1/organizations/rv-org-unused").status_code == 404

    # Once public, a record stays public: retracting the material does not hide it.
    status(client, keys["editor"], "rv-alloy", "retracted")
    assert client.get("/api/v1/references/rv-ref").status_code == 200
    assert client.get("/api/v1/references/rv-ref").json()["cited_by"] == []


def test_an_editors_import_is_public_at_once(client: TestClient, keys: dict[str, str]) -> None:
    refs_before, orgs_before = visible(client)
    imported = client.post("/api/v1/imports", json=bundle(), headers=auth(keys["editor"]))
    assert imported.status_code == 200, imported.text
    assert imported.json()["references"]["created"] == 4
    # The material is a draft, and stays hidden; the shared records are approved.
    assert client.get("/api/v1/materials/rv-alloy").status_code == 404
    assert visible(client) == (refs_before | set(NEW_REFS), orgs_before | set(NEW_ORGS))
    assert client.get("/api/v1/references/rv-ref-unused").status_code == 200


def test_an_editor_approves_a_curators_record_by_importing_it_unchanged(
    client: TestClient, keys: dict[str, str]
) -> None:
    refs_before, orgs_before = visible(client)
    records = {k: v for k, v in bundle(materials=[]).items() if k != "materials"}
    assert client.post("/api/v1/imports", json=records, headers=auth(keys["curator"])).json()[
        "references"
    ] == {"created": 4, "updated": 0, "unchanged": 0}
    # A curator importing them again changes nothing, and approves nothing.
    again = client.post("/api/v1/imports", json=records, headers=auth(keys["curator"])).json()
    assert again["references"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert visible(client) == (refs_before, orgs_before)

    approval = {"references": records["references"][:1], "organizations": []}
    dry = client.post("/api/v1/imports?dry_run=true", json=approval, headers=auth(keys["editor"]))
    assert dry.json()["references"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert visible(client) == (refs_before, orgs_before)
    approved = client.post("/api/v1/imports", json=approval, headers=auth(keys["editor"])).json()
    assert approved["references"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert approved["summary"] != "nothing changed: every entry is already in the database as given"
    assert visible(client) == (refs_before | {"rv-ref"}, orgs_before)
    repeat = client.post("/api/v1/imports", json=approval, headers=auth(keys["editor"])).json()
    assert repeat["references"] == {"created": 0, "updated": 0, "unchanged": 1}

    # An editor's change to a curator's record approves it too.
    changed = {"organizations": [{**records["organizations"][0], "name": "Renamed"}]}
    edited = client.post("/api/v1/imports", json=changed, headers=auth(keys["editor"])).json()
    assert edited["organizations"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert client.get("/api/v1/organizations/rv-org").json()["name"] == "Renamed"

    feed = client.get("/api/v1/changes?since=0&limit=1000", headers=auth(keys["reader"])).json()
    actions = [(c["kind"], c["id"], c["action"]) for c in feed["data"] if c["id"] == "rv-ref"]
    assert actions == [("reference", "rv-ref", "created"), ("reference", "rv-ref", "published")]


def test_publishing_by_import_or_pending_edit_shows_what_the_published_version_names(
    client: TestClient, keys: dict[str, str]
) -> None:
    refs_before, orgs_before = visible(client)
    records = {k: v for k, v in bundle(materials=[]).items() if k != "materials"}
    client.post("/api/v1/imports", json=records, headers=auth(keys["curator"]))

    # A curator's pending edit of a published material cites a new reference: the
    # public still sees the published version, and not the reference.
    curator = auth(keys["curator"])
    etag = client.get("/api/v1/materials/fx-ti-alloy", headers=curator).headers["etag"]
    properties = [
        {"property": "youngs_modulus", "value": 110, "unit": "GPa", "source": "fx-ref-a"},
        {"property": "density", "value": 4.4, "unit": "g/cm^3", "source": "rv-ref"},
    ]
    edit = client.patch(
        "/api/v1/materials/fx-ti-alloy",
        json={"properties": properties},
        headers={**curator, "If-Match": etag},
    )
    assert edit.status_code == 200, edit.text
    assert visible(client) == (refs_before, orgs_before)
    status(client, keys["curator"], "fx-ti-alloy", "in_review")
    status(client, keys["editor"], "fx-ti-alloy", "published")
    assert visible(client) == (refs_before | {"rv-ref"}, orgs_before)

    # An editor's import of a published material that cites a curator's record,
    # without declaring it, publishes it too.
    published = {**DRAFT, "id": "rv-published", "status": "published", "regulatory": []}
    imported = client.post(
        "/api/v1/imports", json={"materials": [published]}, headers=auth(keys["editor"])
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["references"] == {"created": 0, "updated": 0, "unchanged": 0}
    assert visible(client) == (refs_before | {"rv-ref", "rv-ref-bio"}, orgs_before | {"rv-org"})


def test_publish_shared_records_chunks_its_updates(session: Session) -> None:
    from biomatdb.bundles.schemas import MaterialIn
    from biomatdb.models.base import utcnow

    now = utcnow()
    slugs = [f"chunk-ref-{i:04d}" for i in range(1201)]
    session.execute(
        Reference.__table__.insert(),
        [
            {"slug": s, "citation": s, "public": False, "created_at": now, "updated_at": now}
            for s in slugs
        ],
    )
    entry = MaterialIn.model_validate(
        {
            "id": "chunky",
            "name": "Chunky",
            "class": "metal",
            "properties": [
                {"property": "density", "value": 4.4, "unit": "g/cm^3", "source": s}
                for s in slugs[:1100]
            ],
        }
    )
    statements: list[str] = []
    from sqlalchemy import event

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            statements.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        publish_shared_records(session, [entry])
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 3  # 1100 references in chunks of 500; no organization named
    public = set(session.scalars(select(Reference.slug).where(Reference.public.is_(True))))
    assert set(slugs[:1100]) <= public
    assert not set(slugs[1100:]) & public


def test_existing_rows_are_public_after_the_migration(databases: DatabaseFactory) -> None:
    url = databases.new_url()
    migrations.upgrade(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table, columns, values in (
                ("references", "slug, citation", "'old-ref', 'Before the migration'"),
                ("organizations", "slug, name, kind", "'old-org', 'Old', 'supplier'"),
            ):
                connection.execute(
                    text(
                        f'INSERT INTO "{table}" ({columns}, created_at, updated_at) '
                        f"VALUES ({values}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
        migrations.upgrade(url)
        with engine.connect() as connection:
            for table in ("references", "organizations"):
                rows = connection.execute(text(f'SELECT slug, public FROM "{table}"')).all()
                assert [(slug, bool(public)) for slug, public in rows] == [
                    (f"old-{table[:3]}", True)
                ]
        # Down again, with the rows (and a row that points at one) still there.
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO materials (slug, name, sort_name, material_class, synonyms, "
                    "status, version, latest_version, content_hash, created_at, updated_at) "
                    "VALUES ('m', 'M', 'm', 'metal', '[]', 'draft', 1, 1, 'x', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO biocompatibility_results "
                    "(material_id, position, endpoint, result, reference_id) "
                    "SELECT m.id, 0, 'cytotoxicity', 'pass', r.id "
                    'FROM materials m, "references" r'
                )
            )
        engine.dispose()
        migrations.downgrade(url, "0001")
        with engine.connect() as connection:
            assert connection.execute(text('SELECT slug FROM "references"')).all() == [("old-ref",)]
            columns = connection.execute(text('SELECT * FROM "organizations"')).keys()
            assert "public" not in columns
    finally:
        engine.dispose()
