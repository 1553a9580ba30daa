"""The learned reading's view of the recent past (hingecheck/core/kinematics/lagged.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hingecheck.core.kinematics.lagged import (
    FeatureHistory,
    earlier_rows,
    lagged_columns,
    lagged_differences,
    lagged_names,
)
from hingecheck.core.kinematics.lumbopelvic import feature_names, present_feature_names


def test_the_earlier_row_is_the_nearest_one_that_long_before_or_none():
    t = np.arange(10) / 15.0  # the corpus' 15 fps
    assert earlier_rows(t, 4 / 15).tolist() == [-1, -1, -1, -1, 0, 1, 2, 3, 4, 5]
    # at 30 fps the same lag is 8 frames back
    t30 = np.arange(12) / 30.0
    assert earlier_rows(t30, 4 / 15)[8:].tolist() == [0, 1, 2, 3]
    # a gap (frames without an outline are not in the rows): no frame within a quarter of the lag, no difference
    gappy = np.array([0.0, 0.0667, 0.5, 0.5667, 0.6333, 0.7, 0.7667])
    assert earlier_rows(gappy, 0.267).tolist() == [-1, -1, -1, -1, -1, -1, 2]
    # only earlier frames count, even if a later one is nearer
    assert earlier_rows(np.array([0.0, 0.1]), 0.0)[1] == -1


def test_lagged_differences_are_the_change_of_the_chosen_columns():
    t = np.arange(8) / 15.0
    x = np.stack([np.arange(8.0), 10 * np.arange(8.0), np.ones(8)], 1)
    d = lagged_differences(x, t, (2 / 15, 4 / 15), np.array([0, 1]))
    assert d.shape == (8, 4)
    assert np.isnan(d[:2, :2]).all() and np.isnan(d[:4, 2:]).all()
    assert d[5].tolist() == [2.0, 20.0, 4.0, 40.0]


def test_the_changed_features_are_the_posture_ones_named_by_lag():
    present = present_feature_names(cnn=True)
    names = feature_names(cnn=True, lags_s=(0.133, 0.4))
    chosen = lagged_columns(present)
    assert names[: len(present)] == present
    assert names[len(present) :] == lagged_names(present, (0.133, 0.4))
    assert len(names) == len(present) + 2 * len(chosen)
    picked = {present[i] for i in chosen}
    assert "cnn_lumbar_flexion_deg" in picked and "contour_rel_0" in picked and "rel_hip_flexion_deg" in picked
    # the standing-independent shape and the landmarks' visibility are not posture changes
    assert "contour_0" not in picked and "vis_0" not in picked and "q_fit_rms_l" not in picked
    assert names[len(present)] == "d133_" + present[chosen[0]]


@pytest.mark.parametrize("drop_every", [0, 3])
def test_live_history_gives_the_clip_differences_frame_by_frame(drop_every):
    """Live reads one frame at a time (dropping some at the camera's pace); each frame's differences equal the
    whole clip's."""
    rng = np.random.default_rng(0)
    t = np.arange(60) / 30.0
    keep = np.ones(len(t), bool) if not drop_every else (np.arange(len(t)) % drop_every != 1)
    t, x = t[keep], rng.normal(size=(keep.sum(), 5))
    lags = (0.133, 0.267, 0.4)
    cols = np.array([0, 2, 4])
    offline = lagged_differences(x, t, lags, cols)
    history = FeatureHistory(max(lags) * 1.2)
    for i in range(len(t)):
        times, rows = history.with_row(float(t[i]), x[i])
        live = lagged_differences(rows, times, lags, cols)[-1]
        np.testing.assert_array_equal(live, offline[i])
    assert len(history._rows) <= 0.4 * 1.2 * 30 + 2  # it keeps only what the longest lag needs
