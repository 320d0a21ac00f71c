"""The rank page ``/rank`` and the chart page ``/chart``: what a person sees. The
ranking in the API's order with its scores and each criterion's value and normalised
value, the candidates left out, the API's problems at the fields to fix (422 for a
bad unit); the chart's marks linked to their materials, the table of the plotted
ones, and a 400 page for an unknown property."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from biomatdb.web.render import number
from tests.conftest import auth

#: Every published fixture material with both a density and a Young's modulus.
WITH_DENSITY_AND_MODULUS = {"fx-ti-alloy", "fx-steel", "fx-mg", "fx-alumina"}
MARK_LINK = re.compile(r'<a href="/materials/([^"]+)"><g class="material [^"]*" data-id="([^"]+)">')


class Page(HTMLParser):
    """The parts of a page the tests read: the body rows of tables (cell texts and
    the row's first link), the problems (text and link), list items of the excluded."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row_links: list[str] = []
        self.problems: list[str] = []
        self.problem_links: list[str] = []
        self.excluded: list[str] = []
        self.headings: list[str] = []
        self._tbody = False
        self._cell: list[str] | None = None
        self._in_problems = False
        self._in_excluded = False
        self._item: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tbody":
            self._tbody = True
        elif tag == "tr" and self._tbody:
            self.rows.append([])
            self.row_links.append("")
        elif tag in ("td", "th") and self._tbody:
            self._cell = []
        elif tag == "a" and self._tbody and not self.row_links[-1]:
            self.row_links[-1] = a.get("href") or ""
        elif tag == "a" and self._item is not None and self._in_problems:
            self.problem_links.append(a.get("href") or "")
        elif tag == "section" and "problems" in (a.get("class") or ""):
            self._in_problems = True
        elif tag == "ul" and "excluded" in (a.get("class") or ""):
            self._in_excluded = True
        elif tag == "li" and (self._in_problems or self._in_excluded):
            self._item = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = [tag]

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._tbody = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "li" and self._item is not None:
            text = " ".join("".join(self._item).split())
            (self.problems if self._in_problems else self.excluded).append(text)
            self._item = None
        elif tag == "section":
            self._in_problems = False
        elif tag == "ul":
            self._in_excluded = False
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append(
                self._heading[0] + " " + " ".join("".join(self._heading[1:]).split())
            )
            self._heading = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._item, self._heading):
            if part is not None:
                part.append(data)

    @property
    def ids(self) -> list[str]:
        return [link.removeprefix("/materials/") for link in self.row_links]


def get_page(client: TestClient, path: str, params: Any, status: int = 200) -> tuple[Page, str]:
    query = urlencode(params, doseq=True)
    response = client.get(f"{path}?{query}" if query else path)
    assert response.status_code == status, response.text[:3000]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return Page(response.text), response.text


def criterion(key: str, goal: str, target: str = "", unit: str = "", weight: str = "") -> Any:
    return [("ck", key), ("cg", goal), ("ct", target), ("cu", unit), ("cw", weight)]


def ranked(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/rank", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- /rank ---------------------------------------------------------------------------


def test_an_empty_rank_form_is_a_form_not_an_error(client: TestClient) -> None:
    page, html = get_page(client, "/rank", {})
    assert page.rows == []
    assert page.problems == []
    for n in (1, 2, 3):  # at least three criteria rows, each field labelled
        for name in ("ck", "cg", "ct", "cu", "cw"):
            assert f'<label for="{name}{n}">' in html
            assert f'id="{name}{n}" name="{name}"' in html
    assert "Candidates: every published material." in html
    assert [h.split()[0] for h in page.headings].count("h1") == 1


def test_ranking_by_closeness_to_18_gpa_is_the_apis_order_and_scores(client: TestClient) -> None:
    body = {
        "method": "topsis",
        "criteria": [{"property": "youngs_modulus", "goal": "target", "target": 18, "unit": "GPa"}],
    }
    api = ranked(client, body)
    page, html = get_page(client, "/rank", criterion("youngs_modulus", "target", "18", "GPa"))
    expected = [item["id"] for item in api["data"]]
    assert page.ids == expected
    assert len(expected) == 11  # every published fixture material with a Young's modulus
    # The closest to 18 GPa first: the carbon-fibre PEEK (18 GPa exactly).
    assert page.ids[0] == "fx-cfr"
    for row, item in zip(page.rows, api["data"], strict=True):
        rank, name, score, value, normalised = row[:5]
        assert rank == str(item["rank"])
        assert name.startswith(item["name"])
        assert score == number(item["score"])
        assert value == number(item["criteria"][0]["value"])
        assert normalised == number(item["criteria"][0]["normalized"])
    # The normalised value is shown as the API gives it (r = 1 - |x - T| / A).
    assert page.rows[0][4] == number(api["data"][0]["criteria"][0]["normalized"]) == "1"
    assert "Young&#39;s modulus (GPa)</th>" in html
    assert "closest to 18 GPa" in html
    # The one published material without a modulus is listed as left out.
    assert [e["id"] for e in api["meta"]["excluded"]] == ["fx-hydrogel"]
    assert page.excluded == ["fx-hydrogel: lacks Young's modulus"]


def test_two_criteria_among_filtered_candidates_with_a_method(client: TestClient) -> None:
    body = {
        "filter": {"class": ["metal", "ceramic"]},
        "method": "vikor",
        "criteria": [
            {"property": "youngs_modulus", "goal": "target", "target": 100, "weight": 2},
            {"property": "density", "goal": "min", "weight": 1},
        ],
    }
    api = ranked(client, body)
    params = [
        ("class", "metal"),
        ("class", "ceramic"),
        *criterion("youngs_modulus", "target", "100", "", "2"),
        *criterion("density", "min", "", "", "1"),
        ("method", "vikor"),
    ]
    page, html = get_page(client, "/rank", params)
    assert page.ids == [item["id"] for item in api["data"]]
    assert {e["id"] for e in api["meta"]["excluded"]} == {"fx-ha"}  # no density
    for row, item in zip(page.rows, api["data"], strict=True):
        assert row[2] == number(item["score"])
        assert row[6] == number(item["criteria"][1]["normalized"])  # density, normalised
    assert "score (lower is better)" in html  # VIKOR
    assert "Candidates: class metal or ceramic." in html
    assert '<a href="/?class=metal&amp;class=ceramic">See them in the search</a>' in html
    assert '<option value="vikor" selected>' in html


def test_a_bad_unit_is_a_422_shown_at_its_field(client: TestClient) -> None:
    params = criterion("youngs_modulus", "target", "18", "kg")
    page, html = get_page(client, "/rank", params, status=422)
    assert page.rows == []
    assert len(page.problems) == 1
    assert page.problems[0].startswith("Criterion 1, unit: unit 'kg'")
    assert page.problems[0].endswith("criteria[0].unit")
    assert page.problem_links == ["#cu1"]
    assert 'id="cu1" name="cu" value="kg"' in html
    assert re.search(r'<input [^>]*id="cu1"[^>]*aria-invalid="true"', html)
    # What was typed stays in the form.
    assert '<option value="youngs_modulus" selected>' in html
    assert 'id="ct1" name="ct" value="18"' in html


def test_a_bad_filter_and_a_bad_number_are_named_at_their_fields(client: TestClient) -> None:
    params = [("prop", "density:..x"), *criterion("youngs_modulus", "target", "18", "GPa")]
    page, _ = get_page(client, "/rank", params, status=422)
    assert page.problem_links == ["#prop1"]
    assert "filter.prop[0]" in page.problems[0]
    page, _ = get_page(client, "/rank", criterion("density", "target", "abc"), status=422)
    assert page.problem_links == ["#ct1"]
    assert page.problems[0].startswith("Criterion 1, target:")


# --- /chart --------------------------------------------------------------------------


def test_chart_marks_link_to_their_materials(client: TestClient) -> None:
    page, html = get_page(client, "/chart", {})
    # The defaults: density across, Young's modulus up.
    assert '<option value="density" selected>' in html
    assert '<option value="youngs_modulus" selected>' in html
    api = client.get(
        "/api/v1/charts/ashby", params={"x": "density", "y": "youngs_modulus", "format": "json"}
    ).json()
    plotted = {item["id"] for item in api["data"]}
    assert plotted == WITH_DENSITY_AND_MODULUS
    marks = MARK_LINK.findall(html)
    assert {link for link, _ in marks} == plotted
    assert all(link == data_id for link, data_id in marks)
    assert len(marks) == len(plotted)
    # The SVG is inline (no XML declaration or doctype in the page), titled per mark.
    assert "<?xml" not in html
    assert "<!DOCTYPE svg" not in html
    assert "<title>Titanium alloy FX</title>" in html
    # The same materials in a table, names linked; and the links to the SVG and JSON.
    assert sorted(page.ids) == sorted(plotted)
    alumina = page.rows[page.ids.index("fx-alumina")]
    assert alumina[0] == "Alumina FX"
    assert (
        'href="/api/v1/charts/ashby?x=density&amp;y=youngs_modulus&amp;scale=log&amp;format=svg"'
        in html
    )
    assert (
        client.get(
            "/api/v1/charts/ashby?x=density&y=youngs_modulus&scale=log&format=svg"
        ).status_code
        == 200
    )


def test_chart_of_a_searchs_materials_in_chosen_units(client: TestClient) -> None:
    params = {"class": "metal", "x": "density", "xunit": "kg/m^3", "y": "youngs_modulus"}
    page, html = get_page(client, "/chart", params)
    assert {link for link, _ in MARK_LINK.findall(html)} == {"fx-ti-alloy", "fx-steel", "fx-mg"}
    assert sorted(page.ids) == ["fx-mg", "fx-steel", "fx-ti-alloy"]
    assert "Density (kg/m^3)</th>" in html
    assert "Materials: class metal." in html
    assert '<a href="/?class=metal">See them in the search</a>' in html


def test_an_unknown_property_is_a_400_page(client: TestClient) -> None:
    page, html = get_page(client, "/chart", {"x": "densty", "y": "youngs_modulus"}, status=400)
    assert len(page.problems) == 1
    assert page.problems[0].startswith("Horizontal axis (x): unknown property 'densty'")
    assert "did you mean 'density'?" in page.problems[0]
    assert page.problem_links == ["#x"]
    assert "<svg" not in html
    assert '<option value="densty" selected>densty (unknown)</option>' in html


def test_a_wrong_unit_on_the_chart_is_a_400_at_its_field(client: TestClient) -> None:
    page, _ = get_page(client, "/chart", {"yunit": "kg"}, status=400)
    assert page.problem_links == ["#yunit"]
    assert page.problems[0].startswith("Unit of y: unit 'kg'")


# --- both pages ----------------------------------------------------------------------

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_names_with_markup_render_as_text(client: TestClient, keys: dict[str, str]) -> None:
    entry = {
        "id": "fx-script",
        "name": MARKUP,
        "class": "polymer",
        "status": "published",
        "properties": [
            {"property": "youngs_modulus", "unit": "GPa", "source": "fx-ref-a", "value": 17},
            {"property": "density", "unit": "g/cm^3", "source": "fx-ref-a", "value": 1.2},
        ],
    }
    created = client.post(
        "/api/v1/imports", json={"materials": [entry]}, headers=auth(keys["editor"])
    )
    assert created.status_code == 200, created.text
    _, ranking = get_page(client, "/rank", criterion("youngs_modulus", "target", "18"))
    _, chart = get_page(client, "/chart", {"class": "polymer"})
    for html in (ranking, chart):
        assert "&lt;script&gt;alert(" in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    assert '<a href="/materials/fx-script"><g class="material class-polymer"' in chart


def test_pages_are_structured_and_script_free(client: TestClient) -> None:
    for path, params in [
        ("/rank", {}),
        ("/rank", criterion("youngs_modulus", "target", "18", "GPa")),
        ("/rank", criterion("youngs_modulus", "target", "18", "kg")),
        ("/chart", {}),
        ("/chart", {"x": "densty"}),
    ]:
        response = client.get(path, params=params)
        page = Page(response.text)
        levels = [int(heading[1]) for heading in page.headings]
        assert levels[0] == 1, page.headings
        assert levels.count(1) == 1, page.headings
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), page.headings
        # No inline script (the CSP forbids it): the pages work without any.
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
        assert not re.search(r"\son[a-z]+=", response.text)
        # Every field labelled.
        ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', response.text)
        assert ids
        assert all(f'<label for="{i}"' in response.text for i in ids), path
