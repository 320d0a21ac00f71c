"""Stable content hashes of JSON documents."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def json_hash(document: Any) -> str:
    """SHA-256 (hex) of ``document`` as JSON with sorted keys: equal content, equal hash."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def bytes_etag(body: bytes) -> str:
    """A strong entity tag for a representation: a hash of its bytes, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
