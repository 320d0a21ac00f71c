"""The parameters of a search as received: from a URL query, or from a JSON object.

:class:`SearchRequest` holds the raw values by parameter name, already checked for
type: by FastAPI for a URL (an endpoint decorated with :func:`search_endpoint`), by
:meth:`SearchRequest.from_json` for an object, with the same paths and messages.
:meth:`SearchRequest.to_query` validates them into a :class:`SearchQuery`. The
parameters come from the registries, so a new filter, sort or facet appears in the
URL, the JSON object and the OpenAPI document without an edit here.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_type_hints

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from biomatdb.errors import BiomatdbError, FieldProblem, InvalidParameter
from biomatdb.kit.paths import join
from biomatdb.search import query as queries
from biomatdb.search.base import Parameter

R = TypeVar("R")

CURSOR = Parameter(
    "cursor", str | None, None, "meta.next_cursor of the previous page", max_length=2000
)


def parameters() -> tuple[Parameter, ...]:
    """Every parameter of ``GET /api/v1/materials``, in the order they are documented."""
    return (
        *queries.filter_parameters(),
        queries.SORT,
        queries.LIMIT,
        CURSOR,
        queries.FACETS_PARAMETER,
    )


PARAMETERS = parameters()
#: The parameters that take several values (a JSON object may give one bare).
REPEATABLE = frozenset(p.name for p in PARAMETERS if typing.get_origin(p.annotation) is list)
#: The parameters that select materials (a JSON ``filter`` takes only these).
FILTER_PARAMETERS = tuple(p.name for p in queries.filter_parameters())


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """Raw search parameters by name (``class``, ``prop`` ...), every one present."""

    values: Mapping[str, Any]

    @property
    def cursor(self) -> str | None:
        cursor: str | None = self.values.get("cursor")
        return cursor

    def to_query(self) -> queries.SearchQuery:
        """Validate into a :class:`SearchQuery`; a 400 naming every problem."""
        return queries.build(self.values)

    @classmethod
    def from_json(cls, data: object, *, allowed: Collection[str] | None = None) -> SearchRequest:
        """The parameters of a JSON object (repeatable ones as lists; null = absent).

        ``allowed``: the names it may hold (default: every parameter; a JSON filter
        passes :data:`FILTER_PARAMETERS`). Problems are a 400
        (:class:`InvalidParameter`) whose paths are those of the same problems in
        a URL (``limit``, ``prop[1]``); a caller nesting the object (``filter``)
        prefixes them.
        """
        names = [p.name for p in PARAMETERS if allowed is None or p.name in allowed]
        if not isinstance(data, dict):
            message = "must be a JSON object of search parameters"
            raise InvalidParameter(message, errors=[FieldProblem("", message)])
        problems = [
            FieldProblem(str(key), f"unknown parameter; choose from {', '.join(names)}")
            for key in data
            if key not in names
        ]
        given = {
            # One value of a repeatable parameter may be given bare, as in a URL.
            key: [value] if key in REPEATABLE and isinstance(value, str | int | float) else value
            for key, value in data.items()
            if key in names and value is not None
        }
        try:
            checked = _JSON_MODEL.model_validate(given)
        except ValidationError as exc:
            problems += [
                FieldProblem(join("", *error["loc"]), error["msg"])
                for error in exc.errors(include_url=False)
            ]
        if problems:
            raise InvalidParameter(
                "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
            )
        return cls({p.name: getattr(checked, p.identifier) for p in PARAMETERS})


def query_from_json(
    data: object,
    *,
    allowed: Collection[str] | None = None,
    prefix: str = "",
    error: type[BiomatdbError] = InvalidParameter,
) -> queries.SearchQuery:
    """A validated search from a JSON object, its problems raised as ``error`` with
    paths under ``prefix``: ``POST /rank`` takes its ``filter`` with
    ``allowed=FILTER_PARAMETERS, prefix="filter", error=InvalidBody``
    (``filter.prop[1]``, a 422)."""
    try:
        return SearchRequest.from_json(data, allowed=allowed).to_query()
    except InvalidParameter as exc:
        if not prefix and error is InvalidParameter:
            raise
        problems = [
            FieldProblem(join(prefix, p.path) if p.path else prefix, p.message) for p in exc.errors
        ]
        detail = "; ".join(f"{p.path}: {p.message}" for p in problems)
        raise error(detail, errors=problems) from None


def search_endpoint(endpoint: Callable[..., R]) -> Callable[..., R]:
    """Decorate an endpoint that takes ``search: SearchRequest``.

    FastAPI then reads (and documents) every search parameter as a query parameter
    of the endpoint itself, and the endpoint receives them as one SearchRequest.
    Not a sub-dependency: FastAPI analyses those again on every request whenever
    ``dependency_overrides`` is set (3 ms for these parameters); an endpoint's own
    parameters are analysed once.
    """
    return taking(*(p.name for p in PARAMETERS))(endpoint)


def taking(*names: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """:func:`search_endpoint` for an endpoint that takes only the search parameters
    ``names`` (e.g. the filters, ``limit`` and ``cursor``); the others keep their
    defaults, so that an endpoint with no ``sort`` answers in its own order."""
    chosen = [p for p in PARAMETERS if p.name in names]
    unknown = set(names) - {p.name for p in PARAMETERS}
    if unknown:
        raise TypeError(f"no search parameter {sorted(unknown)}")

    def decorate(endpoint: Callable[..., R]) -> Callable[..., R]:
        return _with_parameters(endpoint, chosen)

    return decorate


def _with_parameters(endpoint: Callable[..., R], chosen: list[Parameter]) -> Callable[..., R]:
    signature = inspect.signature(endpoint)
    hints = get_type_hints(endpoint, include_extras=True)
    own = [
        parameter.replace(annotation=hints.get(name, parameter.annotation))
        for name, parameter in signature.parameters.items()
        if name != "search"
    ]
    clash = {p.name for p in own} & {p.identifier for p in PARAMETERS}
    if "search" not in signature.parameters or clash:
        raise TypeError(f"{endpoint.__name__} must take 'search' and none of {sorted(clash)}")
    taken = {p.identifier for p in chosen}

    def request_of(values: dict[str, Any]) -> SearchRequest:
        return SearchRequest(
            {
                p.name: values.pop(p.identifier) if p.identifier in taken else p.default
                for p in PARAMETERS
            }
        )

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def wrapper(*args: Any, **values: Any) -> Any:
            return await endpoint(*args, search=request_of(values), **values)

    else:

        @functools.wraps(endpoint)
        def wrapper(*args: Any, **values: Any) -> Any:
            return endpoint(*args, search=request_of(values), **values)

    # The endpoint's own parameters with a default (``units``, ``format``) are
    # documented after the search's; those without (request, session) lead.
    leading = [p for p in own if p.default is inspect.Parameter.empty]
    trailing = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in own
        if p.default is not inspect.Parameter.empty
    ]
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*leading, *(_query_parameter(p) for p in chosen), *trailing],
        return_annotation=hints.get("return", signature.return_annotation),
    )
    return wrapper  # type: ignore[return-value]


def _query_parameter(parameter: Parameter) -> inspect.Parameter:
    """A keyword parameter that FastAPI reads and documents as a query parameter."""
    query = Query(
        alias=parameter.name if parameter.identifier != parameter.name else None,
        description=parameter.doc,
        max_length=parameter.max_length,
        json_schema_extra=parameter.schema_extra(),
        examples=list(parameter.examples) or None,
    )
    return inspect.Parameter(
        parameter.identifier,
        inspect.Parameter.KEYWORD_ONLY,
        default=parameter.default,
        annotation=Annotated[parameter.annotation, query],
    )


def _json_model() -> type[BaseModel]:
    """The pydantic model that type-checks a JSON object as FastAPI checks a URL."""
    fields: dict[str, Any] = {
        p.identifier: (
            p.annotation,
            Field(
                default=p.default,
                alias=p.name if p.identifier != p.name else None,
                max_length=p.max_length,
            ),
        )
        for p in PARAMETERS
    }
    config = ConfigDict(populate_by_name=False, extra="ignore")
    model: type[BaseModel] = create_model("SearchObject", __config__=config, **fields)
    return model


_JSON_MODEL = _json_model()
