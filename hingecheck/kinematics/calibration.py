"""Standing baseline: a quiet, upright stretch of the clip whose posture is the zero of every angle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..types import FrameAngles, Warning_
from .sagittal import FrameMeasurement


@dataclass
class Calibration:
    start_s: float
    end_s: float
    trunk_deg: float
    thigh_deg: float
    shank_deg: float
    pelvis_deg: float
    lumbar_deg: float
    thorax_deg: float
    automatic: bool
    warnings: list[Warning_]

    @property
    def found(self) -> bool:
        return np.isfinite(self.trunk_deg)

    def angles(self, m: FrameMeasurement) -> FrameAngles:
        if not m.detected:
            return FrameAngles(m.index, m.time_s, False)
        thigh = m.thigh_deg - self.thigh_deg
        trunk = m.trunk_deg - self.trunk_deg
        pelvis = m.pelvis_deg - self.pelvis_deg
        lumbar = (m.lumbar_deg - self.lumbar_deg) - pelvis
        return FrameAngles(
            m.index,
            m.time_s,
            True,
            hip_flexion_deg=(pelvis + thigh) if np.isfinite(pelvis) else trunk + thigh,
            lumbar_flexion_deg=lumbar,
            pelvic_tilt_deg=pelvis,
            thoracic_flexion_deg=(m.thorax_deg - self.thorax_deg) - (m.lumbar_deg - self.lumbar_deg),
            trunk_inclination_deg=trunk,
            knee_flexion_deg=thigh + (m.shank_deg - self.shank_deg),
            thigh_inclination_deg=thigh,
            confidence=m.confidence,
        )


def calibrate(
    measurements: Sequence[FrameMeasurement], window_s: tuple[float, float] | None = None, min_s: float = 0.5
) -> Calibration:
    """Median posture over the standing window: the given one, else the first quiet upright stretch."""
    t = np.array([m.time_s for m in measurements])
    trunk = np.array([m.trunk_deg for m in measurements])
    warnings: list[Warning_] = []
    if window_s is not None:
        sel = (t >= window_s[0]) & (t <= window_s[1]) & np.isfinite(trunk)
        automatic = False
    else:
        automatic = True
        sel = _quiet_upright(t, trunk, min_s)
    if not sel.any():
        warnings.append(
            Warning_(
                "no_standing_baseline",
                "No still, upright standing was found to calibrate on: "
                "stand side-on and still for 2 s at the start, or pass --calibration START:END.",
            )
        )
        nan = float("nan")
        return Calibration(nan, nan, nan, nan, nan, nan, nan, nan, automatic, warnings)
    chosen = [m for m, s in zip(measurements, sel, strict=True) if s]

    def med(name: str) -> float:
        vals = np.array([getattr(m, name) for m in chosen], float)
        vals = vals[np.isfinite(vals)]
        return float(np.median(vals)) if vals.size else float("nan")

    return Calibration(
        float(t[sel].min()),
        float(t[sel].max()),
        med("trunk_deg"),
        med("thigh_deg"),
        med("shank_deg"),
        med("pelvis_deg"),
        med("lumbar_deg"),
        med("thorax_deg"),
        automatic,
        warnings,
    )


def _quiet_upright(t: np.ndarray, trunk: np.ndarray, min_s: float) -> np.ndarray:
    finite = np.isfinite(trunk)
    if not finite.any():
        return np.zeros_like(finite)
    upright = finite & (trunk < np.nanpercentile(trunk, 10) + 5.0)
    sel = np.zeros_like(finite)
    start = None
    for i, ok in enumerate(upright):
        if ok and start is None:
            start = i
        if (not ok or i == len(upright) - 1) and start is not None:
            end = i if ok else i - 1
            if t[end] - t[start] >= min_s:
                sel[start : end + 1] = True
                return sel
            start = None
    return upright
