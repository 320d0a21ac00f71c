"""Parsing and validating the search parameters of ``GET /api/v1/materials``.

Every problem is collected (not just the first) and reported as a 400 whose
``errors`` name the parameter (``prop[1]``) and say what to fix.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import orjson
import pycountry

from biomatdb import catalogue, units
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.search import fulltext
from biomatdb.vocab import (
    Application,
    Jurisdiction,
    MaterialClass,
    RegulatoryStatus,
    values,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 20
FACETS = ("class", "application", "regulatory", "country", "degradable")
SORTS = ("name", "-name", "updated_at", "-updated_at", "prop:KEY", "-prop:KEY")
#: Relative slack on range bounds so that unit round trips (ksi -> MPa) still match.
BOUND_TOLERANCE = 1e-9
#: Most terms of each repeatable parameter. Every ``prop`` and ``regulatory`` term
#: is one more subquery to plan and run (200 terms took 41 s on PostgreSQL), and
#: each distinct count is one more compiled statement to cache.
MAX_TERMS = {"prop": 20, "regulatory": 20, "class": 20, "application": 50}


@dataclass(frozen=True, slots=True)
class PropertyRange:
    """A ``prop`` filter, converted to the property's canonical unit."""

    key: str
    low: float | None
    high: float | None
    expression: str


@dataclass(frozen=True, slots=True)
class Sort:
    """The result order: a field (``name``, ``updated_at``, or a property key) and a direction."""

    field: str
    descending: bool
    property_key: str | None = None

    @property
    def text(self) -> str:
        base = f"prop:{self.property_key}" if self.property_key else self.field
        return ("-" if self.descending else "") + base


@dataclass
class SearchQuery:
    """A validated search."""

    words: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)
    degradable: bool | None = None
    ranges: list[PropertyRange] = field(default_factory=list)
    regulatory: list[tuple[str, str | None]] = field(default_factory=list)
    supplier: str | None = None
    country: str | None = None
    sort: Sort = field(default_factory=lambda: Sort("name", False))
    limit: int = DEFAULT_LIMIT
    facets: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Identifies the filters and sort (not limit or facets): a cursor is bound to it.

        Bounds enter as ``repr`` (exact, and distinct for every float), never as
        JSON numbers, which would turn inf and NaN into ``null`` and make two
        different searches share a fingerprint (and cached counts).
        """
        payload = {
            "q": self.words,
            "class": sorted(self.classes),
            "app": sorted(self.applications),
            "deg": self.degradable,
            "prop": sorted((r.key, repr(r.low), repr(r.high)) for r in self.ranges),
            "reg": sorted((j, s or "") for j, s in self.regulatory),
            "sup": self.supplier,
            "cty": self.country,
            "sort": self.sort.text,
        }
        return hashlib.sha256(orjson.dumps(payload)).hexdigest()[:16]


def parse_search(
    *,
    q: str | None,
    classes: list[str],
    applications: list[str],
    degradable: bool | None,
    props: list[str],
    regulatory: list[str],
    supplier: str | None,
    country: str | None,
    sort: str | None,
    limit: int,
    facets: str | None,
) -> SearchQuery:
    """Validate raw parameters into a :class:`SearchQuery`, or raise a 400 naming every problem."""
    problems: list[FieldProblem] = []
    for name, given in (
        ("prop", props),
        ("regulatory", regulatory),
        ("class", classes),
        ("application", applications),
    ):
        if len(given) > MAX_TERMS[name]:
            # Refused before any term is parsed: the cost of a request is bounded
            # by the limits, not by what the client sends.
            raise InvalidParameter(
                f"{name}: at most {MAX_TERMS[name]} terms; got {len(given)}",
                errors=[
                    FieldProblem(
                        name,
                        f"at most {MAX_TERMS[name]} {name} terms per search; got {len(given)}",
                    )
                ],
            )
    query = SearchQuery(degradable=degradable, supplier=supplier or None)
    if q is not None:
        query.words = fulltext.words(q)
        if len(query.words) > fulltext.MAX_QUERY_WORDS:
            problems.append(
                FieldProblem(
                    "q", f"too many words ({len(query.words)}); at most {fulltext.MAX_QUERY_WORDS}"
                )
            )
    query.classes = _vocabulary("class", classes, values(MaterialClass), problems)
    query.applications = _vocabulary("application", applications, values(Application), problems)
    for index, expression in enumerate(props):
        parsed = parse_property_range(expression, f"prop[{index}]", problems)
        # A repeated range (the same bounds, whatever the spelling) is one constraint.
        if parsed is not None and all(
            (r.key, r.low, r.high) != (parsed.key, parsed.low, parsed.high) for r in query.ranges
        ):
            query.ranges.append(parsed)
    for index, expression in enumerate(regulatory):
        parsed_reg = _regulatory(expression, f"regulatory[{index}]", problems)
        if parsed_reg is not None and parsed_reg not in query.regulatory:
            query.regulatory.append(parsed_reg)
    if country is not None:
        query.country = _country(country, problems)
    if sort is not None:
        query.sort = _sort(sort, problems) or query.sort
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_LIMIT}; got {limit}"))
    query.limit = limit
    if facets:
        for name in (part.strip() for part in facets.split(",")):
            if not name:
                continue
            if name not in FACETS:
                problems.append(
                    FieldProblem(
                        "facets", f"unknown facet {name!r}; choose from {', '.join(FACETS)}"
                    )
                )
            elif name not in query.facets:
                query.facets.append(name)
    if problems:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    return query


def _vocabulary(
    name: str, given: list[str], allowed: list[str], problems: list[FieldProblem]
) -> list[str]:
    accepted: list[str] = []
    for index, value in enumerate(given):
        if value in allowed:
            if value not in accepted:
                accepted.append(value)
        else:
            problems.append(
                FieldProblem(
                    f"{name}[{index}]",
                    f"unknown {name} {value!r}; choose from {', '.join(allowed)}",
                )
            )
    return accepted


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def parse_property_range(
    expression: str, path: str, problems: list[FieldProblem]
) -> PropertyRange | None:
    """Parse ``KEY:MIN..MAX[:UNIT]`` (either bound may be empty)."""
    hint = "expected KEY:MIN..MAX[:UNIT], e.g. youngs_modulus:10..30:GPa or density:..5"
    parts = expression.split(":", 2)
    if len(parts) < 2:
        problems.append(FieldProblem(path, f"malformed property range {expression!r}; {hint}"))
        return None
    key, interval = parts[0].strip(), parts[1].strip()
    definition = catalogue.get(key)
    if definition is None:
        problems.append(
            FieldProblem(
                path, f"unknown property {key!r}; see /api/v1/properties for the catalogue"
            )
        )
        return None
    unit = parts[2].strip() if len(parts) == 3 else definition.canonical_unit
    if ".." not in interval:
        problems.append(
            FieldProblem(path, f"malformed range {interval!r} in {expression!r}; {hint}")
        )
        return None
    low_text, high_text = (t.strip() for t in interval.split("..", 1))
    try:
        low = _number(low_text) if low_text else None
        high = _number(high_text) if high_text else None
    except ValueError:
        problems.append(
            FieldProblem(path, f"bounds must be finite numbers in {expression!r}; {hint}")
        )
        return None
    if low is not None and high is not None and low > high:
        problems.append(
            FieldProblem(
                path, f"minimum {low:g} is greater than maximum {high:g} in {expression!r}"
            )
        )
        return None
    try:
        conversion = units.conversion(unit, key)
    except units.UnitError as exc:
        problems.append(FieldProblem(path, str(exc)))
        return None
    canonical_low = conversion.apply(low) if low is not None else None
    canonical_high = conversion.apply(high) if high is not None else None
    if canonical_low is not None:
        canonical_low -= abs(canonical_low) * BOUND_TOLERANCE
    if canonical_high is not None:
        canonical_high += abs(canonical_high) * BOUND_TOLERANCE
    for bound in (canonical_low, canonical_high):
        # A finite bound can overflow in conversion (1e308 kg/mm^3 in g/cm^3); inf
        # and NaN would match everything or nothing, so they are refused.
        if bound is not None and not math.isfinite(bound):
            problems.append(
                FieldProblem(
                    path,
                    f"a bound of {expression!r} is out of range once converted to "
                    f"{definition.canonical_unit}; use a value of normal magnitude",
                )
            )
            return None
    return PropertyRange(key, canonical_low, canonical_high, expression)


def _regulatory(
    expression: str, path: str, problems: list[FieldProblem]
) -> tuple[str, str | None] | None:
    jurisdiction, _, status = expression.partition(":")
    ok = True
    if jurisdiction not in values(Jurisdiction):
        problems.append(
            FieldProblem(
                path,
                f"unknown jurisdiction {jurisdiction!r}; choose from "
                + ", ".join(values(Jurisdiction)),
            )
        )
        ok = False
    if status and status not in values(RegulatoryStatus):
        problems.append(
            FieldProblem(
                path,
                f"unknown regulatory status {status!r}; choose from "
                + ", ".join(values(RegulatoryStatus)),
            )
        )
        ok = False
    if ":" in expression and not status:
        problems.append(
            FieldProblem(
                path,
                "empty status after ':'; use JURISDICTION or "
                "JURISDICTION:STATUS, e.g. US-FDA:cleared",
            )
        )
        ok = False
    return (jurisdiction, status or None) if ok else None


def _country(code: str, problems: list[FieldProblem]) -> str | None:
    upper = code.strip().upper()
    if len(upper) == 2 and upper.isalpha() and pycountry.countries.get(alpha_2=upper):
        return upper
    problems.append(
        FieldProblem(
            "country", f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. IT, JP, US)"
        )
    )
    return None


def _sort(text: str, problems: list[FieldProblem]) -> Sort | None:
    descending = text.startswith("-")
    body = text[1:] if descending else text
    if body in ("name", "updated_at"):
        return Sort(body, descending)
    if body.startswith("prop:"):
        key = body[len("prop:") :]
        if catalogue.get(key) is None:
            problems.append(
                FieldProblem("sort", f"unknown property {key!r} in sort; see /api/v1/properties")
            )
            return None
        return Sort("prop", descending, key)
    problems.append(FieldProblem("sort", f"unknown sort {text!r}; choose from " + ", ".join(SORTS)))
    return None
