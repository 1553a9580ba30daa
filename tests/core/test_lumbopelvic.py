"""The learned pelvis/lumbar/hip reading: tree walk, features, uncertainty bound, its warning, and on real samples."""

from __future__ import annotations

import numpy as np
import pytest

from hingecheck.core.kinematics.crop import cnn_images
from hingecheck.core.kinematics.lumbopelvic import (
    CHANGE_TARGETS,
    N_STATIONS,
    TARGETS,
    FrameFeatures,
    LearnedReader,
    feature_names,
    present_feature_names,
    too_uncertain,
    uncertainty_warning,
    windowed_correction,
    withhold_uncertain,
)
from hingecheck.core.kinematics.sagittal import PELVIS_STATIONS, FrameMeasurement, landmarks_in_trunk_frame
from hingecheck.core.settings import ReadingConfig
from hingecheck.core.types import AngleSeries, FrameAngles
from hingecheck.io.lumbopelvic_model import load_model


def test_landmarks_in_trunk_frame_put_the_shoulders_at_one_trunk_length_up():
    px = np.zeros((33, 2))
    px[[23, 24]] = [100.0, 200.0]  # hips
    px[[11, 12]] = [100.0, 100.0]  # shoulders straight above (image y grows down)
    px[0] = [150.0, 100.0]  # nose in front, facing right
    lm = landmarks_in_trunk_frame(px, np.array(1.0))
    assert lm[11].tolist() == pytest.approx([1.0, 0.0])
    assert lm[0].tolist() == pytest.approx([1.0, 0.5])  # forward is +
    assert landmarks_in_trunk_frame(px, np.array(-1.0))[0, 1] == pytest.approx(-0.5)  # facing left: behind


def test_feature_matrix_has_the_named_columns_and_relative_parts_vanish_at_the_reference():
    n = 4
    rng = np.random.default_rng(0)
    ff = FrameFeatures(
        rng.normal(size=(n, 8)), rng.normal(size=(n, 8)), rng.normal(size=(n, 6)),
        np.tile(rng.normal(size=N_STATIONS), (n, 1)), rng.normal(size=(n, PELVIS_STATIONS, 2)),
        np.tile(rng.normal(size=(33, 2)), (n, 1, 1)), rng.uniform(size=(n, 33)),
    )  # fmt: skip
    ff.absolute[:] = ff.absolute[0]
    x = ff.matrix(ff.baseline(np.array([True, False, False, False])))
    names = feature_names()
    assert x.shape == (n, len(names))
    rel_cols = [i for i, name in enumerate(names) if name.startswith(("abs_rel_", "contour_rel_", "lm_rel_"))]
    assert len(rel_cols) == 6 + N_STATIONS + 66
    assert np.abs(x[:, rel_cols]).max() < 1e-12  # every frame equals the reference here


def series_of(lumbar: list[float], unc: list[float]) -> AngleSeries:
    n = len(lumbar)
    s = AngleSeries.empty(np.arange(n), np.arange(n) / 30)
    s.lumbar_flexion_deg = np.array(lumbar, float)
    s.pelvic_tilt_deg = np.full(n, 10.0)
    s.lumbar_uncertainty_deg = np.array(unc, float)
    return s


def test_uncertainty_bound_grows_with_the_reading():
    cfg = ReadingConfig()
    bound0 = cfg.max_lumbar_uncertainty_deg
    at35 = bound0 + cfg.lumbar_uncertainty_share * 35.0
    s = series_of([0.0, 0.0, 35.0, 35.0], [bound0 - 0.1, bound0 + 0.1, at35 - 0.1, at35 + 0.1])
    out = withhold_uncertain(s, bound0, cfg.lumbar_uncertainty_share)
    assert np.isfinite(out.lumbar_flexion_deg).tolist() == [True, False, True, False]
    assert np.isfinite(out.pelvic_tilt_deg).tolist() == [True, False, True, False]
    assert np.isfinite(out.lumbar_uncertainty_deg).all()  # the reason stays visible
    # the shipped defaults: 8° + 0.6·|lumbar| (a change fails here)
    assert too_uncertain(
        np.array([0.0, 20.0]), np.array([8.1, 19.9]), bound0, cfg.lumbar_uncertainty_share
    ).tolist() == [
        True,
        False,
    ]


def test_uncertainty_warning_says_why_and_only_above_its_share():
    n = 30
    s = series_of([np.nan] * 10 + [5.0] * 20, [20.0] * n)
    ms = [FrameMeasurement(i, i / 30, True, "right") for i in range(n)]
    for m in ms:
        m.quality.update(arm_share=0.5, shoulder_width_l=0.1, fit_rms_l=0.01, landmark_visibility=0.9)
    w = uncertainty_warning(s, ms, [(0, 29)], 0.2)
    assert w is not None and w.code == "lumbar_uncertain"
    assert "33%" in w.message and "an arm covers" in w.message and "side-on" not in w.message.split("Film")[0]
    assert uncertainty_warning(s, ms, [(0, 29)], 0.4) is None
    assert uncertainty_warning(s, ms, [(10, 29)], 0.2) is None  # nothing withheld inside the rep


def test_shipped_model_loads_with_provenance_and_reads_fast_enough():
    model = load_model()
    prov = model.provenance
    assert prov["bodies"] >= 100 and prov["corpus_shards"] and prov["hingecheck_commit"]
    assert set(model.interval_scale) == {"pelvic_tilt_deg", "lumbar_flexion_deg", "hip_flexion_deg"}
    # it reads the changes of lumbar and hip over its window (the low-back rule's timing) from lagged features
    assert set(model.changes) == set(CHANGE_TARGETS) and model.change_window_s == pytest.approx(0.4)
    assert model.lags_s and prov["lags_s"] == list(model.lags_s)
    x = np.zeros((3, len(model.names())))
    reading = model.read(x)
    assert set(reading.estimate) == set(TARGETS) | set(CHANGE_TARGETS)
    assert all(np.isfinite(v).all() for v in reading.estimate.values())
    assert set(reading.uncertainty) == set(TARGETS) and all((v > 0).all() for v in reading.uncertainty.values())


def test_learned_reader_needs_a_reference_and_leaves_frames_without_outline_alone():
    model = load_model()
    ms = [FrameMeasurement(i, i / 30, True, "right", trunk_deg=0.0) for i in range(5)]
    assert LearnedReader.for_reference(model, ms, np.zeros(0, int), ReadingConfig()) is None
    reader = LearnedReader.for_reference(model, ms, np.arange(3), ReadingConfig())
    assert reader is not None
    rel = [FrameAngles(i, i / 30, True, hip_flexion_deg=40.0, trunk_inclination_deg=30.0) for i in range(5)]
    out = reader.read(ms, rel)
    assert [a.hip_flexion_deg for a in out] == [40.0] * 5  # no outline: the landmark hip stands, no uncertainty
    assert all(np.isnan(a.lumbar_uncertainty_deg) for a in out)


def test_windowed_correction_keeps_the_outline_timing_and_the_learned_level():
    t = np.arange(60) / 30.0
    hand = np.where(t < 1.0, 0.0, 10.0)  # a step the outline fit follows at once
    learned = hand + 5.0  # the trees: the same plus a level
    learned[30:33] = 5.0  # ... but late by three frames
    centred = windowed_correction(t, learned, hand, 1.0, causal=False)
    assert centred[29] == pytest.approx(5.0 - 10 * 3 / 31, abs=0.5) and centred[31] > 13.5  # the step stays sharp
    causal = windowed_correction(t, learned, hand, 0.5, causal=True)
    assert causal[:30] == pytest.approx(np.full(30, 5.0))  # no look-ahead
    gap = windowed_correction(t, learned, np.full(60, np.nan), 1.0, causal=False)
    assert gap == pytest.approx(learned)  # no hand-made value: the learned one


def test_live_frame_reading_equals_the_clip_reading(sample_good_stoop):
    """Live reads frame by frame what analyze reads for the whole clip (same model, same standing features)."""
    from itertools import islice

    from hingecheck.core.kinematics import SagittalMeasurer, calibrate
    from hingecheck.io.pose import PoseEstimator
    from hingecheck.io.video import VideoReader

    measurer = SagittalMeasurer()
    with VideoReader(sample_good_stoop) as reader, PoseEstimator(num_poses=1) as estimator:
        ms = [measurer.measure(estimator.process(f)) for f in islice(reader, 90)]
    cal = calibrate(ms)
    reader = LearnedReader.for_reference(load_model(), ms, cal.reference_positions, ReadingConfig())
    assert reader is not None
    rel = [cal.angles(m) for m in ms]
    clip = reader.read(ms, rel)
    live = [reader.read_frame(m, r) for m, r in zip(ms, rel, strict=True)]
    for column in ("lumbar_flexion_deg", "hip_flexion_deg", "lumbar_change_deg", "hip_change_deg"):
        a = np.array([getattr(x, column) for x in clip])
        b = np.array([getattr(x, column) for x in live])
        assert np.isfinite(a).mean() > 0.8, column  # the changes start once a window has passed
        assert np.allclose(a, b, equal_nan=True), column
    assert np.isfinite([x.lumbar_uncertainty_deg for x in live]).mean() > 0.9


def _features_with_crops(n: int) -> FrameFeatures:
    rng = np.random.default_rng(1)
    return FrameFeatures(
        relative=rng.normal(0, 10, (n, 8)),
        quality=np.ones((n, 8)),
        absolute=rng.normal(0, 10, (n, 6)),
        contour_l=rng.normal(0.2, 0.01, (n, N_STATIONS)),
        pelvis_window_l=np.zeros((n, PELVIS_STATIONS, 2)),
        landmarks_l=rng.normal(0, 1, (n, 33, 2)),
        visibility=np.ones((n, 33)),
        crop=rng.integers(0, 256, (n, 64, 64)).astype(np.uint8),
        crop_xform=np.tile([100.0, 100.0, 2.0, 5.0, 1.0], (n, 1)),
    )


def test_the_shipped_cnn_reads_the_crop_and_feeds_the_trees():
    model = load_model()
    assert model.cnn is not None
    cnn = model.provenance["cnn"]
    assert isinstance(cnn, dict) and cnn["epochs"] > 0 and "seed" in cnn and "architecture" in cnn
    ff = _features_with_crops(4)
    every = np.ones(4, bool)
    reference = ff.crop_reference(every)
    x = model.inputs(ff, ff.baseline(every), reference, np.array([0, 2]))
    assert x.shape == (2, len(present_feature_names(cnn=True)))
    crops, scalars = ff.cnn_inputs(reference, np.array([0, 2]))
    assert np.array_equal(crops, ff.crop[[0, 2]])  # type: ignore[index]
    assert np.array_equal(x[:, -3:], model.cnn(cnn_images(crops, reference), scalars))
    assert np.array_equal(x[:, :-3], ff.matrix(ff.baseline(every))[[0, 2]])
