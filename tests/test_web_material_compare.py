"""The material page ``/materials/{id}`` and the compare page ``/compare``: what a
person reads there (each value as published and canonical with its citation and DOI,
suppliers, devices, history for a signed-in reader, the side-by-side table), the
errors the API names, and names from uploads shown as text."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from tests.conftest import auth

THIN = "\u2009"  # the thousands separator of the pages' numbers

DOI = "10.1016/S0921-5093(97)00806-X"
CITATION = (
    "Niinomi M. Mechanical properties of biomedical titanium alloys. "
    "Mater Sci Eng A 243 (1998) 231-236"
)
#: A published material with every part the page shows, citing a reference with a DOI.
BUNDLE: dict[str, Any] = {
    "references": [
        {"id": "fx-niinomi", "citation": CITATION, "doi": DOI, "year": 1998},
        {"id": "fx-iso", "citation": "ISO 10993-5 test report (fixture)", "year": 2019},
    ],
    "organizations": [
        {"id": "fx-org-de", "name": "Fixture Deutschland", "kind": "manufacturer", "country": "DE"}
    ],
    "materials": [
        {
            "id": "fx-doi-alloy",
            "name": "Cited titanium FX",
            "synonyms": ["CT FX", "Grade FX"],
            "class": "metal",
            "subclass": "titanium alloy",
            "description": "A titanium alloy whose values cite a paper with a DOI.",
            "degradable": False,
            "composition": [
                {"component": "Ti", "fraction": 0.895, "basis": "mass"},
                {"component": "Al", "fraction": 0.06, "basis": "mass"},
            ],
            "applications": ["orthopedic", "soft_tissue"],
            "properties": [
                {
                    "property": "youngs_modulus",
                    "value": 16000,
                    "unit": "ksi",
                    "specimen": "bar",
                    "method": "ASTM E111",
                    "evidence": "measured",
                    "conditions": {"temper": "mill annealed", "test_temperature": 23},
                    "source": "fx-niinomi",
                },
                {
                    "property": "youngs_modulus",
                    "min": 100,
                    "max": 125,
                    "unit": "GPa",
                    "source": "fx-niinomi",
                },
                {
                    "property": "tensile_strength",
                    "value": 860,
                    "qualifier": ">=",
                    "unit": "MPa",
                    "source": "fx-niinomi",
                },
                {
                    "property": "density",
                    "value": 4430,
                    "uncertainty": 10,
                    "unit": "kg/m^3",
                    "source": "fx-niinomi",
                },
            ],
            "biocompatibility": [
                {
                    "endpoint": "cytotoxicity",
                    "standard": "ISO 10993-5",
                    "result": "pass",
                    "source": "fx-iso",
                }
            ],
            "regulatory": [
                {
                    "jurisdiction": "US-FDA",
                    "pathway": "510k",
                    "status": "cleared",
                    "identifier": "K123456",
                    "device_class": "II",
                    "product_code": "LWJ",
                    "device_name": "Fixture acetabular cup",
                    "decision_date": "2019-05-01",
                    "organization": "fx-org-de",
                }
            ],
            "suppliers": [
                {
                    "organization": "fx-org-de",
                    "trade_name": "CitaTi",
                    "grade": "ASTM F136",
                    "form": "bar",
                }
            ],
            "status": "published",
        }
    ],
}

SCRIPT = "<script>alert(1)</script>"


class Page(HTMLParser):
    """What the tests read of a page: headings, tables (caption, header and body rows
    as cell texts), links by text, problems, checkboxes, scripts and ``on...``
    attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.links: dict[str, str] = {}
        self.problems: list[str] = []
        self.checkboxes: list[tuple[str, bool]] = []
        self.inputs: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._section: str = ""
        self._href: str | None = None
        self._link_text: list[str] = []
        self._problem: list[str] | None = None
        self._in_problems = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.handlers += [name for name in a if name.startswith("on")]
        if tag == "script":
            self.scripts.append(a)
        if tag == "br":
            self.handle_data(" ")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        if tag in ("thead", "tbody"):
            self._section = tag
        if tag == "tr":
            (self.tables[-1]["head" if self._section == "thead" else "rows"]).append([])
        if tag in ("td", "th") and self.tables:
            self._cell = []
        if tag == "caption":
            self._caption = []
        if tag == "a":
            self._href = a.get("href")
            self._link_text = []
        if tag == "section" and "problems" in (a.get("class") or ""):
            self._in_problems = True
        if tag == "li" and self._in_problems:
            self._problem = []
        if tag == "input" and a.get("type") == "checkbox":
            self.checkboxes.append((a.get("value") or "", "checked" in a))
        if tag == "input" and a.get("type") in ("text", "search") and a.get("id"):
            self.inputs[str(a["id"])] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), squash(self._heading)))
            self._heading = None
        if tag in ("td", "th") and self._cell is not None:
            table = self.tables[-1]
            table["head" if self._section == "thead" else "rows"][-1].append(squash(self._cell))
            self._cell = None
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = squash(self._caption)
            self._caption = None
        if tag == "a" and self._href is not None:
            self.links.setdefault(squash(self._link_text), self._href)
            self._href = None
        if tag == "li" and self._problem is not None:
            self.problems.append(squash(self._problem))
            self._problem = None
        if tag == "section":
            self._in_problems = False

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._cell, self._caption, self._problem):
            if part is not None:
                part.append(data)
        if self._href is not None:
            self._link_text.append(data)

    def table(self, caption_start: str) -> dict[str, Any]:
        found = [t for t in self.tables if t["caption"].startswith(caption_start)]
        assert len(found) == 1, [t["caption"] for t in self.tables]
        return found[0]

    def h2s(self) -> list[str]:
        return [text for level, text in self.headings if level == 2]


def squash(parts: list[str]) -> str:
    """The text of parts, ASCII white space collapsed (the thin space of numbers kept)."""
    return re.sub(r"[ \t\r\n\f]+", " ", "".join(parts)).strip()


def get_page(client: TestClient, url: str, status: int = 200) -> tuple[Page, str]:
    response = client.get(url)
    assert response.status_code == status, response.text[:3000]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(response.text)
    # Every page: one h1 first, headings never skip a level, no inline script.
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1, page.headings
    assert levels.count(1) == 1, page.headings
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), page.headings
    assert all(script.get("src") for script in page.scripts)
    assert page.handlers == []
    return page, response.text


def import_bundle(session: Session) -> None:
    report = import_documents(session, [("web_fixture", BUNDLE)])
    assert report.ok, report.errors
    session.commit()


# --- /materials/{id} ----------------------------------------------------------------


def test_material_page_shows_each_value_as_published_and_canonical_with_its_citation(
    client: TestClient, session: Session
) -> None:
    import_bundle(session)
    page, html = get_page(client, "/materials/fx-doi-alloy")
    assert page.headings[0] == (1, "Cited titanium FX")
    assert "<title>Cited titanium FX · biomatdb</title>" in html
    assert "A titanium alloy whose values cite a paper with a DOI." in html
    assert page.h2s() == [
        "About",
        "Composition",
        "Property values",
        "Biocompatibility",
        "Suppliers",
        "Regulatory records of devices",
    ]
    modulus = page.table("Young's modulus: 2 values, as published and in GPa")
    assert modulus["head"] == [
        ["As published", "Canonical (GPa)", "Specimen, method, evidence", "Conditions", "Source"]
    ]
    cited = f"{CITATION} doi:{DOI}"
    assert modulus["rows"] == [
        [
            f"16{THIN}000 ksi",
            "110 GPa",
            "Specimen: bar Method: ASTM E111 Evidence: measured",
            "temper: mill annealed test temperature: 23",
            cited,
        ],
        ["100–125 GPa", "100–125 GPa", "—", "—", cited],
    ]
    assert page.table("Ultimate tensile strength: 1 value")["rows"] == [
        ["≥ 860 MPa", "860 MPa", "—", "—", cited]
    ]
    assert page.table("Density: 1 value")["rows"] == [
        [f"4{THIN}430 ± 10 kg/m^3", "4.43 g/cm^3", "—", "—", cited]
    ]
    # The DOI is a link to its resolver.
    assert page.links[f"doi:{DOI}"] == f"https://doi.org/{DOI}"
    summary = page.table("Summary: typical value")
    assert summary["rows"] == [
        ["Density", "4.43", "4.43", "g/cm^3", "1"],
        ["Young's modulus", "111", "100–125", "GPa", "2"],
        ["Ultimate tensile strength", "860", "860", "MPa", "1"],
    ]
    about = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S)
    assert about is not None
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", about.group(1)))
    assert facts["Class"] == "metal"
    assert facts["Subclass"] == "titanium alloy"
    assert facts["Degradable"] == "no"
    assert facts["Applications"] == "orthopedic, soft tissue"
    assert facts["Synonyms"] == "CT FX; Grade FX"
    assert "Status" not in facts  # anonymous: published only, no badge
    assert page.table("Components")["rows"] == [["Ti", "0.895", "mass"], ["Al", "0.06", "mass"]]


def test_material_page_shows_suppliers_devices_and_biocompatibility(
    client: TestClient, session: Session
) -> None:
    import_bundle(session)
    page, _ = get_page(client, "/materials/fx-doi-alloy")
    suppliers = page.table("Organizations that supply this material")
    assert suppliers["rows"] == [
        ["Fixture Deutschland (DE)", "manufacturer", "CitaTi", "ASTM F136", "bar"]
    ]
    assert page.links["Fixture Deutschland"] == "/api/v1/organizations/fx-org-de"
    devices = page.table("Devices containing this material")
    assert devices["head"][0] == [
        "Jurisdiction", "Status", "Identifier", "Device", "Pathway", "Device class",
        "Product code", "GMDN", "Decision date", "Holder", "Source",
    ]  # fmt: skip
    assert devices["rows"] == [
        [
            "US-FDA", "cleared", "K123456", "Fixture acetabular cup", "510k", "II", "LWJ", "—",
            "2019-05-01", "Fixture Deutschland (DE)", "—",
        ]
    ]  # fmt: skip
    biocompatibility = page.table("Biological evaluation results")
    assert biocompatibility["rows"] == [
        ["cytotoxicity", "ISO 10993-5", "pass", "ISO 10993-5 test report (fixture) (2019)"]
    ]
    assert page.links["Compare with…"] == "/compare?ids=fx-doi-alloy"
    assert page.links["JSON of this material"] == "/api/v1/materials/fx-doi-alloy"


def test_fixture_material_without_doi_or_biocompatibility(client: TestClient) -> None:
    page, _ = get_page(client, "/materials/fx-ti-alloy")
    assert "Biocompatibility" not in page.h2s()  # none recorded: no section
    source_a = "Fixture source A (test data, not a real publication) (2020)"
    source_b = "Fixture source B (test data, not a real publication)"
    assert page.table("Young's modulus: 2 values")["rows"] == [
        ["110 GPa", "110 GPa", "—", "—", source_a],
        [f"16{THIN}000 ksi", "110 GPa", "—", "—", source_b],
    ]
    assert page.table("Density: 1 value")["rows"] == [
        [f"4{THIN}430 kg/m^3", "4.43 g/cm^3", "—", "—", source_a]
    ]
    assert not [text for text in page.links if text.startswith("doi:")]
    assert page.table("Devices containing")["rows"] == [
        ["US-FDA", "cleared", "—", "Fixture hip stem", "510k", "—", "—", "—", "—",
         "Fixture Italia (IT)", "—"]
    ]  # fmt: skip
    _, html = get_page(client, "/materials/fx-ha")
    assert "<p>No supplier recorded.</p>" in html
    assert "<p>No regulatory record.</p>" in html


def test_units_pass_through_to_the_values(client: TestClient) -> None:
    page, _ = get_page(client, "/materials/fx-ti-alloy?units=youngs_modulus:MPa")
    modulus = page.table("Young's modulus: 2 values, as published and in MPa")
    assert modulus["head"][0][1] == "In MPa (chosen)"
    assert [row[:2] for row in modulus["rows"]] == [
        ["110 GPa", f"110{THIN}000 MPa"],
        [f"16{THIN}000 ksi", f"110{THIN}000 MPa"],
    ]
    assert page.inputs["units"] == "youngs_modulus:MPa"
    assert page.links["JSON of this material"] == (
        "/api/v1/materials/fx-ti-alloy?units=youngs_modulus%3AMPa"
    )
    assert page.links["Canonical units"] == "/materials/fx-ti-alloy"
    # A unit of the wrong dimension: the API's 400, named beside the material, which is
    # shown in canonical units.
    page, _ = get_page(client, "/materials/fx-ti-alloy?units=youngs_modulus:kg", status=400)
    assert len(page.problems) == 1
    assert page.problems[0].startswith("units: youngs_modulus: unit 'kg' has dimension [mass]")
    assert page.table("Young's modulus: 2 values, as published and in GPa")
    assert page.inputs["units"] == "youngs_modulus:kg"


def test_unknown_material_is_a_helpful_404_page(client: TestClient) -> None:
    page, html = get_page(client, "/materials/no-such-thing", status=404)
    assert page.headings[0] == (1, "Material not found")
    assert page.problems == [
        "no published material has id 'no-such-thing'; search /api/v1/materials for the "
        "ids that exist"
    ]
    assert page.links["Search for “no-such-thing”"] == "/?q=no-such-thing"
    assert "application/problem+json" not in html
    # A draft looks absent to an anonymous reader.
    get_page(client, "/materials/fx-draft", status=404)


def test_signed_in_reader_sees_drafts_their_status_and_history(
    client: TestClient, keys: dict[str, str]
) -> None:
    curator = auth(keys["curator"])
    created = client.post(
        "/api/v1/materials",
        json={
            "id": "web-draft",
            "name": "Web draft FX",
            "class": "polymer",
            "properties": [
                {"property": "density", "value": 1.3, "unit": "g/cm^3", "source": "fx-ref-a"}
            ],
        },
        headers=curator,
    )
    assert created.status_code == 201, created.text
    patched = client.patch(
        "/api/v1/materials/web-draft",
        json={"description": "Now described."},
        headers={**curator, "If-Match": created.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    submitted = client.post(
        "/api/v1/materials/web-draft/status",
        json={"status": "in_review", "note": "ready for a look"},
        headers=curator,
    )
    assert submitted.status_code == 200, submitted.text
    get_page(client, "/materials/web-draft", status=404)

    client.cookies.set("biomatdb_key", keys["reader"])
    page, html = get_page(client, "/materials/web-draft")
    assert page.headings[0] == (1, "Web draft FX in review")
    assert '<span class="badge status-in_review">in review</span>' in html
    assert "Signed in as <strong>test-reader</strong> (reader)" in html
    assert page.h2s()[-1] == "History"
    versions = page.table("Every version")
    assert [row[:2] + row[3:] for row in versions["rows"]] == [
        ["2", "in review", "test-curator", "description: (none) → Now described."],
        ["1", "draft", "test-curator", "created"],
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", versions["rows"][0][2])
    events = page.table("Creation, edits and review moves")
    assert [row[1:] for row in events["rows"]] == [
        ["test-curator", "submitted", "2", "in review", "ready for a look"],
        ["test-curator", "updated", "2", "draft", ""],
        ["test-curator", "created", "1", "draft", ""],
    ]
    # A published material, signed in: its badge says so.
    page, html = get_page(client, "/materials/fx-ti-alloy")
    assert page.headings[0] == (1, "Titanium alloy FX published")


def test_a_name_from_an_upload_renders_as_text(client: TestClient, keys: dict[str, str]) -> None:
    created = client.post(
        "/api/v1/materials",
        json={
            "id": "xss-fx",
            "name": SCRIPT,
            "class": "metal",
            "description": '<img src=x onerror="alert(2)">',
            "synonyms": [SCRIPT],
            "properties": [
                {
                    "property": "youngs_modulus",
                    "value": 100,
                    "unit": "GPa",
                    "source": "fx-ref-a",
                    "conditions": {"<b>": SCRIPT},
                }
            ],
        },
        headers=auth(keys["curator"]),
    )
    assert created.status_code == 201, created.text
    for who, target in (("curator", "in_review"), ("editor", "published")):
        moved = client.post(
            "/api/v1/materials/xss-fx/status",
            json={"status": target},
            headers=auth(keys[who]),
        )
        assert moved.status_code == 200, moved.text
    for url in ("/materials/xss-fx", "/compare?ids=xss-fx,fx-steel"):
        page, html = get_page(client, url)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>" not in html
    page, _ = get_page(client, "/materials/xss-fx")
    assert page.headings[0] == (1, SCRIPT)
    assert page.table("Young's modulus: 1 value")["rows"][0][3] == f"<b>: {SCRIPT}"


# --- /compare -----------------------------------------------------------------------


def test_compare_table_rows_and_cells(client: TestClient) -> None:
    page, html = get_page(client, "/compare?ids=fx-ti-alloy,fx-steel")
    table = page.table("Typical value")
    assert table["head"] == [["Property", "Titanium alloy FX metal", "Stainless steel FX metal"]]
    assert table["rows"] == [
        ["Density (g/cm^3)", "4.43 1 value", "7.9 1 value"],
        ["Young's modulus (GPa)", "110 2 values", "193 1 value"],
        ["Ultimate tensile strength (MPa)", "860 1 value", "552 (483–621) 1 value"],
    ]
    assert page.links["Titanium alloy FX"] == "/materials/fx-ti-alloy"
    assert page.links["Stainless steel FX"] == "/materials/fx-steel"
    assert page.links["JSON of this comparison"] == "/api/v1/compare?ids=fx-ti-alloy%2Cfx-steel"
    assert "<title>Compare Titanium alloy FX, Stainless steel FX · biomatdb</title>" in html
    # The form keeps the ids, to change the comparison.
    assert page.inputs["ids"] == "fx-ti-alloy,fx-steel"
    # Repeated ids (ticked boxes) are the same comparison.
    again, _ = get_page(client, "/compare?ids=fx-ti-alloy&ids=fx-steel")
    assert again.table("Typical value") == table
    # Ids typed with spaces too.
    typed, _ = get_page(client, "/compare?ids=fx-ti-alloy,%20fx-steel%20")
    assert typed.table("Typical value") == table


def test_compare_marks_missing_values_and_takes_properties_and_units(client: TestClient) -> None:
    page, _ = get_page(client, "/compare?ids=fx-ti-alloy,fx-mg&properties=degradation_time,density")
    assert page.table("Typical value")["rows"] == [
        ["Density (g/cm^3)", "4.43 1 value", "1.78 1 value"],
        ["Degradation (resorption) time (month)", "—", "4.14 (2.76–5.52) 1 value"],
    ]
    page, _ = get_page(
        client,
        "/compare?ids=fx-ti-alloy,fx-steel&properties=youngs_modulus&units=youngs_modulus:MPa",
    )
    assert page.table("Typical value")["rows"] == [
        ["Young's modulus (MPa)", f"110{THIN}000 2 values", f"193{THIN}000 1 value"]
    ]
    assert page.inputs["properties"] == "youngs_modulus"
    assert page.inputs["units"] == "youngs_modulus:MPa"


def test_compare_errors_are_named_with_the_api_status(client: TestClient) -> None:
    page, _ = get_page(client, "/compare?ids=fx-ti-alloy", status=400)
    assert page.problems == ["ids: give 2 to 20 material ids, comma-separated; got 1"]
    assert page.inputs["ids"] == "fx-ti-alloy"
    page, _ = get_page(client, "/compare?ids=fx-ti-alloy,no-such-thing", status=404)
    assert page.problems == ["ids: unknown or unpublished material 'no-such-thing'"]
    page, _ = get_page(client, "/compare?ids=fx-ti-alloy,fx-draft", status=404)
    assert page.problems == ["ids: unknown or unpublished material 'fx-draft'"]
    page, _ = get_page(client, "/compare?ids=fx-ti-alloy,fx-steel&properties=youngs_modulos", 400)
    assert len(page.problems) == 1
    assert page.problems[0].startswith(
        "properties: unknown property 'youngs_modulos'; did you mean 'youngs_modulus'?"
    )


def test_compare_without_ids_is_a_form_to_pick_them(client: TestClient) -> None:
    page, html = get_page(client, "/compare")
    assert page.headings[0] == (1, "Compare materials")
    assert page.problems == []
    assert '<label for="ids">Material ids</label>' in html
    assert "2 to 20 ids, separated by commas" in html
    assert page.inputs["ids"] == ""
    # Picking from a search: the id already chosen stays ticked (no error for one id
    # while picking), the results are offered.
    page, html = get_page(client, "/compare?ids=fx-ti-alloy&q=steel")
    assert page.problems == []
    assert page.checkboxes == [("fx-ti-alloy", True), ("fx-steel", False)]
    assert '<label for="pick-1">Titanium alloy FX</label>' in html
    page, html = get_page(client, "/compare?q=zzzzzz")
    assert "No material matches “zzzzzz”." in html
