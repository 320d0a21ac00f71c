"""The fixed search mix, with the same logical query at every layer.

Each query has: the API query string (HTTP and, parsed, the service layer), the
hand-written floor SQL per dialect (page + total + the page's summaries and
applications: the same result the API returns), and, where Datasette can express
it, the Datasette URL of the nearest equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs

PAGE = 20


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    api: str  # query string of GET /api/v1/materials, or a path for detail
    floor_where: str = ""  # SQL condition on materials m (bound parameters :p...)
    floor_params: dict[str, object] = field(default_factory=dict)
    floor_order: str = "m.sort_name, m.slug"
    datasette: str | None = None  # path on the Datasette server
    pages: int = 1  # a cursor walk of this many pages
    detail: bool = False
    facets: bool = False
    fts: str | None = None  # words for the floor's full-text condition

    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.api, keep_blank_values=True)


def _ids_with(sql: str) -> str:
    return f"m.id IN ({sql})"


MIX: list[Query] = [
    Query(
        "prop",
        "Property range (Young's modulus 10-30 GPa)",
        "prop=youngs_modulus:10..30:GPa",
        _ids_with(
            "SELECT material_id FROM property_values WHERE property_key = 'youngs_modulus'"
            " AND canonical_min <= 30.00000003 AND canonical_max >= 9.99999999"
        ),
        datasette="/bench/property_values.json?property_key=youngs_modulus"
        "&canonical_min__lte=30&canonical_max__gte=10&_size=20&_shape=objects",
    ),
    Query(
        "prop2_class",
        "Two property ranges + class",
        "prop=youngs_modulus:50..150&prop=density:4..8&class=metal",
        "m.material_class = 'metal' AND "
        + _ids_with(
            "SELECT material_id FROM property_values WHERE property_key = "
            "'youngs_modulus' AND canonical_min <= 150.00000015 AND canonical_max >= "
            "49.99999995"
        )
        + " AND "
        + _ids_with(
            "SELECT material_id FROM property_values WHERE property_key = 'density' "
            "AND canonical_min <= 8.000000008 AND canonical_max >= 3.999999996"
        ),
    ),
    Query(
        "fts",
        'Full text ("porous scaffold")',
        "q=porous%20scaffold",
        fts="porous scaffold",
        datasette="/bench/material_fts.json?_search=porous+scaffold&_size=20&_shape=objects",
    ),
    Query(
        "fts_prop",
        "Full text + property range",
        "q=resorbable&prop=degradation_time:..6:month",
        _ids_with(
            "SELECT material_id FROM property_values WHERE property_key = "
            "'degradation_time' AND canonical_min <= 6.000000006"
        ),
        fts="resorbable",
    ),
    Query(
        "reg_country",
        "Regulatory + supplier country",
        "regulatory=US-FDA:cleared&country=IT",
        _ids_with(
            "SELECT material_id FROM regulatory_records WHERE jurisdiction = 'US-FDA' "
            "AND status = 'cleared'"
        )
        + " AND "
        + _ids_with(
            "SELECT s.material_id FROM supplier_offerings s JOIN organizations o ON "
            "o.id = s.organization_id WHERE o.country = 'IT'"
        ),
    ),
    Query(
        "sort_walk",
        "Sort by property, cursor walk of 5 pages",
        "sort=-prop:youngs_modulus",
        pages=5,
        floor_order="ps.typical DESC, m.slug",
    ),
    Query(
        "facets",
        "Facets over the whole database",
        "facets=class,application,regulatory,country,degradable&limit=1",
        facets=True,
        datasette="/bench/materials.json?_facet=material_class&_facet=degradable"
        "&_size=1&_shape=objects",
    ),
    Query("detail", "Detail fetch", "", detail=True),
]
