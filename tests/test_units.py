"""Units: conversions to canonical units, offsets, field units, clear errors."""

from __future__ import annotations

import pytest

from biomatdb import catalogue, units


@pytest.mark.parametrize(
    ("value", "unit", "key", "expected"),
    [
        (114, "GPa", "youngs_modulus", 114),
        (114000, "MPa", "youngs_modulus", 114),
        (16000, "ksi", "youngs_modulus", 110.316116691),
        (14000, "psi", "tensile_strength", 96.5266021064),
        (1, "ksi", "tensile_strength", 6.89475729317),
        (500, "kPa", "youngs_modulus", 0.0005),
        (4430, "kg/m^3", "density", 4.43),
        (4.43, "g/cm^3", "density", 4.43),
        (4.43, "g/cc", "density", 4.43),
        (300, "K", "melting_temperature", 26.85),
        (0, "degC", "melting_temperature", 0),
        (212, "degF", "melting_temperature", 100),
        (37, "°C", "melting_temperature", 37),
        (12, "week", "degradation_time", 2.7597535934),
        (2, "year", "degradation_time", 24),
        (1, "month", "degradation_time", 1),
        (0.4, "dimensionless", "porosity", 40),
        (40, "%", "porosity", 40),
        (5, "MPa*m^0.5", "fracture_toughness", 5),
        (5, "MPa·m½", "fracture_toughness", 5),
        (5, "MPa m^1/2", "fracture_toughness", 5),
        (5, "MPa√m", "fracture_toughness", 5),
        (18, "GPa", "vickers_hardness", 1835.48918336),
        (600, "HV", "vickers_hardness", 600),
        (600, "HV10", "vickers_hardness", 600),
        (600, "HV0.5", "vickers_hardness", 600),
        (600, "kgf/mm2", "vickers_hardness", 600),
        (500, "N/mm2", "tensile_strength", 500),
        (4.43, "g/cm3", "density", 4.43),
        (60, "vol%", "porosity", 60),
        (60, "vol.%", "porosity", 60),
        (1, "mm", "pore_size", 1000),
        (300, "µm", "pore_size", 300),
        (90, "degree", "water_contact_angle", 90),
        (0.3, "dimensionless", "poissons_ratio", 0.3),
    ],
)
def test_conversions(value: float, unit: str, key: str, expected: float) -> None:
    assert units.to_canonical(value, unit, key) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("unit", "key", "words"),
    [
        ("bananas", "youngs_modulus", ["unknown unit 'bananas'"]),
        ("", "youngs_modulus", ["empty"]),
        ("MPa", "density", ["'MPa'", "density", "[mass] / [length] ** 3"]),
        ("g/cm^3", "youngs_modulus", ["youngs_modulus"]),
        ("GPa", "melting_temperature", ["melting_temperature"]),
        ("%", "water_contact_angle", ["angle"]),
        ("degree", "porosity", ["ratio"]),
        ("month", "tensile_strength", ["tensile_strength"]),
        ("GPa", "no_such_property", ["unknown property"]),
        ("1/0", "density", ["unknown unit"]),
        ("kg**", "density", ["unknown unit"]),
    ],
)
def test_unit_errors_name_unit_and_property(unit: str, key: str, words: list[str]) -> None:
    with pytest.raises(units.UnitError) as caught:
        units.conversion(unit, key)
    for word in words:
        assert word in str(caught.value)


def test_every_catalogue_unit_parses_with_its_dimension() -> None:
    for definition in catalogue.CATALOGUE:
        conversion = units.conversion(definition.canonical_unit, definition.key)
        assert (conversion.scale, conversion.offset) == (1.0, 0.0)
        parsed = units.parse_unit(definition.canonical_unit)
        assert str(parsed.dimensionality) == definition.dimension


def test_round_significant_drops_float_noise() -> None:
    assert units.round_significant(26.850000000000023) == 26.85
    assert units.round_significant(0.0) == 0.0
    assert units.round_significant(-1.23456789012345e-7) == -1.23456789012e-7
