"""``prop`` terms: ``KEY:MIN..MAX[:UNIT]``, converted to the property's canonical unit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from biomatdb import catalogue, units
from biomatdb.errors import FieldProblem

#: Relative slack on range bounds so that unit round trips (ksi -> MPa) still match.
BOUND_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class PropertyRange:
    """A ``prop`` filter, converted to the property's canonical unit."""

    key: str
    low: float | None
    high: float | None
    expression: str
    #: The ``specimen`` terms (case-folded, distinct, sorted): only values of one of
    #: these specimens count; empty: every value counts.
    specimens: tuple[str, ...] = ()


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


_HINT = "expected KEY:MIN..MAX[:UNIT], e.g. youngs_modulus:10..30:GPa or density:..5"


def parse_property_range(
    expression: str, path: str, problems: list[FieldProblem]
) -> PropertyRange | None:
    """Parse ``KEY:MIN..MAX[:UNIT]`` (either bound may be empty)."""
    parts = expression.split(":", 2)
    if len(parts) < 2:
        problems.append(FieldProblem(path, f"malformed property range {expression!r}; {_HINT}"))
        return None
    key, interval = parts[0].strip(), parts[1].strip()
    definition = catalogue.get(key)
    if definition is None:
        problems.append(FieldProblem(path, catalogue.unknown_key(key)))
        return None
    unit = parts[2].strip() if len(parts) == 3 else definition.canonical_unit
    bounds = _bounds(expression, interval, path, problems)
    if bounds is None:
        return None
    try:
        conversion = units.conversion(unit, key)
    except units.UnitError as exc:
        problems.append(FieldProblem(path, str(exc)))
        return None
    low, high = (conversion.apply(b) if b is not None else None for b in bounds)
    if low is not None:
        low -= abs(low) * BOUND_TOLERANCE
    if high is not None:
        high += abs(high) * BOUND_TOLERANCE
    if any(bound is not None and not math.isfinite(bound) for bound in (low, high)):
        # A finite bound can overflow in conversion (1e308 kg/mm^3 in g/cm^3); inf
        # and NaN would match everything or nothing, so they are refused.
        problems.append(
            FieldProblem(
                path,
                f"a bound of {expression!r} is out of range once converted to "
                f"{definition.canonical_unit}; use a value of normal magnitude",
            )
        )
        return None
    return PropertyRange(key, low, high, expression)


def _bounds(
    expression: str, interval: str, path: str, problems: list[FieldProblem]
) -> tuple[float | None, float | None] | None:
    """The bounds of ``MIN..MAX`` as given (finite, in order), or None with a problem."""
    if ".." not in interval:
        problems.append(
            FieldProblem(path, f"malformed range {interval!r} in {expression!r}; {_HINT}")
        )
        return None
    low_text, high_text = (t.strip() for t in interval.split("..", 1))
    try:
        low = _number(low_text) if low_text else None
        high = _number(high_text) if high_text else None
    except ValueError:
        problems.append(
            FieldProblem(path, f"bounds must be finite numbers in {expression!r}; {_HINT}")
        )
        return None
    if low is not None and high is not None and low > high:
        problems.append(
            FieldProblem(
                path, f"minimum {low:g} is greater than maximum {high:g} in {expression!r}"
            )
        )
        return None
    return low, high
