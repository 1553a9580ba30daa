"""Drawing primitives of the overlay: colours, Hershey text with real degree signs, translucent panels, the
skeleton and the dorsal outline. Plain OpenCV on RGB arrays.

Hershey fonts are ASCII only, hence ``ascii_text`` and the drawn degree sign.
"""

from __future__ import annotations

import unicodedata

import cv2
import numpy as np

from hingecheck.core.types import PoseFrame

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
# RGB colours (frames are RGB throughout the project).
GREEN = (60, 200, 90)
AMBER = (245, 170, 30)
RED = (230, 50, 50)
GREY = (150, 150, 150)
WHITE = (255, 255, 255)
BLUE = (70, 150, 245)
CONTOUR = (0, 220, 255)
PANEL = (20, 20, 24)

_ASCII_REPLACEMENTS = {"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "×": "x", "→": "->"}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def ascii_text(text: str) -> str:
    """Hershey fonts draw ASCII only; keep the degree sign (drawn separately) and fold the rest."""
    for k, v in _ASCII_REPLACEMENTS.items():
        text = text.replace(k, v)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c == "°" or (ord(c) < 128 and not unicodedata.combining(c)))


def text_width(text: str, scale: float, thickness: int) -> int:
    """Width in pixels of ``text`` as ``put_text`` draws it."""
    text = ascii_text(text)
    parts = text.split("°")
    width = sum(cv2.getTextSize(p, FONT, scale, thickness)[0][0] for p in parts if p)
    return width + (len(parts) - 1) * (2 * max(2, int(round(3 * scale))) + 2)


def put_text(
    img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int], thickness: int = 1
) -> int:
    """Draw text with real degree signs; returns the x after the text."""
    x, y = org
    parts = ascii_text(text).split("°")
    for n, part in enumerate(parts):
        if part:
            cv2.putText(img, part, (x, y), FONT, scale, colour, thickness, cv2.LINE_AA)
            x += cv2.getTextSize(part, FONT, scale, thickness)[0][0]
        if n < len(parts) - 1:  # a small ring, raised to cap height
            r = max(2, int(round(3 * scale)))
            cv2.circle(img, (x + r, y - int(18 * scale)), r, colour, max(1, thickness - 1), cv2.LINE_AA)
            x += 2 * r + 2
    return x


def wrap_text(text: str, max_width_px: int, scale: float, thickness: int) -> list[str]:
    """Split text into lines no wider than ``max_width_px`` at this scale."""
    words, lines, line = ascii_text(text).split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if line and text_width(trial, scale, thickness) > max_width_px:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def panel(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour=PANEL, alpha: float = 0.62) -> None:
    """Translucent rectangle, blended only inside its region (cheap)."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    # roi·(1−α) + colour·α in uint8 with OpenCV's saturating ops (no float copy: ~10× faster than numpy here)
    cv2.add(cv2.convertScaleAbs(roi, alpha=1.0 - alpha), (*(c * alpha for c in colour), 0.0), dst=roi)


def draw_skeleton(img: np.ndarray, pose: PoseFrame, s: float) -> None:
    """The body's bones and joints (landmarks seen with visibility ≥ 0.3), in place; ``s`` scales line widths."""
    px = pose.landmarks_px
    if px is None:
        return
    vis = pose.visibility if pose.visibility is not None else np.ones(len(px))
    pts = np.round(np.nan_to_num(px, nan=-1e4)).astype(np.int32)
    thick = max(1, int(round(2 * s)))
    for a, b in SKELETON:
        if vis[a] < 0.3 or vis[b] < 0.3:
            continue
        cv2.line(img, tuple(pts[a]), tuple(pts[b]), WHITE, thick, cv2.LINE_AA)
    for j in range(11, 33):
        if vis[j] >= 0.3:
            cv2.circle(img, tuple(pts[j]), max(2, int(round(3 * s))), BLUE, -1, cv2.LINE_AA)


def draw_contour(img: np.ndarray, contour: np.ndarray, colour: tuple[int, int, int], s: float) -> None:
    """The dorsal outline (pixels; non-finite points skipped), in place."""
    c = np.asarray(contour, float)
    c = c[np.all(np.isfinite(c), axis=1)]
    if len(c) < 2:
        return
    cv2.polylines(img, [np.round(c).astype(np.int32).reshape(-1, 1, 2)], False, colour, max(2, int(3 * s)), cv2.LINE_AA)
