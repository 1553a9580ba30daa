"""The trunk's mask crop: a small square of the soft segmentation mask in the trunk's own frame (the learned
reading's CNN input, lumbopelvic.py; the corpus table stores the same crop, tools/extract_corpus.py).

The crop is ``CROP_CELLS`` × ``CROP_CELLS`` cells, ``CROP_SIDE_L`` trunk lengths (hip-mid → shoulder-mid)
across, centred on the trunk's midpoint, trunk axis up and the back on the left (a cell's x grows towards the
subject's front). Values are the mask bilinearly sampled, 0 outside the image, as uint8 (mask × 255).

The corpus table was extracted with OpenCV's ``warpAffine`` (INTER_LINEAR, inverse map, constant border); the
numpy warp here samples the same positions with the same border rule (a neighbour outside the image counts as
0), and agrees with OpenCV 5.1 to one grey level (float rounding at .5) on a handful of cells per thousand crops
(tests/core/test_crop.py).

The CNN (``CropNet``) reads the frame's crop and the clip's standing crop as two channels plus a few scalars the
crop cannot show (it is rotated to the trunk axis): the hand-made relative angles, the trunk's image angle and
scale relative to standing. Four stride-2 3×3 convolutions with ReLU to 4×4 cells, flattened, concatenated with
the scalars, one hidden ReLU layer, three outputs (TARGETS, degrees relative to standing). Trained by
tools/train_lumbopelvic.py (torch), run here in numpy (each convolution one matrix product over a strided window
view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CROP_CELLS = 64  # side of the crop in cells
CROP_SIDE_L = 2.0  # side of the crop in trunk lengths
MIN_TRUNK_PX = 8.0  # below this the trunk is too small to crop (the measurer's own limit)


@dataclass(frozen=True)
class CropTransform:
    """Where a crop sits in the image: its centre (px), the size of a cell (px), the trunk axis' image angle
    (degrees from image-up, clockwise +) and the facing (+1 the subject faces image-right, −1 left)."""

    centre_x_px: float
    centre_y_px: float
    px_per_cell: float
    trunk_angle_deg: float
    facing: float

    def as_array(self) -> np.ndarray:
        """The five numbers in the corpus table's ``crop_xform`` column order."""
        return np.array(
            [self.centre_x_px, self.centre_y_px, self.px_per_cell, self.trunk_angle_deg, self.facing], np.float32
        )


def crop_transform(hip_px: np.ndarray, shoulder_px: np.ndarray, facing: float) -> CropTransform | None:
    """The crop's placement for a trunk from ``hip_px`` to ``shoulder_px`` (mid-points, image px); None when the
    trunk is shorter than MIN_TRUNK_PX or not finite."""
    v = np.asarray(shoulder_px, float) - np.asarray(hip_px, float)
    length_px = float(np.hypot(v[0], v[1]))
    if not np.isfinite(length_px) or length_px < MIN_TRUNK_PX:
        return None
    up = v / length_px
    centre = 0.5 * (np.asarray(hip_px, float) + np.asarray(shoulder_px, float))
    angle_deg = float(np.degrees(np.arctan2(up[0], -up[1])))
    return CropTransform(
        float(centre[0]), float(centre[1]), CROP_SIDE_L * length_px / CROP_CELLS, angle_deg, float(facing)
    )


def crop_matrix(xf: CropTransform) -> np.ndarray:
    """The (2, 3) affine map from crop cell (x, y) to image px: x runs towards the subject's front, y down
    the trunk axis, cell centres at half-integers from the crop's corner."""
    a = np.radians(xf.trunk_angle_deg)
    up = np.array([np.sin(a), -np.cos(a)])
    back = -xf.facing * np.array([-up[1], up[0]])  # sagittal.dorsal_unit
    ventral, down = -back, -up
    lin = np.array([[ventral[0], down[0]], [ventral[1], down[1]]]) * xf.px_per_cell
    half = CROP_CELLS / 2 - 0.5
    offset = np.array([xf.centre_x_px, xf.centre_y_px]) - lin @ np.array([half, half])
    return np.hstack([lin, offset[:, None]])


def mask_crop(mask: np.ndarray, xf: CropTransform) -> np.ndarray:
    """The (CROP_CELLS, CROP_CELLS) uint8 crop of the soft ``mask`` (H, W floats 0..1) placed by ``xf``."""
    m = crop_matrix(xf).astype(np.float32)
    cells = np.arange(CROP_CELLS, dtype=np.float32)
    x = m[0, 0] * cells[None, :] + (m[0, 1] * cells[:, None] + m[0, 2])  # (rows y, columns x), image px
    y = m[1, 0] * cells[None, :] + (m[1, 1] * cells[:, None] + m[1, 2])
    x0f, y0f = np.floor(x), np.floor(y)
    fx, fy = x - x0f, y - y0f
    x0, y0 = x0f.astype(np.intp), y0f.astype(np.intp)
    src = np.asarray(mask, np.float32)
    h, w = src.shape

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        # each neighbour outside the image counts as 0 (OpenCV's constant border), not the whole sample
        inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
        return np.where(inside, src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)], np.float32(0.0))

    one = np.float32(1.0)
    top = at(y0, x0) * (one - fx) + at(y0, x0 + 1) * fx
    bottom = at(y0 + 1, x0) * (one - fx) + at(y0 + 1, x0 + 1) * fx
    out = top * (one - fy) + bottom * fy
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------------ the CNN

N_CNN_ANGLES = 7  # the hand-made relative angles the CNN reads (lumbopelvic.RELATIVE_ANGLES without confidence)
N_CNN_SCALARS = N_CNN_ANGLES + 3  # + a missing flag, trunk angle and log scale relative to standing
CNN_DEG_SCALE = 30.0  # angle inputs are divided by this (the net's inputs near ±1)
CNN_BATCH = 256  # frames per forward pass
CONV_KERNEL, CONV_STRIDE, CONV_PAD = 3, 2, 1  # every convolution's (64 → 32 → 16 → 8 → 4 cells)


@dataclass(frozen=True)
class CropReference:
    """The standing posture the CNN compares each frame with: the median crop over the calibration's reference
    frames and their median trunk angle and cell size (NaN: no reference frame had a crop)."""

    crop: np.ndarray  # (CROP_CELLS, CROP_CELLS) uint8
    trunk_angle_deg: float
    px_per_cell: float


def crop_reference(crops: np.ndarray, xforms: np.ndarray) -> CropReference:
    """The reference of the frames ``crops`` (n, CROP_CELLS, CROP_CELLS) uint8 with placements ``xforms`` (n, 5,
    CropTransform.as_array; NaN rows: no crop, left out)."""
    has = np.isfinite(xforms[:, 2]) if len(xforms) else np.zeros(0, bool)
    if not has.any():
        return CropReference(np.zeros((CROP_CELLS, CROP_CELLS), np.uint8), float("nan"), float("nan"))
    crop = np.median(crops[has], axis=0).round().astype(np.uint8)
    return CropReference(crop, float(np.median(xforms[has, 3])), float(np.median(xforms[has, 2])))


def cnn_scalars(relative: np.ndarray, xforms: np.ndarray, reference: CropReference) -> np.ndarray:
    """(n, N_CNN_SCALARS) float32: the hand-made relative angles (``relative`` (n, ≥7), /30°, 0 where missing),
    a missing flag (no hand-made hip), the trunk's image angle relative to standing (signed by facing, /30°) and
    the log of its scale relative to standing; 0 where unknown."""
    hm = np.asarray(relative, np.float64)[:, :N_CNN_ANGLES]
    missing = ~np.isfinite(hm[:, 0])
    facing = np.where(np.isfinite(xforms[:, 4]), xforms[:, 4], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_angle = (xforms[:, 3] - reference.trunk_angle_deg + 180.0) % 360.0 - 180.0
        rel_scale = np.log(np.maximum(xforms[:, 2], 1e-6) / max(reference.px_per_cell, 1e-6))
    out = np.concatenate(
        [hm / CNN_DEG_SCALE, missing[:, None], (d_angle * facing / CNN_DEG_SCALE)[:, None], rel_scale[:, None]], 1
    )
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)


def cnn_images(crops: np.ndarray, reference: CropReference) -> np.ndarray:
    """(n, 2, CROP_CELLS, CROP_CELLS) float32 0..1: each frame's crop and the standing crop."""
    n = len(crops)
    standing = np.broadcast_to(reference.crop, (n, CROP_CELLS, CROP_CELLS))
    return np.stack([crops, standing], 1).astype(np.float32) / np.float32(255.0)


@dataclass(frozen=True)
class CropNet:
    """The CNN's weights (numpy, NHWC): per convolution a (C_in·3·3, C_out) matrix in (C, k, k) order and a bias
    (3×3, stride 2, padding 1), then two dense layers; outputs de-standardised by ``mean`` and ``std``."""

    conv_weights: tuple[np.ndarray, ...]
    conv_biases: tuple[np.ndarray, ...]
    w1: np.ndarray  # (4·4·C_last + N_CNN_SCALARS, hidden); the conv features in (C, H, W) order
    b1: np.ndarray
    w2: np.ndarray  # (hidden, 3)
    b2: np.ndarray
    mean: np.ndarray  # (3,) degrees
    std: np.ndarray  # (3,) degrees

    def standardised(self, images: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """The raw (standardised) outputs for ``images`` (n, 2, 64, 64) and ``scalars`` (n, N_CNN_SCALARS)."""
        x = np.ascontiguousarray(np.asarray(images, np.float32).transpose(0, 2, 3, 1))
        n, k, s, p = len(x), CONV_KERNEL, CONV_STRIDE, CONV_PAD
        for wm, b in zip(self.conv_weights, self.conv_biases, strict=True):
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
            win = sliding_window_view(x, (k, k), axis=(1, 2))[:, : x.shape[1] - k + 1 : s, : x.shape[2] - k + 1 : s]
            ho, wo = win.shape[1], win.shape[2]
            x = np.maximum(win.reshape(n * ho * wo, -1) @ wm + b, 0.0).reshape(n, ho, wo, -1)
        h = np.concatenate([x.transpose(0, 3, 1, 2).reshape(n, -1), np.asarray(scalars, np.float32)], 1)
        return np.maximum(h @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2

    def __call__(self, images: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """(n, 3) degrees relative to standing, in TARGETS order, for ``images`` (n, 2, 64, 64) 0..1."""
        if len(images) == 0:
            return np.zeros((0, len(self.mean)))
        return self.standardised(images, scalars).astype(np.float64) * self.std + self.mean

    def read_crops(self, crops: np.ndarray, reference: CropReference, scalars: np.ndarray) -> np.ndarray:
        """(n, 3) degrees for the uint8 ``crops`` (n, 64, 64) against the standing ``reference``, in batches (the
        first layers' window matrices take ~0.2 MB per frame)."""
        out = [
            self(cnn_images(crops[b : b + CNN_BATCH], reference), scalars[b : b + CNN_BATCH])
            for b in range(0, len(crops), CNN_BATCH)
        ]
        return np.concatenate(out) if out else np.zeros((0, len(self.mean)))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Its arrays under ``prefix`` (for np.savez)."""
        out = {f"{prefix}conv{i}.w": w for i, w in enumerate(self.conv_weights)}
        out.update({f"{prefix}conv{i}.b": b for i, b in enumerate(self.conv_biases)})
        out.update({f"{prefix}{k}": getattr(self, k) for k in ("w1", "b1", "w2", "b2", "mean", "std")})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> CropNet:
        """The net stored by ``arrays`` (KeyError when a part is missing)."""
        n_conv = sum(1 for k in arrays if k.startswith(f"{prefix}conv") and k.endswith(".w"))
        f32 = {k: np.asarray(v, np.float32) for k, v in arrays.items() if k.startswith(prefix)}
        return cls(
            tuple(f32[f"{prefix}conv{i}.w"] for i in range(n_conv)),
            tuple(f32[f"{prefix}conv{i}.b"] for i in range(n_conv)),
            f32[f"{prefix}w1"],
            f32[f"{prefix}b1"],
            f32[f"{prefix}w2"],
            f32[f"{prefix}b2"],
            np.asarray(arrays[f"{prefix}mean"], np.float64),
            np.asarray(arrays[f"{prefix}std"], np.float64),
        )
