"""The FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biomatdb import __version__
from biomatdb.api import problems
from biomatdb.api.body import BodySizeLimit
from biomatdb.api.deps import SessionDep
from biomatdb.api.wire import problem_components, problem_responses
from biomatdb.bundles.schemas import Bundle
from biomatdb.changes.router import router as changes_router
from biomatdb.errors import NotFound
from biomatdb.imports.router import router as imports_router
from biomatdb.materials.router import router as materials_router
from biomatdb.materials.schemas import StatusChange
from biomatdb.organizations.router import router as organizations_router
from biomatdb.properties.router import router as properties_router
from biomatdb.references.router import router as references_router
from biomatdb.settings import get_settings

DESCRIPTION = """
biomatdb is an open, curated database of biomaterials: what they are made of,
their measured properties (each value as published, with its source, and
converted to a canonical unit), who supplies them, and the regulatory records of
devices that contain them.

* Search: `GET /api/v1/materials?q=titanium&prop=youngs_modulus:50..120:GPa`
* Every error is `application/problem+json` (RFC 9457) and names what to fix.
* Writes need `Authorization: Bearer <api key>` (keys: `biomatdb keys create`).
"""


def bundle_components() -> dict[str, Any]:
    """The bundle's JSON Schema (and its parts, e.g. MaterialIn) as OpenAPI components,
    for the request bodies of the write endpoints."""
    schema = Bundle.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    schema.pop("$schema", None)
    return {"Bundle": schema, **definitions}


class RefuseNul:
    """ASGI middleware: a NUL character in the path or query is a 400.

    PostgreSQL text cannot hold NUL; refusing it at the door keeps every
    parameter and id safe on both databases.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode()
            query = scope.get("query_string", b"")
            if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in query or b"\x00" in query:
                response = problems.problem(
                    400,
                    "the request contains a NUL character (%00); remove it",
                    errors=[
                        {
                            "path": "query" if b"%00" in query or b"\x00" in query else "path",
                            "message": "NUL characters are not allowed",
                        }
                    ],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: For every answer: JSON is never sniffed as HTML, never framed, sends no referrer.
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: The API's answers are data: nothing in them may load or run anything.
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
#: What the server itself answers (431, 408 ... in ``biomatdb.server``) carries too.
SECURITY_HEADERS = [*_COMMON_HEADERS, (b"content-security-policy", _API_CSP)]
#: Swagger UI and ReDoc (/docs, /redoc) load their scripts and styles from a CDN.
_DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    b"https://cdn.redoc.ly; worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware: hardening headers on every answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = _DOCS_CSP if path.startswith(_DOCS_PATHS) else _API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *_COMMON_HEADERS,
                    (b"content-security-policy", csp),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProblemType(BaseModel):
    type: str
    description: str


class Health(BaseModel):
    status: str
    database: str
    version: str


def create_app() -> FastAPI:
    """Build the application (``uvicorn --factory biomatdb.api.app:create_app``)."""
    app = FastAPI(
        title="biomatdb",
        version=__version__,
        summary="The open biomaterials database",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redoc",
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    problems.install(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(BodySizeLimit, limit=get_settings().max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: also on the answers of the others
    app.include_router(materials_router)
    app.include_router(imports_router)
    app.include_router(changes_router)
    app.include_router(organizations_router)
    app.include_router(references_router)
    app.include_router(properties_router)

    @app.get("/health", response_model=Health, tags=["service"])
    def health(session: SessionDep) -> Health:
        """Liveness and database reachability."""
        session.execute(text("SELECT 1"))
        return Health(status="ok", database=session.get_bind().dialect.name, version=__version__)

    @app.get(
        "/problems/{problem_type}",
        response_model=ProblemType,
        tags=["service"],
        responses=problem_responses(404),
    )
    def problem_type(problem_type: str) -> ProblemType:
        """What a problem ``type`` of an error answer means."""
        description = problems.PROBLEM_DOCS.get(problem_type)
        if description is None:
            raise NotFound(
                f"no problem type {problem_type!r}; known: "
                + ", ".join(sorted(problems.PROBLEM_DOCS))
            )
        return ProblemType(type=f"/problems/{problem_type}", description=description)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                license_info=app.license_info,
            )
            # Query-parameter errors are 400 problem documents, not FastAPI's 422.
            for path_item in schema.get("paths", {}).values():
                for method, operation in path_item.items():
                    responses = operation.get("responses", {})
                    if method == "get":  # query errors are 400 problems, not FastAPI's 422
                        responses.pop("422", None)
                    if "401" in responses:  # takes (or requires) an API key
                        operation["security"] = [
                            {"apiKey": []},
                            *([{}] if "403" not in responses else []),
                        ]
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            components.update(problem_components())
            schema["components"]["securitySchemes"] = {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `biomatdb keys create`.",
                }
            }
            components.update(bundle_components())
            status_change = StatusChange.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components.update(status_change.pop("$defs", {}))
            components["StatusChange"] = status_change
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
