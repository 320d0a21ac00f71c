"""HTTP: ``GET /api/v1/quality``, the data quality report (curators and above)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from biomatdb.api.deps import SessionDep
from biomatdb.api.wire import problem_responses
from biomatdb.auth.deps import Curator
from biomatdb.quality import service
from biomatdb.quality.schemas import QualityReport

router = APIRouter(prefix="/api/v1", tags=["curation"])


@router.get("/quality", response_model=QualityReport, responses=problem_responses(400, 401, 403))
def quality(
    session: SessionDep,
    principal: Curator,
    limit: Annotated[
        int,
        Query(ge=1, le=service.MAX_LIMIT, description="Findings listed per section."),
    ] = service.DEFAULT_LIMIT,
) -> QualityReport:
    """A curator's worklist: property values without a source DOI, class-generic values,
    outliers per property and material class (robust z-score on the log of the canonical
    value), materials without any property, one material's values of a property and
    specimen more than 3x apart, and organizations nothing links to. Each section counts
    every finding and lists the first `limit`. Computed once per data version (cached
    until the next write). Needs a key with role curator or above."""
    return QualityReport.model_validate(service.report(session, limit=limit))
