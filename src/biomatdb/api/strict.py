"""Strict query parameters: a parameter the endpoint does not take, or a repeat of
one that takes a single value, is a 400 that names it, lists what the endpoint
takes, and suggests the near miss (``clas`` -> did you mean ``class``?).

A typo must not silently change the science: ``?clas=metal`` used to answer every
material. One app-wide dependency reads the matched route's own declaration (the
same one FastAPI reads the parameters from), so a new endpoint is strict without
a line of its own.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections import Counter
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant

from biomatdb.errors import FieldProblem, InvalidParameter


def did_you_mean(name: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest choice, or nothing."""
    near = difflib.get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


def _repeatable(annotation: Any) -> bool:
    """Whether a parameter annotation takes several values (``list[str] | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_repeatable(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return _repeatable(typing.get_args(annotation)[0])
    return origin in (list, set, tuple, frozenset) or annotation in (list, set, tuple)


def _declared(route: Any) -> tuple[tuple[str, ...], frozenset[str]]:
    """The query parameter names a route takes, and those that take a single value
    (read once per route and kept on it)."""
    cached: tuple[tuple[str, ...], frozenset[str]] | None = getattr(
        route, "_biomatdb_query_parameters", None
    )
    if cached is not None:
        return cached
    names: list[str] = []
    single: set[str] = set()

    def walk(dependant: Dependant) -> None:
        for field in dependant.query_params:
            names.append(field.alias)
            if not _repeatable(field.field_info.annotation):
                single.add(field.alias)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    declared = (tuple(dict.fromkeys(names)), frozenset(single))
    route._biomatdb_query_parameters = declared
    return declared


async def strict_parameters(request: Request) -> None:
    """Refuse unknown and repeated single-valued query parameters (400, every one)."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant") or not request.query_params:
        return
    names, single = _declared(route)
    problems: list[FieldProblem] = []
    takes = ", ".join(names) if names else "no query parameters"
    counts = Counter(key for key, _ in request.query_params.multi_items())
    for key, count in counts.items():
        if key not in names:
            shown = key[:64]
            problems.append(
                FieldProblem(
                    shown,
                    f"unknown parameter {shown!r}{did_you_mean(shown, list(names))}; "
                    f"this endpoint takes {takes}",
                )
            )
        elif count > 1 and key in single:
            problems.append(FieldProblem(key, f"given {count} times; {key} takes one value"))
    if problems:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
