"""The search page ``/``: what a person sees for a search, a filter in psi, facets,
paging, the links on to the tools, and the errors the API names; the page's guards
(escaping, Content-Security-Policy)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.conftest import auth

PSI_PER_GPA = 145037.7377


class Page(HTMLParser):
    """The parts of a page the tests read: result rows (name, link), the h2 above
    them, links by text, facet counts, problems."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row_links: list[str] = []
        self.links: dict[str, str] = {}
        self.counts: dict[str, str] = {}
        self.problems: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self._text: list[str] = []
        self._in_body_row = False
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._link_text: list[str] = []
        self._count_id: str | None = None
        self._in_problems = False
        self._problem: list[str] | None = None
        self._tbody = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        if tag == "tbody":
            self._tbody = True
        if tag == "tr" and self._tbody:
            self.rows.append([])
        if tag == "td" and self._tbody:
            self._cell = []
        if tag == "a":
            self._href = a.get("href")
            self._link_text = []
            if self._cell is not None and not self.rows[-1]:
                self.row_links.append(a.get("href") or "")
        if tag == "span" and (a.get("id") or "").startswith("n-"):
            self._count_id = a["id"]
        if tag == "section" and "problems" in (a.get("class") or ""):
            self._in_problems = True
        if tag == "li" and self._in_problems:
            self._problem = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._tbody = False
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "a" and self._href is not None:
            self.links.setdefault(" ".join("".join(self._link_text).split()), self._href)
            self._href = None
        if tag == "span":
            self._count_id = None
        if tag == "li" and self._problem is not None:
            self.problems.append(" ".join("".join(self._problem).split()))
            self._problem = None
        if tag == "section":
            self._in_problems = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None:
            self._link_text.append(data)
        if self._count_id is not None:
            self.counts[self._count_id] = data.strip()
        if self._problem is not None:
            self._problem.append(data)

    @property
    def names(self) -> list[str]:
        return [link.removeprefix("/materials/") for link in self.row_links]


def get_page(client: TestClient, query: str, status: int = 200) -> tuple[Page, Any]:
    response = client.get(f"/?{query}" if query else "/")
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return Page(response.text), response


def test_landing_page_lists_published_materials_with_a_search_box(client: TestClient) -> None:
    page, response = get_page(client, "")
    assert '<input type="search" id="q" name="q" value=""' in response.text
    assert 'aria-label="Search"' in response.text
    assert '<h2 id="results-title">12 materials</h2>' in response.text
    # In the API's order (by name), the draft absent.
    assert page.names == [item["id"] for item in client.get("/api/v1/materials").json()["data"]]
    assert sorted(page.names) == [
        "fx-alumina", "fx-bioglass", "fx-cfr", "fx-collagen", "fx-ha", "fx-hydrogel",
        "fx-mg", "fx-peek", "fx-plga", "fx-silk", "fx-steel", "fx-ti-alloy",
    ]  # fmt: skip
    assert page.counts["n-class-metal"] == "3"
    assert page.counts["n-class-polymer"] == "3"
    assert page.counts["n-class-natural"] == "2"


def test_text_search_finds_the_material(client: TestClient) -> None:
    page, _ = get_page(client, "q=titanium")
    api = client.get("/api/v1/materials?q=titanium").json()
    assert page.names == [item["id"] for item in api["data"]]
    assert page.names  # the fixture has a titanium alloy
    assert "fx-ti-alloy" in page.names


def test_range_in_psi_filters_and_shows_the_column_in_psi(client: TestClient) -> None:
    # 10 to 30 GPa, typed in psi in the property picker.
    low, high = 10 * PSI_PER_GPA, 30 * PSI_PER_GPA
    page, response = get_page(client, f"pk=youngs_modulus&pmin={low:.0f}&pmax={high:.0f}&pu=psi")
    api = client.get("/api/v1/materials?prop=youngs_modulus:10..30&limit=200").json()
    assert sorted(page.names) == sorted(item["id"] for item in api["data"])
    assert sorted(page.names) == ["fx-cfr", "fx-ha"]
    # The filtered property is a column, in the unit the filter was typed in.
    assert "Young&#39;s modulus</th>" in response.text
    cfr = page.rows[page.names.index("fx-cfr")]
    assert cfr[2] == "2 610 000 psi"
    # The picker keeps what was typed.
    assert f'name="pmin" value="{low:.0f}"' in response.text
    assert '<option value="youngs_modulus" selected>' in response.text


def test_facet_counts_follow_the_filters(client: TestClient) -> None:
    page, _ = get_page(client, "class=metal&class=ceramic")
    assert sorted(page.names) == ["fx-alumina", "fx-ha", "fx-mg", "fx-steel", "fx-ti-alloy"]
    # Counts are over the filtered set: OR between classes, so each keeps its own.
    assert page.counts["n-class-metal"] == "3"
    assert page.counts["n-class-ceramic"] == "2"
    assert page.counts["n-class-polymer"] == "0"


def test_next_page_keeps_the_query_and_continues(client: TestClient) -> None:
    first, _ = get_page(client, "limit=5&class=metal&class=polymer&class=natural")
    assert len(first.names) == 5
    next_link = first.links["Next page"]
    query = parse_qs(urlsplit(next_link).query)
    assert query["class"] == ["metal", "polymer", "natural"]
    assert query["limit"] == ["5"]
    second, _ = get_page(client, urlsplit(next_link).query)
    api = client.get("/api/v1/materials?class=metal&class=polymer&class=natural&limit=200")
    every = [item["id"] for item in api.json()["data"]]
    assert first.names + second.names == every[:8]
    assert "Next page" not in second.links
    assert "First page" in second.links


def test_links_on_to_the_tools_carry_the_search(client: TestClient) -> None:
    page, _ = get_page(client, "class=ceramic&pk=youngs_modulus&pmin=1&pu=GPa")
    assert page.links["Compare these"] == "/compare?ids=fx-alumina%2Cfx-ha"
    assert page.links["Rank these"] == "/rank?class=ceramic&prop=youngs_modulus%3A1..%3AGPa"
    assert page.links["Chart these"] == "/chart?class=ceramic&prop=youngs_modulus%3A1..%3AGPa"
    csv_link = page.links["Download CSV"]
    assert csv_link.startswith("/api/v1/materials?")
    exported = client.get(csv_link)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["fx-alumina", "fx-ha"]


def test_api_problems_are_shown_on_the_page_with_the_status(client: TestClient) -> None:
    page, _ = get_page(client, "clas=metal", status=400)
    assert len(page.problems) == 1
    assert page.problems[0].startswith("clas: unknown parameter 'clas'; did you mean 'class'?")
    page, _ = get_page(client, "pk=youngs_modulus&pmin=1&pu=parsec", status=400)
    assert len(page.problems) == 1
    assert page.problems[0].startswith("prop[0]:")
    assert "parsec" in page.problems[0]


def test_did_you_mean_on_an_empty_text_search(client: TestClient) -> None:
    page, response = get_page(client, "q=hydroxyapatitte")
    api = client.get("/api/v1/materials?q=hydroxyapatitte").json()
    assert api["meta"]["total"] == 0
    assert api["meta"]["did_you_mean"] == ["hydroxyapatite"]
    assert ">hydroxyapatite</a>?" in response.text
    assert page.links["hydroxyapatite"] == "/?q=hydroxyapatite"


def test_a_name_with_markup_renders_as_text(client: TestClient, keys: dict[str, str]) -> None:
    entry = {
        "id": "fx-script",
        "name": '<script>alert("x")</script><img src=x onerror=alert(1)>',
        "class": "polymer",
        "status": "published",
    }
    created = client.post(
        "/api/v1/imports", json={"materials": [entry]}, headers=auth(keys["editor"])
    )
    assert created.status_code == 200, created.text
    _, response = get_page(client, "q=alert")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in (
        response.text
    )
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    # The only scripts are the service's own file.
    assert Page(response.text).scripts == [{"src": "/assets/site.js?v=0.1.0", "defer": None}]


def test_pages_forbid_inline_script_and_the_api_stays_data_only(client: TestClient) -> None:
    _, response = get_page(client, "")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no nonce
    assert directives["default-src"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    api = client.get("/api/v1/materials")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    # No inline script in the page itself (CSP would block it: it must not be needed).
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert not re.search(r"\son[a-z]+=", response.text)


def test_assets_are_served_by_the_service(client: TestClient) -> None:
    for path, kind in [
        ("/assets/site.css", "text/css"),
        ("/assets/site.js", "text/javascript"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(kind), response.headers
    _, page = get_page(client, "")
    assert 'href="/assets/favicon.svg"' in page.text
    assert "https://" not in page.text.split("<body>")[0]  # nothing from a CDN
