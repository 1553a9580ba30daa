"""The trunk's mask crop and the CNN that reads it (hingecheck/core/kinematics/crop.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hingecheck.core.kinematics.crop import (
    CROP_CELLS,
    N_CNN_SCALARS,
    CropNet,
    CropReference,
    CropTransform,
    cnn_images,
    cnn_scalars,
    crop_reference,
    crop_transform,
    mask_crop,
)

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "cropnet_reference.npz"


def _half_plane_mask(h: int, w: int, edge_x: float) -> np.ndarray:
    """A person to the left of ``edge_x`` (mask 1), background to the right."""
    x = np.arange(w, dtype=np.float32)[None, :].repeat(h, 0)
    return (x < edge_x).astype(np.float32)


@pytest.mark.parametrize("facing", [1.0, -1.0])
def test_crop_puts_the_trunk_axis_up_and_the_back_on_the_left(facing):
    # an upright trunk, hip at (200, 300), shoulders 100 px above; the body fills the side behind the subject's
    # back (left of the axis when facing right): the crop shows mass in its left half only
    h, w = 480, 400
    hip, shoulder = np.array([200.0, 300.0]), np.array([200.0, 200.0])
    mask = _half_plane_mask(h, w, 200.0) if facing > 0 else 1.0 - _half_plane_mask(h, w, 200.0)
    xf = crop_transform(hip, shoulder, facing)
    assert xf is not None
    assert xf.px_per_cell == pytest.approx(2.0 * 100.0 / CROP_CELLS)
    assert (xf.centre_x_px, xf.centre_y_px) == (200.0, 250.0)
    assert xf.trunk_angle_deg == pytest.approx(0.0)
    crop = mask_crop(mask, xf)
    assert crop.shape == (CROP_CELLS, CROP_CELLS) and crop.dtype == np.uint8
    half = CROP_CELLS // 2
    assert crop[:, : half - 1].min() == 255 and crop[:, half + 1 :].max() == 0


def test_crop_follows_a_bent_trunk_and_scale():
    # the same body bent 90° forward (facing right: shoulders to the image right of the hip) gives the same crop
    h, w = 600, 800
    up = _half_plane_mask(h, w, 300.0)
    bent = np.ascontiguousarray(np.rot90(up, k=-1))  # rotate the image a quarter turn clockwise
    hip_up, sho_up = np.array([300.0, 400.0]), np.array([300.0, 280.0])
    # a point (x, y) goes to (h-1-y, x) under the clockwise quarter turn
    hip_bent, sho_bent = np.array([h - 1 - 400.0, 300.0]), np.array([h - 1 - 280.0, 300.0])
    a = mask_crop(up, crop_transform(hip_up, sho_up, 1.0))  # type: ignore[arg-type]
    xf = crop_transform(hip_bent, sho_bent, 1.0)
    assert xf is not None and xf.trunk_angle_deg == pytest.approx(90.0)
    b = mask_crop(bent, xf)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_no_crop_for_a_tiny_or_missing_trunk():
    assert crop_transform(np.array([10.0, 10.0]), np.array([10.0, 14.0]), 1.0) is None
    assert crop_transform(np.array([np.nan, 10.0]), np.array([10.0, 40.0]), 1.0) is None


def test_crop_outside_the_image_is_empty():
    xf = CropTransform(-500.0, -500.0, 1.0, 0.0, 1.0)
    assert mask_crop(np.ones((100, 100), np.float32), xf).max() == 0


def test_crop_agrees_with_opencv():
    # the corpus table was cut by cv2.warpAffine: the numpy warp must sample the same places
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:360, 0:640]
    mask = (1 / (1 + np.exp(-(120 - np.hypot((xx - 300) * 0.6, yy - 180)) / 2))).astype(np.float32)
    for _ in range(10):
        hip = rng.uniform([200, 150], [400, 300])
        shoulder = hip + rng.normal(0, 1, 2) * rng.uniform(30, 200)
        xf = crop_transform(hip, shoulder, float(rng.choice([-1.0, 1.0])))
        assert xf is not None
        from hingecheck.core.kinematics.crop import crop_matrix

        ref = cv2.warpAffine(
            mask,
            crop_matrix(xf),
            (CROP_CELLS, CROP_CELLS),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0.0,
        )
        ref_u8 = np.clip(np.round(ref * 255), 0, 255).astype(int)
        diff = np.abs(ref_u8 - mask_crop(mask, xf).astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_reference_is_the_median_of_the_frames_with_a_crop():
    crops = np.stack([np.full((CROP_CELLS, CROP_CELLS), v, np.uint8) for v in (10, 20, 200, 0)])
    xforms = np.array([[0, 0, 2.0, 10.0, 1], [0, 0, 3.0, 20.0, 1], [0, 0, 4.0, 30.0, 1], [np.nan] * 5])
    ref = crop_reference(crops, xforms)
    assert ref.crop.max() == ref.crop.min() == 20 and ref.trunk_angle_deg == 20.0 and ref.px_per_cell == 3.0
    empty = crop_reference(crops[3:], xforms[3:])
    assert empty.crop.max() == 0 and np.isnan(empty.trunk_angle_deg)


def test_cnn_scalars_are_relative_to_standing_and_signed_by_facing():
    reference = CropReference(np.zeros((CROP_CELLS, CROP_CELLS), np.uint8), 170.0, 2.0)
    relative = np.array([[30.0, 15.0, 0, 0, 0, 0, 0, 1.0], [np.nan] * 8])
    xforms = np.array([[0, 0, 4.0, -170.0, -1.0], [np.nan] * 5])
    s = cnn_scalars(relative, xforms, reference)
    assert s.shape == (2, N_CNN_SCALARS) and s.dtype == np.float32
    assert s[0, 0] == pytest.approx(1.0) and s[0, 1] == pytest.approx(0.5) and s[0, 7] == 0.0
    assert s[0, 8] == pytest.approx(-20.0 / 30.0)  # -170 is 20° past 170 across ±180, facing left flips it
    assert s[0, 9] == pytest.approx(np.log(2.0))
    assert s[1, 7] == 1.0 and np.all(s[1, :7] == 0) and s[1, 8] == 0 and s[1, 9] == 0
    images = cnn_images(np.zeros((2, CROP_CELLS, CROP_CELLS), np.uint8), reference)
    assert images.shape == (2, 2, CROP_CELLS, CROP_CELLS) and images.dtype == np.float32


def test_numpy_forward_matches_torch_reference():
    # tools/make_cropnet_reference.py: a small random net run by torch, stored with its outputs
    with np.load(REFERENCE) as z:
        arrays = dict(z)
    net = CropNet.from_arrays(arrays, "cnn.")
    np.testing.assert_allclose(net(arrays["images"], arrays["scalars"]), arrays["degrees"], atol=1e-4)
    again = CropNet.from_arrays(net.arrays("x."), "x.")
    assert np.array_equal(again(arrays["images"], arrays["scalars"]), net(arrays["images"], arrays["scalars"]))
    assert net(arrays["images"][:0], arrays["scalars"][:0]).shape == (0, 3)


def test_reading_crops_in_batches_equals_one_pass():
    with np.load(REFERENCE) as z:
        arrays = dict(z)
    net = CropNet.from_arrays(arrays, "cnn.")
    rng = np.random.default_rng(2)
    n = 300  # more than one batch
    crops = rng.integers(0, 256, (n, CROP_CELLS, CROP_CELLS)).astype(np.uint8)
    reference = CropReference(crops[0], 0.0, 1.0)
    scalars = rng.normal(0, 1, (n, N_CNN_SCALARS)).astype(np.float32)
    np.testing.assert_allclose(
        net.read_crops(crops, reference, scalars), net(cnn_images(crops, reference), scalars), atol=1e-9
    )
