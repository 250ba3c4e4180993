"""The built site in headless Chromium (Debian's chromium driven by Playwright), served on 127.0.0.1.

Screenshots of every page visited are saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin, urlparse

import pytest
from page_layout import KEY_PAGES, MAX_ROW_LINES, MEASURE, site_pages

from docs_site import ARTIFACTS, PROJECT, built_site

SHOTS = ARTIFACTS / "screenshots"
TASKS = ("create", "upgrade", "downgrade", "status", "troubleshoot")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def base_url():
    site = built_site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.errors = []  # console errors and uncaught exceptions from this site

    def on_console(message):
        # A resource from another host (Mermaid's CDN) is not reachable offline: not the site's fault.
        url = (message.location or {}).get("url", "")
        if message.type == "error" and (not url or url.startswith(base_url)):
            page.errors.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.errors.append(f"pageerror: {error}"))
    yield page
    context.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def existing_tasks() -> list[str]:
    return [task for task in TASKS if (PROJECT / "docs" / "tasks" / f"{task}.md").exists()]


def runbooks() -> list[str]:
    return sorted(path.stem for path in (PROJECT / "notebooks").glob("*.ipynb"))


def test_home_and_task_pages_load_without_console_errors(page, base_url):
    page.goto(base_url)
    page.wait_for_load_state("networkidle")
    assert "Galaxy database migrations" in page.title()
    assert page.locator("table").first.inner_text().count("python -m runbooks") == len(TASKS)
    _shot(page, "home")
    for task in existing_tasks():
        page.goto(f"{base_url}tasks/{task}/")
        page.wait_for_load_state("networkidle")
        assert page.locator("article h1").count() >= 1
        _shot(page, f"task-{task}")
    assert not page.errors, page.errors


def test_palette_toggle_switches_to_dark(page, base_url):
    page.goto(base_url)
    before = page.locator("body").get_attribute("data-md-color-scheme")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    after = page.locator("body").get_attribute("data-md-color-scheme")
    assert {before, after} == {"default", "slate"}
    _shot(page, "home-toggled-palette")


def test_navigation_reaches_every_runbook(page, base_url):
    for name in runbooks():
        page.goto(base_url)
        link = page.locator(f"nav.md-nav--primary a.md-nav__link[href$='runbooks/{name}/']").first
        assert link.count() == 1, f"no navigation link to runbook {name}"
        link.click()  # works for a link inside a collapsed section too: Material keeps it in the DOM
        page.wait_for_url(f"{base_url}runbooks/{name}/")
        assert page.locator(".jp-Cell").count() > 0, name
        _shot(page, f"runbook-{name}")
    assert not page.errors, page.errors


def test_runbook_page_shows_executed_outputs(page, base_url):
    page.goto(f"{base_url}runbooks/status/")
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.count() > 0
    text = "\n".join(outputs.all_inner_texts())
    assert "gxy" in text and "fac9c76612f9" in text  # the sample database, at Galaxy's head
    prompts = page.locator(".jp-InputPrompt").all_inner_texts()
    assert any("[1]" in p for p in prompts), "cells carry execution counts"
    _shot(page, "runbook-status-outputs")


def test_runbook_download_is_the_executed_notebook(page, base_url, tmp_path):
    for name in runbooks():
        page.goto(f"{base_url}runbooks/{name}/")
        button = page.locator("a.jp-DownloadNB")
        assert button.count() == 1, f"no download button on runbook {name}"
        with page.expect_download() as info:
            button.click()
        path = tmp_path / f"{name}.ipynb"
        info.value.save_as(path)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert notebook["nbformat"] == 4
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert any(c.get("outputs") for c in code), f"{name}: downloaded notebook has no outputs"


def _search(page, base_url, query: str) -> list[str]:
    page.goto(base_url)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # Material loads the index in a worker; a query typed before it is ready finds nothing.
    page.wait_for_function(
        "() => !/Initializing/i.test(document.querySelector('.md-search-result__meta')?.textContent || 'x')",
        timeout=30000,
    )
    box = page.locator("input.md-search__input")
    box.fill(query)
    box.press("End")
    page.locator("li.md-search-result__item").first.wait_for(timeout=15000)
    _shot(page, f"search-{query}")
    return [a.get_attribute("href") for a in page.locator("li.md-search-result__item a").all()]


def _pages(hrefs: list[str], base_url: str) -> set[str]:
    """Result links as page paths: ``explanation/merges`` (query and anchor dropped)."""
    return {urlparse(urljoin(base_url, href)).path.strip("/") for href in hrefs}


def test_search_finds_the_right_pages(page, base_url):
    found = _pages(_search(page, base_url, "IncorrectVersionError"), base_url)
    assert "explanation/sqlalchemy-migrate" in found, found
    if "troubleshoot" in existing_tasks():
        assert "tasks/troubleshoot" in found, found

    found = _pages(_search(page, base_url, "downgrade"), base_url)
    assert "tasks/downgrade" in found if "downgrade" in existing_tasks() else "explanation/merges" in found, found

    found = _pages(_search(page, base_url, "c44ae5f3dcf1"), base_url)
    assert {"reference/revision-graph", "explanation/merges"} <= found, found
    assert not page.errors, page.errors


@pytest.fixture
def offline_page(browser, base_url):
    """A page on which every request to anything but the local site is blocked and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base_url) or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.blocked = blocked
    yield page
    context.close()


@pytest.mark.parametrize("uri", ["reference/revision-graph/", "explanation/startup/"])
def test_diagrams_render_offline(offline_page, base_url, uri):
    offline_page.goto(urljoin(base_url, uri))
    # Material swaps each <pre class="mermaid"> for a <div class="mermaid"> holding the drawn SVG in a
    # closed shadow root (which Playwright cannot look into) only once Mermaid has rendered it.
    drawn = "() => !document.querySelector('pre.mermaid') && document.querySelectorAll('div.mermaid').length > 0"
    offline_page.wait_for_function(drawn, timeout=30000)
    _shot(offline_page, f"offline-{uri.strip('/').replace('/', '-')}")
    assert offline_page.locator("div.mermaid").first.bounding_box()["height"] > 50
    assert offline_page.blocked == []


def test_no_page_asks_another_host(offline_page, base_url):
    for uri in ["", "tasks/upgrade/", "runbooks/upgrade/", "reference/cli/"]:
        offline_page.goto(urljoin(base_url, uri))
        offline_page.wait_for_load_state("networkidle")
    assert offline_page.blocked == []


# -- layout: every page at a desktop's and a phone's width, each visited once per width ------------

WIDTHS = (1280, 390)
SCREEN = 900  # the first screen's height
FIRST_SCREEN = """() => {
  const grid = document.querySelector("article table");
  const chart = document.querySelector("article figure.chart");
  const box = (node) => node ? node.getBoundingClientRect().bottom : null;
  return {grid_bottom: box(grid), chart_bottom: box(chart)};
}"""


@pytest.fixture(scope="module")
def layout(browser, base_url):
    """``{(width, page): what MEASURE found}`` for every built page; the key pages photographed at each
    width (test-artifacts/screenshots/layout-*.png), the upgrade-time page in the dark scheme too."""
    measured, first_screen = {}, {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": SCREEN})
        page = context.new_page()
        for uri in site_pages(built_site()):
            page.goto(base_url + uri)
            measured[(width, uri)] = page.evaluate(MEASURE, MAX_ROW_LINES)
            if uri in KEY_PAGES:
                first_screen[(width, uri)] = page.evaluate(FIRST_SCREEN)
                _shot(page, f"layout-{KEY_PAGES[uri]}-{width}")
        context.close()
    dark = browser.new_context(viewport={"width": 1280, "height": SCREEN}, color_scheme="dark")
    page = dark.new_page()
    page.goto(base_url + "explanation/upgrade-time/")
    _shot(page, "layout-upgrade-time-1280-dark")
    dark.close()
    return {"pages": measured, "first_screen": first_screen}


def _found(layout, width: int, key: str) -> dict:
    return {uri: m[key] for (w, uri), m in layout["pages"].items() if w == width and m[key]}


def test_every_page_is_measured_at_both_widths(layout):
    pages = {uri for _, uri in layout["pages"]}
    assert {"", "tasks/upgrade/", "explanation/upgrade-compatibility/", "runbooks/upgrade/"} <= pages
    assert len(layout["pages"]) == len(pages) * len(WIDTHS)


def test_no_table_needs_scrolling_sideways_at_1280(layout):
    assert _found(layout, 1280, "wide") == {}


def test_no_table_row_is_taller_than_a_few_lines_at_1280(layout):
    assert _found(layout, 1280, "tall") == {}


def test_no_page_is_wider_than_a_phone(layout):
    """At 390 px a wide table or a long output line scrolls inside its own block, never the page."""
    assert _found(layout, 390, "wider_than_window") == {}


def test_runbook_outputs_wrap_inside_their_block_at_both_widths(layout):
    assert _found(layout, 1280, "cut") == {}
    assert _found(layout, 390, "cut") == {}


def test_the_outcome_cell_shows_its_verdict_marked(page, base_url):
    page.goto(f"{base_url}runbooks/upgrade/")
    verdict = page.locator(".jp-Outcome pre")
    assert verdict.count() == 1
    assert page.locator(".jp-Outcome-done").count() == 1, "the upgrade runbook ends done (exit 0)"
    assert verdict.inner_text().startswith("Applied: upgrade to head")
    assert verdict.evaluate("pre => getComputedStyle(pre).borderLeftColor") == "rgb(22, 163, 74)"


def test_the_compatibility_grid_and_the_upgrade_time_chart_are_on_the_first_screen(layout):
    grid = layout["first_screen"][(1280, "explanation/upgrade-compatibility/")]["grid_bottom"]
    chart = layout["first_screen"][(1280, "explanation/upgrade-time/")]["chart_bottom"]
    assert grid is not None and grid <= SCREEN, grid
    assert chart is not None and chart <= SCREEN, chart
