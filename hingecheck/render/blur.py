"""Face blur for annotated frames: a generous head box from the pose, pixelated and smoothed.

A privacy feature fails closed: before a head was ever seen the whole frame is blurred.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from hingecheck.core.types import LEFT_EAR, LEFT_SHOULDER, RIGHT_EAR, RIGHT_SHOULDER, PoseFrame

FACE_LANDMARKS = np.arange(0, 11)  # nose, eyes, ears, mouth
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (pixels, exclusive end)


def head_box(pose: PoseFrame | None, margin: float = 1.0) -> Box | None:
    """A generous square around the head from the face landmarks (0–10), scaled by the ear–shoulder distance.

    Side views shrink the face landmarks to a sliver, so the size comes from the larger of the face spread
    and the ear→shoulder distance (≈ the head's height), never from the face alone.
    """
    if pose is None or not pose.detected or pose.landmarks_px is None:
        return None
    px = np.asarray(pose.landmarks_px, float)
    face = px[FACE_LANDMARKS]
    face = face[np.all(np.isfinite(face), axis=1)]
    if len(face) == 0:
        return None
    centre = face.mean(axis=0)
    spread = float(np.max(np.ptp(face, axis=0)))
    ears = px[[LEFT_EAR, RIGHT_EAR]].mean(axis=0)
    shoulders = px[[LEFT_SHOULDER, RIGHT_SHOULDER]].mean(axis=0)
    neck = float(np.hypot(*(ears - shoulders))) if np.all(np.isfinite([*ears, *shoulders])) else 0.0
    half = margin * max(1.1 * neck, 1.6 * spread, 0.05 * pose.height)
    x0, y0 = int(centre[0] - half), int(centre[1] - half)
    x1, y1 = int(math.ceil(centre[0] + half)), int(math.ceil(centre[1] + half))
    return x0, y0, x1, y1


def blur_region(rgb: np.ndarray, box: Box | None) -> None:
    """Make a region unrecognisable in place: pixelate (coarse blocks) and smooth. ``None`` = whole frame."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (0, 0, w, h) if box is None else box
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    roi = rgb[y0:y1, x0:x1]
    block = max(6, min(x1 - x0, y1 - y0) // 8)  # ~8 blocks across a head: no facial detail survives
    small = cv2.resize(roi, (max(1, (x1 - x0) // block), max(1, (y1 - y0) // block)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    k = (block * 2) | 1
    rgb[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (k, k), 0)


class HeadBlur:
    """Streaming head box: the current frame's box, else the last known one (the person may be missed).

    Before the head was ever seen the box is None, which ``blur_region`` treats as the whole frame: a
    privacy feature must fail closed.
    """

    def __init__(self) -> None:
        self.last_box: Box | None = None

    def update(self, pose: PoseFrame | None) -> Box | None:
        """This frame's head box, else the last one seen (None before any)."""
        box = head_box(pose)
        if box is not None:
            self.last_box = box
        return self.last_box


def head_boxes_for_clip(poses: list[PoseFrame]) -> list[Box | None]:
    """Per-frame head boxes for a whole clip: gaps take the previous box, leading gaps the first one found.

    Each box is also widened to cover its neighbours (±2 frames) so fast head motion between the landmark
    estimate and the pixels never uncovers a face edge.
    """
    boxes = [head_box(p) for p in poses]
    known = [b for b in boxes if b is not None]
    if not known:
        return [None] * len(boxes)
    last = known[0]
    filled: list[Box] = []
    for b in boxes:
        last = b if b is not None else last
        filled.append(last)
    widened: list[Box | None] = []
    for i in range(len(filled)):
        near = filled[max(0, i - 2) : i + 3]
        widened.append(
            (min(b[0] for b in near), min(b[1] for b in near), max(b[2] for b in near), max(b[3] for b in near))
        )
    return widened
