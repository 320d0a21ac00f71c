"""The pint registry biomatdb converts with, and the error every unit problem raises."""

from __future__ import annotations

from typing import Any

import pint

UNITS: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
# Units the field uses that pint does not ship. Vickers hardness numbers are
# kgf/mm^2 (ISO 6507-1), so HV values convert to and from GPa/MPa.
UNITS.define("vickers_hardness_number = kilogram_force / millimeter ** 2 = HV")

ANGLE_UNITS = frozenset({"degree", "radian", "arcminute", "arcsecond", "turn", "gradian"})


class UnitError(ValueError):
    """A unit that cannot be used for a property; the message says why."""
