"""A validated search (:class:`SearchQuery`), and the validation that builds it.

Every problem is collected (not just the first) and reported as one 400 whose
``errors`` name the parameter (``prop[1]``) and say what to fix: the filters' in
their registration order, then ``sort``, ``limit`` and ``facets``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from biomatdb import catalogue
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.kit.keyset import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.search.base import Parameter
from biomatdb.search.facets import FACETS
from biomatdb.search.filters import FILTERS
from biomatdb.search.sorts import DEFAULT_SORT, Sort, parse_sort, spellings


@dataclass(init=False, eq=True)
class SearchQuery:
    """A validated search: each active filter's value by filter name, the order, the
    page size and the facets asked for.

    ``SearchQuery(ranges=[...], sort=...)``: keywords other than ``sort``, ``limit``
    and ``facets`` are filter names (see ``FILTERS``); None means no constraint.
    """

    filters: dict[str, Any]
    sort: Sort
    limit: int
    facets: list[str]

    def __init__(
        self,
        *,
        sort: Sort = DEFAULT_SORT,
        limit: int = DEFAULT_LIMIT,
        facets: list[str] | None = None,
        **filters: Any,
    ) -> None:
        unknown = [name for name in filters if name not in FILTERS]
        if unknown:
            raise TypeError(f"unknown filter {unknown[0]!r}; filters: {FILTERS.names()}")
        self.filters = {name: value for name, value in filters.items() if value is not None}
        self.sort = sort
        self.limit = limit
        self.facets = list(facets or [])

    def value(self, name: str) -> Any:
        """A filter's value (None when it does not constrain the search)."""
        return self.filters.get(name)

    def fingerprint(self) -> str:
        """Identifies the filters and sort (not limit or facets): a cursor is bound to it.

        The payload is each filter's entries in registration order, then the sort;
        it must not change for a search that existed before, or its cursors (and
        cached counts) would be lost.
        """
        payload: dict[str, Any] = {}
        for filter_ in FILTERS:
            entries = filter_.fingerprint(self.filters.get(filter_.name))
            if not entries.keys().isdisjoint(payload) or "sort" in entries:
                raise RuntimeError(f"filter {filter_.name!r} reuses a fingerprint key")
            payload.update(entries)
        payload["sort"] = self.sort.text
        return hashlib.sha256(orjson.dumps(payload)).hexdigest()[:16]


def sort_choices() -> tuple[str, ...]:
    """Every ``sort`` value, ``KEY`` written out for each catalogue property (the
    OpenAPI ``enum``; ``parse_sort`` checks)."""
    choices: list[str] = []
    for spelling in spellings():
        name, colon, argument = spelling.partition(":")
        if colon and argument == "KEY":
            choices += [f"{name}:{key}" for key in (p.key for p in catalogue.CATALOGUE)]
        elif not colon:
            choices.append(spelling)
    return tuple(choices)


_FACET_NAME = f"\\s*({'|'.join(FACETS.names())})?\\s*"

SORT = Parameter(
    "sort",
    str | None,
    None,
    ", ".join(
        f"{spelling} (default)" if spelling == DEFAULT_SORT.text else spelling
        for spelling in spellings()
    )
    + "; ties broken by id",
    max_length=200,
    enum=sort_choices(),
    examples=("-updated_at", "prop:youngs_modulus"),
)
LIMIT = Parameter(
    "limit", int, DEFAULT_LIMIT, f"Page size, 1 to {MAX_LIMIT}", examples=(DEFAULT_LIMIT, 100)
)
FACETS_PARAMETER = Parameter(
    "facets",
    str | None,
    None,
    f"Comma list of {', '.join(FACETS.names())}: counts over the filtered set",
    max_length=200,
    pattern=f"^{_FACET_NAME}(,{_FACET_NAME})*$",
    examples=("class,application", "regulatory,country"),
)


def filter_parameters() -> tuple[Parameter, ...]:
    """The parameters of every registered filter, in registration order."""
    return tuple(parameter for filter_ in FILTERS for parameter in filter_.parameters)


def max_terms() -> dict[str, int]:
    """The cap of each repeatable parameter, in the order the caps are checked."""
    capped = [p for p in filter_parameters() if p.max_terms is not None]
    capped.sort(key=lambda p: not p.subquery_per_term)
    return {p.name: p.max_terms for p in capped if p.max_terms is not None}


#: Most terms of each repeatable parameter. Every ``prop`` and ``regulatory`` term
#: is one more subquery to plan and run (200 terms took 41 s on PostgreSQL), and
#: each distinct count is one more compiled statement to cache.
MAX_TERMS = max_terms()


def build(raw: Mapping[str, Any]) -> SearchQuery:
    """Validate raw parameters (by parameter name; absent ones take their default)
    into a :class:`SearchQuery`, or raise a 400 naming every problem."""
    _check_caps(raw)
    problems: list[FieldProblem] = []
    filters: dict[str, Any] = {f.name: f.parse(raw, problems) for f in FILTERS}
    query = SearchQuery(**filters)
    sort = raw.get("sort")
    if sort is not None:
        query.sort = parse_sort(sort, problems) or query.sort
    limit = raw.get("limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}; got {limit}"))
    query.limit = limit
    query.facets = _facets(raw.get("facets"), problems)
    if problems:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    return query


def _check_caps(raw: Mapping[str, Any]) -> None:
    for name, cap in MAX_TERMS.items():
        given = raw.get(name) or []
        if len(given) > cap:
            # Refused before any term is parsed: the cost of a request is bounded
            # by the limits, not by what the client sends.
            raise InvalidParameter(
                f"{name}: at most {cap} terms; got {len(given)}",
                errors=[
                    FieldProblem(name, f"at most {cap} {name} terms per search; got {len(given)}")
                ],
            )


def _facets(text: str | None, problems: list[FieldProblem]) -> list[str]:
    chosen: list[str] = []
    for name in (part.strip() for part in (text or "").split(",")):
        if not name:
            continue
        if name not in FACETS:
            problems.append(
                FieldProblem(
                    "facets", f"unknown facet {name!r}; choose from {', '.join(FACETS.names())}"
                )
            )
        elif name not in chosen:
            chosen.append(name)
    return chosen
