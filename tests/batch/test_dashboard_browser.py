"""The batch dashboard in headless Chromium: no console errors, filters and sorting work, report links resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from hingecheck.batch.runner import run
from tests.batch.test_batch import HOSTILE, person_clip, request, short_clips  # noqa: F401  (shared session fixtures)
from tests.conftest import watched_page

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


def open_page(browser, url: str):
    return watched_page(browser, url, width=1280, timeout_ms=10_000)


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


def test_fault_filter_and_worsening_client_first(browser, tmp_path):
    """Stored results with faults (written as a batch would) → the worsening client and its session lead."""
    from hingecheck.batch.dashboard import write_dashboard
    from hingecheck.batch.store import RecordingKey, ResultStore
    from tests.batch.test_store import rep, summary

    out = tmp_path / "out"
    items = []
    plan = {  # per client, oldest first: (lumbar share, hinge capacity, fault codes of rep 1)
        "pat": [(0.25, 45.0, []), (0.18, 55.0, []), (0.40, 35.0, ["spinal_flexion_takeover"])],
        "quinn": [(0.5, 30.0, ["extension_from_low_back"]), (0.3, 42.0, []), (0.2, 50.0, [])],
    }
    with ResultStore(out / "results.sqlite") as store:
        for client, sessions in plan.items():
            for i, (share, capacity, faults) in enumerate(sessions):
                folder = out / client / f"s{i}"
                folder.mkdir(parents=True)
                summ = summary([rep(1, share, capacity, faults), rep(2, share, capacity)])
                (folder / "summary.json").write_text("{}")
                when = f"2024-0{i + 1}-10"
                store.upsert_recording(
                    RecordingKey(f"{client}{i}", "s", "m"),
                    client=client,
                    path=f"{client}/s{i}.mp4",
                    source_root="/in",
                    summary=summ,
                    output_dir=str(folder),
                    recorded_at=when,
                    recorded_at_source="manifest",
                )
                items.append(
                    {
                        "path": f"{client}/s{i}.mp4",
                        "client": client,
                        "status": "ok",
                        "message": "",
                        "output_dir": f"{client}/s{i}",
                        "recorded_at": when,
                        "n_reps": 2,
                        "n_reps_with_faults": 1 if faults else 0,
                        "fault_counts": dict.fromkeys(faults, 1),
                        "warnings": [],
                    }
                )
        index = write_dashboard(out, store, items)
    page, problems = open_page(browser, index.as_uri())
    assert page.eval_on_selector_all("#clients tbody tr a", "els => els.map(e => e.textContent)") == ["pat", "quinn"]
    assert page.locator("#clients tbody tr").first.locator(".flag").text_content() == "worsening"
    assert visible_paths(page)[0] == "pat/s2.mp4"
    page.select_option("#filter-fault", "extension_from_low_back")
    assert visible_paths(page) == ["quinn/s0.mp4"]
    page.select_option("#filter-fault", "spinal_flexion_takeover")
    assert visible_paths(page) == ["pat/s2.mp4"]
    page.click("#clients a:text-is('pat')")
    arrows = page.eval_on_selector_all("#sessions tbody tr:first-child .worse", "els => els.map(e => e.textContent)")
    assert arrows == ["↑", "↓", "↑"]  # lumbar share up, hinge capacity down, fault rate up: all worse
    assert problems == []
