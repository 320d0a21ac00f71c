"""Decoding bundle documents (JSON) with errors that say where the problem is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biomatdb.errors import FieldProblem, InvalidBundle


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in one JSON object")
        result[key] = value
    return result


def decode(data: str | bytes, *, name: str = "bundle") -> Any:
    """Decode one JSON document.

    NaN and Infinity are decoded (so validation can name the field that holds
    them); duplicate keys and absurd nesting are refused here.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InvalidBundle(
            f"{name} is not UTF-8 text",
            errors=[FieldProblem("", f"not UTF-8: {exc.reason} at byte {exc.start}")],
        ) from exc
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InvalidBundle(
            f"{name} is not valid JSON",
            errors=[
                FieldProblem("", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
            ],
        ) from exc
    except ValueError as exc:
        raise InvalidBundle(
            f"{name} is not a valid bundle", errors=[FieldProblem("", str(exc))]
        ) from exc
    except RecursionError as exc:
        raise InvalidBundle(
            f"{name} is nested too deeply",
            errors=[
                FieldProblem(
                    "", "JSON nested too deeply to be a bundle (a bundle needs at most 6 levels)"
                )
            ],
        ) from exc


def read_file(path: Path) -> Any:
    """Read and decode a bundle file."""
    return decode(path.read_bytes(), name=str(path))
