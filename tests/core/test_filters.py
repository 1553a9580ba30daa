"""Filters: bounded gap filling, zero-phase offline smoothing (no lag), one-euro live smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from hingecheck.core.filters import (
    LiveAngleSmoother,
    OneEuroFilter,
    fill_short_gaps,
    smooth_series,
    zero_phase_smooth,
)
from hingecheck.core.types import AngleSeries, FrameAngles

FPS = 30.0


def _t(n: int) -> np.ndarray:
    return np.arange(n) / FPS


def test_short_gaps_are_bridged_long_ones_and_edges_are_not():
    t = _t(60)
    x = np.linspace(0.0, 59.0, 60)
    x[10:15] = np.nan  # 5 frames = 0.17 s: filled
    x[30:45] = np.nan  # 15 frames = 0.5 s: left alone
    x[:2] = np.nan  # leading: nothing to interpolate from
    out = fill_short_gaps(x, t, max_gap_s=0.25)
    np.testing.assert_allclose(out[10:15], np.arange(10, 15), atol=1e-9)
    assert np.isnan(out[30:45]).all()
    assert np.isnan(out[:2]).all()


def test_gap_bound_is_in_seconds():
    t = _t(40)
    x = np.ones(40)
    x[10:18] = np.nan  # 8 frames = 0.27 s
    assert np.isnan(fill_short_gaps(x, t, max_gap_s=0.25)[10:18]).all()
    assert np.isfinite(fill_short_gaps(x, t, max_gap_s=0.3)[10:18]).all()


def test_zero_phase_smoothing_has_no_lag_and_keeps_peaks():
    t = _t(150)
    clean = 40.0 * np.sin(2 * np.pi * 0.5 * t) ** 2  # a 1 s rep-like bump, repeated
    rng = np.random.default_rng(0)
    noisy = clean + rng.normal(0, 1.5, t.size)
    out = zero_phase_smooth(noisy, FPS)
    inner = slice(10, -10)
    assert np.std(out[inner] - clean[inner]) < 0.6 * np.std(noisy[inner] - clean[inner])
    lag = np.argmax(np.correlate(out - out.mean(), clean - clean.mean(), "full")) - (t.size - 1)
    assert lag == 0
    assert out.max() == pytest.approx(clean.max(), abs=2.5)


def test_zero_phase_keeps_nans_and_short_runs():
    x = np.r_[np.ones(20), np.full(5, np.nan), [1.0, 2.0, 3.0], np.full(5, np.nan), np.ones(20)]
    out = zero_phase_smooth(x, FPS)
    assert np.array_equal(np.isnan(out), np.isnan(x))
    np.testing.assert_allclose(out[25:28], [1.0, 2.0, 3.0])


def test_smooth_series_fills_short_and_keeps_long_gaps_per_column():
    n = 90
    series = AngleSeries.empty(np.arange(n), _t(n))
    series.detected[:] = True
    series.hip_flexion_deg = np.linspace(0, 60, n)
    lumbar = np.full(n, 5.0)
    lumbar[20:24] = np.nan  # short
    lumbar[50:70] = np.nan  # long
    series.lumbar_flexion_deg = lumbar
    series.confidence = np.where(np.isfinite(lumbar), 0.8, 0.0)
    out = smooth_series(series)
    assert np.isfinite(out.lumbar_flexion_deg[20:24]).all()
    np.testing.assert_allclose(out.lumbar_flexion_deg[20:24], 5.0, atol=1e-6)
    assert np.isnan(out.lumbar_flexion_deg[50:70]).all()
    assert 0 < out.confidence[21] < 0.8  # a bridged value is flagged as less certain
    np.testing.assert_allclose(out.hip_flexion_deg, series.hip_flexion_deg, atol=1e-6)  # a ramp passes unchanged
    assert series.lumbar_flexion_deg is lumbar  # the input is not modified


def test_one_euro_smooths_noise_at_rest_and_follows_motion():
    rng = np.random.default_rng(1)
    t = _t(300)
    flt = OneEuroFilter()
    rest = np.array([flt(10.0 + rng.normal(0, 1.0), ti) for ti in t[:150]])
    assert np.std(rest[30:]) < 0.5
    ramp = 10.0 + 60.0 * (t[150:] - t[150])  # 60°/s descent
    follow = np.array([flt(v, ti) for v, ti in zip(ramp, t[150:], strict=True)])
    assert abs(follow[-1] - ramp[-1]) < 3.0  # lag below ~50 ms at this speed


def test_one_euro_nan_and_reset_after_gap():
    flt = OneEuroFilter(reset_after_s=0.5)
    assert flt(5.0, 0.0) == 5.0
    assert np.isnan(flt(float("nan"), 0.033))
    assert flt(50.0, 2.0) == 50.0  # long gap: restarts instead of gliding from 5


def test_live_smoother_filters_frame_angles_stream():
    smoother = LiveAngleSmoother()
    out = None
    for i in range(30):
        frame = FrameAngles(i, i / FPS, True, hip_flexion_deg=30.0 + (1.0 if i % 2 else -1.0), confidence=0.7)
        out = smoother(frame)
    assert isinstance(out, FrameAngles)
    assert out.index == 29 and out.confidence == 0.7 and out.detected
    assert abs(out.hip_flexion_deg - 30.0) < 0.6
    assert np.isnan(out.lumbar_flexion_deg)
