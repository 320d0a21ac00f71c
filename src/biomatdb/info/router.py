"""HTTP: ``GET /api/v1/info``, the terms and the state of the database; ``GET
/api/v1/me``, who the caller's key is."""

from __future__ import annotations

from fastapi import APIRouter, Request

from biomatdb.api.deps import SessionDep
from biomatdb.api.links import base_url
from biomatdb.api.wire import problem_responses
from biomatdb.auth.deps import Reader
from biomatdb.info import service
from biomatdb.info.schemas import Caller, InfoMeta, InfoPage
from biomatdb.info.service import may_do

router = APIRouter(prefix="/api/v1", tags=["service"])


@router.get("/info", response_model=InfoPage)
def info(request: Request, session: SessionDep) -> InfoPage:
    """What this service is (API and software versions), the data licence (CC BY 4.0)
    and how to attribute and cite it, when the data last changed, and how much it
    holds (published materials, public references and organizations, property values)."""
    data = service.info(session, base=base_url(request))
    return InfoPage(data=data, meta=InfoMeta(last_updated=data.last_updated))


@router.get("/me", response_model=Caller, responses=problem_responses(401))
def me(principal: Reader) -> Caller:
    """Who the API key in `Authorization` is: its name and role (`reader`, `curator`,
    `editor` or `admin`), and what that role may do. 401 without a valid key."""
    return Caller(name=principal.name, role=principal.role, may=may_do(principal.role))
