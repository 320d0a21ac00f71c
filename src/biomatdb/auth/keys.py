"""Creating, listing, revoking and checking API keys.

A key looks like ``bmdb_<lookup>_<secret>``: the prefix makes a leaked key
recognisable (secret scanners can match it), the lookup part finds its row,
and only the SHA-256 of the whole key is stored. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.errors import Conflict, FieldProblem, InvalidParameter, NotFound
from biomatdb.models.api_key import ROLES, ApiKey
from biomatdb.models.base import utcnow

PREFIX = "bmdb_"

#: What each role may do, cumulatively (contract section 5).
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's name and role (never the key itself)."""

    name: str
    role: str

    def at_least(self, role: str) -> bool:
        """Whether this principal's role includes ``role``'s rights."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, *, name: str, role: str) -> tuple[ApiKey, str]:
    """Create a key; return its row and the key, which is never stored nor shown again."""
    if role not in ROLES:
        raise InvalidParameter(
            f"unknown role {role!r}",
            errors=[FieldProblem("role", f"choose from {', '.join(ROLES)}")],
        )
    if not name.strip() or len(name) > 200:
        raise InvalidParameter(
            "a key needs a name of 1 to 200 characters",
            errors=[FieldProblem("name", "1 to 200 characters")],
        )
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"a key named {name!r} exists already; names identify keys in the history")
    lookup = secrets.token_hex(6)
    key = f"{PREFIX}{lookup}_{secrets.token_urlsafe(32)}"
    row = ApiKey(lookup=lookup, key_hash=_digest(key), name=name, role=role)
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first (hashes included only for the caller's own use)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)))


def revoke_key(session: Session, name: str) -> ApiKey:
    """Revoke a key by name; it stops working at once."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFound(f"no key named {name!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key, or ``None``."""
    if not key.startswith(PREFIX):
        return None
    lookup, _, secret = key[len(PREFIX) :].partition("_")
    if not lookup or not secret or len(lookup) > 16:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.lookup == lookup))
    # Hash and compare even when there is no row, so timing does not reveal lookups.
    expected = row.key_hash if row is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(key))
    if row is None or not matches or row.revoked_at is not None:
        return None
    return Principal(name=row.name, role=row.role)
