"""HTTP: ``GET /api/v1/info``, the terms and the state of the database."""

from __future__ import annotations

from fastapi import APIRouter, Request

from biomatdb.api.deps import SessionDep
from biomatdb.api.links import base_url
from biomatdb.info import service
from biomatdb.info.schemas import InfoMeta, InfoPage

router = APIRouter(prefix="/api/v1", tags=["service"])


@router.get("/info", response_model=InfoPage)
def info(request: Request, session: SessionDep) -> InfoPage:
    """What this service is (API and software versions), the data licence (CC BY 4.0)
    and how to attribute and cite it, when the data last changed, and how much it
    holds (published materials, public references and organizations, property values)."""
    data = service.info(session, base=base_url(request))
    return InfoPage(data=data, meta=InfoMeta(last_updated=data.last_updated))
