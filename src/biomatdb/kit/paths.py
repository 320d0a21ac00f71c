"""JSON paths in error reports: ``materials[3].properties[0].unit``."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from biomatdb.errors import FieldProblem


def join(prefix: str, *parts: str | int) -> str:
    """Append keys and list indexes to a JSON path."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


_FRIENDLY = {
    "extra_forbidden": "unknown field; remove it (see schemas/bundle.schema.json for the fields)",
    "missing": "required field is missing",
    "string_pattern_mismatch": None,  # depends on the field, see below
    "finite_number": "must be a finite number (NaN and Infinity are not allowed)",
}

_PATTERN_MESSAGES = {
    "doi": "not a DOI: expected '10.<registrant>/<suffix>', without 'https://doi.org/'",
    "url": "not a URL: expected http:// or https://",
    "website": "not a URL: expected http:// or https://",
    "pmid": "not a PubMed id: digits only",
    "gmdn": "not a GMDN term code: 1 to 8 digits",
}
_SLUG_MESSAGE = (
    "not a valid id: 1 to 128 characters, lower-case letters a-z, digits and '-', "
    "starting with a letter or digit"
)


def from_validation_error(prefix: str, error: ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into path + message problems under ``prefix``."""
    problems = []
    for item in error.errors(include_url=False):
        loc: Iterable[str | int] = item["loc"]
        path = join(prefix, *loc)
        kind = item["type"]
        message = _FRIENDLY.get(kind) or item["msg"]
        if kind == "string_pattern_mismatch":
            last = next((p for p in reversed(list(item["loc"])) if isinstance(p, str)), "")
            message = _PATTERN_MESSAGES.get(last, _SLUG_MESSAGE)
        elif kind == "value_error":
            message = item["msg"].removeprefix("Value error, ")
        problems.append(FieldProblem(path, message))
    return problems
