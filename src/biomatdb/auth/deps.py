"""Who is calling: ``Authorization: Bearer <api key>`` to a principal, and role checks."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from biomatdb.api.deps import SessionDep
from biomatdb.auth.keys import ROLE_RANK, Principal, authenticate
from biomatdb.errors import Forbidden, Unauthorized


async def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller's principal; None when no credentials are sent; 401 when they are bad.

    Anonymous reads, the common case, cost no database work and no thread hop.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("use 'Authorization: Bearer <api key>'")

    def lookup() -> Principal | None:
        principal = authenticate(session, key.strip())
        # End the lookup's read transaction: a request that then waits (for its
        # body, for the write lock) must not pin a pooled connection meanwhile.
        session.commit()
        return principal

    principal = await run_in_threadpool(lookup)
    if principal is None:
        raise Unauthorized("the API key is unknown or revoked")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require(role: str) -> Callable[[Principal | None], Coroutine[Any, Any, Principal]]:
    """A dependency that admits keys with at least ``role``'s rights."""
    rank = ROLE_RANK[role]

    async def check(principal: OptionalPrincipal) -> Principal:
        if principal is None:
            raise Unauthorized(f"this needs an API key with role {role} or above")
        if ROLE_RANK[principal.role] < rank:
            raise Forbidden(
                f"key {principal.name!r} has role {principal.role}; this needs {role} or above"
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require("reader"))]
Curator = Annotated[Principal, Depends(require("curator"))]
Editor = Annotated[Principal, Depends(require("editor"))]
Admin = Annotated[Principal, Depends(require("admin"))]
