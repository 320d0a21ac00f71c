"""The unit grammar: user text never reaches pint's expression evaluator.

pint evaluates ``GPa^(9^9^9)`` with Python big integers while holding the GIL, so
units are read with a small whitelist grammar (``units.parse_unit``) and every
input is answered, accepted or refused with a :class:`UnitError`, in milliseconds.
"""

from __future__ import annotations

import gc
import math
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb import catalogue, units
from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material, PropertyValue

# Inputs that hung or exhausted the server, or that pint would evaluate oddly.
HOSTILE = [
    "GPa^(9^9^9)",
    "GPa^2^2^2^2^2^2",
    "GPa**99999999",
    "GPa**-99999999",
    "GPa^" + "9" * 50,
    "m^5",
    "m^-5",
    "m^0.25",
    "m^2.5",
    "m^1e9",
    "m^(1/2)^9",
    "GPa" * 5000,
    "G" * 10_000,
    "(" * 30 + "GPa" + ")" * 30,
    "((((m))))",
    "GPa/(m*(s*(kg)))",
    "J/(kg*K)",
    "m^(9)",
    "m^(2)^(2)",
    "m^((2))",
    "1e9*Pa",
    "1e9 Pa",
    "2*GPa",
    "GPa*2",
    "10**9*Pa",
    "Pa*10^9",
    "nan",
    "inf",
    "infinity",
    "NaN*GPa",
    "GPa*inf",
    "__import__",
    "__class__",
    "eval",
    "None",
    "True",
    "GPa.__class__",
    "GPa[0]",
    "GPa{}",
    "GPa; DROP TABLE",
    "GPa\x00",
    "dB",
    "GPa*dB",
    "Gpaa",
    "GPa/Gpaa",
    "kg**",
    "^2",
    "*GPa",
    "GPa/",
    "GPa//m",
    "GPa^^2",
    "GPa^*2",
    "GPa^-",
    "m-2",
    "a*b*c*d*e*f*g",
    "m*m*m*m*m*m*m",
    "m m m m m m m",
    "J/kg K",
    "МРа",  # Cyrillic look-alikes
    "GΡa",  # Greek capital rho
    "ＧＰａ",  # full-width
]


BUDGET = 0.05  # seconds: the issue asks for every answer in under 50 ms


def timed(call: Any, *args: str) -> tuple[float, Any]:
    """(seconds, result or UnitError) of one uncached call; any other exception escapes.

    The caches are cleared first, so the parse really runs. The garbage collector is
    paused while timing and a call over budget is timed again (up to 3 times, the
    fastest counts): a pathological input is slow every time, whereas a collection
    of the test session's garbage or a busy CI machine is not.
    """
    best = math.inf
    outcome: Any = None
    for _ in range(3):
        units._parse_unit_cached.cache_clear()
        units._conversion_cached.cache_clear()
        gc.disable()
        try:
            started = time.perf_counter()
            try:
                outcome = call(*args)
            except units.UnitError as exc:
                outcome = exc
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
        if best < BUDGET:
            break
    return best, outcome


def assert_refused_quickly(text: str, key: str | None = None) -> str:
    elapsed, outcome = (
        timed(units.parse_unit, text) if key is None else timed(units.conversion, text, key)
    )
    assert isinstance(outcome, units.UnitError), outcome
    assert elapsed < BUDGET, (text[:40], elapsed)
    return str(outcome)


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(text[:24]) for text in HOSTILE])
def test_hostile_units_are_refused_in_milliseconds(text: str) -> None:
    assert assert_refused_quickly(text)
    assert assert_refused_quickly(text, "youngs_modulus")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("GPa^(9^9^9)", ["parentheses are only allowed around an exponent"]),
        ("m^(9)", ["exponent 9 is out of range"]),
        ("(2)*m", ["unexpected number '2'"]),
        ("GPa^2^2^2^2^2^2", ["only one exponent"]),
        ("GPa**99999999", ["exponent 99999999 is out of range", "at most 4 in absolute value"]),
        ("m^5", ["exponent 5 is out of range"]),
        ("m^0.25", ["exponent 0.25 is out of range", "0.5"]),
        ("G" * 10_000, ["too long", "10000 characters", "at most 64"]),
        ("1e9*Pa", ["unexpected number '1e9'"]),
        ("GPa/Gpaa", ["unknown unit symbol 'Gpaa'"]),
        ("Gpaa", ["unknown unit 'Gpaa'"]),
        ("a*b*c*d*e*f*g", ["too many factors", "at most 6"]),
        ("J/kg K", ["ambiguous", "J/kg/K"]),
        ("dB", ["logarithmic"]),
        ("GPa;", ["unexpected character ';'"]),
        ("kg**", ["unknown unit", "must follow a unit symbol"]),
    ],
)
def test_refusals_say_what_is_wrong(text: str, words: list[str]) -> None:
    message = assert_refused_quickly(text)
    for word in words:
        assert word in message, message


def test_the_too_long_message_does_not_echo_the_input() -> None:
    message = assert_refused_quickly("GPa" * 5000)
    assert len(message) < 400


def test_long_units_never_become_cache_keys() -> None:
    units._parse_unit_cached.cache_clear()
    units._conversion_cached.cache_clear()
    for text in ("G" * 65, "GPa" + " " * 100):
        with pytest.raises(units.UnitError):
            units.parse_unit(text)
        with pytest.raises(units.UnitError):
            units.conversion(text, "youngs_modulus")
    assert units._parse_unit_cached.cache_info().currsize == 0
    assert units._conversion_cached.cache_info().currsize == 0


def test_pint_expression_parser_never_sees_user_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"pint parsed {args!r}")

    for name in ("parse_units", "parse_expression", "parse_units_as_container", "Quantity"):
        monkeypatch.setattr(units.UNITS, name, forbidden)
    units._parse_unit_cached.cache_clear()
    assert str(units.parse_unit("MPa·m½")) == "megapascal * meter ** 0.5"
    assert str(units.parse_unit("g/cm^3")) == "gram / centimeter ** 3"
    for text in ("GPa^(9^9^9)", "1e9*Pa", "bananas"):
        with pytest.raises(units.UnitError):
            units.parse_unit(text)
    units._parse_unit_cached.cache_clear()


# -- the HTTP API and bundle imports use the same grammar ---------------------------


def test_hostile_unit_in_a_query_is_a_400_problem(client: TestClient) -> None:
    started = time.perf_counter()
    response = client.get("/api/v1/materials?prop=youngs_modulus:1..2:GPa%5E(9%5E9%5E9)")
    assert time.perf_counter() - started < 5
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["path"] == "prop[0]"
    assert "parentheses are only allowed" in body["errors"][0]["message"]


@pytest.mark.parametrize("unit", ["GPa^2^2^2^2^2^2", "GPa**99999999", "m^5"])
def test_other_hostile_units_in_a_query_are_400(client: TestClient, unit: str) -> None:
    response = client.get("/api/v1/materials", params={"prop": f"youngs_modulus:1..2:{unit}"})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["path"] == "prop[0]"


def bundle_with_unit(unit: str) -> dict[str, Any]:
    return {
        "references": [{"id": "grammar-ref", "citation": "A grammar test citation, 2024"}],
        "materials": [
            {
                "id": "grammar-mat",
                "name": "Grammar material",
                "class": "metal",
                "status": "published",
                "properties": [
                    {
                        "property": "youngs_modulus",
                        "value": 100,
                        "unit": unit,
                        "source": "grammar-ref",
                    }
                ],
            }
        ],
    }


def counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Material)) or 0,
        session.scalar(select(func.count()).select_from(PropertyValue)) or 0,
    )


@pytest.mark.parametrize(
    "unit", ["GPa^(9^9^9)", "GPa^2^2^2^2^2^2", "GPa**99999999", "1e9*Pa", "G" * 10_000]
)
def test_hostile_unit_in_a_bundle_is_reported_and_nothing_is_written(
    session: Session, unit: str
) -> None:
    before = counts(session)
    started = time.perf_counter()
    report = import_documents(session, [("b", bundle_with_unit(unit))])
    assert time.perf_counter() - started < 5
    assert not report.ok
    assert [e["path"] for e in report.errors] == ["materials[0].properties[0].unit"]
    assert counts(session) == before


def test_a_valid_unit_in_the_same_bundle_imports(session: Session) -> None:
    report = import_documents(session, [("b", bundle_with_unit("kgf/mm^2"))])
    assert report.ok, report.errors


# -- equivalence with what pint parsed before ---------------------------------------

VALID = [
    # seed/ and tests/fixtures
    "%",
    "GPa",
    "K",
    "MPa",
    "MPa*m^0.5",
    "degC",
    "dimensionless",
    "g/cm^3",
    "kPa",
    "kg/m^3",
    "ksi",
    "month",
    "psi",
    "um",
    "week",
    "year",
    # tests/test_units.py and other field spellings
    "MPa·m½",
    "MPa√m",
    "MPa m^1/2",
    "MPa*m^(1/2)",
    "MPa.m^0.5",
    "MPa·√m",
    "N/mm²",
    "N/mm2",
    "kgf/mm^2",
    "kgf/mm2",
    "g/cc",
    "g/cm3",
    "g/cm³",
    "degF",
    "°F",
    "°C",
    "℃",
    "degree",
    "°",
    "µm",
    "μm",
    "mm",
    "nm",
    "HV",
    "HV10",
    "HV0.5",
    "vol%",
    "vol.%",
    "wt%",
    "months",
    "weeks",
    "days",
    "years",
    "1",
    "-",
    "unitless",
    "percent",
    # pint's own spellings
    "kg/m**3",
    "kg m/s",
    "m / s ^ 2",
    "m^-2",
    "m**-0.5",
    "1/s",
    "h^-1",
    "J/kg*K",
    "degC*m",
    "degC/m",
    "degC^1",
    "N m",
    "GPa ^ 2",
    "m^2.0",
    "%/%",
    "g per cm^3",
    "square meter",
    "cm squared",
    "cubic cm",
    "sq m",
    "mg/mL",
    "Å",
    "meters",
    "MPa^1.5",
    "MPa*m^(0.5)",
    "cm^( -1 )",
    "m**(2)",
]


def reference_unit(text: str) -> Any:
    """What the code before the grammar returned: pint's parser on normalised text."""
    normalised = units._normalize_spelling(text)
    if normalised in {"1", "dimensionless", "-", "unitless"}:
        return units.UNITS.dimensionless
    return units.UNITS.parse_units(normalised)


def base_factor_and_offset(unit: Any) -> tuple[float, float]:
    zero = units.UNITS.Quantity(0.0, unit).to_base_units().magnitude
    one = units.UNITS.Quantity(1.0, unit).to_base_units().magnitude
    return float(one - zero), float(zero)


@pytest.mark.parametrize("text", VALID)
def test_valid_spellings_parse_as_pint_did(text: str) -> None:
    units._parse_unit_cached.cache_clear()
    parsed = units.parse_unit(text)
    before = reference_unit(text)
    assert parsed == before
    assert parsed.dimensionality == before.dimensionality
    assert base_factor_and_offset(parsed) == pytest.approx(base_factor_and_offset(before))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g·cm⁻³", "gram / centimeter ** 3"),
        ("kg m⁻³", "kilogram / meter ** 3"),
        ("m⁻¹", "1 / meter"),
        ("MPa·m^0.5", "megapascal * meter ** 0.5"),
    ],
)
def test_superscript_powers(text: str, expected: str) -> None:
    assert str(units.parse_unit(text)) == expected


def test_every_catalogue_unit_is_in_the_grammar() -> None:
    for definition in catalogue.CATALOGUE:
        assert units.parse_unit(definition.canonical_unit) == reference_unit(
            definition.canonical_unit
        )


def test_extreme_but_grammatical_units_do_not_overflow() -> None:
    # 6 factors of (yotta)^4 would overflow a float: refused, never inf or a crash.
    with pytest.raises(units.UnitError) as caught:
        units.conversion("YPa^4/yPa^3*Ym^4/ym^4", "youngs_modulus")
    assert "out of range" in str(caught.value) or "converted" in str(caught.value)


# -- fuzzing --------------------------------------------------------------------------

KNOWN = ["GPa", "MPa", "Pa", "m", "cm", "mm", "um", "g", "kg", "s", "N", "K", "degC"]
KNOWN += ["degF", "%", "HV", "ksi", "psi", "month", "kgf", "percent", "dimensionless"]
UNKNOWN = ["Gpaa", "bananas", "nan", "inf", "eval", "__import__", "x", "lambda", "dB"]
UNKNOWN += ["pi", "e", "c", "None", "_", "m0", "Δ", "delta_degC"]
LOOKALIKES = ["МРа", "GΡa", "ＧＰａ", "µ", "μ", "°", "º", "²", "³", "⁻", "¹", "½", "√", "·"]
LOOKALIKES += ["×", "℃", "\u200b", "\xa0", "\x00", "\n", "\t", "Å", "Ω", "٣", "𝟐", "ﬁ"]
OPERATORS = ["*", "/", "^", "**", "(", ")", " ", ".", "-", "+", ",", "  ", "1/2"]
EXPONENTS = [
    "0.5",
    "1.5",
    "-0.5",
    "-1.5",
    "2",
    "-4",
    "4",
    "5",
    "1e9",
    "9^9^9",
    "(9^9^9)",
    "99999999",
    "2^2^2^2^2^2",
    "0",
    "+3",
]

pieces = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(UNKNOWN),
    st.sampled_from(LOOKALIKES),
    st.sampled_from(OPERATORS),
    st.sampled_from(EXPONENTS),
    st.integers(-(10**40), 10**40).map(str),
    st.text(max_size=3),
)
soup = st.lists(pieces, max_size=40).map("".join)


@st.composite
def structured(draw: st.DrawFn) -> str:
    """Mostly well-formed products of powers, to exercise the accepting path too."""
    factors = draw(st.integers(1, 8))
    parts: list[str] = []
    for index in range(factors):
        if index:
            parts.append(draw(st.sampled_from(["*", "/", " ", ".", " * ", " / "])))
        parts.append(draw(st.sampled_from(KNOWN + UNKNOWN[:2])))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(["^", "**", " ^ "])))
            parts.append(draw(st.sampled_from(EXPONENTS)))
    return "".join(parts)


WORST: list[float] = [0.0]


def timed_uncached(call: Any, *args: str) -> float:
    elapsed, outcome = timed(call, *args)
    if isinstance(outcome, units.Conversion):
        assert math.isfinite(outcome.scale)
        assert math.isfinite(outcome.offset)
        assert outcome.scale != 0
    WORST[0] = max(WORST[0], elapsed)
    return elapsed


PROPERTY_KEYS = [definition.key for definition in catalogue.CATALOGUE]
units.parse_unit("MPa·m½")  # warm-up: the registry, regexes and pint's caches are loaded


@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@pytest.mark.slow
@given(text=st.one_of(soup, structured()), key=st.sampled_from(PROPERTY_KEYS))
def test_fuzz_every_input_is_a_unit_or_a_unit_error_in_milliseconds(text: str, key: str) -> None:
    # UnitError is the only exception allowed to escape (timed_uncached re-raises any other).
    assert timed_uncached(units.parse_unit, text) < BUDGET, text
    assert timed_uncached(units.conversion, text, key) < BUDGET, (text, key)


def test_fuzz_worst_time_is_reported() -> None:
    # Runs after the fuzz test in file order; keeps the figure visible with -rA / -s.
    print(f"worst uncached unit parse/conversion time: {WORST[0] * 1000:.2f} ms")
    assert WORST[0] < BUDGET
