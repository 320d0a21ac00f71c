"""HTTP: importing a bundle (JSON) or NDJSON of materials; the same path as the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from biomatdb.api.body import JSON, NDJSON, decode_ndjson, media_type, read_body
from biomatdb.api.deps import SessionDep, run_write
from biomatdb.api.problems import problem
from biomatdb.api.wire import problem_responses
from biomatdb.auth.deps import Curator
from biomatdb.auth.keys import Principal
from biomatdb.bundles.reader import decode
from biomatdb.bundles.service import import_documents
from biomatdb.errors import Forbidden
from biomatdb.settings import get_settings

router = APIRouter(prefix="/api/v1/imports", tags=["curation"])

EDITOR_STATUSES = ("published", "retracted")


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int


class ImportReportOut(BaseModel):
    ok: bool
    dry_run: bool
    summary: str
    documents: list[str]
    references: Counts
    organizations: Counts
    materials: Counts
    property_values_written: int
    errors: list[dict[str, str]]


def _check_rights(principal: Principal, bundle: Any) -> None:
    if principal.at_least("editor") or not isinstance(bundle, dict):
        return
    materials = bundle.get("materials")
    if not isinstance(materials, list):
        return
    paths = [
        f"materials[{i}].status"
        for i, m in enumerate(materials)
        if isinstance(m, dict) and m.get("status") in EDITOR_STATUSES
    ]
    if paths:
        raise Forbidden(
            f"key {principal.name!r} (role {principal.role}) cannot import published or "
            f"retracted materials ({', '.join(paths[:10])}); import drafts and submit them",
        )


@router.post(
    "",
    response_model=ImportReportOut,
    responses={**problem_responses(400, 401, 403, 413, 415, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/Bundle"}},
                NDJSON: {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_bundle(
    request: Request,
    session: SessionDep,
    principal: Curator,
    dry_run: Annotated[bool, Query(description="validate and report; write nothing")] = False,
) -> Any:
    """Import a bundle: every error with its JSON path; 422 and nothing written on any error."""
    data = await read_body(request, accept=(JSON, NDJSON), limit=get_settings().max_body_bytes)
    bundle = decode_ndjson(data) if media_type(request) == NDJSON else decode(data, name="body")
    _check_rights(principal, bundle)

    def work() -> Any:
        # A savepoint, so that a dry run or a failed import undoes only itself.
        savepoint = session.begin_nested()
        try:
            report = import_documents(
                session,
                [("body", bundle)],
                dry_run=dry_run,
                actor=principal.name,
                may_change_shared=principal.at_least("editor"),
            )
        except BaseException:
            savepoint.rollback()
            raise
        if dry_run or not report.ok:
            savepoint.rollback()
        else:
            savepoint.commit()
        return report

    report = await run_in_threadpool(run_write, session, work)
    if not report.ok:
        return problem(
            422,
            report.summary(),
            request=request,
            type_slug="invalid-bundle",
            title="Invalid bundle",
            errors=report.errors,
            report=report.as_dict(),
        )
    return JSONResponse(report.as_dict())
