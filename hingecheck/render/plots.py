"""Plots of an analysis (matplotlib, Agg canvas; no pyplot global state, so batch workers can draw in threads).

- ``plot_angles.png``: the angles over time with reps shaded and faults marked.
- ``plot_rhythm.png``: the lumbopelvic rhythm: lumbar flexion against hip flexion, one line per rep, descent
  solid and return dashed. A hinge from the hips stays low and flat; a low-back takeover bends upward.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hingecheck.io.sinks import atomic_open

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult

ANGLES_PNG = "plot_angles.png"
RHYTHM_PNG = "plot_rhythm.png"
DPI = 110

# column, label, colour (colour-blind-safe Okabe–Ito palette)
ANGLE_LINES = (
    ("hip_flexion_deg", "hip flexion", "#0072B2"),
    ("lumbar_flexion_deg", "lumbar flexion", "#D55E00"),
    ("pelvic_tilt_deg", "pelvic tilt", "#009E73"),
    ("trunk_inclination_deg", "trunk inclination", "#7F7F7F"),
    ("knee_flexion_deg", "knee flexion", "#CC79A7"),
)
FAULT_COLOUR = "#C00000"


def _new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _message_axes(fig: Figure, text: str) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#444", wrap=True, transform=ax.transAxes)


def figure_angles(result: AnalysisResult) -> Figure:
    """Angles over time: every measured column, reps shaded (descent darker than return), faults as red lines."""
    a = result.angles
    if a is None or len(a) == 0:
        fig = _new_figure(10, 1.2)
        _message_axes(fig, "No angles were measured.")
        return fig
    fig = _new_figure(10, 4.2)
    if not any(np.any(np.isfinite(getattr(a, column))) for column, _, _ in ANGLE_LINES):
        fig.set_size_inches(10, 1.2)  # a short strip, not an empty chart
        _message_axes(fig, "No angles were measured (nobody was followed in this clip).")
        return fig
    ax = fig.add_subplot()
    t = np.asarray(a.time_s, float)
    for column, label, colour in ANGLE_LINES:
        y = np.asarray(getattr(a, column), float)
        if not np.any(np.isfinite(y)):
            label += " (not measurable)"
        width = 2.2 if column in ("hip_flexion_deg", "lumbar_flexion_deg") else 1.2
        ax.plot(t, y, color=colour, lw=width, label=label)
    for rep in result.reps:
        end = rep.end_s if rep.end_s is not None else float(t[-1])
        ax.axvspan(rep.start_s, rep.bottom_s, color="#000", alpha=0.07, lw=0)
        ax.axvspan(rep.bottom_s, end, color="#000", alpha=0.035, lw=0)
        ax.text(
            (rep.start_s + end) / 2,
            1.0,
            f"rep {rep.index}" + (" (partial)" if rep.partial else ""),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=9,
            color="#333",
        )
        for fault in rep.faults:
            ax.axvline(fault.time_s, color=FAULT_COLOUR, lw=1.4, ls=(0, (4, 2)))
            ax.text(
                fault.time_s,
                0.97,
                " " + fault.code.replace("_", " "),
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="left",
                va="top",
                fontsize=7.5,
                color=FAULT_COLOUR,
            )
    ax.axhline(0, color="#000", lw=0.8)
    ax.set_xlim(float(t[0]), float(t[-1]) if len(t) > 1 else float(t[0]) + 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("degrees from standing")
    ax.grid(alpha=0.3)
    # below the axes, never over the data
    fig.legend(loc="outside lower center", fontsize=8, ncols=5, frameon=False)
    return fig


def _rep_slice(t: np.ndarray, start_s: float, end_s: float) -> slice:
    i0, i1 = np.searchsorted(t, start_s, "left"), np.searchsorted(t, end_s, "right")
    return slice(int(i0), int(i1))


def figure_rhythm(result: AnalysisResult) -> Figure:
    """Lumbar flexion against hip flexion per rep: descent solid (start→bottom), return dashed (bottom→end)."""
    a = result.angles
    message = None
    if a is None or not result.reps:
        message = "No reps to show." if a is not None else "No angles were measured."
    elif not np.any(np.isfinite(a.lumbar_flexion_deg)):
        message = "Lumbar flexion was not measurable in this clip,\nso the hip-lumbar rhythm cannot be drawn."
    if message is not None:  # a short strip, not a big empty chart
        fig = _new_figure(6.2, 1.2)
        _message_axes(fig, message)
        return fig
    assert a is not None
    fig = _new_figure(6.2, 4.8)
    t = np.asarray(a.time_s, float)
    hip = np.asarray(a.hip_flexion_deg, float)
    lumbar = np.asarray(a.lumbar_flexion_deg, float)
    ax = fig.add_subplot()
    colours = [f"C{k % 10}" for k in range(len(result.reps))]
    for rep, colour in zip(result.reps, colours, strict=True):
        end = rep.end_s if rep.end_s is not None else float(t[-1])
        down = _rep_slice(t, rep.start_s, rep.bottom_s)
        up = _rep_slice(t, rep.bottom_s, end)
        label = f"rep {rep.index}" + (" ⚠" if rep.faults else "")
        ax.plot(hip[down], lumbar[down], color=colour, lw=2, label=label)
        ax.plot(hip[up], lumbar[up], color=colour, lw=1.6, ls="--")
        for fault in rep.faults:
            k = int(np.clip(np.searchsorted(t, fault.time_s), 0, len(t) - 1))
            if np.isfinite(hip[k]) and np.isfinite(lumbar[k]):
                ax.plot(hip[k], lumbar[k], marker="X", ms=9, color=FAULT_COLOUR, mec="white", zorder=5)
    ax.axhline(0, color="#000", lw=0.8)
    ax.set_xlabel("hip flexion (°)")
    ax.set_ylabel("lumbar flexion (°)")
    ax.set_title("Hip vs low back per rep (solid: down, dashed: up)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def save_png(fig: Figure, path: Path) -> None:
    """Write a figure to ``path`` as PNG (atomically)."""
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI)


def write_plots(result: AnalysisResult, out_dir: Path) -> dict[str, str]:
    """Write both plots into ``out_dir``; returns {output name: file name} for ``result.outputs``."""
    out_dir = Path(out_dir)
    save_png(figure_angles(result), out_dir / ANGLES_PNG)
    save_png(figure_rhythm(result), out_dir / RHYTHM_PNG)
    return {"plot_angles": ANGLES_PNG, "plot_rhythm": RHYTHM_PNG}
