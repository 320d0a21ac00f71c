"""A person's tasks on the web page, in a real browser (Debian's Chromium driven by
Playwright), on the seed data, served by ``biomatdb serve``.

Every page visited is checked the same way (:meth:`Visit.check`): axe-core finds no
serious or critical accessibility violation, the browser logged no error (a CSP
violation is one), nothing scrolls sideways at phone width (390 px), and a
screenshot is taken (``BIOMATDB_SCREENSHOTS=docs/screenshots`` keeps them there;
``make screenshots``). The reading tasks run again with JavaScript disabled.

The browser is ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run``
installs it); nothing downloads a browser. Without it these tests are skipped,
unless ``BIOMATDB_REQUIRE_BROWSER=1`` (CI), when that is a failure.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DatabaseFactory, _free_port

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.slow, pytest.mark.dialect_free]

if not CHROMIUM.exists():
    if os.environ.get("BIOMATDB_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "biomatdb.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Site:
    base: str
    keys: dict[str, str]
    env: dict[str, str]


@pytest.fixture(scope="module")
def site(databases: DatabaseFactory) -> Iterator[Site]:
    """The seed data, migrated and served on a free port; a key per role."""
    url = databases.new_url()
    env = {**os.environ, "BIOMATDB_DATABASE_URL": url}
    _cli(env, "db", "upgrade")
    _cli(env, "seed")
    keys = {
        role: _cli(env, "keys", "create", "--name", f"browser-{role}", "--role", role)
        .strip()
        .splitlines()[0]
        for role in ("reader", "curator", "editor")
    }
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [sys.executable, "-m", "biomatdb.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: a full pipe would block the server's logging
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(log.read().decode())
            time.sleep(0.1)
        yield Site(base, keys, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


#: The screenshots the README shows (``make screenshots`` refreshes them): the first
#: screenful of each; every page's whole length goes to the test's temporary folder.
SHOWN = {
    "search-psi", "search-psi-phone", "search-text-nojs", "material", "material-dark",
    "compare", "rank", "chart", "curate-errors", "curate-published",
}  # fmt: skip


def _shots() -> Path | None:
    folder = os.environ.get("BIOMATDB_SCREENSHOTS")
    return Path(folder) if folder else None


@dataclass
class Visit:
    """One browser context (desktop or phone, JavaScript on or off) on the site,
    which records every console error and uncaught exception of its pages."""

    site: Site
    context: Any
    tmp: Path
    javascript: bool = True
    errors: list[str] = field(default_factory=list)

    def page(self) -> Any:
        page = self.context.new_page()

        def console(message: Any) -> None:
            # A page that answers 4xx on purpose (a form with errors) is logged as a
            # failed load of the document itself: its status, not a browser error.
            document = message.location.get("url") == page.url
            if message.type == "error" and not (
                document and message.text.startswith("Failed to load resource")
            ):
                self.errors.append(f"console {message.type}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        return page

    def screenshot(self, page: Any, name: str) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(self.tmp / f"{name}.png"), full_page=True)
        folder = _shots()
        if folder is not None and name in SHOWN:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"))

    def check(self, page: Any, name: str) -> None:
        """axe-core (serious and critical fail), no console error, no sideways scroll
        at phone width, a screenshot (desktop and phone).

        Without JavaScript the page's own scripts cannot run, and neither can axe or
        a measurement: those checks run in the JavaScript pass of the same task."""
        assert not self.errors, f"{name}: browser errors: {self.errors}"
        if not self.javascript:
            self.screenshot(page, f"{name}-nojs")
            return
        results = axe_module.Axe().run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name}: accessibility violations:\n" + "\n".join(bad)
        self.screenshot(page, name)
        phone = self.context.browser.new_context(viewport=PHONE, device_scale_factor=1)
        try:
            phone.add_cookies(self.context.cookies())
            small = phone.new_page()
            small.goto(page.url)
            width = small.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name}: the page scrolls sideways at 390 px ({width})"
            self.screenshot(small, f"{name}-phone")
        finally:
            phone.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def visit(
    request: pytest.FixtureRequest, site: Site, browser: Any, tmp_path: Path
) -> Iterator[Visit]:
    """A desktop browser, with JavaScript on and off (the reading tasks run with both)."""
    context = browser.new_context(
        viewport=DESKTOP, java_script_enabled=request.param, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    try:
        yield Visit(site, context, tmp_path, javascript=request.param)
    finally:
        context.close()


def result_ids(page: Any) -> list[str]:
    links = page.locator("section.results tbody tr td:first-child a")
    return [
        href.removeprefix("/materials/")
        for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    ]


def api(site: Site, path: str, **params: Any) -> Any:
    response = httpx.get(site.base + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def search_by_text(visit: Visit, text: str) -> Any:
    page = visit.page()
    page.goto(visit.site.base + "/")
    page.get_by_role("searchbox", name="Search").fill(text)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"\?.*q="))
    return page


def test_search_by_text(visit: Visit) -> None:
    page = search_by_text(visit, "titanium")
    expected = [
        m["id"] for m in api(visit.site, "/api/v1/materials", q="titanium", limit=200)["data"]
    ]
    assert "ti-6al-4v-eli" in expected
    assert result_ids(page) == expected[:20]
    assert page.get_by_role(
        "heading", level=2, name=re.compile(r"^\d+ materials?$")
    ).inner_text() == (f"{len(expected)} material{'s' * (len(expected) != 1)}")
    visit.check(page, "search-text")


def test_search_by_a_property_range_in_psi(visit: Visit) -> None:
    page = visit.page()
    page.goto(visit.site.base + "/")
    page.get_by_label("Property 1").select_option("youngs_modulus")
    page.locator("#pmin1").fill("1450000")  # 10 GPa
    page.locator("#pmax1").fill("4350000")  # 30 GPa
    page.locator("#pu1").fill("psi")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"pu=psi"))
    if visit.javascript:
        page.wait_for_load_state("networkidle")
    expected = api(
        visit.site, "/api/v1/materials", prop="youngs_modulus:1450000..4350000:psi", limit=200
    )["data"]
    assert result_ids(page) == [m["id"] for m in expected][:20]
    assert expected, "the seed has materials between 10 and 30 GPa"
    # The filtered property is a column, in psi.
    header = page.locator("section.results thead th").all_inner_texts()
    assert header[2] == "Young's modulus"
    first = page.locator("section.results tbody tr").first.locator("td").nth(2).inner_text()
    assert first.split("\n")[0].endswith(" psi")
    visit.check(page, "search-psi")


def test_download_the_csv_of_a_search(visit: Visit) -> None:
    page = search_by_text(visit, "hydroxyapatite")
    expected = [
        m["id"] for m in api(visit.site, "/api/v1/materials", q="hydroxyapatite", limit=200)["data"]
    ]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in rows] == expected
    assert download.suggested_filename.endswith(".csv")


def test_open_a_material_and_find_the_citation_of_a_value(visit: Visit) -> None:
    page = search_by_text(visit, "Ti-6Al-4V ELI")
    page.get_by_role("link", name="Ti-6Al-4V ELI", exact=True).first.click()
    page.wait_for_url(re.compile(r"/materials/ti-6al-4v-eli$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Ti-6Al-4V ELI")
    material = api(visit.site, "/api/v1/materials/ti-6al-4v-eli")
    value = next(p for p in material["properties"] if p["property"] == "youngs_modulus")
    source = value["source"]
    # The value's table names its source, and links its DOI when it has one.
    table = page.locator("table", has=page.locator("caption", has_text="Young's modulus:"))
    assert source["citation"] in " ".join(table.inner_text().split())
    if source.get("doi"):
        link = table.get_by_role("link", name=f"doi:{source['doi']}")
        assert link.get_attribute("href") == f"https://doi.org/{source['doi']}"
    visit.check(page, "material")


def test_compare_three_materials(visit: Visit) -> None:
    ids = ["ti-6al-4v-eli", "cocrmo-astm-f75", "tantalum"]
    page = visit.page()
    page.goto(visit.site.base + "/compare")
    page.get_by_label("Material ids").fill(",".join(ids))
    page.get_by_role("button", name=re.compile("^Compare")).click()
    page.wait_for_url(re.compile(r"/compare\?ids="))
    comparison = api(visit.site, "/api/v1/compare", ids=",".join(ids))["data"]
    table = page.locator("table").first
    header = table.locator("thead th").all_inner_texts()
    names = [m["name"] for m in comparison["materials"]]
    assert [h.strip().splitlines()[0] for h in header[1:]] == names
    rows = table.locator("tbody tr th")
    assert [r.strip().splitlines()[0] for r in rows.all_inner_texts()] == [
        f"{p['name']} ({p['unit']})" for p in comparison["properties"]
    ]
    visit.check(page, "compare")


def test_rank_bone_substitutes_by_closeness_to_18_gpa(visit: Visit) -> None:
    page = search_by_text(visit, "bone")
    page.get_by_role("link", name="Rank these").click()
    page.wait_for_url(re.compile(r"/rank\?"))
    page.locator("#ck1").select_option("youngs_modulus")
    page.locator("#cg1").select_option("target")
    page.locator("#ct1").fill("18")
    page.locator("#cu1").fill("GPa")
    page.get_by_role("button", name="Rank", exact=True).click()
    page.wait_for_url(re.compile(r"ct=18"))
    body = {
        "filter": {"q": "bone"},
        "criteria": [{"property": "youngs_modulus", "goal": "target", "target": 18, "unit": "GPa"}],
    }
    expected = httpx.post(visit.site.base + "/api/v1/rank", json=body, timeout=10).json()
    ranked = [item["id"] for item in expected["data"]]
    assert ranked, "bone materials with a Young's modulus"
    links = page.locator("table.ranking tbody tr th a")
    hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert [h.removeprefix("/materials/") for h in hrefs] == ranked
    # Closest to 18 GPa first: cortical bone is in the seed at 18 GPa or near it.
    visit.check(page, "rank")


def test_open_the_chart_and_follow_a_mark_to_its_material(visit: Visit) -> None:
    page = visit.page()
    page.goto(visit.site.base + "/chart")
    marks = page.locator("svg a[href^='/materials/']")
    assert marks.count() >= 5
    target = marks.first.get_attribute("href")
    assert target is not None
    chart = api(visit.site, "/api/v1/charts/ashby", x="density", y="youngs_modulus", format="json")
    plotted = {item["id"] for item in chart["data"]}
    assert {
        m.removeprefix("/materials/")
        for m in marks.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    } == plotted
    visit.check(page, "chart")
    marks.first.click(force=True)
    page.wait_for_url(re.compile(re.escape(target) + "$"))
    assert page.get_by_role("heading", level=1).count() == 1


def _bundle_file(tmp: Path, name: str, bundle: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _sign_in(page: Any, site: Site, role: str) -> None:
    page.goto(site.base + "/curate")
    page.get_by_label("API key").fill(site.keys[role])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/curate"))
    assert page.get_by_text(f"browser-{role}").count() >= 1


def test_curate_a_bundle_from_upload_to_publication(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    visit = Visit(site, context, tmp_path)
    try:
        page = visit.page()
        _sign_in(page, site, "curator")
        visit.check(page, "curate")
        # A bad bundle: every error with its path, nothing written.
        bad = {
            "materials": [
                {"id": "browser-bad", "name": "No class"},
                {
                    "id": "browser-bad-2",
                    "name": "Bad unit",
                    "class": "polymer",
                    "properties": [{"property": "youngs_modulus", "value": 3, "unit": "parsec"}],
                },
            ]
        }
        page.get_by_label("Bundle file").set_input_files(
            str(_bundle_file(tmp_path, "bad.json", bad))
        )
        page.get_by_role("button", name="Check the bundle").click()
        errors = page.locator("section.problems table tbody tr")
        errors.first.wait_for()
        paths = [row.locator("td").first.inner_text().strip() for row in errors.all()]
        assert "materials[0].class" in paths
        assert any(p.startswith("materials[1].properties[0]") for p in paths)
        assert page.get_by_role("button", name="Import").count() == 0
        visit.check(page, "curate-errors")
        # A good one: dry run, import, submit for review.
        good = {
            "materials": [
                {
                    "id": "browser-zirconia-test",
                    "name": "Browsertest zirconia",
                    "class": "ceramic",
                    "description": "Entered by the browser test",
                }
            ]
        }
        page.goto(site.base + "/curate")
        page.get_by_label("Bundle file").set_input_files(
            str(_bundle_file(tmp_path, "good.json", good))
        )
        page.get_by_role("button", name="Check the bundle").click()
        page.get_by_role("button", name="Import").click()
        page.get_by_role("link", name="browser-zirconia-test").wait_for()
        visit.check(page, "curate-imported")
        page.goto(site.base + "/curate")
        page.get_by_role("button", name="Submit Browsertest zirconia for review").click()
        page.wait_for_url(re.compile(r"/curate"))
        page.get_by_role("button", name="Sign out").click()
        # An editor publishes it; the public search finds it.
        _sign_in(page, site, "editor")
        page.get_by_role("button", name="Publish Browsertest zirconia").click()
        page.wait_for_url(re.compile(r"/curate"))
        visit.check(page, "curate-published")
        page.get_by_role("button", name="Sign out").click()
        found = search_by_text(visit, "Browsertest zirconia")
        assert result_ids(found) == ["browser-zirconia-test"]
    finally:
        context.close()


def test_keyboard_alone_searches_and_focus_is_visible(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(site.base + "/")
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.inner_text() == "Skip to content"
        # The focused element is outlined (the focus ring is not removed).
        outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
        assert outline == "solid"
        page.keyboard.press("Enter")
        # From the main content, the search box is the first field.
        page.keyboard.press("Tab")
        assert page.locator(":focus").get_attribute("name") == "q"
        page.keyboard.type("zirconia")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"q=zirconia"))
        expected = [m["id"] for m in api(site, "/api/v1/materials", q="zirconia")["data"]]
        assert expected
        assert result_ids(page) == expected
    finally:
        context.close()


def test_dark_mode_is_readable(site: Site, browser: Any, tmp_path: Path) -> None:
    """The system's dark scheme: axe's contrast check passes on it too."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    try:
        visit = Visit(site, context, tmp_path)
        page = visit.page()
        page.goto(site.base + "/materials/hydroxyapatite")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 23, 26)"
        visit.check(page, "material-dark")
    finally:
        context.close()


def test_with_javascript_filters_and_the_chart_update_in_place(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    visit = Visit(site, context, tmp_path)
    try:
        page = visit.page()
        page.goto(site.base + "/")
        page.evaluate("window.notReloaded = true")  # gone if the page were loaded again
        page.get_by_label("metal").check()
        page.wait_for_url(re.compile(r"/\?class=metal$"))
        page.get_by_role("heading", level=2, name=re.compile(r"^\d+ materials?$")).wait_for()
        expected = api(site, "/api/v1/materials", **{"class": "metal"})
        heading = f"{expected['meta']['total']} materials"
        page.get_by_role("heading", level=2, name=heading).wait_for()
        assert result_ids(page) == [m["id"] for m in expected["data"]]
        assert page.evaluate("window.notReloaded") is True
        # The chart: another y axis, drawn in place.
        page.goto(site.base + "/chart")
        page.evaluate("window.notReloaded = true")
        page.get_by_label("Vertical axis (y)").select_option("tensile_strength")
        page.get_by_role(
            "heading", name=re.compile(r"^Ultimate tensile strength vs Density")
        ).wait_for()
        assert "y=tensile_strength" in page.url
        assert page.evaluate("window.notReloaded") is True
        assert not visit.errors
    finally:
        context.close()
