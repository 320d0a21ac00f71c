"""Who the browser is signed in as (the key in its cookie), asked of the API."""

from __future__ import annotations

from starlette.requests import Request

from biomatdb.web import client, security


async def signed_in_user(request: Request) -> dict[str, str] | None:
    """``{"name", "role"}`` of the cookie's key, or None (no key, or one the API no
    longer knows: revoked keys sign the browser out)."""
    key = security.key_of(request)
    if key is None:
        return None
    answer = await client.call(request, "GET", "/api/v1/me", key=key)
    if not answer.ok:
        return None
    who = answer.json()
    return {"name": str(who["name"]), "role": str(who["role"])}
