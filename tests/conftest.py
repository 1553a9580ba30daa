"""Shared fixtures. Expensive ones (a real analysis of a sample clip) run once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SAMPLE_GOOD_STOOP = SAMPLES / "hinge_good_stoop.mp4"
SAMPLE_LOWBACK = SAMPLES / "hinge_lowback.mp4"
SAMPLE_LOCKOUT_SQUAT = SAMPLES / "hinge_lockout_squat.mp4"

os.environ.setdefault("MPLBACKEND", "Agg")


def _require(path: Path) -> Path:
    assert path.is_file(), f"missing test sample {path} (see samples/README.md)"
    return path


@pytest.fixture(scope="session")
def sample_good_stoop() -> Path:
    """A side-view clip of good hinges and a stoop, with ground truth beside it (_gt.csv, _reps.json)."""
    return _require(SAMPLE_GOOD_STOOP)


@pytest.fixture(scope="session")
def sample_lowback() -> Path:
    """A side-view clip with low-back returns and a late spinal-flexion takeover, with ground truth."""
    return _require(SAMPLE_LOWBACK)


@pytest.fixture(scope="session")
def sample_lockout_squat() -> Path:
    """A side-view clip with a good hinge, a stoop, a squat (knee-dominant) and a lean back at lockout."""
    return _require(SAMPLE_LOCKOUT_SQUAT)


@pytest.fixture(scope="session")
def analysed_good_stoop(sample_good_stoop, tmp_path_factory):
    """(out_dir, AnalysisResult) of one full ``analyze`` run on the good/stoop sample, with every output."""
    from hingecheck.api import analyze_to_dir

    out = tmp_path_factory.mktemp("analysed_good_stoop")
    return out, analyze_to_dir(sample_good_stoop, out)


@pytest.fixture(scope="session")
def analysed_lowback(sample_lowback, tmp_path_factory):
    """(out_dir, AnalysisResult) of one full ``analyze`` run on the low-back sample."""
    from hingecheck.api import analyze_to_dir

    out = tmp_path_factory.mktemp("analysed_lowback")
    return out, analyze_to_dir(sample_lowback, out)


def browser_or_skip():
    """Debian's chromium for Playwright; a skip locally when absent, a failure where it is required (CI)."""
    exe = Path("/usr/bin/chromium")
    if not exe.exists():
        if os.environ.get("HINGECHECK_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (HINGECHECK_REQUIRE_BROWSER) but /usr/bin/chromium is missing")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return str(exe)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Debian chromium driven by Playwright (one per test module)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = browser_or_skip()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def watched_page(browser, url: str, width: int = 1200, timeout_ms: int = 15_000, offline: bool = False):
    """Open ``url`` in a new page that records console errors, page errors, dialogs (an injected alert())
    and, with ``offline``, any request that leaves the file (a self-contained page makes none).
    Returns (page, problems)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(timeout_ms)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    if offline:
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else problems.append(r.url))
    page.goto(url)
    return page, problems
