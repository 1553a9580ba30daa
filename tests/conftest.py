"""Shared fixtures. Expensive ones (a real analysis of a sample clip) run once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SAMPLE_GOOD_STOOP = SAMPLES / "hinge_good_stoop.mp4"
SAMPLE_LOWBACK = SAMPLES / "hinge_lowback.mp4"

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
def analysed_good_stoop(sample_good_stoop, tmp_path_factory):
    """(out_dir, AnalysisResult) of one full ``analyze`` run on the good/stoop sample, with every output."""
    from hingecheck.outputs import analyze_to_dir

    out = tmp_path_factory.mktemp("analysed_good_stoop")
    return out, analyze_to_dir(sample_good_stoop, out)


@pytest.fixture(scope="session")
def analysed_lowback(sample_lowback, tmp_path_factory):
    """(out_dir, AnalysisResult) of one full ``analyze`` run on the low-back sample."""
    from hingecheck.outputs import analyze_to_dir

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
