"""The picture itself: black pillar/letter-box bars, a person small in it, cuts between shots, brightness (pure numbers
in, decisions out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hingecheck.core.settings import QualityConfig

# ---------------------------------------------------------------- pillar- and letter-box bars


@dataclass(frozen=True)
class PictureArea:
    """The part of the frame that holds the picture (pixels, ``x1``/``y1`` exclusive) inside ``width``×``height``."""

    x0: int
    y0: int
    x1: int
    y1: int
    width: int
    height: int

    @property
    def cropped(self) -> bool:
        """True when bars were found (the picture is smaller than the frame)."""
        return (self.x0, self.y0, self.x1, self.y1) != (0, 0, self.width, self.height)

    def to_dict(self) -> dict[str, int]:
        """summary.json's form of the area."""
        return {"x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1}


def edge_profiles(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column and per-row 95th-centile luma of one frame (what ``find_picture_area`` takes, frame by frame).

    A bar is dark in every pixel; the 95th centile ignores a few bright pixels of a watermark but not a picture.
    """
    lum = np.asarray(luma, float)
    return np.percentile(lum, 95, axis=0), np.percentile(lum, 95, axis=1)


def _bar_length(profile: np.ndarray, dark: float) -> tuple[int, int]:
    bright = np.flatnonzero(profile > dark)
    if len(bright) == 0:
        return 0, 0
    return int(bright[0]), int(len(profile) - 1 - bright[-1])


def find_picture_area(
    column_profiles: Sequence[np.ndarray], row_profiles: Sequence[np.ndarray], cfg: QualityConfig | None = None
) -> PictureArea:
    """The picture inside black bars, from per-frame column/row luma profiles (``edge_profiles``) of a few frames.

    A bar is a run of columns (rows) at the frame's edge that stays darker than ``bar_luma`` in every frame
    given. Bars thinner than ``bar_min_frac`` of the frame are ignored (an encoder's dark border), and so is
    everything when the picture left would be smaller than ``picture_min_frac`` (a black or faded-in frame).
    """
    cfg = cfg or QualityConfig()
    cols = np.max(np.asarray(column_profiles, float), axis=0)
    rows = np.max(np.asarray(row_profiles, float), axis=0)
    w, h = len(cols), len(rows)
    full = PictureArea(0, 0, w, h, w, h)
    left, right = _bar_length(cols, cfg.bar_luma)
    top, bottom = _bar_length(rows, cfg.bar_luma)
    if left + right >= w or top + bottom >= h:
        return full  # nothing bright: a black frame, not bars
    left, right = (v if v >= cfg.bar_min_frac * w else 0 for v in (left, right))
    top, bottom = (v if v >= cfg.bar_min_frac * h else 0 for v in (top, bottom))
    x0, x1, y0, y1 = left, w - right, top, h - bottom
    if (x1 - x0) < cfg.picture_min_frac * w or (y1 - y0) < cfg.picture_min_frac * h:
        return full
    # even sizes: video encoders and MediaPipe's image wrapper are happiest with them
    x1 -= (x1 - x0) % 2
    y1 -= (y1 - y0) % 2
    return PictureArea(x0, y0, x1, y1, w, h)


# ---------------------------------------------------------------- a small person


def person_box(boxes_px: np.ndarray) -> tuple[float, float, float, float]:
    """Where the person was over a clip: the 5th centile of their landmark boxes' left and top edges and the 95th of
    their right and bottom edges (x0, y0, x1, y1; px), so a few stray frames do not stretch it."""
    boxes = np.asarray(boxes_px, float).reshape(-1, 4)
    return (
        float(np.percentile(boxes[:, 0], 5)),
        float(np.percentile(boxes[:, 1], 5)),
        float(np.percentile(boxes[:, 2], 95)),
        float(np.percentile(boxes[:, 3], 95)),
    )


def person_area(
    boxes_px: np.ndarray, picture: PictureArea, detection_rate: float, cfg: QualityConfig | None = None
) -> PictureArea | None:
    """The part of the picture to give MediaPipe again when the person is small in it and often missed (None: the
    whole picture stays).

    ``boxes_px`` holds the landmark boxes (x0, y0, x1, y1) of the frames where the person was found. MediaPipe's
    person detector sees the whole picture at 224 px: a lifter filling a third of a phone picture's height from
    across the gym is lost on a third to a half of the frames, and found on nearly all of them in a crop around
    where they were (measured on two real clips: 48 → 73 %, 90 → 95 %). A person filling more of the picture
    gains nothing (two real clips lost 10–25 % of their frames to such a crop). The area is the 5–95th centile
    box of the person, padded by ``zoom_pad_share`` of its height each side, within the picture.
    """
    cfg = cfg or QualityConfig()
    boxes = np.asarray(boxes_px, float).reshape(-1, 4)
    if detection_rate >= cfg.zoom_below_detection or len(boxes) < 2:
        return None
    x0, y0, x1, y1 = person_box(boxes)
    height = y1 - y0
    if not height > 0 or height >= cfg.zoom_max_person_share * (picture.y1 - picture.y0):
        return None
    pad = cfg.zoom_pad_share * height
    ax0, ay0 = int(max(picture.x0, np.floor(x0 - pad))), int(max(picture.y0, np.floor(y0 - pad)))
    ax1, ay1 = int(min(picture.x1, np.ceil(x1 + pad))), int(min(picture.y1, np.ceil(y1 + pad)))
    ax1 -= (ax1 - ax0) % 2  # even sizes, as for the bars
    ay1 -= (ay1 - ay0) % 2
    if ax1 - ax0 < 16 or ay1 - ay0 < 16:
        return None
    return PictureArea(ax0, ay0, ax1, ay1, picture.width, picture.height)


def picture_tiles(picture: PictureArea) -> list[PictureArea]:
    """Nine overlapping tiles of the picture, each half its width and height, a quarter apart: where to look for a
    person too small for MediaPipe to find in the whole picture (one within a quarter of the picture's width and
    height lies wholly inside a tile wherever they stand)."""
    w, h = (picture.x1 - picture.x0) // 4 * 2, (picture.y1 - picture.y0) // 4 * 2
    xs = (picture.x0, picture.x0 + w // 2, picture.x1 - w)
    ys = (picture.y0, picture.y0 + h // 2, picture.y1 - h)
    return [PictureArea(x, y, x + w, y + h, picture.width, picture.height) for y in ys for x in xs]


# ---------------------------------------------------------------- scene cuts


HIST_BINS = 4  # per channel: 64 joint RGB bins, coarse enough to ignore motion and noise


def colour_histogram(rgb: np.ndarray, step: int = 4) -> np.ndarray:
    """Normalised joint RGB histogram (``HIST_BINS``³ bins) of every ``step``-th pixel of an (H, W, 3) uint8 image."""
    small = np.asarray(rgb)[::step, ::step].reshape(-1, 3).astype(np.int64) * HIST_BINS // 256
    codes = (small[:, 0] * HIST_BINS + small[:, 1]) * HIST_BINS + small[:, 2]
    hist = np.bincount(codes, minlength=HIST_BINS**3).astype(float)
    return hist / max(hist.sum(), 1.0)


def histogram_difference(a: np.ndarray | None, b: np.ndarray) -> float:
    """Half the L1 distance of two normalised histograms: 0 same colours, 1 no colour in common."""
    if a is None:
        return 0.0
    return float(0.5 * np.abs(np.asarray(a) - np.asarray(b)).sum())


def find_cuts(diffs: Sequence[float], times_s: Sequence[float], cfg: QualityConfig | None = None) -> list[int]:
    """Frame indices (positions in ``diffs``) where a new shot starts.

    ``diffs[i]`` is the histogram difference of frame i to frame i−1. A cut is a spike: above ``cut_min_diff``,
    above the clip's median + ``cut_mad_k`` robust deviations (a handheld clip's frame-to-frame change is its
    own noise floor), and ``cut_spike_ratio`` times the largest difference within two frames either side (a
    fast movement or a pan changes colours over several frames; a cut does it in one). Cuts closer than
    ``min_shot_s`` to the previous one or to the clip's start or end are dropped (of two close cuts the
    stronger is kept).
    """
    cfg = cfg or QualityConfig()
    d = np.asarray(diffs, float)
    t = np.asarray(times_s, float)
    n = len(d)
    if n < 3:
        return []
    med = float(np.median(d))
    mad = 1.4826 * float(np.median(np.abs(d - med)))
    threshold = max(cfg.cut_min_diff, med + cfg.cut_mad_k * mad)
    candidates: list[int] = []
    for i in range(1, n):
        if d[i] <= threshold:
            continue
        around = np.concatenate([d[max(1, i - 2) : i], d[i + 1 : i + 3]])
        if len(around) and d[i] < cfg.cut_spike_ratio * float(around.max()):
            continue
        candidates.append(i)
    cuts: list[int] = []
    for i in candidates:
        if t[i] - t[0] < cfg.min_shot_s or t[-1] - t[i] < cfg.min_shot_s:
            continue
        if cuts and t[i] - t[cuts[-1]] < cfg.min_shot_s:
            if d[i] > d[cuts[-1]]:
                cuts[-1] = i
            continue
        cuts.append(i)
    return cuts


def shots_from_cuts(n_frames: int, cuts: Sequence[int]) -> list[tuple[int, int]]:
    """Shots as (start, stop) frame positions, stop exclusive, covering 0..n_frames."""
    edges = [0, *[c for c in cuts if 0 < c < n_frames], n_frames]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


# ---------------------------------------------------------------- brightness

DARK_LUMA = 45.0  # scene_luma (0–255) below which MediaPipe's mask and landmarks degrade


def scene_luma(rgb: np.ndarray, mask: np.ndarray | None, step: int = 4) -> float:
    """Brightness (mean of every ``step``-th pixel, 0–255) of the brighter of the person (``mask`` ≥ 0.5) and the
    rest of the picture; the whole picture's when no person is segmented.

    The outline is lost when the person and what is around them are both dark: a lit person in front of a dark
    wall (studio footage) or a dark one against a bright sky (backlit) stands out, though the picture's mean may be
    low. The brighter side is never below the picture's mean, so this warns on no picture the mean spared.
    """
    luma = np.asarray(rgb)[::step, ::step].mean(axis=2)
    if mask is None:
        return float(luma.mean())
    person = np.asarray(mask)[::step, ::step] >= 0.5
    if not person.any() or person.all():
        return float(luma.mean())
    return float(max(luma[person].mean(), luma[~person].mean()))
