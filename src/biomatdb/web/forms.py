"""What a page's form sends, turned into API parameters (and back, for links).

The search form's fields are the API's search parameters (``q``, ``class``,
``application``, ``degradable``, ``regulatory``, ``country``, ``specimen``,
``sort``, ``cursor``, and ``prop`` in the API's own syntax), plus rows of a property
picker: ``pk`` (key), ``pmin``, ``pmax``, ``pu`` (unit), repeated together, which
become ``prop=KEY:MIN..MAX:UNIT``. A page's URL is thus the whole query: shareable,
bookmarkable, and the same words as the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from starlette.datastructures import QueryParams

from biomatdb import catalogue

#: The API's search parameters a page passes on as they are.
SEARCH_PARAMETERS = (
    "q",
    "class",
    "application",
    "degradable",
    "prop",
    "regulatory",
    "supplier",
    "country",
    "specimen",
)
#: The property picker's fields, one value per row.
PICKER_FIELDS = ("pk", "pmin", "pmax", "pu")
#: Rows the picker shows at least (the filled ones, then empty ones up to this).
PICKER_ROWS = 2
#: Most picker rows read from a URL (the API caps ``prop`` itself).
MAX_PICKER_ROWS = 10

#: Units offered beside the property picker (any unit of the dimension is accepted).
COMMON_UNITS = (
    "GPa", "MPa", "kPa", "Pa", "psi", "ksi", "g/cm^3", "kg/m^3", "%", "um", "nm", "mm",
    "MPa*m^0.5", "HV", "degC", "K", "W/(m*K)", "1/K", "S/m", "ohm*m", "degree", "day", "week",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PickerRow:
    """One row of the property picker, as typed."""

    key: str = ""
    low: str = ""
    high: str = ""
    unit: str = ""

    @property
    def filled(self) -> bool:
        return bool(self.key)

    def as_prop(self) -> str:
        text = f"{self.key}:{self.low.strip()}..{self.high.strip()}"
        return f"{text}:{self.unit.strip()}" if self.unit.strip() else text


@dataclass(frozen=True, slots=True)
class SearchForm:
    """The search as the page holds it: the API's parameters, the picker's rows."""

    values: dict[str, list[str]]
    rows: tuple[PickerRow, ...]

    @classmethod
    def read(cls, params: QueryParams) -> SearchForm:
        values = {
            name: [v for v in params.getlist(name) if v.strip()] for name in SEARCH_PARAMETERS
        }
        columns = [params.getlist(name)[:MAX_PICKER_ROWS] for name in PICKER_FIELDS]
        rows = tuple(
            PickerRow(*(value.strip() for value in row))
            for row in zip_longest(*columns, fillvalue="")
        )
        return cls(values, tuple(r for r in rows if r.filled))

    def one(self, name: str) -> str:
        given = self.values.get(name) or []
        return given[0] if given else ""

    def api_filters(self) -> dict[str, list[str]]:
        """The filters as the API takes them (picker rows appended to ``prop``)."""
        filters = {name: list(v) for name, v in self.values.items() if v}
        props = filters.get("prop", []) + [row.as_prop() for row in self.rows]
        if props:
            filters["prop"] = props
        return filters

    def page_params(self) -> dict[str, list[str]]:
        """The form's own fields (for links that keep the search: next page, sort)."""
        params = {name: list(v) for name, v in self.values.items() if v}
        for index, name in enumerate(PICKER_FIELDS):
            column = [getattr(row, ("key", "low", "high", "unit")[index]) for row in self.rows]
            if column:
                params[name] = column
        return params

    def shown_rows(self) -> list[PickerRow]:
        return [*self.rows, *[PickerRow()] * max(PICKER_ROWS - len(self.rows), 1)]

    def filtered_keys(self) -> list[str]:
        """The property keys the search filters on, in order, each once."""
        keys = [row.key for row in self.rows]
        keys += [text.partition(":")[0] for text in self.values.get("prop", [])]
        return [k for k in dict.fromkeys(keys) if catalogue.get(k) is not None]

    def units(self) -> str:
        """``units=`` for the API: each filtered property in the unit it was filtered in."""
        chosen: dict[str, str] = {}
        for row in self.rows:
            if row.unit and catalogue.get(row.key) is not None:
                chosen.setdefault(row.key, row.unit)
        return ",".join(f"{key}:{unit}" for key, unit in chosen.items())
