"""RFC 9457 problem details for every error answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from biomatdb.db import overload_kind
from biomatdb.errors import (
    BiomatdbError,
    DatabaseNotReady,
    QueryTimeout,
    ServiceUnavailable,
    WriteBusy,
)
from biomatdb.kit.paths import join
from biomatdb.settings import get_settings

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("biomatdb.api")

_TITLES = {
    400: ("invalid-parameter", "Invalid query parameter"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict with stored data"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-body", "Invalid request body"),
    428: ("precondition-required", "Precondition required"),
    500: ("internal-error", "Internal error"),
    503: ("service-unavailable", "Service unavailable"),
}


#: What each problem ``type`` means; served at ``/problems/{slug}`` so that the
#: ``type`` URI of every error resolves to documentation (RFC 9457, section 3.1.1).
PROBLEM_DOCS = {
    "invalid-parameter": "A query parameter is malformed or invalid; `errors` names each "
    "parameter (e.g. `prop[1]`) and says what to fix.",
    "not-found": "No resource has this id, or the caller may not see it (unpublished "
    "materials look absent to anonymous readers).",
    "method-not-allowed": "The resource exists but does not accept this HTTP method.",
    "invalid-body": "The request body is invalid; `errors` gives the JSON path of each problem.",
    "invalid-bundle": "The bundle is invalid; `errors` gives the JSON path of every problem "
    "(e.g. `materials[3].properties[0].unit`); nothing was written.",
    "conflict": "The request conflicts with stored data.",
    "unauthorized": "No or invalid credentials: send `Authorization: Bearer <api key>`.",
    "forbidden": "The credentials are valid but their role does not allow this.",
    "not-acceptable": "The server cannot produce a representation the client accepts.",
    "payload-too-large": "The request body is larger than the configured limit.",
    "unsupported-media-type": "The request body has a content type this endpoint does not accept.",
    "error": "An error without a more specific type.",
    "precondition-failed": "The If-Match ETag is not the material's current one: someone "
    "changed it since you read it. GET it again, reapply your change, and retry.",
    "precondition-required": "Changing a material needs If-Match with the ETag of its "
    "current version (from GET), so that concurrent edits cannot overwrite each other.",
    "internal-error": "An unexpected error on the server; it has been logged.",
    "query-timeout": "The request's database work ran longer than the configured limit "
    "(`BIOMATDB_QUERY_TIMEOUT_SECONDS`, default 5 s) and was stopped. Narrow the search "
    "(fewer terms, a selective filter) or retry later.",
    "write-busy": "Another write held the write lock longer than a writer may wait "
    "(`BIOMATDB_LOCK_TIMEOUT_SECONDS`); nothing was written. Retry after `Retry-After` "
    "seconds.",
    "rate-limited": "Too many requests from this API key or client address in the "
    "current window (`BIOMATDB_RATE_LIMIT_ANONYMOUS`, `BIOMATDB_RATE_LIMIT_KEY`); retry "
    "after `Retry-After` seconds. `RateLimit-Limit`, `RateLimit-Remaining` and "
    "`RateLimit-Reset` on every counted answer say where a client stands.",
    "database-not-ready": "The service's database is unreachable or not at the schema "
    "revision of this code (`GET /ready` says which); an operator runs "
    "`biomatdb db upgrade`. Retry after `Retry-After` seconds.",
    "service-unavailable": "The service cannot answer now; retry after `Retry-After` seconds.",
    "header-too-large": "The request line and headers together are larger than the server "
    "accepts (`BIOMATDB_MAX_HEADER_BYTES`, 16 KiB by default); the connection is closed. "
    "Send fewer or shorter headers: large data belongs in the request body.",
    "uri-too-long": "The request line (mostly the URL and its query string) is longer than "
    "the server accepts; the connection is closed. Send fewer or shorter query parameters.",
    "invalid-request": "The request is not valid HTTP/1.1 (malformed request line or header, "
    "invalid Content-Length, ...); the server cannot read it and closes the connection.",
    "request-timeout": "The request line and headers did not arrive within "
    "`BIOMATDB_HEADER_TIMEOUT_SECONDS` (10 s by default) of connecting or of the end of the "
    "previous response, or the body within `BIOMATDB_BODY_TIMEOUT_SECONDS` (30 s); the "
    "connection is closed. Send the request again.",
}


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    type_slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    default_slug, default_title = _TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": f"/problems/{type_slug or default_slug}",
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _location(loc: tuple[Any, ...]) -> tuple[str, str]:
    """(where, path) from a FastAPI error location: ('query', 'prop', 1) -> prop[1]."""
    where = str(loc[0]) if loc else ""
    if where == "body":  # the body itself is the empty path, as in bundle errors
        return where, join("", *loc[1:])
    return where, join("", *loc[1:]) if len(loc) > 1 else where


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""

    @app.exception_handler(BiomatdbError)
    async def domain_error(request: Request, exc: BiomatdbError) -> JSONResponse:
        return problem(
            exc.status,
            exc.detail,
            request=request,
            type_slug=exc.type_slug,
            title=exc.title,
            errors=[e.as_dict() for e in exc.errors] if exc.errors else None,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        in_body = False
        for item in exc.errors():
            where, path = _location(tuple(item.get("loc", ())))
            in_body = in_body or where == "body"
            errors.append({"path": path, "message": item.get("msg", "invalid")})
        status = 422 if in_body else 400
        detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
        return problem(status, detail, request=request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}; the API is described at /docs"
        return problem(
            exc.status_code, detail, request=request, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        stopped = database_limit(exc)
        if stopped is None:
            return await unexpected(request, exc)
        return await domain_error(request, stopped)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", request=request)


def database_limit(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for a database error caused by a limit (query or lock timeout), if it was."""
    kind = overload_kind(exc)
    settings = get_settings()
    if kind == "timeout":
        return QueryTimeout(settings.query_timeout_seconds)
    if kind == "busy":
        return WriteBusy(settings.lock_timeout_seconds)
    if schema_missing(exc):
        return DatabaseNotReady(
            "the database lacks a table or column this code needs (it is not migrated, "
            "or at an older revision)",
            "an operator runs: biomatdb db upgrade (GET /ready says where it stands)",
        )
    return None


def schema_missing(exc: BaseException) -> bool:
    """A table or column missing: PostgreSQL's 42P01 / 42703, SQLite's message."""
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) in ("42P01", "42703"):
        return True
    message = str(original or "")
    return message.startswith(("no such table", "no such column"))
