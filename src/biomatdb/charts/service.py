"""The Ashby chart's data: the axes checked, then every matching published material
that has both properties, read in one query and converted to the chart's units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from biomatdb import catalogue, units
from biomatdb.charts.schemas import Scale
from biomatdb.errors import FieldProblem, InvalidParameter
from biomatdb.models import Material, PropertySummary
from biomatdb.search.query import SearchQuery
from biomatdb.search.repository import conditions

#: Most materials one chart draws. Beyond it the marks are an unreadable blot (and the
#: answer megabytes), so the request is a 400 that asks to narrow the filters.
MAX_MARKS = 20_000
#: Significant digits of a value whose summary does not say (rows stored before
#: summaries kept their sources' digits); otherwise the sources' digits, at least 3.
SIGNIFICANT_DIGITS = 12
#: A value of larger magnitude (in the chart's unit) is not placed: no axis spans it;
#: on a log scale, nor is a value of smaller magnitude than its inverse.
MAX_MAGNITUDE = 1e150


Values = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Axis:
    """One axis: a catalogue property shown in ``unit`` on a ``scale``."""

    key: str
    name: str
    unit: str
    scale: Scale
    #: From ``unit`` to the property's canonical unit (the summaries' unit).
    conversion: units.Conversion

    def convert(self, canonical: Values, digits: Values) -> Values:
        """Rows of canonical ``(min, typical, max)`` in this axis' unit, each row to its
        ``digits`` significant digits (its sources'; a unit of negative scale would swap
        min and max: put back in order)."""
        with np.errstate(all="ignore"):
            values = units.round_array(
                (canonical - self.conversion.offset) / self.conversion.scale, digits[:, None]
            )
        low = np.minimum(values[:, 0], values[:, 2])
        high = np.maximum(values[:, 0], values[:, 2])
        return np.column_stack([low, values[:, 1], high])

    def placeable(self, values: Values) -> npt.NDArray[np.bool_]:
        """Which rows of ``convert`` can be drawn: finite, of sane magnitude, and > 0 on
        a log scale (the log of a value <= 0 is nowhere)."""
        ok: npt.NDArray[np.bool_] = np.all(
            np.isfinite(values) & (np.abs(values) <= MAX_MAGNITUDE), axis=1
        )
        if self.scale == "log":
            ok &= values[:, 0] >= 1 / MAX_MAGNITUDE
        return ok


@dataclass(frozen=True, slots=True)
class Chart:
    """The plotted materials, by name (then id), as parallel columns."""

    x: Axis
    y: Axis
    ids: list[str]
    names: list[str]
    classes: list[str]
    #: Rows of ``(min, typical, max)`` in the x axis' unit, one per material.
    x_values: Values
    y_values: Values
    #: Materials with both properties left out: a value <= 0 on a log scale, or out
    #: of range in the chart's unit.
    skipped: int

    def __len__(self) -> int:
        return len(self.ids)


def parse_axes(
    x: str, y: str, xunit: str | None, yunit: str | None, scale: Scale
) -> tuple[Axis, Axis]:
    """Both axes, or a 400 naming every problem (``x``, ``xunit``, ``y``, ``yunit``)."""
    problems: list[FieldProblem] = []
    x_axis = _axis("x", x, xunit, scale, problems)
    y_axis = _axis("y", y, yunit, scale, problems)
    if problems or x_axis is None or y_axis is None:
        raise InvalidParameter(
            "; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems
        )
    return x_axis, y_axis


def _axis(
    name: str, key: str, unit: str | None, scale: Scale, problems: list[FieldProblem]
) -> Axis | None:
    definition = catalogue.get(key.strip())
    if definition is None:
        problems.append(
            FieldProblem(
                name,
                catalogue.unknown_key(key),
            )
        )
        return None
    text = (unit or "").strip() or definition.canonical_unit
    try:
        conversion = units.conversion(text, definition.key)
    except units.UnitError as exc:
        problems.append(FieldProblem(f"{name}unit", str(exc)))
        return None
    return Axis(definition.key, definition.name, text, scale, conversion)


def chart(session: Session, query: SearchQuery, x: Axis, y: Axis) -> Chart:
    """Every published material matching ``query``'s filters that has both properties
    (one query; its sort, limit and facets do not apply); a 400 beyond MAX_MARKS."""
    rows = _rows(session, query, x.key, y.key, MAX_MARKS + 1)
    if len(rows) > MAX_MARKS:
        raise InvalidParameter(
            f"more than {MAX_MARKS:,} materials match and have both properties; a chart "
            "draws at most that many: narrow the filters (class, prop, q, ...)"
        )
    canonical = np.array([row[3:9] for row in rows], dtype=np.float64).reshape(-1, 6)
    digits = np.array(
        [[d if d is not None else SIGNIFICANT_DIGITS for d in row[9:11]] for row in rows],
        dtype=np.float64,
    ).reshape(-1, 2)
    x_values = x.convert(canonical[:, 0:3], digits[:, 0])
    y_values = y.convert(canonical[:, 3:6], digits[:, 1])
    kept = np.flatnonzero(x.placeable(x_values) & y.placeable(y_values)).tolist()
    return Chart(
        x,
        y,
        ids=[rows[i][0] for i in kept],
        names=[rows[i][1] for i in kept],
        classes=[rows[i][2] for i in kept],
        x_values=x_values[kept],
        y_values=y_values[kept],
        skipped=len(rows) - len(kept),
    )


def _rows(
    session: Session, query: SearchQuery, x_key: str, y_key: str, limit: int
) -> Sequence[Any]:
    xs = aliased(PropertySummary)
    ys = aliased(PropertySummary)
    stmt = (
        select(
            Material.slug,
            Material.name,
            Material.material_class,
            xs.canonical_min,
            xs.typical,
            xs.canonical_max,
            ys.canonical_min,
            ys.typical,
            ys.canonical_max,
            xs.digits,
            ys.digits,
        )
        .join(xs, and_(xs.material_id == Material.id, xs.property_key == x_key))
        .join(ys, and_(ys.material_id == Material.id, ys.property_key == y_key))
        .where(*conditions(session, query))
        .order_by(Material.sort_name, Material.slug)
        .limit(limit)
    )
    return session.execute(stmt).all()


def chart_json(chart: Chart) -> dict[str, Any]:
    """The chart's data in the shape of ``schemas.AshbyChartOut``."""
    return {
        "data": [
            {
                "id": slug,
                "name": name,
                "class": material_class,
                "x": _interval(x),
                "y": _interval(y),
            }
            for slug, name, material_class, x, y in zip(
                chart.ids,
                chart.names,
                chart.classes,
                chart.x_values.tolist(),
                chart.y_values.tolist(),
                strict=True,
            )
        ],
        "meta": {
            "x": _axis_json(chart.x),
            "y": _axis_json(chart.y),
            "total": len(chart),
            "skipped": chart.skipped,
        },
    }


def _interval(values: list[float]) -> dict[str, float]:
    low, typical, high = values
    return {"min": low, "typical": typical, "max": high}


def _axis_json(axis: Axis) -> dict[str, str]:
    return {"key": axis.key, "name": axis.name, "unit": axis.unit, "scale": axis.scale}
