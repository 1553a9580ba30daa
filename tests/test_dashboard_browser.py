"""The batch dashboard in headless Chromium: no console errors, filters and sorting work, report links resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from hingecheck.batch import run
from tests.conftest import CHROMIUM_ARGS, browser_or_skip
from tests.test_batch import HOSTILE, person_clip, request, short_clips  # noqa: F401  (shared session fixtures)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def dashboard(short_clips, tmp_path_factory) -> Path:  # noqa: F811
    """A real batch: one client with two sessions, a hostile client name, and files that cannot be analysed."""
    root = tmp_path_factory.mktemp("dashboard")
    indir = root / "in"
    (indir / "anna").mkdir(parents=True)
    (indir / "anna" / "monday.mp4").write_bytes(short_clips["a"].read_bytes())
    (indir / "anna" / "friday.mp4").write_bytes(short_clips["b"].read_bytes())
    (indir / HOSTILE).mkdir()
    (indir / HOSTILE / f"{HOSTILE}.mp4").write_text("not a video")
    (indir / "ben").mkdir()
    (indir / "ben" / "empty.mp4").write_bytes(b"")
    run(request(indir, root / "out"))
    return root / "out" / "index.html"


@pytest.fixture(scope="module")
def browser():
    exe = browser_or_skip()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))  # an injected alert()
    page.goto(url)
    return page, problems


def visible_paths(page) -> list[str]:
    return page.eval_on_selector_all("#recordings tbody tr:not([hidden]) td code", "els => els.map(e => e.textContent)")


def test_dashboard_filters_sorts_and_links(dashboard, browser, tmp_path):
    page, problems = open_page(browser, dashboard.as_uri())
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)  # kept for a human look on failure
    assert page.title() == "hingecheck batch review"
    paths = visible_paths(page)
    assert len(paths) == 4
    # files that need a new upload come first (attention order)
    assert set(paths[:2]) == {f"{HOSTILE}/{HOSTILE}.mp4", "ben/empty.mp4"}
    # hostile names are shown as text, never as markup
    assert page.locator("#recordings img").count() == 0
    assert page.get_by_text(f"{HOSTILE}/{HOSTILE}.mp4").count() == 1

    page.fill("#filter-client", "ann")
    assert sorted(visible_paths(page)) == ["anna/friday.mp4", "anna/monday.mp4"]
    assert page.text_content("#shown-count") == "2 of 4 shown"
    page.fill("#filter-client", "")
    page.select_option("#filter-status", "not_a_video")
    assert sorted(visible_paths(page)) == sorted([f"{HOSTILE}/{HOSTILE}.mp4", "ben/empty.mp4"])
    page.select_option("#filter-status", "")

    page.click("button[data-sort='path']")
    assert page.get_attribute("button[data-sort='path']", "aria-sort") == "descending"
    assert visible_paths(page) == sorted(visible_paths(page), reverse=True)
    page.click("button[data-sort='path']")
    assert visible_paths(page) == sorted(visible_paths(page))

    links = page.eval_on_selector_all("a.report-link", "els => els.map(e => e.href)")
    assert len(links) == 4  # every file has its results (report.html, or summary.json for files not analysed)
    anna_link = next(link for link in links if "/anna/" in link)
    response = page.goto(anna_link)
    assert response is not None and response.ok
    assert problems == []


def test_client_page_shows_the_trend_and_links_back(dashboard, browser):
    page, problems = open_page(browser, dashboard.as_uri())
    page.click("#clients a:text-is('anna')")
    assert page.url.endswith("/clients/anna.html")
    assert page.locator("h1").text_content() == "anna"
    plot = page.locator("img.trend")
    assert plot.count() == 1 and plot.evaluate("img => img.naturalWidth") > 300
    assert page.locator("#sessions tbody tr").count() == 2
    hrefs = page.eval_on_selector_all("#sessions a", "els => els.map(e => e.href)")
    assert len(hrefs) == 2
    page.click("text=all clients")
    assert page.url.endswith("/index.html")
    for href in hrefs:  # the report links of the client page resolve too
        response = page.goto(href)
        assert response is not None and response.ok, href
    page.go_back()
    assert problems == []
