"""Opaque keyset cursors, bound to the filters and sort that produced them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from biomatdb.errors import FieldProblem, InvalidParameter

VERSION = 1


def encode(fingerprint: str, key: list[Any]) -> str:
    """A cursor that resumes after the row whose sort key is ``key``."""
    payload = orjson.dumps({"v": VERSION, "f": fingerprint, "k": key})
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode(cursor: str, fingerprint: str) -> list[Any]:
    """The sort key in ``cursor``; a 400 when it is malformed or from another search."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        payload = None
    if not (
        isinstance(payload, dict)
        and payload.get("v") == VERSION
        and isinstance(payload.get("k"), list)
        and isinstance(payload.get("f"), str)
    ):
        raise bad_cursor()
    if any(isinstance(v, str) and "\x00" in v for v in payload["k"]):
        raise bad_cursor()
    if payload["f"] != fingerprint:
        raise _bad(
            "was issued for different filters or sort; a cursor is valid only with "
            "the parameters of the request that returned it"
        )
    return list(payload["k"])


def _bad(message: str) -> InvalidParameter:
    return InvalidParameter(f"cursor {message}", errors=[FieldProblem("cursor", message)])


def bad_cursor() -> InvalidParameter:
    """The 400 for a cursor whose keyset this API could not have issued."""
    return _bad("is not a cursor from this API; pass meta.next_cursor exactly as received")
