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
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InvalidBundle(
            f"{name} is not valid JSON",
            errors=[
                FieldProblem("", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
            ],
        ) from exc
    except ValueError as exc:
        raise not_a_bundle(name, str(exc)) from exc
    except RecursionError as exc:
        raise nested_too_deeply(name) from exc
    # PostgreSQL text cannot hold NUL: name every place that has one. The scan
    # of the whole document only runs when the text contains a NUL at all.
    if "\\u0000" in text or "\x00" in text:
        problems = nul_problems(document)
        if problems:
            raise InvalidBundle(f"{name} contains NUL characters", errors=problems)
    return document


def not_a_bundle(name: str, message: str) -> InvalidBundle:
    """The error of a document that is JSON but cannot be a bundle."""
    return InvalidBundle(f"{name} is not a valid bundle", errors=[FieldProblem("", message)])


def nested_too_deeply(name: str) -> InvalidBundle:
    """The error of a document nested deeper than the decoder goes (RecursionError)."""
    return InvalidBundle(
        f"{name} is nested too deeply",
        errors=[
            FieldProblem(
                "", "JSON nested too deeply to be a bundle (a bundle needs at most 6 levels)"
            )
        ],
    )


def nul_problems(value: Any, path: str = "") -> list[FieldProblem]:
    """A problem for every string of a decoded document that holds a NUL character."""
    return [
        FieldProblem(p, "contains a NUL character (\\u0000); remove it")
        for p in _nul_paths(value, path)
    ]


def _nul_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            shown = str(key).replace("\x00", "\\u0000")
            sub = f"{path}.{shown}" if path else shown
            found += [sub] if "\x00" in str(key) else []
            found += _nul_paths(item, sub)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nul_paths(item, f"{path}[{index}]")
    return found


def decode_ndjson(data: bytes, *, name: str = "body") -> dict[str, Any]:
    """NDJSON of materials as a bundle: the Nth non-blank line is ``materials[N-1]``."""
    materials: list[Any] = []
    problems: list[FieldProblem] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            materials.append(decode(line, name=f"line {number}"))
        except InvalidBundle as exc:
            problems += [
                FieldProblem(f"materials[{len(materials)}]", f"line {number}: {p.message}")
                for p in exc.errors
            ]
            materials.append(None)
    if problems:
        raise InvalidBundle(f"the NDJSON {name} has lines that are not JSON", errors=problems)
    return {"materials": materials}


#: File names read as NDJSON (one material per line) rather than one bundle.
NDJSON_SUFFIXES = (".ndjson", ".jsonl")


def read_file(path: Path) -> Any:
    """Read and decode a bundle file (``.ndjson`` / ``.jsonl``: one material per line)."""
    if path.suffix.lower() in NDJSON_SUFFIXES:
        return decode_ndjson(path.read_bytes(), name=str(path))
    return decode(path.read_bytes(), name=str(path))
