"""Constructed angle sequences for tests and benchmarks: keyframed hinges and realistic measurement noise.

    tl = Timeline(fps=30).stand(1.0)
    tl.move(1.5, hip=80, lumbar=4, knee=15).hold(0.3).move(1.0).stand(0.8)   # one good hinge
    series = tl.series()

Between keyframes every angle follows a monotone cubic (PCHIP, no overshoot), like the devset renderer.
Derived angles follow docs/DESIGN.md §2: thigh = ``thigh_ratio`` × knee, pelvic tilt = hip − thigh, trunk
inclination = pelvic tilt + lumbar + thoracic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator

from hingecheck.core.types import AngleSeries

KEYED = ("hip", "lumbar", "knee", "thoracic", "trunk_extra")


@dataclass
class Timeline:
    fps: float = 30.0
    thigh_ratio: float = 0.3
    times: list[float] = field(default_factory=lambda: [0.0])
    keys: list[dict[str, float]] = field(default_factory=lambda: [dict.fromkeys(KEYED, 0.0)])

    @classmethod
    def from_bottom(cls, fps: float = 30.0, **angles: float) -> Timeline:
        """A timeline that starts bent over (a deadlift from the floor), in the posture ``angles``."""
        return cls(fps=fps, keys=[{k: float(angles.get(k, 0.0)) for k in KEYED}])

    @property
    def t(self) -> float:
        return self.times[-1]

    def move(self, duration_s: float, **angles: float) -> Timeline:
        """Move to ``angles`` (hip, lumbar, knee, thoracic, trunk_extra; unnamed ones go back to 0)."""
        unknown = set(angles) - set(KEYED)
        if unknown:
            raise ValueError(f"unknown angles {unknown}")
        self.times.append(self.t + duration_s)
        self.keys.append({k: float(angles.get(k, 0.0)) for k in KEYED})
        return self

    def hold(self, duration_s: float) -> Timeline:
        self.times.append(self.t + duration_s)
        self.keys.append(dict(self.keys[-1]))
        return self

    def stand(self, duration_s: float) -> Timeline:
        return self.move(duration_s) if any(self.keys[-1].values()) else self.hold(duration_s)

    def rep(self, descent_s: float, hold_s: float, return_s: float, **bottom: float) -> Timeline:
        return self.move(descent_s, **bottom).hold(hold_s).move(return_s)

    def series(self) -> AngleSeries:
        n = int(round(self.t * self.fps)) + 1
        time_s = np.arange(n) / self.fps
        s = AngleSeries.empty(np.arange(n), time_s)
        s.detected[:] = True
        s.confidence[:] = 1.0
        # duplicate key times (zero-length moves) would break the interpolator: keep the last
        t_keys = np.asarray(self.times)
        keep = np.r_[np.diff(t_keys) > 1e-9, True]
        vals = {
            k: PchipInterpolator(t_keys[keep], [key[k] for key, ok in zip(self.keys, keep, strict=True) if ok])(time_s)
            for k in KEYED
        }
        thigh = self.thigh_ratio * vals["knee"]
        s.hip_flexion_deg = vals["hip"]
        s.lumbar_flexion_deg = vals["lumbar"]
        s.knee_flexion_deg = vals["knee"]
        s.thoracic_flexion_deg = vals["thoracic"]
        s.thigh_inclination_deg = thigh
        s.pelvic_tilt_deg = vals["hip"] - thigh
        s.trunk_inclination_deg = s.pelvic_tilt_deg + vals["lumbar"] + vals["thoracic"] + vals["trunk_extra"]
        return s


def copy_series(series: AngleSeries) -> AngleSeries:
    return AngleSeries(**{k: np.array(v, copy=True) for k, v in vars(series).items()})


def add_measurement_noise(
    series: AngleSeries,
    rng: np.random.Generator,
    lumbar_sigma_deg: float = 3.0,
    hip_sigma_deg: float = 2.0,
    bias_at_80_deg: float = 10.0,
    n_gaps: int | None = None,
) -> AngleSeries:
    """What a silhouette measurement adds to true angles (docs/DESIGN.md §3): lumbar noise and an over-read
    growing with the pelvis's forward tilt (taken half from the pelvis), hip noise, milder trunk/knee noise, short
    NaN gaps.

    The over-read follows the pelvic tilt, not the hip angle: it comes from the outline where the sacrum turns
    into the low back, which bends with the pelvis. Measured on samples/hinge_lockout_squat: hinges (pelvis
    67–70°, hip 75–78°) read the lumbar 9–11° high, the squat (pelvis 29°, hip 72°: the thigh carries the rest)
    4.5° high. ``bias_at_80_deg`` is the over-read at 80° of pelvic tilt.
    """
    out = copy_series(series)
    n = len(out)
    hip = np.asarray(series.hip_flexion_deg)
    pelvis = np.asarray(series.pelvic_tilt_deg)
    bias = bias_at_80_deg * np.clip(pelvis, 0, None) / 80.0 * rng.uniform(0.6, 1.2)
    out.lumbar_flexion_deg = series.lumbar_flexion_deg + bias + rng.normal(0, lumbar_sigma_deg, n)
    out.pelvic_tilt_deg = series.pelvic_tilt_deg - 0.5 * bias + rng.normal(0, hip_sigma_deg, n)
    out.hip_flexion_deg = hip + rng.normal(0, hip_sigma_deg, n)
    out.trunk_inclination_deg = series.trunk_inclination_deg + rng.normal(0, 0.75 * hip_sigma_deg, n)
    out.knee_flexion_deg = series.knee_flexion_deg + rng.normal(0, 0.75 * hip_sigma_deg, n)
    gaps = int(rng.integers(1, 4)) if n_gaps is None else n_gaps
    for _ in range(gaps):  # occlusion or a frame the measurer rejected
        start = int(rng.integers(0, max(1, n - 10)))
        length = int(rng.integers(2, 8))
        cols = ("lumbar_flexion_deg", "pelvic_tilt_deg")
        if rng.random() < 0.5:
            cols = (
                "hip_flexion_deg",
                "lumbar_flexion_deg",
                "pelvic_tilt_deg",
                "trunk_inclination_deg",
                "knee_flexion_deg",
            )
        for col in cols:
            getattr(out, col)[start : start + length] = np.nan
    return out


def smooth(series: AngleSeries, window: int = 9) -> AngleSeries:
    """Savitzky–Golay (window, 2) over each run of finite values: a stand-in for the offline smoother."""
    from scipy.signal import savgol_filter

    out = copy_series(series)
    for col in (
        "hip_flexion_deg",
        "lumbar_flexion_deg",
        "pelvic_tilt_deg",
        "trunk_inclination_deg",
        "knee_flexion_deg",
    ):
        a = getattr(out, col)
        ok = np.isfinite(a)
        edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(int), 0]))
        for s, e in zip(edges[::2], edges[1::2], strict=True):
            if e - s >= window:
                a[s:e] = savgol_filter(a[s:e], window, 2)
    return out
