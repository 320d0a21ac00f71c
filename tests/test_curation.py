"""Curation over HTTP: keys and roles, writes with If-Match, review, history, feed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.auth.keys import authenticate, create_key, revoke_key
from biomatdb.exchange.exporter import export_bundle
from biomatdb.models import ApiKey
from tests.conftest import auth

NEW = {
    "id": "new-alloy",
    "name": "New alloy",
    "class": "metal",
    "description": "A draft written by a curator.",
    "properties": [
        {"property": "youngs_modulus", "value": 100, "unit": "GPa", "source": "fx-ref-a"}
    ],
}


def create(client: TestClient, key: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post("/api/v1/materials", json=body or NEW, headers=auth(key))
    assert response.status_code == 201, response.text
    return response


def status(client: TestClient, key: str, slug: str, target: str, note: str = "") -> Any:
    return client.post(
        f"/api/v1/materials/{slug}/status", json={"status": target, "note": note}, headers=auth(key)
    )


# --- keys ---------------------------------------------------------------------------------


def test_keys_are_prefixed_hashed_and_revocable(session: Session) -> None:
    row, key = create_key(session, name="alice", role="curator")
    assert key.startswith("bmdb_")
    assert key not in {row.key_hash, row.lookup}
    assert len(row.key_hash) == 64
    stored = session.scalars(select(ApiKey.key_hash)).all()
    assert key not in stored
    principal = authenticate(session, key)
    assert principal is not None
    assert (principal.name, principal.role) == ("alice", "curator")
    assert authenticate(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(session, "bmdb_nothing_here") is None
    assert authenticate(session, "not-a-key") is None
    revoke_key(session, "alice")
    assert authenticate(session, key) is None


def test_writes_need_a_key_and_the_right_role(client: TestClient, keys: dict[str, str]) -> None:
    anonymous = client.post("/api/v1/materials", json=NEW)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    bad = client.post("/api/v1/materials", json=NEW, headers=auth("bmdb_abc_def"))
    assert bad.status_code == 401
    reader = client.post("/api/v1/materials", json=NEW, headers=auth(keys["reader"]))
    assert reader.status_code == 403
    assert "role reader" in reader.json()["detail"]
    published = client.post(
        "/api/v1/materials", json={**NEW, "status": "published"}, headers=auth(keys["curator"])
    )
    assert published.status_code == 403
    assert client.get("/api/v1/changes").status_code == 401


# --- create, read, replace, patch ---------------------------------------------------------


def test_create_is_a_draft_visible_only_with_a_key(
    client: TestClient, keys: dict[str, str]
) -> None:
    response = create(client, keys["curator"])
    assert response.headers["location"] == "/api/v1/materials/new-alloy"
    assert response.headers["etag"].startswith('"')
    body = response.json()
    assert (body["status"], body["version"]) == ("draft", 1)
    assert client.get("/api/v1/materials/new-alloy").status_code == 404
    seen = client.get("/api/v1/materials/new-alloy", headers=auth(keys["reader"]))
    assert seen.status_code == 200
    assert seen.headers["etag"] == response.headers["etag"]
    assert client.get("/api/v1/materials?q=curator").json()["data"] == []
    again = client.post("/api/v1/materials", json=NEW, headers=auth(keys["curator"]))
    assert again.status_code == 409


def test_put_and_patch_need_the_current_etag(client: TestClient, keys: dict[str, str]) -> None:
    etag = create(client, keys["curator"]).headers["etag"]
    curator = auth(keys["curator"])
    changed = {**NEW, "name": "New alloy, renamed"}
    missing = client.put("/api/v1/materials/new-alloy", json=changed, headers=curator)
    assert missing.status_code == 428
    stale = client.put(
        "/api/v1/materials/new-alloy", json=changed, headers={**curator, "If-Match": '"stale"'}
    )
    assert stale.status_code == 412
    ok = client.put(
        "/api/v1/materials/new-alloy", json=changed, headers={**curator, "If-Match": etag}
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["name"], ok.json()["version"]) == ("New alloy, renamed", 2)
    reused = client.put(
        "/api/v1/materials/new-alloy", json=NEW, headers={**curator, "If-Match": etag}
    )
    assert reused.status_code == 412
    patched = client.patch(
        "/api/v1/materials/new-alloy",
        content=b'{"synonyms": ["NA-1"], "description": null}',
        headers={
            **curator,
            "If-Match": ok.headers["etag"],
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["synonyms"], body["description"], body["version"]) == (["NA-1"], None, 3)
    assert body["name"] == "New alloy, renamed"
    same = client.get(
        "/api/v1/materials/new-alloy", headers={**curator, "If-None-Match": patched.headers["etag"]}
    )
    assert same.status_code == 304


def test_put_with_another_id_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    etag = create(client, keys["curator"]).headers["etag"]
    response = client.put(
        "/api/v1/materials/new-alloy",
        json={**NEW, "id": "other"},
        headers={**auth(keys["curator"]), "If-Match": etag},
    )
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["id"]


def test_invalid_material_is_422_with_paths_and_nothing_written(
    client: TestClient, keys: dict[str, str]
) -> None:
    bad = {
        **NEW,
        "properties": [
            {"property": "density", "value": 3, "unit": "MPa"},
            {"property": "nope", "value": 1, "unit": "GPa"},
        ],
    }
    response = client.post("/api/v1/materials", json=bad, headers=auth(keys["curator"]))
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == [
        "properties[0].unit",
        "properties[1].property",
    ]
    assert (
        client.get("/api/v1/materials/new-alloy", headers=auth(keys["curator"])).status_code == 404
    )


# --- review workflow ----------------------------------------------------------------------


def test_review_publish_edit_republish_retract(client: TestClient, keys: dict[str, str]) -> None:
    curator, editor = keys["curator"], keys["editor"]
    create(client, curator)
    assert status(client, curator, "new-alloy", "published").status_code == 403
    assert status(client, editor, "new-alloy", "published").status_code == 409  # not in review
    assert status(client, curator, "new-alloy", "in_review", "please check").status_code == 200
    assert status(client, curator, "new-alloy", "published").status_code == 403
    published = status(client, editor, "new-alloy", "published", "looks right")
    assert published.status_code == 200, published.text
    assert client.get("/api/v1/materials/new-alloy").json()["version"] == 1
    assert [m["id"] for m in client.get("/api/v1/materials?q=curator").json()["data"]] == [
        "new-alloy"
    ]

    # A curator edits the published material: readers keep seeing version 1.
    etag = client.get("/api/v1/materials/new-alloy", headers=auth(curator)).headers["etag"]
    edit = client.patch(
        "/api/v1/materials/new-alloy",
        json={"name": "New alloy (v2)"},
        headers={**auth(curator), "If-Match": etag},
    )
    assert edit.status_code == 200
    assert (edit.json()["version"], edit.json()["status"]) == (2, "draft")
    public = client.get("/api/v1/materials/new-alloy").json()
    assert (public["version"], public["name"], public["status"]) == (1, "New alloy", "published")
    assert [m["name"] for m in client.get("/api/v1/materials?q=curator").json()["data"]] == [
        "New alloy"
    ]
    status(client, curator, "new-alloy", "in_review")
    assert status(client, editor, "new-alloy", "published").status_code == 200
    public = client.get("/api/v1/materials/new-alloy").json()
    assert (public["version"], public["name"]) == (2, "New alloy (v2)")

    # Retraction hides it from anonymous readers and search; the history remains.
    assert status(client, curator, "new-alloy", "retracted").status_code == 403
    assert status(client, editor, "new-alloy", "retracted", "source withdrawn").status_code == 200
    assert client.get("/api/v1/materials/new-alloy").status_code == 404
    assert client.get("/api/v1/materials?q=curator").json()["data"] == []
    history = client.get("/api/v1/materials/new-alloy/history", headers=auth(keys["reader"]))
    assert history.status_code == 200
    body = history.json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert [(e["action"], e["actor"]) for e in body["events"]] == [
        ("created", "test-curator"),
        ("submitted", "test-curator"),
        ("published", "test-editor"),
        ("updated", "test-curator"),
        ("submitted", "test-curator"),
        ("published", "test-editor"),
        ("retracted", "test-editor"),
    ]
    assert body["events"][-1]["note"] == "source withdrawn"
    assert body["versions"][1]["changes"] == [
        {"path": "name", "before": "New alloy", "after": "New alloy (v2)"}
    ]
    first = client.get("/api/v1/materials/new-alloy/history/1", headers=auth(keys["reader"]))
    assert first.json()["name"] == "New alloy"
    assert (
        client.get(
            "/api/v1/materials/new-alloy/history/9", headers=auth(keys["reader"])
        ).status_code
        == 404
    )
    # Back to draft for rework.
    assert status(client, curator, "new-alloy", "draft").status_code == 200


# --- imports over HTTP --------------------------------------------------------------------


def test_http_import_dry_run_then_import(client: TestClient, keys: dict[str, str]) -> None:
    bundle = {"materials": [NEW]}
    headers = auth(keys["curator"])
    dry = client.post("/api/v1/imports?dry_run=true", json=bundle, headers=headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["materials"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert client.get("/api/v1/materials/new-alloy", headers=headers).status_code == 404
    real = client.post("/api/v1/imports", json=bundle, headers=headers)
    assert real.json()["materials"] == {"created": 1, "updated": 0, "unchanged": 0}
    again = client.post("/api/v1/imports", json=bundle, headers=headers)
    assert again.json()["materials"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert client.get("/api/v1/materials/new-alloy", headers=headers).status_code == 200


def test_http_import_ndjson(client: TestClient, keys: dict[str, str]) -> None:
    import json

    lines = "\n".join(json.dumps({**NEW, "id": f"nd-{i}"}) for i in range(3)) + "\n"
    response = client.post(
        "/api/v1/imports",
        content=lines.encode(),
        headers={**auth(keys["curator"]), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["materials"]["created"] == 3
    broken = client.post(
        "/api/v1/imports",
        content=b'{"id": "x"}\n{not json}\n',
        headers={**auth(keys["curator"]), "Content-Type": "application/x-ndjson"},
    )
    assert broken.status_code == 422
    assert [e["path"] for e in broken.json()["errors"]] == ["materials[1]"]


def test_http_import_errors_write_nothing(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    before = export_bundle(session)
    bundle = {"materials": [NEW, {**NEW, "id": "Bad Id"}]}
    response = client.post("/api/v1/imports", json=bundle, headers=auth(keys["curator"]))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == ["materials[1].id"]
    assert export_bundle(session) == before


def test_content_type_and_size(client: TestClient, keys: dict[str, str]) -> None:
    headers = auth(keys["curator"])
    wrong = client.post(
        "/api/v1/imports", content=b"<xml/>", headers={**headers, "Content-Type": "application/xml"}
    )
    assert wrong.status_code == 415
    from biomatdb.settings import get_settings

    limit = get_settings().max_body_bytes
    big = b'{"materials": [], "x": "' + b"a" * (limit + 10) + b'"}'
    response = client.post(
        "/api/v1/imports", content=big, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


# --- the change feed ----------------------------------------------------------------------


def replay(client: TestClient, key: str, *, page: int = 3) -> dict[str, Any]:
    """Mirror the published database from the feed, as a partner would."""
    mirror: dict[str, dict[str, Any]] = {"material": {}, "reference": {}, "organization": {}}
    since = "0"
    seen: list[int] = []
    while True:
        body = client.get(f"/api/v1/changes?since={since}&limit={page}", headers=auth(key)).json()
        for change in body["data"]:
            seen.append(change["seq"])
            target = mirror[change["kind"]]
            if change["public"] is None:
                target.pop(change["id"], None)
            else:
                target[change["id"]] = change["public"]
        since = body["meta"]["next_cursor"]
        if not body["meta"]["has_more"]:
            break
    assert seen == sorted(set(seen))
    return mirror


def test_replaying_the_feed_gives_the_published_database(
    client: TestClient, keys: dict[str, str], session: Session
) -> None:
    curator, editor = keys["curator"], keys["editor"]
    create(client, curator)
    status(client, curator, "new-alloy", "in_review")
    status(client, editor, "new-alloy", "published")
    create(client, curator, {**NEW, "id": "still-draft"})
    etag = client.get("/api/v1/materials/fx-peek", headers=auth(curator)).headers["etag"]
    client.patch(
        "/api/v1/materials/fx-peek",
        json={"name": "PEEK FX edited"},
        headers={**auth(curator), "If-Match": etag},
    )  # pending, not public
    status(client, editor, "fx-silk", "retracted")
    mirror = replay(client, keys["reader"])
    exported = export_bundle(session)
    strip = ("version", "created_at", "updated_at")

    def by_id(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {e["id"]: {k: v for k, v in e.items() if k not in strip} for e in entries}

    assert by_id(list(mirror["material"].values())) == by_id(exported["materials"])
    assert set(mirror["reference"]) == {r["id"] for r in exported["references"]}
    assert set(mirror["organization"]) == {o["id"] for o in exported["organizations"]}
    assert "fx-silk" not in mirror["material"]
    assert mirror["material"]["fx-peek"]["name"] == "PEEK FX"


def test_feed_cursor_errors(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/api/v1/changes?since=abc", headers=auth(keys["reader"]))
    assert response.status_code == 400
    end = client.get("/api/v1/changes?since=999999999", headers=auth(keys["reader"])).json()
    assert end["data"] == []
    assert end["meta"] == {
        "total": 0,
        "next_cursor": "999999999",
        "has_more": False,
        "last_updated": end["meta"]["last_updated"],
    }
    assert end["meta"]["last_updated"]


@pytest.mark.parametrize("role", ["curator", "editor", "admin"])
def test_each_writing_role_can_create(client: TestClient, keys: dict[str, str], role: str) -> None:
    create(client, keys[role], {**NEW, "id": f"by-{role}"})


def test_curators_add_but_do_not_change_shared_records(
    client: TestClient, keys: dict[str, str]
) -> None:
    new_ref = {"references": [{"id": "curator-ref", "citation": "Added by a curator"}]}
    added = client.post("/api/v1/imports", json=new_ref, headers=auth(keys["curator"]))
    assert added.status_code == 200
    changed = {
        "organizations": [
            {"id": "fx-org-it", "name": "Renamed", "kind": "supplier", "country": "IT"}
        ]
    }
    refused = client.post("/api/v1/imports", json=changed, headers=auth(keys["curator"]))
    assert refused.status_code == 403
    assert "only an editor" in refused.json()["detail"]
    assert client.get("/api/v1/organizations/fx-org-it").json()["name"] == "Fixture Italia"
    assert (
        client.post("/api/v1/imports", json=changed, headers=auth(keys["editor"])).status_code
        == 200
    )
    assert client.get("/api/v1/organizations/fx-org-it").json()["name"] == "Renamed"
