"""Annotated frames (provisional: skeleton only; the report work adds outline, gauge, counter, banner)."""

from __future__ import annotations

import cv2
import numpy as np

from ..result import AnalysisResult

SKELETON = [
    (11, 12),
    (11, 23),
    (12, 24),
    (23, 24),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 29),
    (29, 31),
    (28, 30),
    (30, 32),
    (27, 31),
    (28, 32),
]


class OverlayRenderer:
    """Draws one frame of an analysis result; call ``draw(rgb, i)`` for decoded frame i."""

    def __init__(self, result: AnalysisResult, blur_faces: bool = False) -> None:
        self.result = result
        self.blur_faces = blur_faces

    def draw(self, rgb: np.ndarray, i: int) -> np.ndarray:
        out = rgb.copy()
        if i >= len(self.result.poses):
            return out
        pose = self.result.poses[i]
        if pose.detected and pose.landmarks_px is not None:
            px = pose.landmarks_px
            for a, b in SKELETON:
                cv2.line(out, tuple(int(v) for v in px[a]), tuple(int(v) for v in px[b]), (0, 255, 0), 2, cv2.LINE_AA)
        return out
