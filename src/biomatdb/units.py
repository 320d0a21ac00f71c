"""Unit parsing and conversion to each property's canonical unit (pint).

Conversions are affine (``canonical = value * scale + offset``: offset units such
as degC/K/degF need the offset), so each (unit, property) pair is resolved by
pint once and cached; converting a value afterwards is two float operations.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint

from biomatdb import catalogue

UNITS: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
# Units the field uses that pint does not ship. Vickers hardness numbers are
# kgf/mm^2 (ISO 6507-1), so HV values convert to and from GPa/MPa.
UNITS.define("vickers_hardness_number = kilogram_force / millimeter ** 2 = HV")

ANGLE_UNITS = frozenset({"degree", "radian", "arcminute", "arcsecond", "turn", "gradian"})

# Spellings seen in papers and spreadsheets that pint does not parse itself.
_ALIASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(?:°|º)\s*C\b|℃", "degC"),
        (r"(?:°|º)\s*F\b|℉", "degF"),
        (r"(?:°|º)", "degree"),
        (r"[µμ]", "u"),
        (r"√\s*m", "*m^0.5"),
        (r"m\s*\^?\s*(?:½|1/2|\(1/2\))", "m^0.5"),
        (r"½", "^0.5"),
        (r"²", "^2"),
        (r"³", "^3"),
        (r"[·⋅×]", "*"),
        (r"\bg/cc\b", "g/cm^3"),
        # Vickers numbers quoted with their test load (HV10, HV0.5) are still HV.
        (r"\bHV\s*\d+(?:\.\d+)?\b", "HV"),
        # Exponents written without a caret: mm2, cm3, N/mm2.
        (r"(?<=[A-Za-z])(?<!\^)([23])\b", r"^\1"),
        # Fractions written as percentages of volume or weight.
        (r"\b(?:vol|wt|v/v|w/w)\.?\s*%|%\s*(?:vol|wt|v/v|w/w)\b\.?", "%"),
        (r"\bmonths\b", "month"),
        (r"\bweeks\b", "week"),
        (r"\bdays\b", "day"),
        (r"\byears\b", "year"),
    )
)
_MPA_SQRT_M_SPACED = re.compile(r"([A-Za-z])\s+(m\^0\.5)")
_DOUBLED_PRODUCT = re.compile(r"\*\s*\*\s*(?=m\^0\.5)")


class UnitError(ValueError):
    """A unit that cannot be used for a property; the message says why."""


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


def round_significant(value: float, digits: int = 12) -> float:
    """Round to ``digits`` significant digits (300 K -> 26.85 degC, not 26.850000000000023)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _normalize_spelling(unit: str) -> str:
    text = unit.strip()
    for pattern, replacement in _ALIASES:
        text = pattern.sub(replacement, text)
    text = _DOUBLED_PRODUCT.sub("*", text)
    return _MPA_SQRT_M_SPACED.sub(r"\1*\2", text)


@lru_cache(maxsize=4096)
def parse_unit(unit: str) -> pint.Unit:
    """Parse a unit string (``GPa``, ``g/cm^3``, ``°C``, ``MPa·m½`` ...)."""
    text = _normalize_spelling(unit)
    if not text:
        raise UnitError("the unit is empty")
    if text in {"1", "dimensionless", "-", "unitless"}:
        dimensionless: pint.Unit = UNITS.dimensionless
        return dimensionless
    try:
        parsed: pint.Unit = UNITS.parse_units(text)
    except Exception as exc:  # pint's parser raises assorted errors on odd text
        raise UnitError(f"unknown unit {unit!r}") from exc
    return parsed


@lru_cache(maxsize=8192)
def conversion(unit: str, property_key: str) -> Conversion:
    """The affine conversion from ``unit`` to the canonical unit of ``property_key``.

    Raises :class:`UnitError` naming the unit and the property when the unit is
    unknown or of the wrong dimension.
    """
    definition = catalogue.get(property_key)
    if definition is None:
        raise UnitError(f"unknown property {property_key!r}")
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
        zero = UNITS.Quantity(0.0, parsed).to(canonical).magnitude
        one = UNITS.Quantity(1.0, parsed).to(canonical).magnitude
    except pint.errors.PintError as exc:  # pragma: no cover - dimensions were checked
        raise UnitError(
            f"unit {unit!r} cannot be converted to {definition.canonical_unit}"
        ) from exc
    return Conversion(scale=float(one - zero), offset=float(zero))


def to_canonical(value: float, unit: str, property_key: str) -> float:
    """Convert one value to the canonical unit of ``property_key``."""
    return conversion(unit, property_key).apply(value)


def _unit_kind(unit: pint.Unit) -> str:
    names = {name for name, _ in unit._units.items()}
    return "angle" if names and names <= ANGLE_UNITS else "ratio"


def _dimension_text(unit: pint.Unit) -> str:
    text = str(unit.dimensionality)
    return "dimensionless" if text == "dimensionless" else text
