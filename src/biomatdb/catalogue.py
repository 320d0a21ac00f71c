"""The property catalogue: every measurable property a value may carry.

The catalogue is code, and the initial migration copies it into the
``properties`` table so that SQL (and partners) can see it; a test keeps the two
equal. Adding a property means adding it here *and* a migration that inserts it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    """One catalogue entry."""

    key: str
    name: str
    category: str
    canonical_unit: str
    #: The pint dimensionality of the canonical unit, as text (``[mass] / [length] ** 3``).
    dimension: str
    #: Lower and upper physical bounds in the canonical unit (``None``: unbounded).
    lower_bound: float | None = 0.0
    upper_bound: float | None = None
    #: For dimensionless properties pint cannot tell a ratio from an angle; this
    #: restricts the accepted units to one kind (``angle`` or ``ratio``).
    unit_kind: str | None = None
    description: str = ""


PRESSURE = "[mass] / [length] / [time] ** 2"

CATALOGUE: tuple[PropertyDefinition, ...] = (
    PropertyDefinition(
        "density",
        "Density",
        "physical",
        "g/cm^3",
        "[mass] / [length] ** 3",
        description="Mass per unit volume of the bulk material.",
    ),
    PropertyDefinition(
        "porosity",
        "Porosity",
        "physical",
        "%",
        "dimensionless",
        upper_bound=100.0,
        unit_kind="ratio",
        description="Volume fraction of pores.",
    ),
    PropertyDefinition(
        "pore_size",
        "Pore size",
        "physical",
        "um",
        "[length]",
        description="Characteristic pore diameter of a porous material or scaffold.",
    ),
    PropertyDefinition(
        "youngs_modulus",
        "Young's modulus",
        "mechanical",
        "GPa",
        PRESSURE,
        description="Elastic modulus in tension, compression or bending.",
    ),
    PropertyDefinition(
        "tensile_strength",
        "Ultimate tensile strength",
        "mechanical",
        "MPa",
        PRESSURE,
    ),
    PropertyDefinition("yield_strength", "Yield strength", "mechanical", "MPa", PRESSURE),
    PropertyDefinition(
        "compressive_strength",
        "Compressive strength",
        "mechanical",
        "MPa",
        PRESSURE,
    ),
    PropertyDefinition(
        "flexural_strength",
        "Flexural (bending) strength",
        "mechanical",
        "MPa",
        PRESSURE,
    ),
    PropertyDefinition(
        "fatigue_strength",
        "Fatigue strength",
        "mechanical",
        "MPa",
        PRESSURE,
        description="Stress amplitude endured for a stated number of cycles (see conditions).",
    ),
    PropertyDefinition(
        "elongation_at_break",
        "Elongation at break",
        "mechanical",
        "%",
        "dimensionless",
        unit_kind="ratio",
    ),
    PropertyDefinition(
        "fracture_toughness",
        "Fracture toughness (K_IC)",
        "mechanical",
        "MPa*m^0.5",
        "[mass] / [length] ** 0.5 / [time] ** 2",
    ),
    PropertyDefinition(
        "vickers_hardness",
        "Vickers hardness",
        "mechanical",
        "HV",
        PRESSURE,
        description="Vickers hardness number (kgf/mm^2); values in GPa or MPa convert.",
    ),
    PropertyDefinition(
        "poissons_ratio",
        "Poisson's ratio",
        "mechanical",
        "dimensionless",
        "dimensionless",
        lower_bound=-1.0,
        upper_bound=0.5,
        unit_kind="ratio",
    ),
    PropertyDefinition(
        "degradation_time",
        "Degradation (resorption) time",
        "biological",
        "month",
        "[time]",
        description=(
            "Time to complete resorption or mass loss, in vivo or in vitro (see conditions)."
        ),
    ),
    PropertyDefinition(
        "swelling_ratio",
        "Swelling ratio",
        "physical",
        "%",
        "dimensionless",
        unit_kind="ratio",
        description=(
            "Uptake of water or medium by a hydrogel or polymer: swollen to dry mass or "
            "volume, or the percentage gain (conditions say which); a ratio of 15 is 1500 %."
        ),
    ),
    PropertyDefinition(
        "corrosion_rate",
        "Corrosion (degradation) rate",
        "chemical",
        "mm/year",
        "[length] / [time]",
        description=(
            "Loss of thickness per time of a corroding (e.g. resorbable) metal; medium and "
            "method (immersion, hydrogen evolution, electrochemical) in conditions."
        ),
    ),
    PropertyDefinition(
        "water_contact_angle",
        "Water contact angle",
        "surface",
        "degree",
        "dimensionless",
        upper_bound=180.0,
        unit_kind="angle",
    ),
    PropertyDefinition(
        "glass_transition_temperature",
        "Glass transition temperature",
        "thermal",
        "degC",
        "[temperature]",
        lower_bound=-273.15,
    ),
    PropertyDefinition(
        "melting_temperature",
        "Melting temperature",
        "thermal",
        "degC",
        "[temperature]",
        lower_bound=-273.15,
    ),
)

BY_KEY: dict[str, PropertyDefinition] = {p.key: p for p in CATALOGUE}


#: Property key -> its canonical unit (what every summary and canonical value is in).
CANONICAL_UNITS: dict[str, str] = {p.key: p.canonical_unit for p in CATALOGUE}


def get(key: str) -> PropertyDefinition | None:
    """The catalogue entry for ``key``, or ``None`` when there is none."""
    return BY_KEY.get(key)


def keys_of(text: str | None, *, path: str = "properties") -> list[str] | None:
    """The property keys of a comma list (``k1,k2``) in catalogue order, each once
    (None: no list given); a 400 naming every unknown key."""
    from biomatdb.errors import FieldProblem, InvalidParameter

    if text is None:
        return None
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(key for key in wanted if get(key) is None)
    if unknown:
        problems = [FieldProblem(path, unknown_key(key)) for key in unknown]
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    return [p.key for p in CATALOGUE if p.key in wanted]


def unknown_key(key: str) -> str:
    """The message for a property key the catalogue lacks, with the nearest key:
    ``unknown property 'youngs_modulos'; did you mean 'youngs_modulus'? see ...``."""
    import difflib

    shown = str(key)[:64]
    near = difflib.get_close_matches(shown.lower(), list(BY_KEY), n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"unknown property {shown!r}{hint}; see /api/v1/properties for the catalogue"
