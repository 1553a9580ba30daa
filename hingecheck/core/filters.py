"""Smoothing of angle series: zero-phase low-pass offline, one-euro live, and bounded gap filling.

Offline the whole clip is known, so a zero-phase Savitzky–Golay filter removes pixel jitter without the lag
that would shift rep timing (the return-onset fault compares hip and lumbar timing to ~0.1 s). Live, only the
past is known: the one-euro filter (Casiez et al., CHI 2012) smooths strongly when still and follows fast
motion with little lag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from hingecheck.core.settings import LiveConfig
from hingecheck.core.types import ANGLE_COLUMNS, UNCERTAINTY_COLUMNS, AngleSeries, FrameAngles

# Gaps up to this long are bridged by linear interpolation (a blink of the mask or a missed detection);
# longer dropouts stay NaN, because a rep can start or end inside them.
MAX_GAP_S = 0.25
# Savitzky–Golay window and order: 0.3 s keeps a 0.8 s descent's shape (DESIGN §3 used 9 frames, order 2 at
# 30 fps), order 2 keeps peaks.
SMOOTH_WINDOW_S = 0.3
SMOOTH_POLYORDER = 2


def _fps(time_s: np.ndarray) -> float:
    dt = np.diff(time_s)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    return float(1.0 / np.median(dt)) if dt.size else 30.0


def fill_short_gaps(values: np.ndarray, time_s: np.ndarray, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Linear interpolation across NaN runs no longer than max_gap_s with finite values on both sides.

    Leading and trailing NaNs, and longer gaps, are left as they are.
    """
    out = np.array(values, float)
    bad = ~np.isfinite(out)
    if not bad.any() or bad.all():
        return out
    padded = np.concatenate([[False], bad, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    for a, b in zip(edges[::2], edges[1::2], strict=True):  # NaN run a..b-1
        if a == 0 or b == len(out):
            continue
        if time_s[b] - time_s[a - 1] > max_gap_s + 1e-9 + (time_s[b] - time_s[b - 1]):
            continue  # the gap spans more than max_gap_s of missing time
        out[a:b] = np.interp(time_s[a:b], [time_s[a - 1], time_s[b]], [out[a - 1], out[b]])
    return out


def zero_phase_smooth(
    values: np.ndarray, fps: float, window_s: float = SMOOTH_WINDOW_S, polyorder: int = SMOOTH_POLYORDER
) -> np.ndarray:
    """Savitzky–Golay over each finite run separately (NaNs stay NaN; runs too short are left raw)."""
    # imported here: scipy.signal pulls in scipy.stats (~1 s), which live mode and a worker's failed runs never need
    from scipy.signal import savgol_filter

    out = np.array(values, float)
    window = max(int(round(window_s * fps)) | 1, polyorder + 2 | 1)
    finite = np.isfinite(out)
    padded = np.concatenate([[False], finite, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        n = b - a
        w = min(window, n if n % 2 else n - 1)
        if w > polyorder + 1:
            out[a:b] = savgol_filter(out[a:b], w, polyorder, mode="interp")
    return out


def smooth_series(
    series: AngleSeries,
    max_gap_s: float = MAX_GAP_S,
    window_s: float = SMOOTH_WINDOW_S,
    polyorder: int = SMOOTH_POLYORDER,
) -> AngleSeries:
    """Offline: fill short gaps, then zero-phase low-pass every angle column. Returns a new series."""
    if len(series) == 0:
        return series
    t = np.asarray(series.time_s, float)
    fps = _fps(t)
    smoothed = {
        name: zero_phase_smooth(fill_short_gaps(getattr(series, name), t, max_gap_s), fps, window_s, polyorder)
        for name in ANGLE_COLUMNS + UNCERTAINTY_COLUMNS
    }
    # Confidence of a bridged frame is that of its weaker neighbour: the value is an interpolation.
    conf = np.asarray(series.confidence, float).copy()
    lumbar_raw = np.asarray(series.lumbar_flexion_deg, float)
    bridged = ~np.isfinite(lumbar_raw) & np.isfinite(smoothed["lumbar_flexion_deg"])
    if bridged.any():
        filled_conf = fill_short_gaps(np.where(np.isfinite(lumbar_raw), conf, np.nan), t, max_gap_s)
        conf[bridged] = np.nan_to_num(filled_conf[bridged]) * 0.5
    return replace(series, confidence=conf, **smoothed)


class OneEuroFilter:
    """One-euro filter for one scalar (Casiez, Roussel, Vogel 2012).

    ``min_cutoff_hz`` sets smoothing when still (lower = smoother), ``beta`` how fast the cutoff rises with
    speed (higher = less lag in fast moves). NaN input gives NaN output; a gap longer than ``reset_after_s``
    restarts the filter so it does not glide from a stale value.
    """

    def __init__(
        self, min_cutoff_hz: float = 1.0, beta: float = 0.02, d_cutoff_hz: float = 1.0, reset_after_s: float = 0.5
    ) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.reset_after_s = reset_after_s
        self._x: float | None = None
        self._dx = 0.0
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff_hz: float, dt: float) -> float:
        tau = 1.0 / (2.0 * math.pi * cutoff_hz)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        """Forget the filter's state: the next sample passes unchanged."""
        self._x, self._dx, self._t = None, 0.0, None

    def __call__(self, x: float, t: float) -> float:
        if not math.isfinite(x):
            return float("nan")
        if self._x is None or self._t is None or t - self._t > self.reset_after_s or t <= self._t:
            self._x, self._dx, self._t = float(x), 0.0, t
            return float(x)
        dt = t - self._t
        dx = (x - self._x) / dt
        self._dx += self._alpha(self.d_cutoff_hz, dt) * (dx - self._dx)
        cutoff = self.min_cutoff_hz + self.beta * abs(self._dx)
        self._x += self._alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x


@dataclass(frozen=True)
class OneEuroParams:
    """One-euro filter parameters; their defaults are ``[live]``'s (``LiveConfig``), nowhere else."""

    min_cutoff_hz: float
    beta: float
    d_cutoff_hz: float

    @classmethod
    def from_live(cls, cfg: LiveConfig) -> OneEuroParams:
        """The ``[live]`` section's one-euro settings."""
        return cls(cfg.one_euro_min_cutoff_hz, cfg.one_euro_beta, cfg.one_euro_d_cutoff_hz)


class LiveAngleSmoother:
    """One-euro filter on every angle column of a FrameAngles stream (live mode)."""

    def __init__(self, params: OneEuroParams | None = None) -> None:
        p = params or OneEuroParams.from_live(LiveConfig())
        self._filters = {
            name: OneEuroFilter(p.min_cutoff_hz, p.beta, p.d_cutoff_hz) for name in ANGLE_COLUMNS + UNCERTAINTY_COLUMNS
        }

    def reset(self) -> None:
        """Reset every angle's filter."""
        for f in self._filters.values():
            f.reset()

    def __call__(self, frame: FrameAngles) -> FrameAngles:
        return self.filter(frame)

    def filter(self, frame: FrameAngles) -> FrameAngles:
        """The frame with each angle smoothed (a missing angle stays NaN)."""
        values = {f.name: getattr(frame, f.name) for f in fields(FrameAngles)}
        for name, flt in self._filters.items():
            values[name] = flt(float(values[name]), float(frame.time_s))
        return FrameAngles(**values)
