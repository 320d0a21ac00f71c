"""HTTP: importing a bundle (JSON) or NDJSON of materials; the same path as the CLI."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from biomatdb.api import observe
from biomatdb.api.body import JSON, NDJSON, decode_ndjson, media_type, read_body
from biomatdb.api.deps import SessionDep, in_write_slot, run_write
from biomatdb.api.problems import problem
from biomatdb.api.wire import problem_responses
from biomatdb.auth.deps import Curator
from biomatdb.bundles.reader import decode
from biomatdb.errors import PayloadTooLarge
from biomatdb.exchange.importer import (
    ImportReport,
    ValidatedImport,
    validate_documents,
    write_documents,
)
from biomatdb.exchange.plan import plan_documents
from biomatdb.exchange.schemas import ImportReportOut
from biomatdb.materials import workflow
from biomatdb.settings import get_settings

router = APIRouter(prefix="/api/v1/imports", tags=["curation"])


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
    """Import a bundle: every error with its JSON path; 422 and nothing written on any error.

    At most ``BIOMATDB_MAX_IMPORT_ENTRIES`` (default 1,000) references,
    organizations and materials in all per request; larger loads go through the
    CLI (``biomatdb import``). Validation and dry runs do not block other writers.
    """
    data = await read_body(request, accept=(JSON, NDJSON), limit=get_settings().max_body_bytes)
    if media_type(request) == NDJSON:
        # Counted before decoding: 240k tiny lines would cost a gigabyte as objects.
        _check_count(sum(1 for line in data.splitlines() if line.strip()))
        bundle = decode_ndjson(data)
    else:
        bundle = decode(data, name="body")
    _check_size(bundle)
    materials = bundle.get("materials") if isinstance(bundle, dict) else None
    # What the role may not do is reported with everything else that is wrong (one
    # answer to fix it all), as a 403: nothing of it is validated away.
    forbidden = (
        workflow.editor_status_paths(
            principal, [(f"materials[{i}]", entry) for i, entry in enumerate(materials)]
        )
        if isinstance(materials, list)
        else []
    )
    may_change = principal.at_least("editor")

    def check() -> tuple[ImportReport, ValidatedImport | None]:
        """Validate (and plan a dry run) reading only, without the write lock; the
        read transaction ends here, so the write that follows holds the lock alone."""
        try:
            validated = validate_documents(session, [("body", bundle)], dry_run=dry_run)
            if not validated.report.ok:
                return validated.report, None
            if dry_run:
                return plan_documents(session, validated, may_change_shared=may_change), None
            return validated.report, validated
        finally:
            session.commit()

    if forbidden:
        report, _ = await run_in_threadpool(lambda: check_only(session, bundle))
        return _forbidden(request, principal, forbidden, report)
    report, to_write = await run_in_threadpool(check)
    if to_write is not None:
        write = partial(
            write_documents, session, to_write, actor=principal.name, may_change_shared=may_change
        )
        report = await in_write_slot(request, run_write, session, write)
    observe.count_import(
        "refused" if not report.ok else "dry_run" if dry_run else "written",
        report.materials.created + report.materials.updated if report.ok and not dry_run else 0,
    )
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


def check_only(session: Any, bundle: Any) -> tuple[ImportReport, None]:
    """Validate a bundle that will not be written (its problems are reported)."""
    try:
        return validate_documents(session, [("body", bundle)], dry_run=True).report, None
    finally:
        session.commit()


def _forbidden(
    request: Request, principal: Any, paths: list[str], report: ImportReport
) -> JSONResponse:
    """403 naming every status the role may not set, and every other problem."""
    message = (
        f"role {principal.role} cannot set status published or retracted; write drafts "
        "and submit them for review (POST /api/v1/materials/{id}/status)"
    )
    errors = [{"path": path, "message": message} for path in paths] + report.errors
    detail = (
        f"key {principal.name!r} (role {principal.role}) cannot set status published or "
        f"retracted ({', '.join(paths[:10])})"
        + (f"; and {len(report.errors)} other problem(s)" if report.errors else "")
        + "; nothing was written"
    )
    return problem(403, detail, request=request, errors=errors, report=report.as_dict())


def _check_size(bundle: Any) -> None:
    """413 when the body carries more entries than one request may (the CLI has no limit)."""
    if not isinstance(bundle, dict):
        return
    _check_count(
        sum(
            len(bundle[key]) if isinstance(bundle.get(key), list) else 0
            for key in ("references", "organizations", "materials")
        )
    )


def _check_count(count: int) -> None:
    limit = get_settings().max_import_entries
    if count > limit:
        raise PayloadTooLarge(
            f"the bundle has {count} entries; at most {limit} are imported per request. "
            "Split it, or load it with the CLI (biomatdb import FILE)"
        )
