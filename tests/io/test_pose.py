from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

from hingecheck.core.errors import ModelError
from hingecheck.core.types import (
    LEFT_ANKLE,
    LEFT_HIP,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    VideoFrame,
)
from hingecheck.io.pose import BUNDLED_MODELS_DIR, LifterTracker, PoseEstimator, resolve_model
from hingecheck.io.video import VideoReader
from tests.media import gradient_frame


def test_bundled_model_is_verified():
    info = resolve_model()
    assert info.verified
    listed = (BUNDLED_MODELS_DIR / "SHA256SUMS").read_text().split()[0]
    assert info.sha256 == listed


def test_corrupt_copy_of_bundled_model_is_refused(tmp_path):
    copy = tmp_path / "pose_landmarker_full.task"
    shutil.copy(BUNDLED_MODELS_DIR / "pose_landmarker_full.task", copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the landmark model
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match"):
        resolve_model(copy)


def test_missing_and_non_bundle_models_give_one_line(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        resolve_model(tmp_path / "nope.task")
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(ModelError, match="not a MediaPipe .task"):
        resolve_model(junk)
    wrong = tmp_path / "wrong.task"
    with zipfile.ZipFile(wrong, "w") as z:
        z.writestr("hand_landmarks_detector.tflite", b"x")
    with pytest.raises(ModelError, match="not a pose landmarker") as err:
        resolve_model(wrong)
    assert "\n" not in str(err.value)


def test_other_task_file_loads_by_structure(tmp_path):
    other = tmp_path / "renamed_full.task"  # not listed in any SHA256SUMS: structure-checked only
    shutil.copy(BUNDLED_MODELS_DIR / "pose_landmarker_full.task", other)
    info = resolve_model(other)
    assert not info.verified
    with PoseEstimator(info, num_poses=1) as estimator:
        frame = VideoFrame(0, 0.0, gradient_frame(0, 128, 96))
        assert not estimator.process(frame).detected


def test_lifter_tracker_prefers_the_big_person_and_keeps_them():
    def person(cx: float, scale: float) -> np.ndarray:
        pts = np.zeros((33, 2))
        pts[:, 0] = cx + np.linspace(-0.1, 0.1, 33) * scale
        pts[:, 1] = 200 + np.linspace(-1, 1, 33) * scale
        return pts

    tracker = LifterTracker()
    lifter, passer = person(300, 200), person(600, 120)
    assert tracker.choose([passer, lifter]) == 1
    # the passer-by walks close to the camera and is briefly a bit larger, far from the lifter
    assert tracker.choose([person(650, 230), person(302, 200)]) == 1


def test_pose_on_sample_finds_a_plausible_side_view_person(sample_good_stoop):
    with VideoReader(sample_good_stoop) as reader, PoseEstimator(num_poses=1) as estimator:
        poses = [estimator.process(frame) for frame, _ in zip(reader, range(30), strict=False)]
    assert all(p.detected for p in poses)
    p = poses[0]
    assert p.landmarks_px.shape == (33, 2) and p.world.shape == (33, 3)
    assert p.mask.shape == (p.height, p.width) and p.mask.min() >= 0.0 and p.mask.max() <= 1.0
    px = p.landmarks_px
    # standing: head above shoulders above hips above ankles (image y grows downwards)
    assert px[NOSE, 1] < px[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean() < px[[LEFT_HIP, RIGHT_HIP], 1].mean()
    assert px[[LEFT_HIP, RIGHT_HIP], 1].mean() < px[[LEFT_ANKLE, RIGHT_ANKLE], 1].mean()
    # the mask covers the hips and not the image corners
    hx, hy = px[[LEFT_HIP, RIGHT_HIP]].mean(axis=0).astype(int)
    assert p.mask[hy, hx] > 0.5 and p.mask[2, 2] < 0.5
