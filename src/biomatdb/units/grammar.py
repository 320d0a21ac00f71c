"""Reading unit text: spellings seen in papers, then a whitelist grammar (never pint's
expression evaluator).

Conversions are affine (``canonical = value * scale + offset``: offset units such
as degC/K/degF need the offset), so each (unit, property) pair is resolved by
pint once and cached; converting a value afterwards is two float operations.

Unit text comes from users (query parameters, bundles), so it never reaches
pint's expression evaluator, which computes integer powers with unbounded
integers (``GPa^(9^9^9)`` would hold the GIL for minutes). After the spelling
normalisation, :func:`parse_unit` reads it with a small whitelist grammar::

    unit     = factor { operator factor }        at most 6 factors, 64 characters
    operator = "*" | "." | "/" | whitespace      whitespace = "*", not after a "/"
    factor   = symbol [ ("^" | "**") power ]     | "1" (only as in "1/s")
    power    = exponent | "(" exponent ")"
    symbol   = a single unit name, symbol or alias pint knows: GPa, g, cm, degC,
               %, month, HV ... (letters, digits after the first letter, "_")
    exponent = an integer from -4 to 4, or +-0.5, +-1.5

Every symbol is looked up alone in the registry and the unit is assembled from
the names and exponents, so the work is bounded by the length limit. Anything
else (other parentheses, numbers other than exponents, chained powers ``m^2^2``,
unknown symbols) is a :class:`UnitError` saying what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import pint

from biomatdb.units.registry import UNITS, UnitError

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")


def _superscript_power(match: re.Match[str]) -> str:
    return "^" + match.group(0).translate(_SUPERSCRIPTS)


# Spellings seen in papers and spreadsheets, rewritten into the grammar below.
_ALIASES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(?:°|º)\s*C\b|℃", "degC"),
        (r"(?:°|º)\s*F\b|℉", "degF"),
        (r"(?:°|º)", "degree"),
        (r"[µμ]", "u"),
        (r"√\s*m", "*m^0.5"),
        (r"m\s*\^?\s*(?:½|1/2|\(1/2\))", "m^0.5"),
        (r"½", "^0.5"),
        # Superscript powers: cm³, m⁻¹, g·cm⁻³.
        (r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+", _superscript_power),
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
        # Words pint's own parser understood: "g per cm^3", "square meter", "cm cubed".
        (r"\s+per\s+", "/"),
        (r"\b(?:square|sq)\s+([^\W\d]\w*)", r"\1^2"),
        (r"\bcubic\s+([^\W\d]\w*)", r"\1^3"),
        (r"([^\W\d]\w*)\s+squared\b", r"\1^2"),
        (r"([^\W\d]\w*)\s+cubed\b", r"\1^3"),
    )
)
_MPA_SQRT_M_SPACED = re.compile(r"([A-Za-z])\s+(m\^0\.5)")
_DOUBLED_PRODUCT = re.compile(r"\*\s*\*\s*(?=m\^0\.5)")


def _normalize_spelling(unit: str) -> str:
    text = unit.strip()
    for pattern, replacement in _ALIASES:
        text = pattern.sub(replacement, text)
    text = _DOUBLED_PRODUCT.sub("*", text)
    return _MPA_SQRT_M_SPACED.sub(r"\1*\2", text)


#: The longest unit text accepted, checked before anything else (and before caching).
MAX_UNIT_LENGTH = 64
#: The most unit symbols in one unit (``MPa*m^0.5`` has two).
MAX_FACTORS = 6
#: Integer exponents are allowed up to this absolute value ...
MAX_EXPONENT = 4
#: ... and these half powers (fracture toughness is MPa*m^0.5).
HALF_POWERS = frozenset({Fraction(1, 2), Fraction(3, 2), Fraction(-1, 2), Fraction(-3, 2)})
_ALLOWED = (
    "a unit is at most 6 unit symbols joined by '*', '/' or spaces, each optionally "
    "raised with '^' to an integer power from -4 to 4 or to 0.5 or 1.5 "
    "(e.g. GPa, g/cm^3, MPa*m^0.5, degC, %)"
)
_DIMENSIONLESS_SPELLINGS = frozenset({"1", "dimensionless", "-", "unitless"})
_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<power>\*\*|\^)"
    r"|(?P<operator>[*/.])"
    r"|(?P<number>[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<symbol>[^\W\d]\w*|%)"
    # A parenthesised exponent, m^(-1) or m^(0.5), is the only parenthesis allowed.
    r"|\(\s*(?P<bracketed>[+-]?[0-9]+(?:\.[0-9]+)?)\s*\)"
    r"|(?P<paren>[()\[\]{}])"
    r"|(?P<other>.)",
    re.DOTALL,
)
_EXPONENT_KINDS = frozenset({"number", "bracketed"})
_EXPONENT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    spaced: bool  # whitespace before it
    start: int


def parse_unit(unit: str) -> pint.Unit:
    """Parse a unit string (``GPa``, ``g/cm^3``, ``°C``, ``MPa·m½`` ...).

    The text is read with the whitelist grammar in the module docstring, never
    by pint's expression evaluator; anything outside it raises :class:`UnitError`.
    The length is checked here, uncached, so that only short strings become
    cache keys.
    """
    _check_length(unit)
    return _parse_unit_cached(unit)


def _check_length(unit: str) -> None:
    if not isinstance(unit, str):
        raise UnitError(f"the unit must be text; {_ALLOWED}")
    if len(unit) > MAX_UNIT_LENGTH:
        raise UnitError(
            f"the unit is too long ({len(unit)} characters): at most {MAX_UNIT_LENGTH} "
            f"are allowed; {_ALLOWED}"
        )


@lru_cache(maxsize=4096)
def _parse_unit_cached(unit: str) -> pint.Unit:
    text = _normalize_spelling(unit)
    if not text:
        raise UnitError("the unit is empty")
    if text in _DIMENSIONLESS_SPELLINGS:
        dimensionless: pint.Unit = UNITS.dimensionless
        return dimensionless
    return _build_unit(unit, _read_factors(unit, text))


def _problem(unit: str, detail: str) -> UnitError:
    return UnitError(f"unknown unit {unit!r}: {detail}")


def _tokenize(unit: str, text: str) -> list[_Token]:
    tokens: list[_Token] = []
    spaced = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        value = match.group(kind) if match.lastgroup else match.group()
        if kind == "space":
            spaced = True
            continue
        if kind == "paren":
            raise _problem(
                unit,
                "parentheses are only allowed around an exponent, as in m^(-1) "
                f"(write J/kg/K for J/(kg*K)); {_ALLOWED}",
            )
        if kind == "other":
            raise _problem(unit, f"unexpected character {value!r}; {_ALLOWED}")
        tokens.append(_Token(kind, value, spaced, match.start()))
        spaced = False
    return tokens


def _exponent(unit: str, literal: str) -> Fraction:
    shown = literal if len(literal) <= 12 else literal[:12] + "..."
    if not _EXPONENT.fullmatch(literal):
        raise _problem(unit, f"exponent {shown} must be a plain number such as 2, -1 or 0.5")
    value = Fraction(literal)
    if (value.denominator == 1 and abs(value) <= MAX_EXPONENT) or value in HALF_POWERS:
        return value
    raise _problem(
        unit,
        f"exponent {shown} is out of range: at most {MAX_EXPONENT} in absolute value, "
        "or 0.5, 1.5, -0.5, -1.5",
    )


def _read_factors(unit: str, text: str) -> list[tuple[str | None, Fraction]]:
    """``[(symbol, exponent), ...]``; the symbol ``None`` is the ``1`` of ``1/s``."""
    tokens = _tokenize(unit, text)
    factors: list[tuple[str | None, Fraction]] = []
    sign = 1
    divided = False
    index = 0
    while True:
        symbol = _symbol_at(unit, tokens, index)
        exponent, index = _power_after(unit, tokens, index + 1, symbol)
        factors.append((symbol, sign * exponent))
        if len(factors) > MAX_FACTORS:
            raise _problem(unit, f"too many factors: at most {MAX_FACTORS} unit symbols")
        if index >= len(tokens):
            return factors
        sign, divided, index = _operator_at(unit, text, tokens, index, divided)


def _symbol_at(unit: str, tokens: list[_Token], index: int) -> str | None:
    """The unit symbol at ``index`` (None for the ``1`` of ``1/s``), or why there is none."""
    if index >= len(tokens):
        after = f" must follow {tokens[-1].text!r}" if tokens else " is missing"
        raise _problem(unit, f"a unit symbol{after}; {_ALLOWED}")
    token = tokens[index]
    if token.kind == "symbol":
        return token.text
    one_over = index == 0 and index + 1 < len(tokens) and tokens[index + 1].text == "/"
    if token.kind == "number" and token.text == "1" and one_over:
        return None
    if token.kind in _EXPONENT_KINDS:
        raise _problem(
            unit,
            f"unexpected number {token.text[:12]!r}: numbers are only allowed as "
            "exponents after '^' or '**' (and as the 1 of 1/s)",
        )
    raise _problem(unit, f"expected a unit symbol, found {token.text!r}; {_ALLOWED}")


def _power_after(
    unit: str, tokens: list[_Token], index: int, symbol: str | None
) -> tuple[Fraction, int]:
    """The exponent that follows a symbol (1 when none does) and the index after it."""
    count = len(tokens)
    if index >= count or tokens[index].kind != "power":
        return Fraction(1), index
    power = tokens[index].text
    index += 1
    if symbol is None or index >= count or tokens[index].kind not in _EXPONENT_KINDS:
        raise _problem(unit, f"{power!r} must follow a unit symbol and be followed by an exponent")
    exponent = _exponent(unit, tokens[index].text)
    index += 1
    if index < count and tokens[index].kind == "power":
        raise _problem(unit, f"only one exponent per unit symbol ({symbol}^2^2 is not allowed)")
    return exponent, index


def _operator_at(
    unit: str, text: str, tokens: list[_Token], index: int, divided: bool
) -> tuple[int, bool, int]:
    """(sign of the next factor, whether a '/' was seen, the index of the next factor)."""
    token = tokens[index]
    if token.kind == "operator":
        return (-1 if token.text == "/" else 1), divided or token.text == "/", index + 1
    if token.kind == "symbol" and token.spaced:
        if divided:
            divide = text[: token.start].rstrip() + "/" + text[token.start :]
            raise _problem(
                unit,
                f"a space after '/' is ambiguous: write {divide!r} to divide by "
                f"{token.text!r} too, or use '*' to multiply",
            )
        return 1, divided, index
    raise _problem(unit, f"expected '*' or '/' before {token.text[:12]!r}; {_ALLOWED}")


#: The unit symbols of materials data, by their lower-case spelling: an unknown
#: symbol that differs from one of them only in case is a typo to point out.
COMMON_SYMBOLS = {
    symbol.lower(): symbol
    for symbol in [
        "Pa",
        "kPa",
        "MPa",
        "GPa",
        "TPa",
        "psi",
        "ksi",
        "Msi",
        "bar",
        "mbar",
        "atm",
        "N",
        "kN",
        "mN",
        "J",
        "kJ",
        "mJ",
        "W",
        "kW",
        "g",
        "kg",
        "mg",
        "ug",
        "m",
        "cm",
        "mm",
        "um",
        "nm",
        "km",
        "L",
        "mL",
        "uL",
        "s",
        "ms",
        "min",
        "h",
        "day",
        "week",
        "month",
        "year",
        "K",
        "degC",
        "degF",
        "Hz",
        "kHz",
        "MHz",
        "V",
        "mV",
        "A",
        "mA",
        "ohm",
        "S",
        "mS",
        "HV",
        "HB",
        "HRC",
        "mol",
        "mmol",
    ]
}


def _registry_name(unit: str, symbol: str) -> str:
    try:
        name: str = UNITS.get_name(symbol)
    except Exception as exc:  # UndefinedUnitError, or anything odd from the lookup
        detail = "" if symbol == unit.strip() else f": unknown unit symbol {symbol!r}"
        raise UnitError(f"unknown unit {unit!r}{detail}{_case_hint(unit, symbol)}") from exc
    return name


def _case_hint(unit: str, symbol: str) -> str:
    """``; did you mean 'MPa'?`` when ``symbol`` is a common symbol in another case."""
    known = COMMON_SYMBOLS.get(symbol.lower())
    if known is None or known == symbol:
        return ""
    return f"; did you mean {unit.replace(symbol, known)!r}? (unit symbols are case-sensitive)"


def _build_unit(unit: str, factors: list[tuple[str | None, Fraction]]) -> pint.Unit:
    """Assemble the unit from single registry look-ups, as pint's parser would.

    Like ``UnitRegistry.parse_units``: exponents of the same symbol add up, and an
    offset unit (degC) in a product or with a power means its ``delta_`` unit.
    """
    by_symbol: dict[str, Fraction] = {}
    for symbol, exponent in factors:
        if symbol is not None:
            by_symbol[symbol] = by_symbol.get(symbol, Fraction(0)) + exponent
    by_symbol = {symbol: exponent for symbol, exponent in by_symbol.items() if exponent}
    many = len(by_symbol) > 1
    exponents: dict[str, Fraction] = {}
    for symbol, exponent in by_symbol.items():
        name = _registry_name(unit, symbol)
        if not name:  # "dimensionless"
            continue
        definition = UNITS._units.get(name)
        if definition is None:  # pragma: no cover - get_name registers what it returns
            raise _problem(unit, f"unknown unit symbol {symbol!r}")
        if getattr(definition, "is_logarithmic", False):
            raise _problem(unit, f"logarithmic units such as {symbol!r} are not supported")
        if not definition.is_multiplicative and (many or exponent != 1):
            name = "delta_" + name
            if name not in UNITS._units:  # pragma: no cover - offset units have deltas
                raise _problem(unit, f"{symbol!r} cannot be multiplied or raised to a power")
        exponents[name] = exponents.get(name, Fraction(0)) + exponent
    container = UNITS.UnitsContainer(
        {
            name: int(exponent) if exponent.denominator == 1 else float(exponent)
            for name, exponent in exponents.items()
            if exponent
        }
    )
    built: pint.Unit = UNITS.Unit(container)
    return built
