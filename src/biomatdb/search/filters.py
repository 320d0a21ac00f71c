"""Search filters: each one reads its parameters, validates them, and adds WHERE clauses.

A filter is a :class:`Filter` subclass registered with ``@FILTERS.register``. The
registration order is the order of everything that follows from filters: the
request parameters (and their OpenAPI documentation), the problems of an invalid
request, the WHERE clauses and the fingerprint payload. Append new filters at the
end of this module, after the built-in ones.

Filters on a child table are an uncorrelated ``materials.id IN (SELECT material_id
...)``: the subquery runs once on its own index (e.g. property_key, canonical_min),
instead of once per material as a correlated EXISTS would (docs/performance.md).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import StringConstraints
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BinaryExpression

from biomatdb import vocab
from biomatdb.errors import FieldProblem
from biomatdb.identifiers import schemes
from biomatdb.models import (
    BiocompatibilityResultRow,
    Material,
    MaterialApplication,
    MaterialIdentifier,
    Organization,
    PropertyValue,
    RegulatoryRecord,
    SupplierOffering,
)
from biomatdb.search import fulltext
from biomatdb.search.base import Parameter, Registry, tagged
from biomatdb.search.ranges import PropertyRange, parse_property_range
from biomatdb.vocab import (
    Application,
    BiocompatibilityEndpoint,
    BiocompatibilityResult,
    IdentifierScheme,
    Jurisdiction,
    MaterialClass,
    RegulatoryStatus,
    values,
)

V = TypeVar("V")


class Filter(ABC, Generic[V]):
    """One filter of ``GET /api/v1/materials`` (and of a JSON filter object)."""

    #: The key of the filter's value in ``SearchQuery.filters`` (and a keyword of
    #: ``SearchQuery(...)``).
    name: ClassVar[str]
    #: The request parameters the filter reads, in the order they are documented.
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    @abstractmethod
    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> V | None:
        """The filter's value from the raw parameters (by parameter name), or None
        when it does not constrain the search. Every problem is appended to
        ``problems`` with the parameter as its path (``prop[1]``); never raise."""

    @abstractmethod
    def clauses(self, session: Session, value: V) -> Iterable[ColumnElement[bool]]:
        """The conditions on ``materials`` that a matching material meets (ANDed)."""

    def fingerprint(self, value: V | None) -> dict[str, Any]:
        """The filter's entries in the fingerprint payload a cursor is bound to.

        Canonical and exact: equal values give equal entries and different values
        different ones (``repr`` for floats: JSON turns inf and NaN into null; sort
        what is a set). The keys are unique across filters. A new filter adds
        nothing while inactive, so that cursors issued before it existed stay valid;
        the built-in ones keep the entries of earlier releases.
        """
        return {} if value is None else {self.name: value}


FILTERS: Registry[Filter[Any]] = Registry("filter", reserved=("sort", "limit", "facets"))


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


@FILTERS.register
class FullText(Filter[list[str]]):
    """``q``: every word must occur in the material's indexed text, forgivingly
    (prefixes, the field's synonyms and abbreviations: ``fulltext.expand``)."""

    name = "words"
    parameters = (
        Parameter(
            "q",
            str | None,
            None,
            "Full text over name, synonyms, subclass, description, supplier trade names "
            "and organization names, and regulatory device names and identifiers "
            "(K-numbers, PMA numbers); every word must match; case and accents are "
            "ignored; the last word (if 3+ characters) and words of 4+ characters also "
            "match as prefixes; the field's abbreviations and synonyms are expanded "
            "(Ti64, CoCr, PLA, HA, ...). At most 32 words.",
            max_length=1000,
            examples=("titanium alloy", "PEEK"),
        ),
    )

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> list[str] | None:
        q = raw.get("q")
        words = fulltext.words(q) if q is not None else []
        if len(words) > fulltext.MAX_QUERY_WORDS:
            problems.append(
                FieldProblem(
                    "q", f"too many words ({len(words)}); at most {fulltext.MAX_QUERY_WORDS}"
                )
            )
        if not words and str(raw.get("sort") or "").lstrip("-") == "relevance":
            # sort=relevance ranks by the words: ``sort`` reads this check's answer.
            problems.append(
                FieldProblem("sort", "sort=relevance needs q (a text with at least one word)")
            )
        return words or None

    def clauses(self, session: Session, value: list[str]) -> Iterable[ColumnElement[bool]]:
        if value:
            yield fulltext.for_session(session).matching(value, session)

    def fingerprint(self, value: list[str] | None) -> dict[str, Any]:
        return {"q": value or []}


class _VocabularyFilter(Filter[list[str]]):
    """A repeatable parameter whose terms come from a controlled vocabulary (OR)."""

    #: The parameter, its vocabulary and its key in the fingerprint payload.
    parameter: ClassVar[str]
    vocabulary: ClassVar[list[str]]
    fingerprint_key: ClassVar[str]

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> list[str] | None:
        given = raw.get(self.parameter) or []
        return _vocabulary(self.parameter, given, self.vocabulary, problems) or None

    def fingerprint(self, value: list[str] | None) -> dict[str, Any]:
        return {self.fingerprint_key: sorted(value or [])}


@FILTERS.register
class ClassFilter(_VocabularyFilter):
    """``class``, repeatable (OR)."""

    name = "classes"
    parameter = "class"
    vocabulary = values(MaterialClass)
    fingerprint_key = "class"
    parameters = (
        Parameter(
            "class",
            list[str],
            [],
            ", ".join(values(MaterialClass)) + " (repeat for OR; at most {max_terms})",
            max_terms=20,
            enum=tuple(values(MaterialClass)),
            examples=(["metal"], ["metal", "ceramic"]),
        ),
    )

    def clauses(self, session: Session, value: list[str]) -> Iterable[ColumnElement[bool]]:
        if value:
            yield Material.material_class.in_(value)


@FILTERS.register
class ApplicationFilter(_VocabularyFilter):
    """``application``, repeatable (OR)."""

    name = "applications"
    parameter = "application"
    vocabulary = values(Application)
    fingerprint_key = "app"
    parameters = (
        Parameter(
            "application",
            list[str],
            [],
            "Application slug, e.g. orthopedic (repeat for OR; at most {max_terms}); "
            "see /api/v1/vocabularies",
            max_terms=50,
            enum=tuple(values(Application)),
            examples=(["orthopedic"], ["dental", "maxillofacial"]),
        ),
    )

    def clauses(self, session: Session, value: list[str]) -> Iterable[ColumnElement[bool]]:
        if value:
            yield Material.id.in_(
                select(MaterialApplication.material_id).where(
                    MaterialApplication.application.in_(value)
                )
            )


@FILTERS.register
class DegradableFilter(Filter[bool]):
    """``degradable``: true or false."""

    name = "degradable"
    parameters = (Parameter("degradable", bool | None, None, "true or false", examples=(True,)),)

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> bool | None:
        value: bool | None = raw.get("degradable")
        return value

    def clauses(self, session: Session, value: bool) -> Iterable[ColumnElement[bool]]:
        yield Material.degradable.is_(value)

    def fingerprint(self, value: bool | None) -> dict[str, Any]:
        return {"deg": value}


def specimen_terms(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``specimen`` terms: lower-cased, each once, sorted (``Bulk`` and ``bulk``
    are one term)."""
    return tuple(sorted({term.lower() for term in raw.get("specimen") or []}))


def of_specimens(terms: Iterable[str]) -> ColumnElement[bool]:
    """A property value of one of the (lower-cased) specimens: whole and ignoring case,
    on the ``(lower(specimen), property_key, canonical_min, ...)`` index."""
    return func.lower(PropertyValue.specimen).in_(list(terms))


class ValuesInRange(BinaryExpression[bool]):
    """``materials.id IN (materials with a value in the range)``, which also carries the
    conditions on ``property_values``, so that the name order can walk the values
    instead (:class:`biomatdb.search.sorts.NameSort`; :func:`ranges_in`)."""

    inherit_cache = True
    value_conditions: tuple[ColumnElement[bool], ...]


def ranges_in(where: Iterable[ColumnElement[bool]]) -> list[ValuesInRange]:
    """The property-range conditions among a search's conditions, in order."""
    return [c for c in where if isinstance(c, ValuesInRange)]


@FILTERS.register
class PropertyRangeFilter(Filter[list[PropertyRange]]):
    """``prop``, repeatable (AND): a value of KEY overlaps the range (a value of one of
    the ``specimen`` terms, when they are given: see :class:`SpecimenFilter`)."""

    name = "ranges"
    parameters = (
        Parameter(
            "prop",
            list[str],
            [],
            "KEY:MIN..MAX[:UNIT], either bound may be empty; a material matches when "
            "one of its values of KEY overlaps the range (repeat for AND; at most "
            "{max_terms}); with specimen, only values of those specimens count. "
            "Example: youngs_modulus:10..30:GPa",
            max_terms=20,
            examples=(["youngs_modulus:10..30:GPa"], ["density:..2", "tensile_strength:500.."]),
            subquery_per_term=True,
        ),
    )

    def parse(
        self, raw: Mapping[str, Any], problems: list[FieldProblem]
    ) -> list[PropertyRange] | None:
        ranges: list[PropertyRange] = []
        for index, expression in enumerate(raw.get("prop") or []):
            parsed = parse_property_range(expression, f"prop[{index}]", problems)
            # A repeated range (the same bounds, whatever the spelling) is one constraint.
            if parsed is not None and all(
                (r.key, r.low, r.high) != (parsed.key, parsed.low, parsed.high) for r in ranges
            ):
                ranges.append(parsed)
        # ``specimen`` (declared and checked by SpecimenFilter, after this filter)
        # restricts every range: the one parameter a filter reads but does not declare.
        specimens = specimen_terms(raw)
        return [replace(r, specimens=specimens) for r in ranges] or None

    def clauses(
        self, session: Session, value: list[PropertyRange]
    ) -> Iterable[ColumnElement[bool]]:
        for prop in value:
            # Overlap of closed intervals: value [a, b] meets query [lo, hi] when
            # a <= hi and b >= lo; a missing query bound is unbounded.
            parts: list[ColumnElement[bool]] = [PropertyValue.property_key == prop.key]
            if prop.high is not None:
                parts.append(PropertyValue.canonical_min <= prop.high)
            if prop.low is not None:
                parts.append(PropertyValue.canonical_max >= prop.low)
            if prop.specimens:
                parts.append(of_specimens(prop.specimens))
            found = tagged(
                Material.id.in_(select(PropertyValue.material_id).where(*parts)), ValuesInRange
            )
            found.value_conditions = tuple(parts)
            yield found

    def fingerprint(self, value: list[PropertyRange] | None) -> dict[str, Any]:
        # A range without specimens keeps the entry of earlier releases (3 items).
        return {
            "prop": sorted((r.key, repr(r.low), repr(r.high), *r.specimens) for r in value or [])
        }


def parse_regulatory(
    expression: str, path: str, problems: list[FieldProblem]
) -> tuple[str, str | None] | None:
    """``JURISDICTION``, ``JURISDICTION:STATUS`` or ``JURISDICTION:STATUS|STATUS`` (any of
    the statuses); the statuses come back sorted and joined by ``|``, each once."""
    jurisdiction, _, status = expression.partition(":")
    statuses = sorted({s for s in status.split("|") if s}) if status else []
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
    for unknown in (s for s in statuses if s not in values(RegulatoryStatus)):
        problems.append(
            FieldProblem(
                path,
                f"unknown regulatory status {unknown!r}; choose from "
                + ", ".join(values(RegulatoryStatus)),
            )
        )
        ok = False
    if ":" in expression and (not statuses or "" in status.split("|")):
        problems.append(
            FieldProblem(
                path,
                "empty status; use JURISDICTION, JURISDICTION:STATUS or "
                "JURISDICTION:STATUS|STATUS, e.g. US-FDA:cleared|approved",
            )
        )
        ok = False
    return (jurisdiction, "|".join(statuses) or None) if ok else None


#: ``regulatory`` as OpenAPI ``pattern``: the jurisdictions, then optional statuses.
REGULATORY_PATTERN = (
    f"^({'|'.join(values(Jurisdiction))})"
    f"(:({'|'.join(values(RegulatoryStatus))})(\\|({'|'.join(values(RegulatoryStatus))}))*)?$"
)


@FILTERS.register
class RegulatoryFilter(Filter[list[tuple[str, str | None]]]):
    """``regulatory``, repeatable (AND): a record in the jurisdiction (with one of the
    statuses, ``US-FDA:cleared|approved``)."""

    name = "regulatory"
    parameters = (
        Parameter(
            "regulatory",
            list[str],
            [],
            "JURISDICTION, or JURISDICTION:STATUS with one or more statuses joined by | "
            "(any of them), e.g. US-FDA:cleared|approved; a bare JURISDICTION matches a "
            "record of any status, withdrawn and refused included (repeat for AND; at most "
            "{max_terms})",
            max_terms=20,
            subquery_per_term=True,
            pattern=REGULATORY_PATTERN,
            examples=(["US-FDA:cleared"], ["EU-MDR", "US-FDA:cleared|approved"]),
        ),
    )

    def parse(
        self, raw: Mapping[str, Any], problems: list[FieldProblem]
    ) -> list[tuple[str, str | None]] | None:
        records: list[tuple[str, str | None]] = []
        for index, expression in enumerate(raw.get("regulatory") or []):
            parsed = parse_regulatory(expression, f"regulatory[{index}]", problems)
            if parsed is not None and parsed not in records:
                records.append(parsed)
        return records or None

    def clauses(
        self, session: Session, value: list[tuple[str, str | None]]
    ) -> Iterable[ColumnElement[bool]]:
        for jurisdiction, status in value:
            parts = [RegulatoryRecord.jurisdiction == jurisdiction]
            if status is not None:
                parts.append(RegulatoryRecord.status.in_(status.split("|")))
            yield Material.id.in_(select(RegulatoryRecord.material_id).where(*parts))

    def fingerprint(self, value: list[tuple[str, str | None]] | None) -> dict[str, Any]:
        return {"reg": sorted((j, s or "") for j, s in value or [])}


def country_code(code: str, problems: list[FieldProblem]) -> str | None:
    """An ISO 3166-1 alpha-2 code, upper case; else a problem at ``country`` (the
    organizations listing validates its ``country`` with this too)."""
    found = vocab.country_code(code)
    if found is None:
        problems.append(
            FieldProblem(
                "country", f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. IT, JP, US)"
            )
        )
    return found


class Offered(NamedTuple):
    """``supplier`` and ``country``: each a tuple of alternatives (OR), empty when
    not given; both given, one offering must meet both."""

    suppliers: tuple[str, ...]
    countries: tuple[str, ...]


@FILTERS.register
class SupplierFilter(Filter[Offered]):
    """``supplier`` and ``country`` (each repeatable, OR): one subquery on the offerings
    and their organizations."""

    name = "supplier"
    parameters = (
        Parameter(
            "supplier",
            list[str],
            [],
            "Organization id of a supplier (repeat for OR; at most {max_terms})",
            max_length=200,
            max_terms=20,
            examples=(["acme-ortho"],),
        ),
        Parameter(
            "country",
            list[str],
            [],
            "ISO 3166-1 alpha-2 code of a supplier's country, e.g. IT (repeat for OR; at "
            "most {max_terms})",
            max_length=20,
            max_terms=20,
            examples=(["IT"], ["IT", "JP"]),
        ),
    )

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> Offered | None:
        suppliers = tuple(sorted({s for s in raw.get("supplier") or [] if s}))
        found = [country_code(c, problems) for c in raw.get("country") or []]
        countries = tuple(sorted({c for c in found if c is not None}))
        return Offered(suppliers, countries) if suppliers or countries else None

    def clauses(self, session: Session, value: Offered) -> Iterable[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if value.suppliers:
            parts.append(Organization.slug.in_(value.suppliers))
        if value.countries:
            parts.append(Organization.country.in_(value.countries))
        if parts:
            yield Material.id.in_(
                select(SupplierOffering.material_id)
                .join(Organization, Organization.id == SupplierOffering.organization_id)
                .where(*parts)
            )

    def fingerprint(self, value: Offered | None) -> dict[str, Any]:
        # One term is written as before repeats existed, so that earlier cursors and
        # cached counts of single-valued searches stay valid.
        def entry(terms: tuple[str, ...]) -> Any:
            return None if not terms else terms[0] if len(terms) == 1 else list(terms)

        if value is None:
            return {"sup": None, "cty": None}
        return {"sup": entry(value.suppliers), "cty": entry(value.countries)}


#: The longest ``specimen`` term: the longest specimen a bundle may give.
SPECIMEN_MAX_LENGTH = 200


class Specimens(NamedTuple):
    """The ``specimen`` terms (lower-cased, each once, sorted)."""

    terms: tuple[str, ...]
    #: True when no ``prop`` range is given: the terms then select materials on their
    #: own. With ranges, each range carries them (``PropertyRange.specimens``) and
    #: this filter adds no clause (it would only repeat what the ranges imply).
    alone: bool = True


@FILTERS.register
class SpecimenFilter(Filter[Specimens]):
    """``specimen``, repeatable (OR): the ``prop`` ranges look only at values of these
    specimens; without ``prop``, a material needs one value of one of them."""

    name = "specimens"
    parameters = (
        Parameter(
            "specimen",
            list[Annotated[str, StringConstraints(min_length=1, max_length=SPECIMEN_MAX_LENGTH)]],
            [],
            "Specimen of the property values, e.g. bulk, porous, film, scaffold (repeat "
            f"for OR; at most {{max_terms}}, each of 1 to {SPECIMEN_MAX_LENGTH} characters); "
            "the whole specimen as stored, case ignored (Bulk = bulk; a term repeated in "
            "any case counts once). With prop, each range matches only values of one of "
            "these specimens; without prop, a material matches when at least one of its "
            "values (of any property) has one of them. Filtering only: summary and "
            "sort=prop:KEY still use all values.",
            max_terms=20,
            examples=(["bulk"], ["film", "coating"]),
        ),
    )

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> Specimens | None:
        # The terms' lengths are checked with their type (FastAPI, or the JSON model).
        terms = specimen_terms(raw)
        return Specimens(terms, alone=not raw.get("prop")) if terms else None

    def clauses(self, session: Session, value: Specimens) -> Iterable[ColumnElement[bool]]:
        if value.alone:
            yield Material.id.in_(
                select(PropertyValue.material_id).where(of_specimens(value.terms))
            )

    def fingerprint(self, value: Specimens | None) -> dict[str, Any]:
        return {} if value is None else {"spec": list(value.terms)}


# --- issue 12: outside identifiers, biocompatibility, device records ------------------------

#: ``identifier`` as OpenAPI ``pattern``: a scheme, a colon, the id.
IDENTIFIER_PATTERN = f"^({'|'.join(values(IdentifierScheme))}):.+$"


def parse_identifier(
    expression: str, path: str, problems: list[FieldProblem]
) -> tuple[str, str] | None:
    """``SCHEME:ID`` with the id in its normal form (``chebi:chebi:52254`` is
    ``("chebi", "CHEBI:52254")``); the scheme's syntax is checked."""
    scheme, colon, given = expression.partition(":")
    scheme = scheme.strip().lower()
    if not colon or not given.strip():
        problems.append(
            FieldProblem(path, "use SCHEME:ID, e.g. chebi:CHEBI:52254 or wikidata:Q412252")
        )
        return None
    value = schemes.normal(scheme, given)
    problem = schemes.problem(scheme, value)
    if problem is not None:
        problems.append(FieldProblem(path, problem))
        return None
    return scheme, value


@FILTERS.register
class IdentifierFilter(Filter[list[tuple[str, str]]]):
    """``identifier``, repeatable (OR): the material carries one of these outside ids."""

    name = "identifiers"
    parameters = (
        Parameter(
            "identifier",
            list[str],
            [],
            "SCHEME:ID, an outside identifier of the material: chebi, pubchem_cid, cas, "
            "mesh, unii or wikidata, e.g. chebi:CHEBI:52254, cas:9002-88-4, wikidata:Q412252 "
            "(case of the id ignored where the scheme has none; repeat for OR, to look up "
            "several at once; at most {max_terms})",
            max_length=100,
            max_terms=50,
            pattern=IDENTIFIER_PATTERN,
            examples=(["chebi:CHEBI:52254"], ["wikidata:Q412252", "mesh:D006882"]),
        ),
    )

    def parse(
        self, raw: Mapping[str, Any], problems: list[FieldProblem]
    ) -> list[tuple[str, str]] | None:
        found: set[tuple[str, str]] = set()
        for index, expression in enumerate(raw.get("identifier") or []):
            parsed = parse_identifier(expression, f"identifier[{index}]", problems)
            if parsed is not None:
                found.add(parsed)
        return sorted(found) or None

    def clauses(
        self, session: Session, value: list[tuple[str, str]]
    ) -> Iterable[ColumnElement[bool]]:
        yield Material.id.in_(
            select(MaterialIdentifier.material_id).where(
                or_(
                    *(
                        and_(MaterialIdentifier.scheme == s, MaterialIdentifier.value == v)
                        for s, v in value
                    )
                )
            )
        )

    def fingerprint(self, value: list[tuple[str, str]] | None) -> dict[str, Any]:
        return {} if not value else {"ident": [f"{s}:{v}" for s, v in value]}


#: ``biocompat`` as OpenAPI ``pattern``: an endpoint, then optionally a result.
BIOCOMPAT_PATTERN = (
    f"^({'|'.join(values(BiocompatibilityEndpoint))})"
    f"(:({'|'.join(values(BiocompatibilityResult))}))?$"
)


def parse_biocompat(
    expression: str, path: str, problems: list[FieldProblem]
) -> tuple[str, str | None] | None:
    """``ENDPOINT`` or ``ENDPOINT:RESULT``."""
    endpoint, colon, result = expression.partition(":")
    ok = True
    if endpoint not in values(BiocompatibilityEndpoint):
        problems.append(
            FieldProblem(
                path,
                f"unknown endpoint {endpoint!r}; choose from "
                + ", ".join(values(BiocompatibilityEndpoint)),
            )
        )
        ok = False
    if colon and result not in values(BiocompatibilityResult):
        problems.append(
            FieldProblem(
                path,
                f"unknown result {result!r}; choose from "
                + ", ".join(values(BiocompatibilityResult)),
            )
        )
        ok = False
    return (endpoint, result or None) if ok else None


@FILTERS.register
class BiocompatFilter(Filter[list[tuple[str, str | None]]]):
    """``biocompat``, repeatable (AND): a result for the endpoint (with that outcome)."""

    name = "biocompat"
    parameters = (
        Parameter(
            "biocompat",
            list[str],
            [],
            "ENDPOINT or ENDPOINT:RESULT, an ISO 10993 endpoint ("
            + ", ".join(values(BiocompatibilityEndpoint))
            + ") and a result (pass, fail, inconclusive); a bare ENDPOINT matches any "
            "result (repeat for AND; at most {max_terms})",
            max_terms=20,
            subquery_per_term=True,
            pattern=BIOCOMPAT_PATTERN,
            examples=(["cytotoxicity:pass"], ["cytotoxicity:pass", "sensitization:pass"]),
        ),
    )

    def parse(
        self, raw: Mapping[str, Any], problems: list[FieldProblem]
    ) -> list[tuple[str, str | None]] | None:
        terms: list[tuple[str, str | None]] = []
        for index, expression in enumerate(raw.get("biocompat") or []):
            parsed = parse_biocompat(expression, f"biocompat[{index}]", problems)
            if parsed is not None and parsed not in terms:
                terms.append(parsed)
        return terms or None

    def clauses(
        self, session: Session, value: list[tuple[str, str | None]]
    ) -> Iterable[ColumnElement[bool]]:
        for endpoint, result in value:
            parts = [BiocompatibilityResultRow.endpoint == endpoint]
            if result is not None:
                parts.append(BiocompatibilityResultRow.result == result)
            yield Material.id.in_(select(BiocompatibilityResultRow.material_id).where(*parts))

    def fingerprint(self, value: list[tuple[str, str | None]] | None) -> dict[str, Any]:
        return {} if not value else {"bio": sorted((e, r or "") for e, r in value)}


class Decided(NamedTuple):
    """``product_code`` (OR) and ``decided`` (a closed date range): one record meets all."""

    product_codes: tuple[str, ...]
    start: date | None
    end: date | None


def parse_decided(text: str, problems: list[FieldProblem]) -> tuple[date | None, date | None]:
    """``FROM..TO`` with dates ``YYYY-MM-DD`` or years ``YYYY`` (a year is its whole
    span); either side may be empty."""
    start_text, dots, end_text = text.partition("..")
    if not dots:
        problems.append(
            FieldProblem(
                "decided", "use FROM..TO, e.g. 2015..2020 or 2019-01-01..; either side may be empty"
            )
        )
        return None, None
    start = _date_bound(start_text.strip(), first=True, problems=problems)
    end = _date_bound(end_text.strip(), first=False, problems=problems)
    if start is not None and end is not None and start > end:
        problems.append(FieldProblem("decided", f"FROM ({start}) is after TO ({end})"))
    return start, end


def _date_bound(text: str, *, first: bool, problems: list[FieldProblem]) -> date | None:
    """A year stands for its first day (FROM) or its last (TO)."""
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 1, 1) if first else date(int(text), 12, 31)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass  # year 0000, month 13, February 30: reported below
    problems.append(
        FieldProblem("decided", f"{text!r} is not a date (YYYY-MM-DD) or a year (YYYY)")
    )
    return None


@FILTERS.register
class DecisionFilter(Filter[Decided]):
    """``product_code`` (repeatable, OR) and ``decided``: a regulatory record with one
    of the product codes, decided within the dates (one record meets both)."""

    name = "decided"
    parameters = (
        Parameter(
            "product_code",
            list[str],
            [],
            "Product code of a regulatory record (FDA's three letters, e.g. HWC; case "
            "ignored; repeat for OR; at most {max_terms}); with decided, the same record "
            "must meet both",
            max_length=32,
            max_terms=20,
            examples=(["HWC"], ["MQV", "LYC"]),
        ),
        Parameter(
            "decided",
            str | None,
            None,
            "Decision date of a regulatory record within FROM..TO (dates YYYY-MM-DD or "
            "years YYYY, both ends included, either may be empty), e.g. 2015..2020",
            max_length=40,
            pattern=r"^[0-9-]*\.\.[0-9-]*$",
            examples=("2015..2020", "2019-06-01.."),
        ),
    )

    def parse(self, raw: Mapping[str, Any], problems: list[FieldProblem]) -> Decided | None:
        codes = tuple(
            sorted({c.strip().upper() for c in raw.get("product_code") or [] if c.strip()})
        )
        text = raw.get("decided")
        start, end = parse_decided(text, problems) if text is not None else (None, None)
        if not codes and start is None and end is None:
            return None
        return Decided(codes, start, end)

    def clauses(self, session: Session, value: Decided) -> Iterable[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = []
        if value.product_codes:
            parts.append(func.upper(RegulatoryRecord.product_code).in_(value.product_codes))
        if value.start is not None:
            parts.append(RegulatoryRecord.decision_date >= value.start)
        if value.end is not None:
            parts.append(RegulatoryRecord.decision_date <= value.end)
        yield Material.id.in_(select(RegulatoryRecord.material_id).where(*parts))

    def fingerprint(self, value: Decided | None) -> dict[str, Any]:
        if value is None:
            return {}
        return {
            "pc": list(value.product_codes),
            "dec": [str(value.start or ""), str(value.end or "")],
        }
