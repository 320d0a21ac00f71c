"""Whole-bundle validation: every problem, each with its JSON path, in one pass.

Entries are validated one by one so that a broken entry never hides the
problems of the others; cross-entry and database rules run on every entry
that has the right shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from biomatdb import catalogue, units
from biomatdb.bundles.schemas import (
    MaterialIn,
    OrganizationIn,
    PropertyValueIn,
    ReferenceIn,
    named_records,
)
from biomatdb.errors import FieldProblem
from biomatdb.kit.paths import from_validation_error, join
from biomatdb.vocab import MaterialStatus

Entry = TypeVar("Entry", bound=BaseModel)
TOP_LEVEL_KEYS = ("references", "organizations", "materials")
NOT_AN_OBJECT = "a bundle must be a JSON object with 'references', 'organizations' and 'materials'"


@dataclass
class ParsedBundle:
    """The well-formed entries of a bundle, and every problem found."""

    references: list[ReferenceIn] = field(default_factory=list)
    organizations: list[OrganizationIn] = field(default_factory=list)
    materials: list[MaterialIn] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    #: Every id the bundle declares, including those of malformed entries, so a
    #: malformed reference does not also produce "unknown source" errors.
    declared_references: set[str] = field(default_factory=set)
    declared_organizations: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class KnownIds:
    """Ids that exist outside the bundle (database, earlier files of one import)."""

    references: Callable[[set[str]], set[str]]
    organizations: Callable[[set[str]], set[str]]


def parse(raw: Any, *, known: KnownIds) -> ParsedBundle:
    """Validate a decoded JSON document as a bundle."""
    result = ParsedBundle()
    if not isinstance(raw, dict):
        result.problems.append(FieldProblem("", NOT_AN_OBJECT))
        return result
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            result.problems.append(
                FieldProblem(
                    str(key), "unknown field; a bundle has only " + ", ".join(TOP_LEVEL_KEYS)
                )
            )

    result.references = _entries(raw, "references", ReferenceIn, result.problems)
    result.organizations = _entries(raw, "organizations", OrganizationIn, result.problems)
    result.declared_references = _declared_ids(raw.get("references"))
    result.declared_organizations = _declared_ids(raw.get("organizations"))
    _check_duplicates(raw, result.problems)
    materials = raw.get("materials", [])
    if isinstance(materials, list):
        checker = MaterialChecker(result.declared_references, result.declared_organizations, known)
        result.materials = checker.check(list(enumerate(materials)), result.problems)
    elif materials is not None:
        result.problems.append(FieldProblem("materials", "must be a list"))
    sort_problems(result.problems)
    return result


def sort_problems(problems: list[FieldProblem]) -> None:
    """Document order: ``materials[2]`` before ``materials[10]``."""
    problems.sort(key=lambda p: _path_sort_key(p.path))


class MaterialChecker:
    """The rules of ``materials`` entries, for the whole list or a batch at a time (a
    streamed import: ``biomatdb.exchange.streaming.import_files``): each entry's shape,
    no id twice in the list (across batches), and every reference and organization
    it names declared by the bundle or known (``known``: the database, earlier files)."""

    def __init__(
        self, declared_references: set[str], declared_organizations: set[str], known: KnownIds
    ) -> None:
        self.declared_references = declared_references
        self.declared_organizations = declared_organizations
        self.known = known
        self.first_seen: dict[str, int] = {}

    def check(self, items: list[tuple[int, Any]], problems: list[FieldProblem]) -> list[MaterialIn]:
        """The well-formed entries of ``(index in materials, raw entry)``; every problem
        goes in ``problems``."""
        adapter = _adapter(MaterialIn)
        entries: list[tuple[int, MaterialIn]] = []
        malformed: list[tuple[int, Any]] = []
        for index, item in items:
            try:
                entries.append((index, adapter.validate_python(item)))
            except ValidationError as exc:
                problems.extend(from_validation_error(join("materials", index), exc))
                malformed.append((index, item))
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                slug = item["id"]
                first = self.first_seen.setdefault(slug, index)
                if first != index:
                    problems.append(
                        FieldProblem(
                            join("materials", index, "id"),
                            f"duplicate id {slug!r}: also used by materials[{first}]",
                        )
                    )
        # The ids this batch names that exist: sets the size of the batch's names, not
        # of the bundle's declarations (a million-material bundle declares 100,000).
        wanted_refs, wanted_orgs = named_records(m for _, m in entries)
        refs = (wanted_refs & self.declared_references) | self.known.references(
            wanted_refs - self.declared_references
        )
        orgs = (wanted_orgs & self.declared_organizations) | self.known.organizations(
            wanted_orgs - self.declared_organizations
        )
        for index, material in entries:
            _check_material(material, join("materials", index), refs, orgs, problems)
        for index, raw in malformed:
            self._check_values_of_malformed(index, raw, problems)
        return [m for _, m in entries]

    def _check_values_of_malformed(
        self, index: int, raw: Any, problems: list[FieldProblem]
    ) -> None:
        """Check the well-formed property values of a material whose shape is wrong,
        so that fixing the shape does not reveal a second round of errors."""
        values = raw.get("properties") if isinstance(raw, dict) else None
        if not isinstance(values, list):
            return
        adapter = _adapter(PropertyValueIn)
        for i, item in enumerate(values):
            try:
                value = adapter.validate_python(item)
            except ValidationError:
                continue  # already reported by the material's own validation
            path = join("materials", index, "properties", i)
            check_property_value(value, path, problems)
            _check_source(
                value,
                path,
                raw.get("status") == MaterialStatus.published.value,
                self.declared_references,
                self.known,
                problems,
            )


_adapters: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    return _adapters.setdefault(model, TypeAdapter(model))


def _entries(
    raw: dict[str, Any], key: str, model: type[Entry], problems: list[FieldProblem]
) -> list[Entry]:
    items = raw.get(key, [])
    if items is None:
        return []
    if not isinstance(items, list):
        problems.append(FieldProblem(key, "must be a list"))
        return []
    adapter = _adapter(model)
    parsed: list[Entry] = []
    for index, item in enumerate(items):
        try:
            parsed.append(adapter.validate_python(item))
        except ValidationError as exc:
            problems.extend(from_validation_error(join(key, index), exc))
            # Keep indexes aligned with the input by remembering the failure.
            parsed.append(_Invalid(index))  # type: ignore[arg-type]
    return parsed


class _Invalid:
    """Placeholder for an entry that failed shape validation."""

    def __init__(self, index: int) -> None:
        self.index = index


def valid(entries: Iterable[Entry]) -> list[tuple[int, Entry]]:
    """(index, entry) for the entries that passed shape validation."""
    return [(i, e) for i, e in enumerate(entries) if not isinstance(e, _Invalid)]


def _declared_ids(items: Any) -> set[str]:
    if not isinstance(items, list):
        return set()
    return {
        item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _check_duplicates(raw: dict[str, Any], problems: list[FieldProblem]) -> None:
    """No reference or organization id twice (materials: :class:`MaterialChecker`)."""
    for key in ("references", "organizations"):
        items = raw.get(key)
        if not isinstance(items, list):
            continue
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            slug = item["id"]
            if slug in first_seen:
                problems.append(
                    FieldProblem(
                        join(key, index, "id"),
                        f"duplicate id {slug!r}: also used by {key}[{first_seen[slug]}]",
                    )
                )
            else:
                first_seen[slug] = index


def _check_material(
    material: MaterialIn,
    base: str,
    refs: set[str],
    orgs: set[str],
    problems: list[FieldProblem],
) -> None:
    """The rules of one well-formed material: no repeats, valid values,
    and every source and organization it names known."""
    _check_repeats(material, base, problems)
    published = material.status == MaterialStatus.published
    values = join(base, "properties")
    intervals: list[tuple[float, float] | None] = []
    for i, value in enumerate(material.properties):
        path = f"{values}[{i}]"  # join(), inlined: this runs for every value of a bundle
        intervals.append(check_property_value(value, path, problems))
        _check_source(value, path, published, refs, None, problems)
    if None not in intervals:
        # Kept for the projection (projection.canonical_intervals): converted once.
        material._intervals = intervals  # type: ignore[assignment]
    named: list[tuple[str, str, str | None, set[str]]] = [
        (join(base, "biocompatibility", i, "source"), "reference", bio.source, refs)
        for i, bio in enumerate(material.biocompatibility)
    ]
    for i, record in enumerate(material.regulatory):
        path = join(base, "regulatory", i)
        named.append((join(path, "source"), "reference", record.source, refs))
        named.append((join(path, "organization"), "organization", record.organization, orgs))
        named.append((join(path, "notified_body"), "organization", record.notified_body, orgs))
    named += [
        (join(base, "suppliers", i, "organization"), "organization", supplier.organization, orgs)
        for i, supplier in enumerate(material.suppliers)
    ]
    problems.extend(
        _unknown(
            path,
            kind,
            slug,
        )
        for path, kind, slug, known in named
        if slug and slug not in known
    )


def _check_repeats(material: MaterialIn, base: str, problems: list[FieldProblem]) -> None:
    """No application and no outside identifier twice."""
    seen_apps: set[str] = set()
    for i, application in enumerate(material.applications):
        if application in seen_apps:
            problems.append(
                FieldProblem(
                    join(base, "applications", i), f"duplicate application {application.value!r}"
                )
            )
        seen_apps.add(application)
    seen_ids: dict[tuple[str, str], int] = {}
    for i, identifier in enumerate(material.identifiers):
        key = (identifier.scheme.value, identifier.id)
        if key in seen_ids:
            problems.append(
                FieldProblem(
                    join(base, "identifiers", i, "id"),
                    f"duplicate identifier {identifier.scheme.value}:{identifier.id}: also "
                    f"identifiers[{seen_ids[key]}]",
                )
            )
        seen_ids.setdefault(key, i)


def _check_source(
    value: PropertyValueIn,
    path: str,
    published: bool,
    declared: set[str],
    known: KnownIds | None,
    problems: list[FieldProblem],
) -> None:
    if value.source is None:
        if published:
            problems.append(
                FieldProblem(
                    join(path, "source"),
                    "a published property value must cite a source (a reference id)",
                )
            )
    elif value.source not in declared and (known is None or not known.references({value.source})):
        problems.append(_unknown(join(path, "source"), "reference", value.source))


def check_property_value(
    value: PropertyValueIn, path: str, problems: list[FieldProblem]
) -> tuple[float, float] | None:
    """Check one property value; return its canonical interval when it is valid."""
    definition = catalogue.get(value.property)
    if definition is None:
        problems.append(
            FieldProblem(
                join(path, "property"),
                f"unknown property {value.property!r}; known properties: "
                + ", ".join(p.key for p in catalogue.CATALOGUE),
            )
        )
        return None
    checked = _interval_fields(value, path, problems)
    if checked is None:
        return None
    convert, (low_field, high_field) = checked
    low, high = units.canonical_interval(convert, value.value, value.min, value.max)
    unit = definition.canonical_unit
    if not (math.isfinite(low) and math.isfinite(high)):
        # 1e308 TPa is a finite number but no finite number of GPa: the canonical
        # value could be neither searched nor serialised.
        problems.append(
            FieldProblem(
                join(path, low_field if not math.isfinite(low) else high_field),
                f"the value is out of range once converted to {unit}; "
                "give it in a unit that keeps it of normal magnitude",
            )
        )
        return None
    found = len(problems)
    if definition.lower_bound is not None and low < definition.lower_bound:
        problems.append(
            FieldProblem(
                join(path, low_field),
                f"{value.property} cannot be below {definition.lower_bound:g} {unit} "
                f"(got {low:g} {unit})",
            )
        )
    if definition.upper_bound is not None and high > definition.upper_bound:
        problems.append(
            FieldProblem(
                join(path, high_field),
                f"{value.property} cannot be above {definition.upper_bound:g} {unit} "
                f"(got {high:g} {unit})",
            )
        )
    return (low, high) if len(problems) == found else None


def _interval_fields(
    value: PropertyValueIn, path: str, problems: list[FieldProblem]
) -> tuple[units.Conversion, tuple[str, str]] | None:
    """The conversion to the canonical unit and the fields that hold the low and the
    high end (``value``, ``min``, ``max``), once the value's shape and unit are valid;
    None after reporting what is not."""
    has_range = value.min is not None or value.max is not None
    if value.value is not None and has_range:
        problems.append(
            FieldProblem(join(path, "value"), "give either 'value' or 'min'/'max', not both")
        )
        return None
    if value.value is None and not has_range:
        problems.append(
            FieldProblem(
                join(path, "value"), "a property value needs 'value', or 'min' and/or 'max'"
            )
        )
        return None
    try:
        convert = units.conversion(value.unit, value.property)
    except units.UnitError as exc:
        problems.append(FieldProblem(join(path, "unit"), str(exc)))
        return None
    if value.value is not None:
        return convert, ("value", "value")
    if value.min is not None and value.max is not None and value.min > value.max:
        problems.append(
            FieldProblem(join(path, "min"), f"min ({value.min}) is greater than max ({value.max})")
        )
        return None
    low = "min" if value.min is not None else "max"
    return convert, (low, "max" if value.max is not None else "min")


def _unknown(path: str, kind: str, slug: str) -> FieldProblem:
    where = "references" if kind == "reference" else "organizations"
    return FieldProblem(
        path, f"unknown {kind} {slug!r}: define it in the bundle's '{where}' or import it first"
    )


def _path_sort_key(path: str) -> tuple[tuple[int, int | str], ...]:
    # Report problems in document order: materials[2] before materials[10]. Tokens
    # are tagged so that an index and a key at the same place still compare.
    return tuple(
        (0, int(t)) if t.isascii() and t.isdigit() else (1, t)
        for t in re.split(r"[\[\].]+", path)
        if t
    )
