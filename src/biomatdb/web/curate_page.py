"""``/curate``: sign in with an API key, upload a bundle, read its dry-run report, import
it, and move materials through review (submit, publish, return to draft, retract).

Everything goes through the API with the signed-in key (:mod:`biomatdb.web.client`):
the page shows the API's reports and problems as they are. The key lives only in the
HttpOnly, SameSite=Strict cookie (:mod:`biomatdb.web.security`), never in a URL or a
page. Every POST checks its CSRF token before it does anything else.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from biomatdb.api.body import BodyTooLarge
from biomatdb.settings import get_settings
from biomatdb.web import client, security
from biomatdb.web.client import Answer
from biomatdb.web.render import link, page
from biomatdb.web.session import signed_in_user

router = APIRouter(include_in_schema=False)

#: The roles, weakest first (the API decides; the page only chooses what to offer).
ROLES = ("reader", "curator", "editor", "admin")
#: A material id (contract section 1): what may go into an API path.
MATERIAL_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
#: The moves the page offers, and the notice each leaves (``?done=ACTION:ID``).
MOVES = {
    "in_review": "submitted",
    "published": "published",
    "draft": "returned",
    "retracted": "retracted",
}
NOTICES = {
    "submitted": "{id} was submitted for review.",
    "published": "{id} was published.",
    "returned": "{id} was returned to draft.",
    "retracted": "{id} was retracted: anonymous readers no longer see it.",
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out; the key was removed from this browser.",
}
#: Upload formats: the media type the API is sent, and file names read as NDJSON.
FORMATS = {"json": "application/json", "ndjson": "application/x-ndjson"}
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
#: Rows of each list on the page (the API allows up to 200).
PAGE_SIZE = 50
#: Longest review note sent (the API takes 2,000 characters).
MAX_NOTE = 2000


def at_least(user: dict[str, str] | None, role: str) -> bool:
    """Whether the signed-in user's role is ``role`` or above."""
    if user is None or user["role"] not in ROLES:
        return False
    return ROLES.index(user["role"]) >= ROLES.index(role)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# --- reading forms, and the pages that refuse one -----------------------------------------


def message_page(
    request: Request,
    status: int,
    title: str,
    text: str,
    *,
    user: dict[str, str] | None = None,
) -> Response:
    """A short page that says why nothing was done, and the way back."""
    context = {"title": title, "text": text}
    return page(request, "curate_message.html", context, status_code=status, signed_in=user)


def expired(request: Request) -> Response:
    """The 403 of a form without a valid CSRF token: nothing was done."""
    return message_page(
        request,
        403,
        "The form expired",
        "The form's security token is missing or out of date (it changes when the "
        "browser's cookies are cleared, and a form sent from another site never has "
        "it). Nothing was done: reload the page and send the form again.",
    )


async def read_form(request: Request) -> FormData | Response:
    """The posted form, or the page that says why it could not be read (too large: the
    API's own body limit; malformed; too slow)."""
    settings = get_settings()
    limit = settings.max_body_bytes
    try:
        with anyio.fail_after(settings.body_timeout_seconds):
            return await request.form(max_files=1, max_fields=10, max_part_size=limit)
    except BodyTooLarge:
        return too_large(request)
    except HTTPException as exc:  # a malformed multipart body (Starlette's 400)
        return message_page(request, 400, "The form could not be read", str(exc.detail))
    except TimeoutError:
        return message_page(
            request,
            408,
            "The upload took too long",
            f"The form did not arrive within {settings.body_timeout_seconds:g} s; nothing "
            "was written. Send it again.",
        )


def too_large(request: Request, user: dict[str, str] | None = None) -> Response:
    """The 413 of an upload over the API's body limit (the form's own limit is the same)."""
    limit = get_settings().max_body_bytes
    return message_page(
        request,
        413,
        "The upload is too large",
        f"The API takes bundles of at most {_size(limit)} ({limit:,} bytes) per "
        "request; nothing was read or written. Split the bundle into smaller ones, "
        "or load it with the command line (biomatdb import FILE).",
        user=user,
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.3g} MB" if n >= 1024 * 1024 else f"{n / 1024:.3g} KB"


# --- the page ------------------------------------------------------------------------------


@router.get("/curate")
async def curate_page(request: Request) -> Response:
    """Signed out: the sign-in form. Signed in: upload, one's drafts, the review queue."""
    user = await signed_in_user(request)
    if user is None:
        response = sign_in_page(request)
        if security.key_of(request) is not None:  # a key the API no longer knows
            security.clear_key_cookie(request, response)
        return response
    return await workbench(request, user)


def sign_in_page(
    request: Request,
    *,
    status: int = 200,
    problems: list[dict[str, str]] | None = None,
) -> Response:
    context = {
        "notice": _notice(request),
        "problems": problems or [],
        "problems_title": "Could not sign in",
    }
    return page(request, "curate.html", context, status_code=status)


async def workbench(
    request: Request,
    user: dict[str, str],
    *,
    status: int = 200,
    problems: list[dict[str, str]] | None = None,
    problems_title: str = "That did not work",
) -> Response:
    """The signed-in page: upload, my drafts, and (editors) the review queue."""
    key = security.key_of(request)
    mine = queue = None
    if at_least(user, "curator"):
        mine = await _drafts(request, key, {"mine": "true"}, "mine_cursor")
    if at_least(user, "editor"):
        queue = await _drafts(request, key, {"status": "in_review"}, "queue_cursor")
    settings = get_settings()
    context: dict[str, Any] = {
        "notice": _notice(request),
        "problems": problems or [],
        "problems_title": problems_title,
        "can_curate": at_least(user, "curator"),
        "can_review": at_least(user, "editor"),
        "mine": mine,
        "queue": queue,
        "max_size": _size(settings.max_body_bytes),
        "max_entries": settings.max_import_entries,
    }
    return page(request, "curate.html", context, status_code=status, signed_in=user)


async def _drafts(
    request: Request, key: str | None, params: dict[str, str], cursor_param: str
) -> dict[str, Any]:
    """One list of drafts from ``GET /api/v1/drafts``: its items, total, next link and
    problems (a bad cursor in the page's URL is the API's 400, shown)."""
    cursor = request.query_params.get(cursor_param)
    answer = await client.call(
        request,
        "GET",
        "/api/v1/drafts",
        params={**params, "limit": str(PAGE_SIZE), "cursor": cursor},
        key=key,
    )
    if not answer.ok:
        return {"items": [], "total": 0, "next": None, "problems": answer.problems}
    body = answer.json()
    next_cursor = body["meta"]["next_cursor"]
    kept = {
        name: value
        for name, value in request.query_params.items()
        if name in ("mine_cursor", "queue_cursor") and name != cursor_param
    }
    return {
        "items": body["data"],
        "total": body["meta"]["total"],
        "next": link("/curate", {**kept, cursor_param: next_cursor}) if next_cursor else None,
        "problems": [],
    }


def _notice(request: Request) -> str | None:
    """The notice of ``?done=ACTION[:ID]`` (only known actions and well-formed ids)."""
    action, _, ident = request.query_params.get("done", "").partition(":")
    text = NOTICES.get(action)
    if text is None or ("{id}" in text and not MATERIAL_ID.fullmatch(ident)):
        return None
    return text.format(id=ident)


# --- signing in and out ---------------------------------------------------------------------


@router.post("/curate/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the key with ``GET /api/v1/me``; keep it in the cookie when it is good."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    if not security.csrf_ok(request, form.get(security.CSRF_FIELD)):
        return expired(request)
    key = _text(form, "key")
    if not key:
        return sign_in_page(request, status=401, problems=[_problem("key", "enter your API key")])
    if len(key) > security.MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return sign_in_page(
            request, status=401, problems=[_problem("key", "this is not an API key")]
        )
    answer = await client.call(request, "GET", "/api/v1/me", key=key)
    if not answer.ok:
        status = answer.status if answer.status in (401, 403) else 502
        return sign_in_page(request, status=status, problems=_key_problems(answer))
    response = RedirectResponse(link("/curate", {"done": "signed-in"}), status_code=303)
    security.set_key_cookie(request, response, key)
    return response


def _problem(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message}


def _key_problems(answer: Answer) -> list[dict[str, str]]:
    """What the API said of the key (never the key itself)."""
    if answer.status == 401:
        return [_problem("key", "the API key is unknown or revoked; check it and try again")]
    return answer.problems or [_problem("", f"the API answered {answer.status}")]


@router.post("/curate/sign-out")
async def sign_out(request: Request) -> Response:
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    if not security.csrf_ok(request, form.get(security.CSRF_FIELD)):
        return expired(request)
    response = RedirectResponse(link("/curate", {"done": "signed-out"}), status_code=303)
    security.clear_key_cookie(request, response)
    return response


async def _signed_in_form(
    request: Request,
) -> tuple[FormData, str, dict[str, str]] | Response:
    """The posted form (CSRF checked first), the key and its user; or the page that
    refuses: the form could not be read, the token is wrong, nobody is signed in."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    if not security.csrf_ok(request, form.get(security.CSRF_FIELD)):
        return expired(request)
    key = security.key_of(request)
    user = await signed_in_user(request) if key is not None else None
    if key is None or user is None:
        response = sign_in_page(
            request,
            status=401,
            problems=[_problem("", "sign in with your API key first; nothing was done")],
        )
        security.clear_key_cookie(request, response)
        return response
    return form, key, user


# --- upload, dry run, import ----------------------------------------------------------------


@router.post("/curate/upload")
async def upload(request: Request) -> Response:
    """Dry-run the uploaded (or pasted) bundle: ``POST /api/v1/imports?dry_run=true``."""
    read = await _signed_in_form(request)
    if isinstance(read, Response):
        return read
    form, key, user = read
    chosen = await _bundle_of(form)
    if isinstance(chosen, str):
        return await workbench(
            request,
            user,
            status=400,
            problems=[_problem("file", chosen)],
            problems_title="Nothing to check",
        )
    data, kind, source = chosen
    if len(data) > get_settings().max_body_bytes:  # the form's own limit catches it first
        return too_large(request, user)
    return await _run_import(request, key, user, data, kind, source, dry_run=True)


async def _bundle_of(form: FormData) -> tuple[bytes, str, str] | str:
    """(bytes, format, where from) of the chosen file, else of the pasted text; or what
    is missing. A chosen file wins over pasted text."""
    kind = _text(form, "format")
    kind = kind if kind in FORMATS else "json"
    upload_file = form.get("file")
    if isinstance(upload_file, UploadFile) and upload_file.filename:
        data = await upload_file.read()
        name = upload_file.filename
        if name.lower().endswith(NDJSON_SUFFIXES):
            kind = "ndjson"
        if data.strip():
            return data, kind, name[:200]
        return f"the file {name!r} is empty"
    pasted = form.get("bundle")
    if isinstance(pasted, str) and pasted.strip():
        return pasted.encode(), kind, "pasted text"
    return "choose a bundle file or paste the bundle's JSON"


@router.post("/curate/import")
async def import_bundle(request: Request) -> Response:
    """Import the bundle that a clean dry run showed (carried in the form, never a URL):
    ``POST /api/v1/imports?dry_run=false``."""
    read = await _signed_in_form(request)
    if isinstance(read, Response):
        return read
    form, key, user = read
    text = form.get("bundle")
    if not isinstance(text, str) or not text.strip():
        return await workbench(
            request, user, status=400, problems=[_problem("bundle", "the form carried no bundle")]
        )
    kind = _text(form, "format")
    kind = kind if kind in FORMATS else "json"
    source = _text(form, "source")[:200] or "the bundle"
    return await _run_import(request, key, user, text.encode(), kind, source, dry_run=False)


async def _run_import(
    request: Request,
    key: str,
    user: dict[str, str],
    data: bytes,
    kind: str,
    source: str,
    *,
    dry_run: bool,
) -> Response:
    """Send the bundle to the API and show its report, errors and all."""
    answer = await client.call(
        request,
        "POST",
        "/api/v1/imports",
        params={"dry_run": "true" if dry_run else "false"},
        body=data,
        content_type=FORMATS[kind],
        key=key,
    )
    report = _report_of(answer)
    clean = answer.ok and report is not None and report.get("ok") is True
    changes = report is not None and _changes_anything(report)
    context: dict[str, Any] = {
        "dry_run": dry_run,
        "source": source,
        "report": report,
        "errors": answer.problems
        or ([] if answer.ok else [_problem("", f"the API answered {answer.status}")]),
        "status": answer.status,
        "importable": dry_run and clean and changes,
        "bundle_text": _as_text(data) if dry_run and clean and changes else "",
        "format": kind,
        "imported": _material_ids(data, kind) if clean and not dry_run else [],
        "max_size": _size(get_settings().max_body_bytes),
    }
    status = 200 if answer.ok else (answer.status if 400 <= answer.status < 500 else 502)
    return page(request, "curate_report.html", context, status_code=status, signed_in=user)


def _changes_anything(report: dict[str, Any]) -> bool:
    """Whether an import would create or update anything (else there is nothing to do)."""
    return any(
        (report.get(kind) or {}).get(count)
        for kind in ("references", "organizations", "materials")
        for count in ("created", "updated")
    )


def _report_of(answer: Answer) -> dict[str, Any] | None:
    """The import report: the answer itself, or the ``report`` a 422 / 403 problem holds."""
    try:
        body = answer.json()
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    report = body if answer.ok else body.get("report")
    return report if isinstance(report, dict) and "materials" in report else None


def _as_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # the API reads UTF-8 only, so no dry run was clean
        return ""


def _material_ids(data: bytes, kind: str) -> list[str]:
    """The ids of the materials of an imported bundle (the user's own document), for
    links to them."""
    try:
        if kind == "ndjson":
            entries = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        else:
            document = orjson.loads(data)
            entries = document.get("materials", []) if isinstance(document, dict) else []
    except orjson.JSONDecodeError:
        return []
    ids = [e.get("id") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    return [i for i in ids if isinstance(i, str) and MATERIAL_ID.fullmatch(i)]


# --- review moves ----------------------------------------------------------------------------


@router.post("/curate/status")
async def change_status(request: Request) -> Response:
    """Submit, publish, return to draft or retract one material:
    ``POST /api/v1/materials/{id}/status`` with the signed-in key."""
    read = await _signed_in_form(request)
    if isinstance(read, Response):
        return read
    form, key, user = read
    ident, target, note = _text(form, "id"), _text(form, "status"), _text(form, "note")
    problems = []
    if not MATERIAL_ID.fullmatch(ident):
        problems.append(_problem("id", "give a material id (lower-case letters, digits, -)"))
    if target not in MOVES:
        problems.append(_problem("status", "choose one of " + ", ".join(MOVES)))
    if len(note) > MAX_NOTE:
        problems.append(_problem("note", f"at most {MAX_NOTE} characters"))
    if problems:
        return await workbench(request, user, status=400, problems=problems)
    body: dict[str, str] = {"status": target, **({"note": note} if note else {})}
    answer = await client.call(
        request,
        "POST",
        f"/api/v1/materials/{ident}/status",
        body=orjson.dumps(body),
        key=key,
    )
    if answer.ok:
        done = f"{MOVES[target]}:{ident}"
        return RedirectResponse(link("/curate", {"done": done}), status_code=303)
    status = answer.status if 400 <= answer.status < 500 else 502
    return await workbench(
        request,
        user,
        status=status,
        problems=answer.problems,
        problems_title=f"{ident} was not moved to {target.replace('_', ' ')}",
    )
