"""Units: parsing unit text (``grammar``) and converting values to each property's
canonical unit (pint, through ``registry``).

Conversions are affine (``canonical = value * scale + offset``: offset units such
as degC/K/degF need the offset), so each (unit, property) pair is resolved by
pint once and cached; converting a value afterwards is two float operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pint

from biomatdb import catalogue
from biomatdb.units.grammar import (
    MAX_EXPONENT,
    MAX_FACTORS,
    MAX_UNIT_LENGTH,
    _check_length,
    _normalize_spelling,
    _parse_unit_cached,
    parse_unit,
)
from biomatdb.units.registry import ANGLE_UNITS, UNITS, UnitError

__all__ = [
    "ANGLE_UNITS",
    "MAX_EXPONENT",
    "MAX_FACTORS",
    "MAX_UNIT_LENGTH",
    "MIN_DIGITS",
    "UNITS",
    "Conversion",
    "UnitError",
    "_normalize_spelling",
    "_parse_unit_cached",
    "canonical_interval",
    "conversion",
    "derived_digits",
    "parse_unit",
    "round_array",
    "round_significant",
    "shown",
    "significant_digits",
    "to_canonical",
]


@dataclass(frozen=True, slots=True)
class Conversion:
    """``canonical = value * scale + offset``."""

    scale: float
    offset: float

    def apply(self, value: float) -> float:
        """Convert one value, rounded to 12 significant digits to drop float noise."""
        if self.scale == 1.0 and self.offset == 0.0:  # the canonical unit: no arithmetic
            return float(value)
        return round_significant(value * self.scale + self.offset)


#: Derived values keep the digits of what they come from, and never fewer than this.
MIN_DIGITS = 3


def significant_digits(number: float) -> int:
    """The significant digits of a number as written: 113.75 has 5, 0.055 has 2, and
    16000 has 2 (trailing zeros of a whole number say nothing about its precision)."""
    if number == 0 or not math.isfinite(number):
        return 1
    # The shortest repr that reads back as the number ('16000.0', '0.055', '1.5e-05'):
    # its digits without leading zeros, and without trailing ones (a whole number's
    # zeros, or the '.0'). String work, not Decimal: this runs for every value imported.
    mantissa = repr(float(number)).partition("e")[0]
    return max(1, len(mantissa.replace("-", "").replace(".", "").strip("0")))


def derived_digits(given: Iterable[float | None]) -> int:
    """Significant digits to show of a value derived from the numbers ``given``: the
    most any of them has, at least MIN_DIGITS, at most 12 (beyond, a float holds noise).

    Stored canonical values keep full precision (filters compare them exactly); this
    is for showing them: 14000 psi is shown as 96.5 MPa, not 96.5266021044.
    """
    found = [significant_digits(g) for g in given if g is not None]
    return min(12, max(MIN_DIGITS, *found)) if found else 12


def shown(value: float, digits: int | None) -> float:
    """A derived value rounded for showing (``digits``: from :func:`derived_digits`;
    None, e.g. a summary stored before digits were kept: 12)."""
    return round_significant(value, digits or 12)


def round_significant(value: float, digits: int = 12) -> float:
    """Round to ``digits`` significant digits (300 K -> 26.85 degC, not 26.850000000000023)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def round_array(values: npt.NDArray[np.float64], digits: Any = 12) -> npt.NDArray[np.float64]:
    """:func:`round_significant` of every value at once (``digits``: a number, or an
    array that broadcasts against ``values``); 0, inf and NaN stay as they are."""
    with np.errstate(all="ignore"):
        rounding = np.isfinite(values) & (values != 0)
        magnitude = np.floor(np.log10(np.abs(np.where(rounding, values, 1.0))))
        decimals = np.clip(digits - 1 - magnitude, -300, 300)
        factor = 10.0 ** np.abs(decimals)  # exact for the usual |decimals| <= 22
        rounded = np.where(
            decimals >= 0,
            np.round(values * factor) / factor,
            np.round(values / factor) * factor,
        )
    result: npt.NDArray[np.float64] = np.where(rounding, rounded, values)
    return result


def conversion(unit: str, property_key: str) -> Conversion:
    """The affine conversion from ``unit`` to the canonical unit of ``property_key``.

    Raises :class:`UnitError` naming the unit and the property when the unit is
    unknown or of the wrong dimension. The cheap checks run before the cache, so
    only known properties and short units become cache keys.
    """
    if catalogue.get(property_key) is None:
        raise UnitError(f"unknown property {str(property_key)[:64]!r}")
    _check_length(unit)
    return _conversion_cached(unit, property_key)


@lru_cache(maxsize=8192)
def _conversion_cached(unit: str, property_key: str) -> Conversion:
    definition = catalogue.get(property_key)
    assert definition is not None  # checked by conversion()
    parsed = parse_unit(unit)
    canonical = parse_unit(definition.canonical_unit)
    if parsed.dimensionality != canonical.dimensionality:
        raise UnitError(
            f"unit {unit!r} has dimension {_dimension_text(parsed)} but {property_key} "
            f"needs {_dimension_text(canonical)} (e.g. {definition.canonical_unit})"
        )
    if definition.unit_kind is not None and _unit_kind(parsed) != definition.unit_kind:
        expected = (
            "an angle unit (degree, radian)"
            if definition.unit_kind == "angle"
            else ("a ratio unit (%, dimensionless)")
        )
        raise UnitError(f"unit {unit!r} is not valid for {property_key}: it needs {expected}")
    try:
        zero = float(UNITS.Quantity(0.0, parsed).to(canonical).magnitude)
        one = float(UNITS.Quantity(1.0, parsed).to(canonical).magnitude)
    except (pint.errors.PintError, ArithmeticError, ValueError, KeyError) as exc:
        raise UnitError(
            f"unit {unit!r} cannot be converted to {definition.canonical_unit}"
        ) from exc
    scale = one - zero
    if not (math.isfinite(scale) and math.isfinite(zero)) or scale == 0.0:
        raise UnitError(
            f"unit {unit!r} cannot be converted to {definition.canonical_unit}: "
            "the conversion factor is out of range"
        )
    return Conversion(scale=scale, offset=zero)


def to_canonical(value: float, unit: str, property_key: str) -> float:
    """Convert one value to the canonical unit of ``property_key``."""
    return conversion(unit, property_key).apply(value)


def _unit_kind(unit: pint.Unit) -> str:
    names = {name for name, _ in unit._units.items()}
    return "angle" if names and names <= ANGLE_UNITS else "ratio"


def _dimension_text(unit: pint.Unit) -> str:
    text = str(unit.dimensionality)
    return "dimensionless" if text == "dimensionless" else text


def canonical_interval(
    convert: Conversion,
    value: float | None,
    minimum: float | None,
    maximum: float | None,
) -> tuple[float, float]:
    """The closed interval ``[low, high]`` of a property value in its canonical unit
    (``convert``: the value's unit to it, from :func:`conversion`).

    A single ``value`` is the interval [value, value]; a range with one bound given
    is that bound on both sides. The one place this rule lives (projection, detail
    rendering and validation all read it here).
    """
    if value is not None:
        low = high = convert.apply(value)
        return low, high
    given_min = minimum if minimum is not None else maximum
    given_max = maximum if maximum is not None else minimum
    if given_min is None or given_max is None:
        raise UnitError("a property value needs 'value', or 'min' and/or 'max'")
    return convert.apply(given_min), convert.apply(given_max)
