"""A catalogue of bad uploads to the write API, each refused cleanly.

Every case is one request to ``POST /api/v1/imports``, ``POST /api/v1/materials``,
``PUT`` / ``PATCH /api/v1/materials/{id}`` or ``POST /api/v1/materials/{id}/status``
that must be answered with the exact 4xx status given here, as an
``application/problem+json`` document (RFC 9457) whose ``status`` is the response's,
whose ``errors`` (validation errors) name exactly the JSON paths given here, and
after which the database is unchanged: the export (byte for byte, as sorted JSON)
and the number of rows of ``material_versions`` and ``changes``.

PUT and PATCH target ``fx-ti-alloy`` (published, from the search fixture bundle)
with the ``If-Match`` ETag read by a GET with the same key, unless the case is
about If-Match itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from biomatdb.exchange.exporter import export_bundle
from biomatdb.settings import get_settings
from tests.conftest import auth

# hundreds of hostile uploads: `make test` and CI run it, `make test-fast` does not.
pytestmark = pytest.mark.slow

PROBLEM = "application/problem+json"
JSON = "application/json"
NDJSON = "application/x-ndjson"
MERGE_PATCH = "application/merge-patch+json"
IMPORTS = "/api/v1/imports"
MATERIALS = "/api/v1/materials"
TARGET = "fx-ti-alloy"  # published in tests/fixtures/search_bundle.json
TARGET_URL = f"{MATERIALS}/{TARGET}"
DRAFT_URL = f"{MATERIALS}/fx-draft"  # a draft in the fixture bundle
MAX_BODY = get_settings().max_body_bytes

# A valid material entry (a draft citing a stored reference); cases break one thing.
VALUE = {"property": "youngs_modulus", "value": 100, "unit": "GPa", "source": "fx-ref-a"}
ENTRY: dict[str, Any] = {
    "id": "bad-upload",
    "name": "Bad upload",
    "class": "metal",
    "properties": [VALUE],
}
REFERENCE = {"id": "bu-ref", "citation": "A reference of the bad-upload tests"}
ORGANIZATION = {"id": "bu-org", "name": "Bad Upload GmbH", "kind": "supplier", "country": "DE"}


def entry(**changes: Any) -> dict[str, Any]:
    """ENTRY with some fields replaced (a value of ``None`` removes the field)."""
    result = {**ENTRY, **changes}
    return {k: v for k, v in result.items() if v is not None}


def value(**changes: Any) -> dict[str, Any]:
    """VALUE with some fields replaced (a value of ``None`` removes the field)."""
    result = {**VALUE, **changes}
    return {k: v for k, v in result.items() if v is not None}


def with_value(**changes: Any) -> dict[str, Any]:
    """ENTRY whose only property value is VALUE with ``changes``."""
    return entry(properties=[value(**changes)])


def encode(document: Any) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity included (non-ASCII escaped)."""
    return json.dumps(document, allow_nan=True).encode("ascii")


def bundle(*materials: Any, **parts: Any) -> bytes:
    return encode({**parts, "materials": list(materials)})


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer it must get."""

    id: str
    method: str
    url: str
    body: bytes | None
    status: int
    #: Exact ``errors[].path`` list; None when the answer has no ``errors`` list.
    paths: list[str] | None
    content_type: str | None = JSON
    role: str = "curator"
    #: "current" (the ETag of a GET with the key), "stale", or None (no If-Match).
    if_match: str | None = None
    marks: list[Any] = field(default_factory=list)


#: Where a curator's import that sets an editor-only status is refused.
STATUS = ["materials[0].status"]


def imp(case_id: str, body: bytes, status: int, paths: list[str] | None, **kw: Any) -> Bad:
    return Bad(case_id, "POST", IMPORTS, body, status, paths, **kw)


def imp1(case_id: str, material: Any, paths: list[str], **kw: Any) -> Bad:
    """A one-material bundle refused with 422 at ``paths``."""
    return imp(case_id, bundle(material), 422, paths, **kw)


def create(case_id: str, body: bytes, status: int, paths: list[str] | None, **kw: Any) -> Bad:
    return Bad(case_id, "POST", MATERIALS, body, status, paths, **kw)


def put(case_id: str, body: bytes, status: int, paths: list[str] | None, **kw: Any) -> Bad:
    kw.setdefault("if_match", "current")
    return Bad(case_id, "PUT", TARGET_URL, body, status, paths, **kw)


def patch(case_id: str, body: bytes, status: int, paths: list[str] | None, **kw: Any) -> Bad:
    kw.setdefault("if_match", "current")
    kw.setdefault("content_type", MERGE_PATCH)
    return Bad(case_id, "PATCH", TARGET_URL, body, status, paths, **kw)


def move(
    case_id: str, url: str, body: bytes, status: int, paths: list[str] | None, **kw: Any
) -> Bad:
    return Bad(case_id, "POST", f"{url}/status", body, status, paths, **kw)


P0 = "materials[0].properties[0]"
DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
OVERSIZED = b'{"materials": [], "padding": "' + b"x" * (MAX_BODY + 1) + b'"}'
PUBLISHED_NO_SOURCE = entry(status="published", properties=[value(source=None)])

CASES: list[Bad] = [
    # --- not JSON, or not a bundle -----------------------------------------------------
    imp("malformed-json", b'{"materials": [}', 422, [""]),
    imp("truncated-json", bundle(ENTRY)[:-7], 422, [""]),
    imp("empty-body", b"", 422, [""]),
    imp("whitespace-body", b"  \n\t ", 422, [""]),
    imp("top-level-array", encode([ENTRY]), 422, [""]),
    imp("top-level-string", b'"materials"', 422, [""]),
    imp("top-level-null", b"null", 422, [""]),
    imp("top-level-number", b"42", 422, [""]),
    imp("materials-is-object", encode({"materials": {"0": ENTRY}}), 422, ["materials"]),
    imp("material-is-string", bundle("bad-upload"), 422, ["materials[0]"]),
    imp(
        "duplicate-json-keys",
        b'{"materials": [{"id": "bad-upload", "name": "A", "name": "B", "class": "metal"}]}',
        422,
        [""],
    ),
    imp("duplicate-top-level-keys", b'{"materials": [], "materials": []}', 422, [""]),
    imp("deeply-nested-arrays", DEEP, 422, [""]),
    imp("deeply-nested-objects", DEEP_OBJECT, 422, [""]),
    imp(
        "nested-in-material",
        b'{"materials": [{"id": "bad-upload", "name": "x", "class": "metal", "synonyms": '
        + DEEP
        + b"}]}",
        422,
        [""],
    ),
    imp("non-utf8-bytes", b'{"materials": [{"id": "bad-upload", "name": "\xff\xfe"}]}', 422, [""]),
    imp("latin1-text", '{"materials": [{"name": "Zürich"}]}'.encode("latin-1"), 422, [""]),
    imp("utf16-text", '{"materials": []}'.encode("utf-16"), 422, [""]),
    imp("integer-over-4300-digits", b'{"materials": [], "n": ' + b"9" * 5000 + b"}", 422, [""]),
    # --- wrong types ---------------------------------------------------------------------
    imp1("string-for-number", with_value(value="100"), [f"{P0}.value"]),
    imp1("bool-for-number", with_value(value=True), [f"{P0}.value"]),
    imp1("number-for-string-name", entry(name=42), ["materials[0].name"]),
    imp1("number-for-string-unit", with_value(unit=9), [f"{P0}.unit"]),
    imp1("number-for-bool", entry(degradable=1), ["materials[0].degradable"]),
    imp1("string-for-list", entry(synonyms="Ti64"), ["materials[0].synonyms"]),
    imp1("object-for-list", entry(properties=VALUE), ["materials[0].properties"]),
    imp(
        "float-for-integer-year",
        bundle(ENTRY, references=[{**REFERENCE, "year": 2020.0}]),
        422,
        ["references[0].year"],
    ),
    imp1("null-for-required-name", entry(name=None) | {"name": None}, ["materials[0].name"]),
    imp1("missing-class", entry(**{"class": None}), ["materials[0].class"]),
    imp1("unknown-class", entry(**{"class": "wood"}), ["materials[0].class"]),
    imp1("unknown-application", entry(applications=["magic"]), ["materials[0].applications[0]"]),
    imp1(
        "fraction-over-one",
        entry(composition=[{"component": "Ti", "fraction": 1.5, "basis": "mass"}]),
        ["materials[0].composition[0].fraction"],
    ),
    imp(
        "bad-country",
        bundle(ENTRY, organizations=[{**ORGANIZATION, "country": "XX"}]),
        422,
        ["organizations[0].country"],
    ),
    imp1("bad-status-value", entry(status="final"), ["materials[0].status"]),
    # --- unknown fields, at every level ----------------------------------------------------
    imp("unknown-top-level-field", encode({"materials": [], "extras": []}), 422, ["extras"]),
    imp1("unknown-material-field", entry(colour="grey"), ["materials[0].colour"]),
    imp1("unknown-value-field", with_value(note="x"), [f"{P0}.note"]),
    imp(
        "unknown-reference-field",
        bundle(ENTRY, references=[{**REFERENCE, "journal": "J"}]),
        422,
        ["references[0].journal"],
    ),
    imp(
        "unknown-organization-field",
        bundle(ENTRY, organizations=[{**ORGANIZATION, "ceo": "X"}]),
        422,
        ["organizations[0].ceo"],
    ),
    imp1(
        "unknown-composition-field",
        entry(composition=[{"component": "Ti", "fraction": 0.9, "basis": "mass", "x": 1}]),
        ["materials[0].composition[0].x"],
    ),
    imp1(
        "unknown-supplier-field",
        entry(suppliers=[{"organization": "fx-org-it", "price": 3}]),
        ["materials[0].suppliers[0].price"],
    ),
    imp1(
        "unknown-regulatory-field",
        entry(regulatory=[{"jurisdiction": "US-FDA", "status": "cleared", "fee": 1}]),
        ["materials[0].regulatory[0].fee"],
    ),
    imp1(
        "unknown-biocompatibility-field",
        entry(biocompatibility=[{"endpoint": "cytotoxicity", "result": "pass", "cells": "L929"}]),
        ["materials[0].biocompatibility[0].cells"],
    ),
    # --- property values -----------------------------------------------------------------
    imp1("unknown-property-key", with_value(property="stiffness"), [f"{P0}.property"]),
    imp1("unknown-unit", with_value(unit="furlongs"), [f"{P0}.unit"]),
    imp1("unit-is-garbage", with_value(unit="GPa**GPa)("), [f"{P0}.unit"]),
    imp1(
        "wrong-dimension-unit", with_value(property="density", value=3, unit="MPa"), [f"{P0}.unit"]
    ),
    imp1("wrong-dimension-unit-temperature", with_value(unit="degC"), [f"{P0}.unit"]),
    imp1("nan", with_value(value=float("nan")), [f"{P0}.value"]),
    imp1("infinity", with_value(value=float("inf")), [f"{P0}.value"]),
    imp1("minus-infinity", with_value(value=None, min=float("-inf"), max=1), [f"{P0}.min"]),
    imp(
        "overflowing-float-literal",
        bundle(with_value(value=123456789)).replace(b"123456789", b"1e400"),
        422,
        [f"{P0}.value"],
    ),
    imp1("integer-beyond-float-range", with_value(value=10**400), [f"{P0}.value"]),
    imp1("min-greater-than-max", with_value(value=None, min=120, max=100), [f"{P0}.min"]),
    imp1("value-and-min-max", with_value(min=90, max=110), [f"{P0}.value"]),
    imp1("no-value-no-range", with_value(value=None), [f"{P0}.value"]),
    imp1("negative-modulus", with_value(value=-5), [f"{P0}.value"]),
    imp1("negative-modulus-range", with_value(value=None, min=-1, max=5), [f"{P0}.min"]),
    imp1("negative-uncertainty", with_value(uncertainty=-1), [f"{P0}.uncertainty"]),
    imp1(
        "porosity-over-100", with_value(property="porosity", value=150, unit="%"), [f"{P0}.value"]
    ),
    imp1(
        "porosity-ratio-over-1",
        with_value(property="porosity", value=None, min=0.5, max=1.2, unit="dimensionless"),
        [f"{P0}.max"],
    ),
    imp1(
        "below-absolute-zero-celsius",
        with_value(property="glass_transition_temperature", value=-300, unit="degC"),
        [f"{P0}.value"],
    ),
    imp1(
        "below-absolute-zero-kelvin",
        with_value(property="melting_temperature", value=-1, unit="K"),
        [f"{P0}.value"],
    ),
    imp1("bad-qualifier", with_value(qualifier="about"), [f"{P0}.qualifier"]),
    # --- references to nothing -------------------------------------------------------------
    imp1("dangling-source", with_value(source="no-such-ref"), [f"{P0}.source"]),
    imp1(
        "dangling-biocompatibility-source",
        entry(biocompatibility=[{"endpoint": "cytotoxicity", "result": "pass", "source": "nope"}]),
        ["materials[0].biocompatibility[0].source"],
    ),
    imp1(
        "dangling-supplier-organization",
        entry(suppliers=[{"organization": "no-such-org"}]),
        ["materials[0].suppliers[0].organization"],
    ),
    imp1(
        "dangling-regulatory-organization",
        entry(
            regulatory=[
                {"jurisdiction": "US-FDA", "status": "cleared", "organization": "no-such-org"}
            ]
        ),
        ["materials[0].regulatory[0].organization"],
    ),
    imp1(
        "dangling-regulatory-source",
        entry(regulatory=[{"jurisdiction": "US-FDA", "status": "cleared", "source": "nope"}]),
        ["materials[0].regulatory[0].source"],
    ),
    imp(
        "published-without-source-by-editor",
        bundle(PUBLISHED_NO_SOURCE),
        422,
        [f"{P0}.source"],
        role="editor",
    ),
    # --- duplicates --------------------------------------------------------------------------
    imp("duplicate-material-ids", bundle(ENTRY, ENTRY), 422, ["materials[1].id"]),
    imp(
        "duplicate-reference-ids",
        bundle(ENTRY, references=[REFERENCE, REFERENCE]),
        422,
        ["references[1].id"],
    ),
    imp(
        "duplicate-organization-ids",
        bundle(ENTRY, organizations=[ORGANIZATION, ORGANIZATION]),
        422,
        ["organizations[1].id"],
    ),
    imp1(
        "duplicate-application",
        entry(applications=["dental", "dental"]),
        ["materials[0].applications[1]"],
    ),
    # --- ids and strings ---------------------------------------------------------------------
    imp1("slug-upper-case", entry(id="Bad-Upload"), ["materials[0].id"]),
    imp1("slug-with-space", entry(id="bad upload"), ["materials[0].id"]),
    imp1("slug-too-long", entry(id="a" * 129), ["materials[0].id"]),
    imp1("slug-leading-hyphen", entry(id="-bad"), ["materials[0].id"]),
    imp1("slug-empty", entry(id=""), ["materials[0].id"]),
    imp1("slug-non-ascii", entry(id="bäd"), ["materials[0].id"]),
    imp1("slug-trailing-newline", entry(id="bad-upload\n"), ["materials[0].id"]),
    imp(
        "reference-slug-bad",
        bundle(ENTRY, references=[{**REFERENCE, "id": "Bu Ref"}]),
        422,
        ["references[0].id"],
    ),
    imp1("name-over-300", entry(name="n" * 301), ["materials[0].name"]),
    imp1("name-empty", entry(name=""), ["materials[0].name"]),
    imp1("description-over-20000", entry(description="d" * 20_001), ["materials[0].description"]),
    imp1("nul-in-name", entry(name="Bad\x00upload"), ["materials[0].name"]),
    imp1("nul-in-unit", with_value(unit="G\x00Pa"), [f"{P0}.unit"]),
    imp1("nul-in-key", entry() | {"x\x00": 1}, ["materials[0].x\\u0000"]),
    imp1("lone-surrogate-in-name", entry(name="Bad \ud800 upload"), ["materials[0].name"]),
    # --- transport ---------------------------------------------------------------------------
    imp("oversized-body", OVERSIZED, 413, None),
    imp("text-plain", bundle(ENTRY), 415, None, content_type="text/plain"),
    imp("application-xml", b"<bundle/>", 415, None, content_type="application/xml"),
    imp(
        "form-urlencoded",
        b"materials=x",
        415,
        None,
        content_type="application/x-www-form-urlencoded",
    ),
    imp("missing-content-type", bundle(ENTRY), 415, None, content_type=None),
    imp(
        "ndjson-broken-line",
        encode(ENTRY) + b"\n{not json}\n",
        422,
        ["materials[1]"],
        content_type=NDJSON,
    ),
    imp(
        "ndjson-invalid-entry",
        encode(ENTRY) + b"\n" + encode(entry(id="bad-2", name=7)) + b"\n",
        422,
        ["materials[1].name"],
        content_type=NDJSON,
    ),
    imp("ndjson-array-line", b"[1, 2]\n", 422, ["materials[0]"], content_type=NDJSON),
    imp(
        "ndjson-non-utf8-line",
        encode(ENTRY) + b"\n\xff\n",
        422,
        ["materials[1]"],
        content_type=NDJSON,
    ),
    # --- rights --------------------------------------------------------------------------------
    imp("curator-imports-published", bundle(entry(status="published")), 403, STATUS),
    imp("curator-imports-retracted", bundle(entry(status="retracted")), 403, STATUS),
    # The role problem and every other problem, at once (issue 10).
    imp(
        "curator-imports-published-without-source",
        bundle(PUBLISHED_NO_SOURCE),
        403,
        [*STATUS, "materials[0].properties[0].source"],
    ),
    imp("reader-imports", bundle(ENTRY), 403, None, role="reader"),
    imp("anonymous-imports", bundle(ENTRY), 401, None, role="anonymous"),
    # --- POST /api/v1/materials ------------------------------------------------------------
    create("create-malformed-json", b'{"id": "bad-upload",', 422, [""]),
    create("create-array-body", encode([ENTRY]), 422, [""]),
    create("create-bundle-body", bundle(ENTRY), 422, ["class", "id", "materials", "name"]),
    create("create-unknown-field", encode(entry(colour="grey")), 422, ["colour"]),
    create(
        "create-wrong-dimension", encode(with_value(unit="g/cm^3")), 422, ["properties[0].unit"]
    ),
    create("create-nan", encode(with_value(value=float("nan"))), 422, ["properties[0].value"]),
    create(
        "create-dangling-source", encode(with_value(source="nope")), 422, ["properties[0].source"]
    ),
    create("create-bad-slug", encode(entry(id="Bad")), 422, ["id"]),
    create("create-existing-id", encode(entry(id=TARGET)), 409, None),
    create("create-existing-draft-id", encode(entry(id="fx-draft")), 409, None),
    create("create-published-by-curator", encode(entry(status="published")), 403, None),
    create(
        "create-published-without-source-by-curator",
        encode(PUBLISHED_NO_SOURCE),
        403,
        None,
    ),
    create("create-text-plain", encode(ENTRY), 415, None, content_type="text/plain"),
    create("create-merge-patch-type", encode(ENTRY), 415, None, content_type=MERGE_PATCH),
    create("create-missing-content-type", encode(ENTRY), 415, None, content_type=None),
    create("create-oversized", OVERSIZED, 413, None),
    create("create-by-reader", encode(ENTRY), 403, None, role="reader"),
    # --- PUT /api/v1/materials/{id} --------------------------------------------------------
    put("put-mismatching-id", encode(entry(id="other")), 422, ["id"]),
    put("put-missing-name", encode(entry(id=TARGET, name=None)), 422, ["name"]),
    put("put-array-body", encode([ENTRY]), 422, [""]),
    put("put-string-body", b'"replace"', 422, [""]),
    put(
        "put-wrong-dimension",
        encode(with_value(unit="mm") | {"id": TARGET}),
        422,
        ["properties[0].unit"],
    ),
    put("put-without-if-match", encode(entry(id=TARGET)), 428, None, if_match=None),
    put("put-stale-if-match", encode(entry(id=TARGET)), 412, None, if_match="stale"),
    put("put-published-by-curator", encode(entry(id=TARGET, status="published")), 403, None),
    put(
        "put-published-without-source-by-curator",
        encode(PUBLISHED_NO_SOURCE | {"id": TARGET}),
        403,
        None,
    ),
    put("put-text-plain", encode(entry(id=TARGET)), 415, None, content_type="text/plain"),
    put("put-malformed-json", b'{"id": ', 422, [""]),
    Bad(
        "put-unknown-id",
        "PUT",
        f"{MATERIALS}/no-such-material",
        encode(entry(id="no-such-material")),
        404,
        None,
        if_match="stale",
    ),
    # --- PATCH /api/v1/materials/{id} ------------------------------------------------------
    patch("patch-array-body", b'[{"name": "x"}]', 422, [""]),
    patch("patch-string-body", b'"x"', 422, [""]),
    patch("patch-number-body", b"42", 422, [""]),
    patch("patch-null-body", b"null", 422, [""]),
    patch("patch-unknown-class", encode({"class": "wood"}), 422, ["class"]),
    patch("patch-removes-name", encode({"name": None}), 422, ["name"]),
    patch("patch-bad-id", encode({"id": "other"}), 422, ["id"]),
    patch("patch-unknown-field", encode({"colour": "grey"}), 422, ["colour"]),
    patch(
        "patch-wrong-dimension",
        encode({"properties": [value(property="density", value=3, unit="MPa")]}),
        422,
        ["properties[0].unit"],
    ),
    patch(
        "patch-nan",
        encode({"properties": [value(value=float("nan"))]}),
        422,
        ["properties[0].value"],
    ),
    patch("patch-name-too-long", encode({"name": "n" * 301}), 422, ["name"]),
    patch("patch-duplicate-keys", b'{"name": "a", "name": "b"}', 422, [""]),
    patch("patch-publish-by-curator", encode({"status": "published"}), 403, None),
    patch("patch-text-plain", encode({"name": "x"}), 415, None, content_type="text/plain"),
    patch("patch-malformed-json", b'{"name": "x"', 422, [""]),
    patch("patch-without-if-match", encode({"name": "x"}), 428, None, if_match=None),
    patch("patch-stale-if-match", encode({"name": "x"}), 412, None, if_match="stale"),
    patch("patch-oversized", OVERSIZED, 413, None),
    # --- POST /api/v1/materials/{id}/status -------------------------------------------------
    move("status-published-to-in-review", TARGET_URL, encode({"status": "in_review"}), 409, None),
    move(
        "status-draft-to-published",
        DRAFT_URL,
        encode({"status": "published"}),
        409,
        None,
        role="editor",
    ),
    move(
        "status-draft-to-retracted",
        DRAFT_URL,
        encode({"status": "retracted"}),
        409,
        None,
        role="editor",
    ),
    move("status-draft-to-draft", DRAFT_URL, encode({"status": "draft"}), 409, None),
    move("status-bad-value", TARGET_URL, encode({"status": "final"}), 422, ["status"]),
    move("status-missing", TARGET_URL, encode({"note": "x"}), 422, ["status"]),
    move(
        "status-unknown-field", DRAFT_URL, encode({"status": "in_review", "by": "me"}), 422, ["by"]
    ),
    move(
        "status-note-too-long",
        DRAFT_URL,
        encode({"status": "in_review", "note": "n" * 2001}),
        422,
        ["note"],
    ),
    move("status-retract-by-curator", TARGET_URL, encode({"status": "retracted"}), 403, None),
    move("status-not-an-object", DRAFT_URL, b'["in_review"]', 422, [""]),
    move("status-malformed-json", DRAFT_URL, b'{"status": ', 422, [""]),
    move("status-empty-body", DRAFT_URL, b"", 422, [""]),
    move(
        "status-text-plain",
        DRAFT_URL,
        encode({"status": "in_review"}),
        415,
        None,
        content_type="text/plain",
    ),
    move(
        "status-missing-content-type",
        DRAFT_URL,
        encode({"status": "in_review"}),
        415,
        None,
        content_type=None,
    ),
    move("status-oversized", DRAFT_URL, OVERSIZED, 413, None),
    move(
        "status-duplicate-keys",
        DRAFT_URL,
        b'{"status": "in_review", "status": "draft"}',
        422,
        [""],
    ),
    move(
        "status-nul-in-note",
        DRAFT_URL,
        encode({"status": "in_review", "note": "a\x00b"}),
        422,
        ["note"],
    ),
    move(
        "status-unknown-material",
        f"{MATERIALS}/no-such-material",
        encode({"status": "in_review"}),
        404,
        None,
    ),
]


def snapshot(session: Session) -> tuple[str, int, int]:
    """The export (as sorted JSON) and the row counts of material_versions and changes."""
    session.expire_all()
    exported = json.dumps(export_bundle(session), sort_keys=True, default=str)
    versions = session.scalar(text("SELECT count(*) FROM material_versions"))
    changes = session.scalar(text("SELECT count(*) FROM changes"))
    return exported, int(versions or 0), int(changes or 0)


def send(client: TestClient, keys: dict[str, str], case: Bad) -> Any:
    headers: dict[str, str] = {}
    if case.role != "anonymous":
        headers.update(auth(keys[case.role]))
    if case.if_match == "current":
        got = client.get(case.url, headers=headers)
        assert got.status_code == 200, got.text
        headers["If-Match"] = got.headers["etag"]
    elif case.if_match == "stale":
        headers["If-Match"] = '"0123456789abcdef"'
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    response = client.request(case.method, case.url, content=case.body, headers=headers)
    if case.content_type is None:
        assert "content-type" not in response.request.headers
    return response


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_upload_is_refused_and_changes_nothing(
    client: TestClient, session: Session, keys: dict[str, str], case: Bad
) -> None:
    before = snapshot(session)
    response = send(client, keys, case)
    shown = (case.id, response.status_code, response.text[:1500])
    assert response.status_code == case.status, shown
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM, shown
    body = response.json()
    assert body["status"] == case.status, shown
    assert body["type"].startswith("/problems/"), shown
    assert body["title"], shown
    assert body["detail"], shown
    if case.paths is None:
        assert body.get("errors") is None, shown
    else:
        assert [e["path"] for e in body["errors"]] == case.paths, shown
        assert all(e["message"] for e in body["errors"]), shown
    after = snapshot(session)
    assert after[1:] == before[1:], (
        case.id,
        "rows of material_versions, changes",
        before[1:],
        after[1:],
    )
    assert after[0] == before[0], (case.id, "the export changed")


def test_the_catalogue_is_large_and_its_ids_unique() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES)


def test_a_good_upload_does_change_the_snapshot(
    client: TestClient, session: Session, keys: dict[str, str]
) -> None:
    """The unchanged-database check can see a write (so its passes mean something)."""
    before = snapshot(session)
    response = client.post(
        IMPORTS, content=bundle(ENTRY), headers={**auth(keys["curator"]), "Content-Type": JSON}
    )
    assert response.status_code == 200, response.text
    after = snapshot(session)
    assert after[1:] != before[1:]
    published = client.post(
        IMPORTS,
        content=bundle(entry(id="bu-published", status="published")),
        headers={**auth(keys["editor"]), "Content-Type": JSON},
    )
    assert published.status_code == 200, published.text
    assert snapshot(session)[0] != before[0]
