"""The Ashby chart, ``GET /api/v1/charts/ashby``: what a reader sees in the SVG (marks
titled with names, legend, axis labels), the JSON data in the chart's units, and every
400 with the parameter to fix."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.api import negotiation
from biomatdb.app import create_app
from biomatdb.charts import router, service
from biomatdb.charts.render import minor_labels, minor_tick_label, tick_label
from biomatdb.charts.schemas import AshbyChartOut
from biomatdb.exchange.importer import import_documents
from tests.helpers import problem_of
from tests.test_query_counts import counting

URL = "/api/v1/charts/ashby"
SVG_NS = "{http://www.w3.org/2000/svg}"
JSON_ACCEPT = {"Accept": "application/json"}
METALS = {"Titanium alloy FX", "Stainless steel FX", "Magnesium alloy FX"}
#: Every published fixture material with a Young's modulus (not fx-draft, not fx-hydrogel).
WITH_MODULUS = {
    "fx-ti-alloy",
    "fx-steel",
    "fx-mg",
    "fx-alumina",
    "fx-ha",
    "fx-bioglass",
    "fx-peek",
    "fx-plga",
    "fx-cfr",
    "fx-collagen",
    "fx-silk",
}


def svg_of(response: Any) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    return ET.fromstring(response.content)


def marks(root: ET.Element) -> dict[str, ET.Element]:
    """The material marks by their title (the name); exactly one title each."""
    found: dict[str, ET.Element] = {}
    for group in root.iter(f"{SVG_NS}g"):
        if "material" not in (group.get("class") or "").split():
            continue
        titles = group.findall(f"{SVG_NS}title")
        assert len(titles) == 1
        name = titles[0].text or ""
        assert name not in found
        found[name] = group
    return found


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG_NS}text")]


def chart_json(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}", headers=JSON_ACCEPT)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    AshbyChartOut.model_validate(body)  # the documented schema
    return body


def paths(response: Any) -> list[str]:
    return [error["path"] for error in problem_of(response, 400)["errors"]]


def centre(mark: ET.Element) -> tuple[float, float]:
    shape = mark[1]
    if shape.tag == f"{SVG_NS}circle":
        return float(shape.get("cx", "nan")), float(shape.get("cy", "nan"))
    x, y = float(shape.get("x", "nan")), float(shape.get("y", "nan"))
    return x + float(shape.get("width", "nan")) / 2, y + float(shape.get("height", "nan")) / 2


def add_material(session: Session, **entry: Any) -> None:
    material = {"class": "polymer", "status": "published", **entry}
    report = import_documents(session, [("chart-test", {"materials": [material]})])
    assert report.ok, report.errors


def value(key: str, unit: str, low: float, high: float | None = None) -> dict[str, Any]:
    if high is None:
        return {"property": key, "unit": unit, "value": low, "source": "fx-ref-a"}
    return {"property": key, "unit": unit, "min": low, "max": high, "source": "fx-ref-a"}


# --- the SVG ------------------------------------------------------------------------------


def test_svg_marks_every_matching_material_with_its_name(client: TestClient) -> None:
    root = svg_of(client.get(f"{URL}?x=density&y=youngs_modulus&class=metal"))
    shown = marks(root)
    assert set(shown) == METALS
    assert {g.get("data-id") for g in shown.values()} == {"fx-ti-alloy", "fx-steel", "fx-mg"}
    assert all("class-metal" in (g.get("class") or "") for g in shown.values())
    words = texts(root)
    assert "Density (g/cm^3)" in words
    assert "Young's modulus (GPa)" in words
    assert "metal (3)" in words  # the legend, with its count
    assert "Class" in words
    assert not [w for w in words if w.startswith(("ceramic", "polymer"))]
    # The document's own title: its accessible name.
    assert (root.findtext(f"{SVG_NS}title") or "").startswith("Ashby chart: Young's modulus")


def test_svg_places_the_marks_on_the_axes(client: TestClient) -> None:
    shown = marks(svg_of(client.get(f"{URL}?x=density&y=youngs_modulus&class=metal")))
    # A single value on both axes is a dot.
    assert shown["Magnesium alloy FX"][1].tag == f"{SVG_NS}circle"
    assert shown["Stainless steel FX"][1].tag == f"{SVG_NS}circle"
    mg, ti, steel = (centre(shown[n]) for n in METALS_BY_DENSITY)
    # density 1.78 < 4.43 < 7.9 g/cm^3: left to right; modulus 45 < 110 < 193 GPa:
    # bottom to top (SVG y grows downwards).
    assert mg[0] < ti[0] < steel[0]
    assert mg[1] > ti[1] > steel[1]
    # On a log scale equal ratios are equal distances: 4.43/1.78 vs 7.9/4.43.
    ratio = (ti[0] - mg[0]) / (steel[0] - ti[0])
    assert ratio == pytest.approx(math.log(4.43 / 1.78) / math.log(7.9 / 4.43), rel=0.01)
    ratio = (mg[1] - ti[1]) / (ti[1] - steel[1])
    assert ratio == pytest.approx(math.log(110 / 45) / math.log(193 / 110), rel=0.01)


def test_a_range_is_a_box_from_its_minimum_to_its_maximum(client: TestClient) -> None:
    shown = marks(svg_of(client.get(f"{URL}?x=youngs_modulus&y=youngs_modulus")))
    ha = shown["Hydroxyapatite FX"][1]  # 7 to 120 GPa
    assert ha.tag == f"{SVG_NS}rect"
    left = float(ha.get("x", "nan"))
    right = left + float(ha.get("width", "nan"))
    # x runs from 7 to 120 GPa: PLGA (2 GPa) left of it, alumina (380 GPa) right of it,
    # bioglass (35 GPa) inside it.
    assert centre(shown["PLGA FX"])[0] < left < centre(shown["Bioactive glass FX"])[0] < right
    assert right < centre(shown["Alumina FX"])[0]


METALS_BY_DENSITY = ("Magnesium alloy FX", "Titanium alloy FX", "Stainless steel FX")


def test_svg_legend_shows_each_class_plotted(client: TestClient) -> None:
    root = svg_of(client.get(f"{URL}?x=youngs_modulus&y=youngs_modulus"))
    names = set(marks(root))
    assert len(names) == len(WITH_MODULUS)
    assert "Draft titanium FX" not in names  # drafts are never plotted
    words = texts(root)
    for label in (
        "metal (3)",
        "ceramic (2)",
        "glass (1)",
        "polymer (2)",
        "composite (1)",
        "natural (2)",
    ):
        assert label in words


def test_a_material_without_the_y_property_is_not_plotted(client: TestClient) -> None:
    shown = marks(svg_of(client.get(f"{URL}?x=youngs_modulus&y=density")))
    assert set(shown) == METALS | {"Alumina FX"}  # hydroxyapatite has no density
    assert "Hydroxyapatite FX" not in shown


def test_svg_axis_labels_are_in_the_units_asked(client: TestClient) -> None:
    root = svg_of(client.get(f"{URL}?x=density&xunit=kg/m^3&y=youngs_modulus&yunit=MPa"))
    words = texts(root)
    assert "Density (kg/m^3)" in words
    assert "Young's modulus (MPa)" in words


def test_an_empty_chart_says_so(client: TestClient) -> None:
    root = svg_of(client.get(f"{URL}?x=density&y=youngs_modulus&class=natural"))
    assert marks(root) == {}
    assert "No published material matching the filters has both properties" in texts(root)
    body = chart_json(client, "x=density&y=youngs_modulus&class=natural")
    assert body["data"] == []
    assert body["meta"]["total"] == 0


def test_names_are_escaped_in_the_svg(client: TestClient, session: Session) -> None:
    name = 'Tricky <b>&amp; "quoted" \u00e9 FX'
    add_material(
        session,
        id="fx-tricky",
        name=name,
        properties=[value("youngs_modulus", "GPa", 3), value("density", "g/cm^3", 1.2)],
    )
    shown = marks(svg_of(client.get(f"{URL}?x=density&y=youngs_modulus&class=polymer")))
    assert set(shown) == {name}


def test_the_same_chart_is_the_same_bytes(client: TestClient) -> None:
    first = client.get(f"{URL}?x=density&y=youngs_modulus")
    second = client.get(f"{URL}?x=density&y=youngs_modulus")
    assert first.content == second.content
    # Accept (the format); Accept-Encoding too when the chart is gzipped
    assert first.headers["vary"] in ("Accept", "Accept, Accept-Encoding")


# --- the JSON -----------------------------------------------------------------------------


def test_json_gives_the_plotted_values_in_the_chart_units(client: TestClient) -> None:
    body = chart_json(client, "x=youngs_modulus&xunit=MPa&y=density&yunit=kg/m^3&class=metal")
    assert body["meta"] == {
        "x": {"key": "youngs_modulus", "name": "Young's modulus", "unit": "MPa", "scale": "log"},
        "y": {"key": "density", "name": "Density", "unit": "kg/m^3", "scale": "log"},
        "total": 3,
        "skipped": 0,
    }
    by_id = {item["id"]: item for item in body["data"]}
    assert [item["id"] for item in body["data"]] == ["fx-mg", "fx-steel", "fx-ti-alloy"]  # by name
    assert by_id["fx-mg"] == {
        "id": "fx-mg",
        "name": "Magnesium alloy FX",
        "class": "metal",
        "x": {"min": 45000.0, "typical": 45000.0, "max": 45000.0},
        "y": {"min": 1780.0, "typical": 1780.0, "max": 1780.0},
    }
    assert by_id["fx-ti-alloy"]["x"]["min"] == 110000.0  # 110 GPa (and 16,000 ksi)
    assert by_id["fx-ti-alloy"]["y"] == {"min": 4430.0, "typical": 4430.0, "max": 4430.0}
    assert by_id["fx-steel"]["x"]["min"] == pytest.approx(193053, rel=1e-3)  # 28,000 ksi


def test_json_in_another_unit_is_the_canonical_values_converted(client: TestClient) -> None:
    canonical = chart_json(client, "x=youngs_modulus&y=youngs_modulus")
    in_mpa = chart_json(client, "x=youngs_modulus&xunit=MPa&y=youngs_modulus")
    assert {item["id"] for item in in_mpa["data"]} == WITH_MODULUS
    gpa = {item["id"]: item["x"] for item in canonical["data"]}
    for item in in_mpa["data"]:
        for bound in ("min", "typical", "max"):
            assert item["x"][bound] == pytest.approx(1000 * gpa[item["id"]][bound], rel=1e-5)
        assert item["y"] == gpa[item["id"]]
    alumina = next(item for item in in_mpa["data"] if item["id"] == "fx-alumina")
    assert alumina["x"] == {"min": 380000.0, "typical": 380000.0, "max": 380000.0}
    collagen = next(item for item in in_mpa["data"] if item["id"] == "fx-collagen")
    assert collagen["x"] == {"min": 0.5, "typical": 0.55, "max": 0.6}  # no float noise
    silk = next(item for item in in_mpa["data"] if item["id"] == "fx-silk")
    assert (silk["x"]["min"], silk["x"]["max"]) == (0.07, 310.0)  # 70 kPa, 310 MPa
    in_psi = chart_json(client, "x=youngs_modulus&xunit=psi&y=youngs_modulus")
    alumina = next(item for item in in_psi["data"] if item["id"] == "fx-alumina")
    # 380,000 MPa = 55,114,340.3 psi, shown to the 3 digits its source gets (at least 3).
    assert alumina["x"]["min"] == 55100000.0


def test_the_answer_follows_format_then_accept(client: TestClient) -> None:
    query = f"{URL}?x=density&y=youngs_modulus"
    assert client.get(query).headers["content-type"] == "image/svg+xml"
    assert client.get(query, headers={"Accept": "*/*"}).headers["content-type"] == "image/svg+xml"
    assert client.get(f"{query}&format=json").headers["content-type"] == "application/json"
    svg = client.get(f"{query}&format=svg", headers=JSON_ACCEPT)
    assert svg.headers["content-type"] == "image/svg+xml"
    prefers_svg = {"Accept": "application/json;q=0.5, image/svg+xml"}
    assert client.get(query, headers=prefers_svg).headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("application/json", "json"),
        ("application/*", "json"),
        ("image/svg+xml, application/json", "svg"),  # a tie: the first named
        ("text/html,application/xhtml+xml,*/*;q=0.8", "svg"),  # a browser
        ("image/avif,image/webp,image/*,*/*;q=0.8", "svg"),  # an <img> element
        ("application/json, image/*;q=0.9", "json"),
        ("application/json;q=0, */*", "svg"),
        ("application/json;q=nan, */*;q=0.1", "svg"),
        ("application/json;q=bogus", "json"),  # a malformed q counts as 1
        ("", "svg"),
    ],
)
def test_accept_negotiation(accept: str, chosen: str) -> None:
    assert negotiation.choose(accept, None, router.FORMATS) == chosen


def test_an_accept_the_chart_cannot_meet_is_a_406(client: TestClient) -> None:
    response = client.get(f"{URL}?x=density&y=youngs_modulus", headers={"Accept": "text/csv"})
    problem = problem_of(response, 406)
    assert "image/svg+xml (or format=svg)" in problem["detail"]


def test_units_sets_the_axis_unit_unless_xunit_does(client: TestClient) -> None:
    data = chart_json(client, "x=youngs_modulus&y=density&units=youngs_modulus:MPa")
    assert data["meta"]["x"]["unit"] == "MPa"
    alumina = next(item for item in data["data"] if item["id"] == "fx-alumina")
    assert alumina["x"]["min"] == 380000
    data = chart_json(client, "x=youngs_modulus&xunit=GPa&y=density&units=youngs_modulus:MPa")
    assert data["meta"]["x"]["unit"] == "GPa"


# --- log scales: what cannot be placed --------------------------------------------------


def test_values_at_or_below_zero_are_left_out_of_a_log_chart(
    client: TestClient, session: Session
) -> None:
    add_material(
        session,
        id="fx-silicone",
        name="Silicone FX",
        properties=[
            value("glass_transition_temperature", "degC", -125),
            value("youngs_modulus", "MPa", 1, 3),
        ],
    )
    query = "x=glass_transition_temperature&y=youngs_modulus"
    log = chart_json(client, query)
    assert [item["id"] for item in log["data"]] == ["fx-peek", "fx-plga"]
    assert log["meta"]["skipped"] == 1
    assert log["meta"]["total"] == 2
    root = svg_of(client.get(f"{URL}?{query}"))
    assert set(marks(root)) == {"PEEK FX", "PLGA FX"}
    assert "1 matching material not shown: a value \u2264 0 cannot be placed on a log scale" in (
        texts(root)
    )
    # In kelvin it has a place; on a linear scale too.
    kelvin = chart_json(client, f"{query}&xunit=K")
    assert kelvin["meta"]["skipped"] == 0
    silicone = next(item for item in kelvin["data"] if item["id"] == "fx-silicone")
    assert silicone["x"]["min"] == 148  # -125 degC: 148.15 K to the source's 3 digits
    linear = chart_json(client, f"{query}&scale=linear")
    assert linear["meta"]["skipped"] == 0
    assert linear["meta"]["x"]["scale"] == "linear"
    assert set(marks(svg_of(client.get(f"{URL}?{query}&scale=linear")))) == {
        "PEEK FX",
        "PLGA FX",
        "Silicone FX",
    }


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("x=density&y=nope", ["y"]),
        ("x=nope&y=bogus", ["x", "y"]),
        ("x=youngs_modulus&xunit=kg&y=density", ["xunit"]),  # wrong dimension
        ("x=youngs_modulus&y=density&yunit=furlongs", ["yunit"]),  # unknown unit
        ("x=density&xunit=GPa&y=youngs_modulus&yunit=g/cm^3", ["xunit", "yunit"]),
        ("x=water_contact_angle&xunit=%25&y=density", ["xunit"]),  # a ratio, not an angle
        ("y=density", ["x"]),
        ("x=density", ["y"]),
        ("x=density&y=youngs_modulus&scale=cubic", ["scale"]),
        ("x=density&y=youngs_modulus&format=png", ["format"]),
        ("x=density&y=youngs_modulus&prop=bogus:1..2", ["prop[0]"]),  # a search filter
        ("x=density&y=youngs_modulus&country=XX", ["country"]),
    ],
)
def test_bad_parameters_are_400_problems_naming_each(
    client: TestClient, query: str, expected: list[str]
) -> None:
    assert paths(client.get(f"{URL}?{query}")) == expected


def test_a_bad_unit_problem_says_what_is_wrong(client: TestClient) -> None:
    body = problem_of(client.get(f"{URL}?x=youngs_modulus&xunit=kg&y=density"), 400)
    message = body["errors"][0]["message"]
    assert "kg" in message
    assert "GPa" in message  # what it needs instead
    body = problem_of(client.get(f"{URL}?x=modulus&y=density"), 400)
    assert "/api/v1/properties" in body["errors"][0]["message"]


def test_search_paging_parameters_do_not_change_the_chart(client: TestClient) -> None:
    every = chart_json(client, "x=youngs_modulus&y=youngs_modulus")
    paged = chart_json(client, "x=youngs_modulus&y=youngs_modulus&limit=1&sort=-name&facets=class")
    assert paged == every
    assert paged["meta"]["total"] == len(WITH_MODULUS)


def test_more_materials_than_a_chart_draws_is_a_400(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_MARKS", 2)
    body = problem_of(client.get(f"{URL}?x=density&y=youngs_modulus&class=metal"), 400)
    assert "narrow the filters" in body["detail"]
    assert "more than 2 materials" in body["detail"]
    assert client.get(f"{URL}?x=density&y=youngs_modulus&class=ceramic").status_code == 200


# --- cost and documentation --------------------------------------------------------------


def test_one_query_reads_the_data(client: TestClient, session: Session) -> None:
    with counting(session) as statements:
        assert client.get(f"{URL}?x=youngs_modulus&y=youngs_modulus&class=metal").status_code == 200
    assert len(statements) == 1
    assert "material_property_summaries" in statements[0]


def test_the_openapi_document_declares_both_answers() -> None:
    operation = create_app().openapi()["paths"][URL]["get"]
    ok = operation["responses"]["200"]["content"]
    assert set(ok) == {"image/svg+xml", "application/json"}
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/AshbyChartOut"}
    assert set(operation["responses"]["400"]["content"]) == {"application/problem+json"}
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"x", "y", "xunit", "yunit", "scale", "format", "class", "prop", "q"} <= names


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.001, "0.001"),
        (1.0, "1"),
        (200.0, "200"),
        (10000.0, "10000"),
        (1e5, "10\u2075"),
        (1e-6, "10\u207b\u2076"),
        (2e6, "2\u00d710\u2076"),
        (0.0, ""),
    ],
)
def test_log_tick_labels_are_plain_numbers(value: float, label: str) -> None:
    assert tick_label(value) == label


@pytest.mark.parametrize(
    ("decades", "value", "label"),
    [(0.5, 3.0, "3"), (0.5, 30.0, "30"), (2.0, 3.0, ""), (2.0, 0.05, "0.05"), (4.0, 5.0, "")],
)
def test_minor_ticks_are_labelled_on_short_log_axes(
    decades: float, value: float, label: str
) -> None:
    assert minor_tick_label(minor_labels(decades), value) == label


def test_mark_coordinates_have_no_float_noise(client: TestClient) -> None:
    shown = marks(svg_of(client.get(f"{URL}?x=youngs_modulus&y=youngs_modulus")))
    for mark in shown.values():
        for name, number in mark[1].attrib.items():
            assert re.fullmatch(r"-?\d+(\.\d{1,2})?", number), (name, number)
