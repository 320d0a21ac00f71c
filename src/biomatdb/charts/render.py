"""The Ashby chart as SVG.

Hybrid, for speed and accessibility: matplotlib draws the frame (axes, log scales,
ticks, labels, title, legend, notes) from a figure that holds no data artist, and
this module writes each material's mark itself, as ``<g class="material ...">``
with a ``<title>`` (its name: the tooltip, and what a screen reader reads) around a
``<rect>`` (the box from its minimum to its maximum on both axes) or a ``<circle>``
(a single point). The marks are placed through matplotlib's own ``ax.transData``,
so they sit exactly on its axes. matplotlib alone would take seconds for 10,000
patches and gives no artist a ``<title>``; this takes milliseconds.

matplotlib is used through ``Figure`` and the SVG canvas only (no pyplot, no
backend switch). Its settings (rcParams) are process-wide, so each drawing holds a
lock while it sets them (``rc_context``) and draws: charts are drawn one at a time
(the frame is ~0.1 s whatever the number of materials).
"""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis as MplAxis
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from biomatdb.charts.service import Axis, Chart, Values

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: One colour per material class (Okabe-Ito: told apart with colour-vision deficiency).
CLASS_COLOURS = {
    "metal": "#0072B2",
    "ceramic": "#D55E00",
    "glass": "#56B4E9",
    "polymer": "#009E73",
    "composite": "#CC79A7",
    "natural": "#E69F00",
}
OTHER_COLOUR = "#777777"
#: Figure size in inches; the SVG canvas is 72 points per inch (648 x 432 pt).
WIDTH, HEIGHT = 9.0, 6.0
DPI = 72
#: The axes' place in the figure (left, bottom, width, height): fixed margins leave
#: room for tick labels, axis labels, the title and, on the right, the legend.
AXES_RECT = (0.11, 0.13, 0.67, 0.79)
#: Smallest drawn side of a box (points), so that a range on one axis stays visible.
MIN_SIDE = 1.5
POINT_RADIUS = 2.5
PLOT_AREA_ID = "ashby-plot-area"
CLIP_ID = "ashby-marks-clip"
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text as <text>: selectable, searchable, small
    "svg.hashsalt": "biomatdb-ashby",  # the same chart is the same bytes
    "font.size": 10.0,
}
_LOCK = threading.Lock()
#: Characters XML 1.0 does not allow (a name holding one would break the document).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Style:
    """How strongly marks are drawn: fainter as they get more numerous."""

    fill_opacity: float
    stroke_opacity: float
    stroke_width: float

    @classmethod
    def for_count(cls, count: int) -> Style:
        if count <= 100:
            return cls(0.35, 0.9, 0.8)
        if count <= 2000:
            return cls(0.18, 0.7, 0.4)
        return cls(0.08, 0.5, 0.25)


def svg(chart: Chart) -> bytes:
    """The chart as an SVG document."""
    style = Style.for_count(len(chart))
    with _LOCK, matplotlib.rc_context(RC):
        figure, axes = _frame(chart, style)
        buffer = io.StringIO()
        FigureCanvasSVG(figure)  # the figure's canvas: SVG, whatever pyplot's backend
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        # After the drawing: the transforms are those of the document.
        marks = "".join(_marks(chart, axes, figure.bbox.height))
        clip = _clip_rect(axes, figure.bbox.height)
    document = buffer.getvalue()
    document = _insert_after_open_tag(document, _head(chart, style))
    return _insert_marks(document, f'{clip}<g clip-path="url(#{CLIP_ID})">{marks}</g>').encode()


# --- the frame: matplotlib -------------------------------------------------------------


def _frame(chart: Chart, style: Style) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_axes(AXES_RECT)
    axes.patch.set_gid(PLOT_AREA_ID)
    _axis(chart.x, chart.x_values, axes.xaxis, axes.set_xscale, axes.set_xlim, axes.set_xlabel)
    _axis(chart.y, chart.y_values, axes.yaxis, axes.set_yscale, axes.set_ylim, axes.set_ylabel)
    axes.grid(True, which="major", color="#d9d9d9", linewidth=0.6)
    axes.grid(True, which="minor", color="#f0f0f0", linewidth=0.4)
    count = len(chart)
    title = f"{chart.y.name} vs {chart.x.name}: {count:,} material{'s' * (count != 1)}"
    axes.set_title(_text(title), y=1.02)  # a fixed place: no layout pass to find one
    _legend(axes, chart.classes, style)
    if not count:
        axes.text(
            0.5,
            0.5,
            "No published material matching the filters has both properties",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color="#555555",
        )
    if chart.skipped:
        figure.text(0.01, 0.015, _skipped_note(chart), fontsize=8, color="#555555")
    return figure, axes


def _axis(
    axis: Axis,
    values: Values,
    ticks: MplAxis,
    set_scale: Callable[[str], None],
    set_limits: Callable[[float, float], object],
    set_label: Callable[[str], object],
) -> None:
    set_scale(axis.scale)
    low, high = limits(values, axis.scale)
    set_limits(low, high)
    set_label(_text(f"{axis.name} ({axis.unit})"))
    if axis.scale == "log":
        # Plain numbers (0.01, 1, 100), not mathtext (10^2): readable, and 0.1 s faster.
        ticks.set_major_formatter(FuncFormatter(tick_label))
        labelled = minor_labels(math.log10(high / low))
        ticks.set_minor_formatter(FuncFormatter(functools.partial(minor_tick_label, labelled)))
        ticks.set_tick_params(which="minor", pad=4.9)  # labels in line with the major ones


def _legend(axes: Axes, classes: Sequence[str], style: Style) -> None:
    counts = Counter(classes)
    order = [c for c in CLASS_COLOURS if c in counts] + sorted(set(counts) - set(CLASS_COLOURS))
    handles = [
        Patch(
            facecolor=_with_alpha(colour_of(name), max(style.fill_opacity, 0.25)),
            edgecolor=colour_of(name),
            linewidth=0.8,
            label=_text(f"{name} ({counts[name]})"),
        )
        for name in order
    ]
    if handles:
        axes.legend(
            handles=handles,
            title="Class",
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            frameon=False,
            borderaxespad=0.0,
        )


def _skipped_note(chart: Chart) -> str:
    log = "log" in (chart.x.scale, chart.y.scale)
    reason = (
        "a value \u2264 0 cannot be placed on a log scale" if log else "a value is out of range"
    )
    plural = "s" if chart.skipped != 1 else ""
    return _text(f"{chart.skipped} matching material{plural} not shown: {reason}")


def limits(values: Values, scale: str) -> tuple[float, float]:
    """The axis range: every value, with a margin (half a decade, or 10 %, around a
    lone value)."""
    if not len(values):
        return (1.0, 1000.0) if scale == "log" else (0.0, 1.0)
    low, high = float(values[:, 0].min()), float(values[:, 2].max())
    if scale == "log":
        a, b = math.log10(low), math.log10(high)
        pad = (b - a) * 0.06 or 0.5
        return 10 ** (a - pad), 10 ** (b + pad)
    pad = (high - low) * 0.06 or abs(low) * 0.1 or 1.0
    return low - pad, high + pad


_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def tick_label(value: float, _position: int | None = None) -> str:
    """A log axis' label: 0.001 to 10000 as plain numbers, else 10\u2076, 2\u00d710\u207b\u2075."""
    if value <= 0 or not math.isfinite(value):
        return ""
    if 1e-3 <= value < 1e5:
        return f"{value:.6g}"
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0**exponent, 3)
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa:g}\u00d7{power}"


def minor_labels(decades: float) -> frozenset[int]:
    """Which minor ticks of a log axis spanning ``decades`` get a label (by mantissa):
    every one on a short axis, 2 and 5 on a medium one, none beyond."""
    if decades < 0.7:
        return frozenset(range(2, 10))
    return frozenset({2, 5}) if decades < 2.5 else frozenset()


def minor_tick_label(labelled: frozenset[int], value: float, position: int | None = None) -> str:
    """A minor tick's label, if its mantissa (2 to 9) is ``labelled``."""
    if value <= 0 or not math.isfinite(value):
        return ""
    mantissa = value / 10.0 ** math.floor(math.log10(value) + 1e-9)
    shown = round(mantissa) in labelled and math.isclose(mantissa, round(mantissa), rel_tol=1e-6)
    return tick_label(value, position) if shown else ""


def _text(text: str) -> str:
    """Text matplotlib prints as given (a ``$`` would start mathtext)."""
    return text.replace("$", r"\$")


def colour_of(material_class: str) -> str:
    return CLASS_COLOURS.get(material_class, OTHER_COLOUR)


def _with_alpha(colour: str, alpha: float) -> tuple[float, float, float, float]:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return (red, green, blue, alpha)


# --- the marks: written here -----------------------------------------------------------


def _marks(chart: Chart, axes: Axes, height: float) -> Iterator[str]:
    """Each material's ``<g>``, largest box first (so that small ones stay on top,
    reachable by the pointer), in SVG coordinates (y down from the top)."""
    if not len(chart):
        return
    x, y = chart.x_values, chart.y_values
    low = axes.transData.transform(np.column_stack([x[:, 0], y[:, 0]]))
    high = axes.transData.transform(np.column_stack([x[:, 2], y[:, 2]]))
    left, right = low[:, 0], high[:, 0]
    top, bottom = height - high[:, 1], height - low[:, 1]
    point = (x[:, 0] == x[:, 2]) & (y[:, 0] == y[:, 2])
    order = np.argsort(-(right - left) * (bottom - top), kind="stable")
    boxes = np.column_stack([left, top, right, bottom]).tolist()
    for index in order.tolist():
        shape = _point(*boxes[index]) if point[index] else _box(*boxes[index])
        yield (
            f'<g class="material class-{_css_name(chart.classes[index])}"'
            f' data-id="{_attribute(chart.ids[index])}">'
            f"<title>{_xml(chart.names[index])}</title>{shape}</g>"
        )


def _point(left: float, top: float, _right: float, _bottom: float) -> str:
    return f'<circle cx="{left:.2f}" cy="{top:.2f}" r="{POINT_RADIUS}"/>'


def _box(left: float, top: float, right: float, bottom: float) -> str:
    """The rectangle, at least MIN_SIDE on each side (a range on one axis only)."""
    width, height = right - left, bottom - top
    if width < MIN_SIDE:
        left, width = (left + right - MIN_SIDE) / 2, MIN_SIDE
    if height < MIN_SIDE:
        top, height = (top + bottom - MIN_SIDE) / 2, MIN_SIDE
    return f'<rect x="{left:.2f}" y="{top:.2f}" width="{width:.2f}" height="{height:.2f}"/>'


def _clip_rect(axes: Axes, height: float) -> str:
    box = axes.bbox
    return (
        f'<defs><clipPath id="{CLIP_ID}"><rect x="{box.x0:.2f}" y="{height - box.y1:.2f}"'
        f' width="{box.width:.2f}" height="{box.height:.2f}"/></clipPath></defs>'
    )


def _head(chart: Chart, style: Style) -> str:
    """The document's title and description (its accessible name) and the marks' CSS."""
    count = len(chart)
    title = f"Ashby chart: {chart.y.name} ({chart.y.unit}) vs {chart.x.name} ({chart.x.unit})"
    description = (
        f"{count} material{'s' * (count != 1)}, coloured by class; each box spans a "
        "material's minimum to maximum of both properties, a dot a single value."
    )
    colours = "".join(
        f".class-{_css_name(name)}{{fill:{colour};stroke:{colour}}}"
        for name, colour in CLASS_COLOURS.items()
    )
    css = (
        f".material{{fill:{OTHER_COLOUR};stroke:{OTHER_COLOUR};"
        f"fill-opacity:{style.fill_opacity};stroke-opacity:{style.stroke_opacity};"
        f"stroke-width:{style.stroke_width}}}{colours}"
        ".material:hover{fill-opacity:0.75;stroke-opacity:1;stroke-width:1.5}"
    )
    return (
        f"<title>{_xml(title)}</title><desc>{_xml(description)}</desc>"
        f'<style type="text/css">{css}</style>'
    )


def _insert_after_open_tag(document: str, content: str) -> str:
    start = document.index("<svg")
    end = document.index(">", start) + 1
    return document[:end] + content + document[end:]


def _insert_marks(document: str, content: str) -> str:
    """``content`` just after the axes' background (under the grid, ticks and legend)."""
    start = document.find(f'<g id="{PLOT_AREA_ID}">')
    end = document.find("</g>", start) if start >= 0 else -1
    if end < 0:  # not where matplotlib puts it: on top of everything rather than lost
        end = document.rindex("</svg>")
    else:
        end += len("</g>")
    return document[:end] + content + document[end:]


def _xml(text: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", text))


def _attribute(text: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", text), {'"': "&quot;"})


def _css_name(material_class: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", material_class.lower()) or "other"
