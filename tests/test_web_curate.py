"""``/curate``: sign in with a key, dry-run and import a bundle, review moves, CSRF."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from biomatdb.settings import get_settings
from biomatdb.web.security import CSRF_COOKIE, KEY_COOKIE
from tests.conftest import auth

NEW = {
    "id": "web-curated-alloy",
    "name": "Webcurated zirconium alloy",
    "class": "metal",
    "description": "Uploaded through the curate page.",
    "properties": [
        {"property": "youngs_modulus", "value": 95, "unit": "GPa", "source": "fx-ref-a"}
    ],
}
GOOD = {"materials": [NEW]}
BAD = {
    "materials": [
        {"id": "web-bad-one", "name": "Bad one", "class": "metl"},
        {
            "id": "web-bad-two",
            "name": "Bad two",
            "class": "polymer",
            "colour": "red",
            "properties": [
                {"property": "youngs_modulus", "value": 3, "unit": "parsec", "source": "fx-ref-a"},
                {"property": "density", "value": 1.2, "unit": "g/cm^3", "source": "no-such-ref"},
            ],
        },
    ]
}
BAD_PATHS = [
    "materials[0].class",
    "materials[1].colour",
    "materials[1].properties[0].unit",
    "materials[1].properties[1].source",
]


#: ``Browser.post(csrf=OWN)``: send the browser's own CSRF token, as its forms do.
OWN = "<the browser's own token>"


class Browser:
    """A browser on the page: its cookies (in the test client) and every answer seen."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.seen: list[httpx.Response] = []

    def get(self, url: str) -> httpx.Response:
        response = self.client.get(url)
        self.seen.append(response)
        return response

    def csrf(self) -> str:
        token = self.client.cookies.get(CSRF_COOKIE)
        if token is None:
            self.get("/curate")
            token = self.client.cookies.get(CSRF_COOKIE)
        assert token
        return token

    def post(
        self,
        url: str,
        data: dict[str, str],
        *,
        files: dict[str, Any] | None = None,
        csrf: str | None = OWN,
    ) -> httpx.Response:
        """POST a form; ``csrf``: the browser's own token (``OWN``), None: none, else that."""
        token = self.csrf() if csrf is OWN else csrf
        fields = {**data, **({"csrf": token} if token is not None else {})}
        response = self.client.post(url, data=fields, files=files, follow_redirects=False)
        self.seen.append(response)
        return response

    def sign_in(self, key: str) -> httpx.Response:
        response = self.post("/curate/sign-in", {"key": key})
        assert response.status_code == 303, response.text
        return response

    def sign_out(self) -> None:
        assert self.post("/curate/sign-out", {}).status_code == 303
        assert self.client.cookies.get(KEY_COOKIE) is None

    def upload(self, bundle: Any, *, name: str = "bundle.json") -> httpx.Response:
        data = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
        return self.post(
            "/curate/upload", {"format": "json"}, files={"file": (name, data, "application/json")}
        )

    def paste(self, bundle: Any) -> httpx.Response:
        return self.post(
            "/curate/upload",
            {"bundle": json.dumps(bundle, indent=2), "format": "json"},
            files={"file": ("", b"", "application/octet-stream")},  # no file chosen
        )

    def move(self, material_id: str, status: str) -> httpx.Response:
        return self.post("/curate/status", {"id": material_id, "status": status})


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


def api_material(client: TestClient, key: str, material_id: str) -> httpx.Response:
    return client.get(f"/api/v1/materials/{material_id}", headers=auth(key))


def error_rows(page: str) -> list[tuple[str, str]]:
    """(path, message) of each row of the errors table."""
    table = page[page.index('<table class="curate-errors">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [(html.unescape(re.sub(r"<[^>]+>", "", p)), html.unescape(m)) for p, m in rows]


def carried_bundle(page: str) -> str:
    """The bundle the import form carries (its hidden textarea)."""
    found = re.search(r'<form method="post" action="/curate/import".*?</form>', page, re.S)
    assert found, "no import form"
    text = re.search(r'<textarea name="bundle" hidden[^>]*>\n?(.*?)</textarea>', found[0], re.S)
    assert text
    return html.unescape(text[1])


def notice(page: str) -> str:
    found = re.search(r'<p class="notice" role="status">(.*?)</p>', page, re.S)
    return html.unescape(found[1]) if found else ""


# --- signing in -----------------------------------------------------------------------------


def test_signed_out_page_is_a_sign_in_form(browser: Browser) -> None:
    page = browser.get("/curate")
    assert page.status_code == 200
    assert '<label for="key">API key</label>' in page.text
    field = re.search(r'<input type="password" id="key" name="key"[^>]*>', page.text)
    assert field is not None
    assert 'autocomplete="off"' in field[0]
    assert "value=" not in field[0]
    assert 'action="/curate/sign-in"' in page.text
    assert 'action="/curate/upload"' not in page.text


def test_sign_in_keeps_the_key_in_a_strict_http_only_cookie(
    browser: Browser, keys: dict[str, str]
) -> None:
    key = keys["curator"]
    response = browser.sign_in(key)
    assert response.headers["location"] == "/curate?done=signed-in"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(KEY_COOKIE))
    attributes = [a.strip().lower() for a in cookie.split(";")]
    assert attributes[0] == f"{KEY_COOKIE}={key}".lower()
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith(("max-age", "expires")) for a in attributes)  # a session cookie
    assert key not in response.text
    page = browser.get("/curate?done=signed-in")
    assert page.status_code == 200
    assert notice(page.text) == "You are signed in."
    assert "Signed in as <strong>test-curator</strong> (curator)" in page.text
    assert 'action="/curate/upload"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert_key_never_shown(browser, key)


def test_a_bad_key_shows_the_form_again_with_the_error(
    browser: Browser, keys: dict[str, str]
) -> None:
    typed = "bmdb_000000000000_not-a-real-key"
    response = browser.post("/curate/sign-in", {"key": typed})
    assert response.status_code == 401
    assert "Could not sign in" in response.text
    assert "the API key is unknown or revoked" in response.text
    assert typed not in response.text
    assert KEY_COOKIE not in response.headers.get("set-cookie", "")
    assert browser.client.cookies.get(KEY_COOKIE) is None
    empty = browser.post("/curate/sign-in", {"key": "  "})
    assert empty.status_code == 401
    assert "enter your API key" in empty.text
    assert 'action="/curate/sign-in"' in empty.text


def test_sign_out_forgets_the_key(browser: Browser, keys: dict[str, str]) -> None:
    browser.sign_in(keys["curator"])
    response = browser.post("/curate/sign-out", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/curate?done=signed-out"
    cleared = next(c for c in response.headers.get_list("set-cookie") if c.startswith(KEY_COOKIE))
    assert 'biomatdb_key=""' in cleared or "max-age=0" in cleared.lower()
    assert browser.client.cookies.get(KEY_COOKIE) is None
    page = browser.get("/curate?done=signed-out")
    assert 'action="/curate/sign-in"' in page.text
    assert "You are signed out" in notice(page.text)


def test_a_revoked_key_signs_the_browser_out(browser: Browser, session: Any) -> None:
    from biomatdb.auth.keys import create_key, revoke_key

    key_id, key = create_key(session, name="short-lived", role="curator")
    browser.sign_in(key)
    revoke_key(session, "short-lived")
    page = browser.get("/curate")
    assert 'action="/curate/sign-in"' in page.text
    assert browser.client.cookies.get(KEY_COOKIE) is None
    del key_id


# --- dry run and import ---------------------------------------------------------------------


def test_a_bad_bundle_shows_every_error_with_its_path(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    browser.sign_in(keys["curator"])
    report = browser.upload(BAD, name="bad.json")
    assert report.status_code == 422
    assert [path for path, _ in error_rows(report.text)] == BAD_PATHS
    messages = dict(error_rows(report.text))
    assert messages["materials[1].properties[1].source"].startswith(
        "unknown reference 'no-such-ref'"
    )
    assert "4 errors: nothing was written" in report.text
    assert "Dry run of bad.json" in report.text
    assert 'action="/curate/import"' not in report.text  # nothing to import
    for material_id in ("web-bad-one", "web-bad-two"):
        assert api_material(client, keys["curator"], material_id).status_code == 404


def test_a_problem_without_paths_is_shown_too(browser: Browser, keys: dict[str, str]) -> None:
    browser.sign_in(keys["curator"])
    report = browser.upload(b"{not json", name="broken.json")
    assert report.status_code in (400, 422)
    rows = error_rows(report.text)
    assert rows
    assert all(message for _, message in rows)


def test_dry_run_then_import_then_review_then_publish(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    curator, editor = keys["curator"], keys["editor"]
    browser.sign_in(curator)
    dry = browser.paste(GOOD)
    assert dry.status_code == 200, dry.text
    assert "Dry run of pasted text" in dry.text
    assert "1 material(s) would be created and 0 updated" in dry.text
    assert re.search(r'<th scope="row">Materials</th><td class="num">1</td>', dry.text)
    assert api_material(client, curator, NEW["id"]).status_code == 404  # a dry run writes nothing
    assert json.loads(carried_bundle(dry.text)) == GOOD

    imported = browser.post(
        "/curate/import",
        {"bundle": carried_bundle(dry.text), "format": "json", "source": "pasted text"},
        files={"unused": ("", b"", "application/octet-stream")},  # multipart, like the form
    )
    assert imported.status_code == 200, imported.text
    assert "1 material(s) were created and 0 updated" in imported.text
    assert f'<a href="/materials/{NEW["id"]}">{NEW["id"]}</a>' in imported.text
    written = api_material(client, curator, NEW["id"]).json()
    assert (written["status"], written["version"]) == ("draft", 1)

    # Importing the same bundle again changes nothing, and offers nothing to import.
    again = browser.paste(GOOD)
    assert "every entry is already in the database" in again.text
    assert 'action="/curate/import"' not in again.text

    # My drafts: submit it for review.
    page = browser.get("/curate")
    mine = page.text[page.text.index('id="mine-title"') :]
    assert "Webcurated zirconium alloy" in mine
    assert "Submit for review" in mine
    submitted = browser.move(NEW["id"], "in_review")
    assert submitted.status_code == 303
    assert submitted.headers["location"] == f"/curate?done=submitted%3A{NEW['id']}"
    page = browser.get(submitted.headers["location"])
    assert notice(page.text) == f"{NEW['id']} was submitted for review."
    assert api_material(client, curator, NEW["id"]).json()["status"] == "in_review"
    assert "Review queue" not in page.text  # curators do not review
    assert client.get("/api/v1/materials?q=webcurated").json()["data"] == []

    # An editor publishes it from the review queue.
    browser.sign_out()
    browser.sign_in(editor)
    page = browser.get("/curate")
    queue = page.text[page.text.index('id="queue-title"') :]
    assert f'<input type="hidden" name="id" value="{NEW["id"]}">' in queue
    assert "Publish" in queue
    published = browser.move(NEW["id"], "published")
    assert published.status_code == 303
    page = browser.get(published.headers["location"])
    assert notice(page.text) == f"{NEW['id']} was published."
    found = client.get("/api/v1/materials?q=webcurated").json()["data"]
    assert [m["id"] for m in found] == [NEW["id"]]

    # ... and can retract it by id.
    retracted = browser.post(
        "/curate/status", {"id": NEW["id"], "status": "retracted", "note": "test"}
    )
    assert retracted.status_code == 303
    assert client.get("/api/v1/materials?q=webcurated").json()["data"] == []
    for key in (curator, editor):
        assert_key_never_shown(browser, key)


def test_a_dry_run_shows_what_an_update_changes(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    assert client.post("/api/v1/imports", json=GOOD, headers=auth(keys["curator"])).is_success
    browser.sign_in(keys["curator"])
    changed = {"materials": [{**NEW, "name": "Renamed alloy", "properties": []}]}
    dry = browser.upload(changed)
    assert dry.status_code == 200, dry.text
    assert "0 material(s) would be created and 1 updated" in dry.text
    change = re.search(r'<ul class="curate-changes">(.*?)</ul>', dry.text, re.S)
    assert change is not None
    text = " ".join(change[1].split())
    assert "<code>web-curated-alloy</code>: fields name" in text
    assert "properties: 0 added, 0 changed, 1 removed (youngs_modulus)" in text
    assert api_material(client, keys["curator"], NEW["id"]).json()["name"] == NEW["name"]


def test_an_ndjson_file_is_sent_as_ndjson(browser: Browser, keys: dict[str, str]) -> None:
    browser.sign_in(keys["curator"])
    lines = (json.dumps(NEW) + "\n").encode()
    dry = browser.upload(lines, name="materials.ndjson")
    assert dry.status_code == 200, dry.text
    assert "1 material(s) would be created" in dry.text
    assert '<input type="hidden" name="format" value="ndjson">' in dry.text


def test_an_upload_over_the_api_limit_is_refused_clearly(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    browser.sign_in(keys["curator"])
    limit = get_settings().max_body_bytes
    padded = json.dumps(GOOD).encode() + b" " * limit
    response = browser.upload(padded, name="huge.json")
    assert response.status_code == 413
    assert "The upload is too large" in response.text
    assert f"{limit:,} bytes" in response.text
    assert api_material(client, keys["curator"], NEW["id"]).status_code == 404


def test_nothing_to_check_is_said(browser: Browser, keys: dict[str, str]) -> None:
    browser.sign_in(keys["curator"])
    response = browser.post(
        "/curate/upload", {"bundle": "  "}, files={"file": ("", b"", "application/json")}
    )
    assert response.status_code == 400
    assert "choose a bundle file or paste the bundle" in response.text


def test_a_reader_key_cannot_upload(browser: Browser, keys: dict[str, str]) -> None:
    browser.sign_in(keys["reader"])
    page = browser.get("/curate")
    assert "need a curator key" in page.text
    assert 'action="/curate/upload"' not in page.text
    forged = browser.upload(GOOD)
    assert forged.status_code == 403
    assert "key 'test-reader' has role reader; this needs curator or above" in html.unescape(
        forged.text
    )


def test_writing_needs_a_signed_in_key(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    response = browser.upload(GOOD)
    assert response.status_code == 401
    assert "sign in with your API key first" in response.text
    assert api_material(client, keys["curator"], NEW["id"]).status_code == 404


# --- review moves: the API's problems, shown -------------------------------------------------


def test_review_problems_are_the_api_s(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    created = client.post("/api/v1/materials", json=NEW, headers=auth(keys["curator"]))
    assert created.status_code == 201
    browser.sign_in(keys["curator"])
    forbidden = browser.move(NEW["id"], "published")
    assert forbidden.status_code == 403
    assert "only editors publish and retract" in html.unescape(forbidden.text)
    assert f"{NEW['id']} was not moved to published" in forbidden.text
    browser.sign_out()
    browser.sign_in(keys["editor"])
    conflict = browser.move(NEW["id"], "published")
    assert conflict.status_code == 409
    assert "cannot move to 'published'" in html.unescape(conflict.text)
    missing = browser.move("no-such-material", "retracted")
    assert missing.status_code == 404
    bad = browser.move("Not An Id!", "teleported")
    assert bad.status_code == 400
    assert "give a material id" in bad.text
    assert "choose one of" in bad.text
    assert api_material(client, keys["curator"], NEW["id"]).json()["status"] == "draft"


def test_names_from_uploads_are_escaped(
    browser: Browser, client: TestClient, keys: dict[str, str]
) -> None:
    hostile = {**NEW, "name": '<script>alert("x")</script>'}
    assert (
        client.post("/api/v1/materials", json=hostile, headers=auth(keys["curator"])).status_code
        == 201
    )
    browser.sign_in(keys["curator"])
    page = browser.get("/curate")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_unknown_notices_are_not_shown(browser: Browser) -> None:
    page = browser.get("/curate?done=published:<b>x</b>")
    assert notice(page.text) == ""
    assert "<b>x</b>" not in page.text


# --- CSRF: without the form's token nothing is done -----------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token-that-is-long-enough-to-look-real"])
def test_import_without_the_token_writes_nothing(
    browser: Browser, client: TestClient, keys: dict[str, str], token: str | None
) -> None:
    browser.sign_in(keys["curator"])
    response = browser.post(
        "/curate/import",
        {"bundle": json.dumps(GOOD), "format": "json"},
        files={"unused": ("", b"", "application/octet-stream")},
        csrf=token,
    )
    assert response.status_code == 403
    assert "The form expired" in response.text
    assert "reload the page" in response.text
    assert api_material(client, keys["curator"], NEW["id"]).status_code == 404


@pytest.mark.parametrize("token", [None, "forged-token-that-is-long-enough-to-look-real"])
def test_review_moves_without_the_token_do_nothing(
    browser: Browser, client: TestClient, keys: dict[str, str], token: str | None
) -> None:
    assert client.post("/api/v1/materials", json=NEW, headers=auth(keys["curator"])).is_success
    browser.sign_in(keys["curator"])
    response = browser.post("/curate/status", {"id": NEW["id"], "status": "in_review"}, csrf=token)
    assert response.status_code == 403
    assert "The form expired" in response.text
    assert api_material(client, keys["curator"], NEW["id"]).json()["status"] == "draft"


@pytest.mark.parametrize("token", [None, "forged-token-that-is-long-enough-to-look-real"])
def test_sign_in_and_out_without_the_token_do_nothing(
    browser: Browser, keys: dict[str, str], token: str | None
) -> None:
    refused = browser.post("/curate/sign-in", {"key": keys["editor"]}, csrf=token)
    assert refused.status_code == 403
    assert KEY_COOKIE not in refused.headers.get("set-cookie", "")
    assert browser.client.cookies.get(KEY_COOKIE) is None
    browser.sign_in(keys["curator"])
    kept = browser.post("/curate/sign-out", {}, csrf=token)
    assert kept.status_code == 403
    assert KEY_COOKIE not in kept.headers.get("set-cookie", "")
    assert browser.client.cookies.get(KEY_COOKIE) == keys["curator"]


def test_upload_without_the_token_is_not_sent_to_the_api(
    browser: Browser, keys: dict[str, str]
) -> None:
    browser.sign_in(keys["curator"])
    response = browser.post(
        "/curate/upload",
        {"format": "json"},
        files={"file": ("b.json", json.dumps(GOOD).encode(), "application/json")},
        csrf=None,
    )
    assert response.status_code == 403
    assert "would be created" not in response.text


def test_the_token_must_match_this_browser_s_cookie(
    client: TestClient, keys: dict[str, str]
) -> None:
    other = Browser(client)
    token = other.csrf()
    client.cookies.delete(CSRF_COOKIE)  # another browser: its own cookie, or none
    response = client.post(
        "/curate/sign-in", data={"csrf": token, "key": keys["curator"]}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.cookies.get(KEY_COOKIE) is None


# --- the key is never shown -------------------------------------------------------------------


def assert_key_never_shown(browser: Browser, key: str) -> None:
    """No page, URL or redirect the browser saw holds the key (only its cookie does)."""
    assert browser.seen
    for response in browser.seen:
        assert key not in response.text
        assert key not in str(response.url)
        assert key not in response.headers.get("location", "")
