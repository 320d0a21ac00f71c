"""The names other modules have imported from here, on top of the search registries.

New code uses :mod:`biomatdb.search.request` (``SearchRequest``, the ``GET``
dependency, JSON objects) and :mod:`biomatdb.search.query` (``SearchQuery``).
"""

from __future__ import annotations

from biomatdb.kit.keyset import DEFAULT_LIMIT, MAX_LIMIT
from biomatdb.search.facets import FACETS as _FACET_REGISTRY
from biomatdb.search.query import MAX_TERMS, SearchQuery, build
from biomatdb.search.ranges import BOUND_TOLERANCE, PropertyRange, parse_property_range
from biomatdb.search.sorts import Sort, spellings

__all__ = [
    "BOUND_TOLERANCE",
    "DEFAULT_LIMIT",
    "FACETS",
    "MAX_LIMIT",
    "MAX_TERMS",
    "SORTS",
    "PropertyRange",
    "SearchQuery",
    "Sort",
    "parse_property_range",
    "parse_search",
]

FACETS = _FACET_REGISTRY.names()
SORTS = spellings()


def parse_search(
    *,
    q: str | None,
    classes: list[str],
    applications: list[str],
    degradable: bool | None,
    props: list[str],
    regulatory: list[str],
    supplier: str | list[str] | None,
    country: str | list[str] | None,
    sort: str | None,
    limit: int,
    facets: str | None,
) -> SearchQuery:
    """Validate raw parameters into a :class:`SearchQuery`, or raise a 400 naming every problem."""
    return build(
        {
            "q": q,
            "class": classes,
            "application": applications,
            "degradable": degradable,
            "prop": props,
            "regulatory": regulatory,
            "supplier": _listed(supplier),
            "country": _listed(country),
            "sort": sort,
            "limit": limit,
            "facets": facets,
        }
    )


def _listed(value: str | list[str] | None) -> list[str]:
    """A repeatable parameter given as one value (as before it was repeatable)."""
    return [value] if isinstance(value, str) else list(value or [])
