"""Plots: what each figure draws (reps, faults, per-rep rhythm lines) and that the PNGs are written."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Polygon, Rectangle

from hingecheck.core.types import AngleSeries, Fault, Rep
from hingecheck.render.plots import ANGLES_PNG, RHYTHM_PNG, figure_angles, figure_rhythm, write_plots
from hingecheck.result import AnalysisResult

FPS = 30.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def two_rep_result(lumbar_measured: bool = True) -> AnalysisResult:
    """Rep 1 a good hinge (0–2 s), rep 2 a takeover (3–5 s) with a fault at 3.6 s."""
    t = np.arange(180) / FPS
    a = AngleSeries.empty(np.arange(180), t)
    a.detected[:] = True
    bump1 = np.clip(np.sin(np.pi * t / 2.0), 0, None) * (t < 2)
    bump2 = np.clip(np.sin(np.pi * (t - 3) / 2.0), 0, None) * ((t >= 3) & (t < 5))
    a.hip_flexion_deg[:] = 80 * bump1 + 50 * bump2
    a.lumbar_flexion_deg[:] = (5 * bump1 + 30 * bump2) if lumbar_measured else np.nan
    a.trunk_inclination_deg[:] = 70 * bump1 + 60 * bump2
    fault = Fault("spinal_flexion_takeover", 3.6, 108, "low back took over", "hips back", {})
    reps = [Rep(1, 0.0, 1.0, 2.0, 0, 30, 60), Rep(2, 3.0, 4.0, 5.0, 90, 120, 150, faults=[fault])]
    return AnalysisResult(video=None, status="ok", message="", angles=a, reps=reps)


def test_angles_figure_shades_reps_and_marks_faults():
    fig = figure_angles(two_rep_result())
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels[:2] == ["hip flexion", "lumbar flexion"]
    assert "pelvic tilt (not measurable)" in labels  # all-NaN columns say so in the legend
    vertical = [line for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0 and len(line.get_xdata()) == 2]
    assert [float(line.get_xdata()[0]) for line in vertical] == [3.6]  # the fault
    spans = [p for p in ax.patches if isinstance(p, Polygon | Rectangle)]
    assert len(spans) == 4  # descent + return for each rep
    texts = [t.get_text() for t in ax.texts]
    assert "rep 1" in texts and "rep 2" in texts


def test_rhythm_figure_draws_descent_solid_and_return_dashed_per_rep():
    result = two_rep_result()
    ax = figure_rhythm(result).axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(lines) == 4
    styles = [line.get_linestyle() for line in lines]
    assert styles == ["-", "--", "-", "--"]
    a = result.angles
    down2 = (a.time_s >= 3.0) & (a.time_s <= 4.0)
    np.testing.assert_allclose(lines[2].get_xdata(), a.hip_flexion_deg[down2])
    np.testing.assert_allclose(lines[2].get_ydata(), a.lumbar_flexion_deg[down2])
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()  # one colour per rep
    markers = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert len(markers) == 1 and float(markers[0].get_xdata()[0]) == np.interp(3.6, a.time_s, a.hip_flexion_deg)


def test_rhythm_says_so_when_lumbar_is_not_measurable():
    fig = figure_rhythm(two_rep_result(lumbar_measured=False))
    assert not fig.axes[0].axison
    assert "not measurable" in fig.axes[0].texts[0].get_text()


def test_write_plots_writes_pngs_even_for_a_failed_run(tmp_path):
    names = write_plots(two_rep_result(), tmp_path)
    assert names == {"plot_angles": ANGLES_PNG, "plot_rhythm": RHYTHM_PNG}
    for name in names.values():
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    failed = AnalysisResult(video=None, status="no_person", message="no person")
    assert write_plots(failed, tmp_path / "failed") == names
    assert (tmp_path / "failed" / ANGLES_PNG).read_bytes().startswith(PNG_MAGIC)


def test_nothing_measured_gives_a_message_not_an_empty_chart():
    result = two_rep_result()
    a = result.angles
    for column in ("hip_flexion_deg", "lumbar_flexion_deg", "trunk_inclination_deg"):
        getattr(a, column)[:] = np.nan
    fig = figure_angles(result)
    assert not fig.axes[0].axison and "No angles" in fig.axes[0].texts[0].get_text()
