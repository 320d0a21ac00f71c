"""Units out: ``units=youngs_modulus:kPa,density:kg/m^3`` shows those properties in
those units wherever canonical values are returned (search, detail, compare, rank,
exports, charts), rounded to the digits their sources give (see
:func:`biomatdb.units.derived_digits`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from biomatdb import catalogue
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.units import Conversion, UnitError, conversion, shown

#: At most this many ``KEY:UNIT`` pairs (the catalogue has fewer properties).
MAX_PAIRS = 50
#: Longest ``units`` text accepted.
MAX_LENGTH = 2000
PARAMETER_DOC = (
    "Show properties in these units instead of the canonical ones: comma-separated "
    "KEY:UNIT pairs, e.g. youngs_modulus:kPa,density:kg/m^3 (any unit of the property's "
    f"dimension; at most {MAX_PAIRS} pairs)"
)


@dataclass(frozen=True, slots=True)
class OutputUnits:
    """The unit to show each property in (canonical unless chosen)."""

    chosen: Mapping[str, tuple[str, Conversion]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The choices in a canonical spelling ("" when none): part of entity tags."""
        return ",".join(f"{key}:{unit}" for key, (unit, _) in sorted(self.chosen.items()))

    def chosen_unit(self, key: str) -> str | None:
        """The unit asked for ``key`` (None: none was)."""
        picked = self.chosen.get(key)
        return picked[0] if picked else None

    def unit(self, key: str) -> str:
        """The unit values of ``key`` are shown in."""
        picked = self.chosen.get(key)
        return picked[0] if picked else catalogue.CANONICAL_UNITS.get(key, "")

    def show(self, key: str, canonical: float | None, digits: int | None) -> float | None:
        """A canonical value of ``key`` in the shown unit, rounded to ``digits``."""
        if canonical is None:
            return None
        picked = self.chosen.get(key)
        if picked is not None:
            convert = picked[1]
            canonical = (canonical - convert.offset) / convert.scale
        return shown(canonical, digits)

    @classmethod
    def parse(cls, text: str | None, *, path: str = "units") -> OutputUnits:
        """``KEY:UNIT,KEY:UNIT``; a 400 naming every unknown key, unit of the wrong
        dimension or repeated key."""
        if text is None or not text.strip():
            return CANONICAL
        problems: list[FieldProblem] = []
        pairs = [part.strip() for part in text[:MAX_LENGTH].split(",") if part.strip()]
        if len(text) > MAX_LENGTH or len(pairs) > MAX_PAIRS:
            problems.append(
                FieldProblem(path, f"at most {MAX_PAIRS} KEY:UNIT pairs, {MAX_LENGTH} characters")
            )
            pairs = []
        chosen: dict[str, tuple[str, Conversion]] = {}
        for pair in pairs:
            key, sep, unit = (piece.strip() for piece in pair.partition(":"))
            picked = _pick(key, sep, unit, path, problems)
            if picked is None:
                continue
            if key in chosen and chosen[key][0] != unit:
                problems.append(FieldProblem(path, f"{key} is given two units; give one"))
            chosen[key] = (unit, picked)
        if problems:
            raise InvalidParameter(
                "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
            )
        return cls(chosen)


def _pick(
    key: str, sep: str, unit: str, path: str, problems: list[FieldProblem]
) -> Conversion | None:
    if not sep or not key or not unit:
        problems.append(
            FieldProblem(
                path, f"{(key + sep + unit)[:80]!r} is not KEY:UNIT (e.g. youngs_modulus:kPa)"
            )
        )
        return None
    if catalogue.get(key) is None:
        problems.append(FieldProblem(path, catalogue.unknown_key(key)))
        return None
    try:
        return conversion(unit, key)
    except UnitError as exc:
        problems.append(FieldProblem(path, f"{key}: {exc}"))
        return None


CANONICAL = OutputUnits()
