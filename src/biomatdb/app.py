"""The FastAPI application: every feature's router, the problem handlers and the
middleware, assembled (the top of the layers; see docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware

from biomatdb import __version__, migrations
from biomatdb.api import docs, problems
from biomatdb.api.body import BodySizeLimit
from biomatdb.api.deps import SessionDep
from biomatdb.api.middleware import Gzip, HeadAsGet, RefuseNul, SecurityHeaders, TrailingSlash
from biomatdb.api.observe import Observe, metrics_text
from biomatdb.api.ratelimit import RateLimit, counters_for
from biomatdb.api.strict import strict_parameters
from biomatdb.api.wire import problem_components, problem_responses
from biomatdb.auth.deps import optional_principal
from biomatdb.bundles.schemas import Bundle
from biomatdb.changes.router import router as changes_router
from biomatdb.charts.router import router as charts_router
from biomatdb.db import get_engine
from biomatdb.errors import NotFound
from biomatdb.exchange.router import router as exchange_router
from biomatdb.info.router import router as info_router
from biomatdb.materials.router import router as materials_router
from biomatdb.materials.schemas import StatusChange
from biomatdb.organizations.router import router as organizations_router
from biomatdb.properties.router import router as properties_router
from biomatdb.quality.router import router as quality_router
from biomatdb.references.router import router as references_router
from biomatdb.selection.router import router as selection_router
from biomatdb.selection.schemas import RankIn
from biomatdb.settings import get_settings, parse_limit
from biomatdb.values.router import router as values_router
from biomatdb.web.router import install as install_pages

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


class ProblemType(BaseModel):
    type: str
    description: str


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(description="The database's kind: sqlite or postgresql.")
    version: str


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    database: str = Field(description="The database's kind: sqlite or postgresql.")
    revision: str = Field(description="The schema revision it is at (this code's head).")
    version: str


#: gzip compression level of answers over 1 KB (1: fastest; see create_app).
GZIP_LEVEL = 1


def create_app() -> FastAPI:
    """Build the application (``uvicorn --factory biomatdb.app:create_app``)."""
    app = FastAPI(
        title="biomatdb",
        version=__version__,
        summary="The open biomaterials database",
        description=DESCRIPTION,
        docs_url=None,  # served by docs.install, with local assets (no CDN)
        redoc_url=None,
        redirect_slashes=False,  # TrailingSlash answers /path/ as /path, no 307
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    problems.install(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(BodySizeLimit, limit=get_settings().max_body_bytes)
    # Streams stay streamed. Level 1, not Starlette's 9: measured on a 4.9 MB ranking,
    # 8 ms against 59 ms for a body 20% larger; at 9 the CSV export of 100k materials
    # took 6.3 s instead of 3.4 s and a ranking of 10,000 candidates 325 ms, not 102.
    app.add_middleware(Gzip, minimum_size=1024, compresslevel=GZIP_LEVEL)
    app.add_middleware(HeadAsGet)  # outside gzip: HEAD has GET's headers, encoding included
    app.add_middleware(TrailingSlash)
    cors_origins = [o.strip() for o in get_settings().cors_origins.split(",") if o.strip()]
    if cors_origins:  # off by default: no Access-Control-* header unless configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location", "Retry-After", "Content-Disposition"],
            max_age=600,
        )
    settings = get_settings()
    app.add_middleware(
        RateLimit,
        anonymous=parse_limit(settings.rate_limit_anonymous),
        keyed=parse_limit(settings.rate_limit_key),
        # made at the first counted request, in the worker process that serves it
        counters=lambda: counters_for(settings.database_url, settings.redis_url),
    )
    app.add_middleware(SecurityHeaders)  # also on the answers of the others
    app.add_middleware(Observe)  # outermost: times all, a request id on every answer
    # Every API route refuses query parameters it does not take (api/strict.py). The
    # API's routers come first: a request is matched against the routes in order, and
    # most requests are API calls (the pages and documentation follow).
    # A bad key is a 401 on every API route, also where a key changes nothing (a
    # search): a caller who means to use a key never gets anonymous answers silently.
    # No work for anonymous requests; one lookup per request otherwise (cached by
    # FastAPI for the routes that need the principal too).
    strict = [Depends(strict_parameters), Depends(optional_principal)]
    for router in (
        materials_router,
        exchange_router,
        changes_router,
        organizations_router,
        references_router,
        properties_router,
        selection_router,
        charts_router,
        values_router,
        info_router,
        quality_router,
        service_router,
    ):
        app.include_router(router, dependencies=strict)
    docs.install(app)
    install_pages(app)  # the pages read their own query, and pass the rest to the API

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


service_router = APIRouter(tags=["service"])


@service_router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Liveness: the process answers. It does not touch the database (see ``/ready``),
    so a load balancer does not restart workers while the database is away."""
    return Health(status="ok", database=session.get_bind().dialect.name, version=__version__)


@service_router.get("/ready", response_model=Ready, responses=problem_responses(503))
def ready(session: SessionDep) -> Ready:
    """Readiness: the database is reachable and at the schema revision of this code;
    else 503 with a problem that says what is wrong (``database-not-ready``)."""
    bind = session.get_bind()
    if get_settings().database_read_url:  # the primary and its read replica, both
        for engine in (get_engine(bounded=True, replica=True), get_engine(bounded=True)):
            revision = migrations.check_current(engine)
    else:
        revision = migrations.check_current(bind)
    return Ready(status="ready", database=bind.dialect.name, revision=revision, version=__version__)


@service_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus metrics"}},
)
def metrics(session: SessionDep) -> Response:
    """Prometheus metrics in the text exposition format: requests per method, route
    template and status, latency histograms per route, database pool connections,
    imports; summed over the worker processes. Restrict it to your scraper at the
    reverse proxy (deploy/)."""
    body, media_type = metrics_text(session.get_bind().engine.pool)
    return Response(body, media_type=media_type)


@service_router.get(
    "/problems/{problem_type}", response_model=ProblemType, responses=problem_responses(404)
)
def problem_type(problem_type: str) -> ProblemType:
    """What a problem ``type`` of an error answer means."""
    description = problems.PROBLEM_DOCS.get(problem_type)
    if description is None:
        raise NotFound(
            f"no problem type {problem_type!r}; known: " + ", ".join(sorted(problems.PROBLEM_DOCS))
        )
    return ProblemType(type=f"/problems/{problem_type}", description=description)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI document, with problem answers, security and the bundle schemas."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        license_info=app.license_info,
    )
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
    for model in (StatusChange, RankIn):  # request bodies read by hand (see openapi_extra)
        body = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    return schema
