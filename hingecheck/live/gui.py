"""The live window: OpenCV's GUI (loaded before PyAV, so the window can open), keys, and the HUD drawing.

OpenCV's Qt window and PyAV both bundle xcb libraries under the same hashed file names; when PyAV's are loaded
first, ``cv2.namedWindow`` hangs. ``hingecheck.live.session`` imports this module before anything that pulls in PyAV
(cli.py imports ``hingecheck.live.session`` first), and refuses a window (headless, with a note) if PyAV won the race.
"""

import sys

AV_LOADED_BEFORE_CV2 = "av" in sys.modules and "cv2" not in sys.modules

import os  # noqa: E402
import platform  # noqa: E402

import cv2  # noqa: E402  (must follow the check above)
import numpy as np  # noqa: E402

from hingecheck.core.coach import CoachUpdate  # noqa: E402
from hingecheck.core.types import PoseFrame  # noqa: E402

QUIT_KEYS = {ord("q"), ord("Q"), 27}  # q or Esc
RECALIBRATE_KEYS = {ord("c"), ord("C")}
PAUSE_KEYS = {ord(" ")}
WINDOW_TITLE = "hingecheck live (q quit, c recalibrate, space pause)"


def display_available() -> tuple[bool, str]:
    """Whether a window can be opened. Checked up front: Qt aborts the process on a missing display."""
    if platform.system() == "Linux" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display found (DISPLAY is not set)"
    if AV_LOADED_BEFORE_CV2:
        return False, "cannot open a window in this process (PyAV was loaded before OpenCV's GUI)"
    return True, ""


# --- drawing ---


def _draw_fallback(rgb: np.ndarray, pose: PoseFrame, contour: np.ndarray | None) -> np.ndarray:
    from hingecheck.render.overlay import SKELETON

    out = rgb.copy()
    if pose.detected and pose.landmarks_px is not None:
        px = pose.landmarks_px
        for a, b in SKELETON:
            cv2.line(out, tuple(int(v) for v in px[a]), tuple(int(v) for v in px[b]), (0, 255, 0), 2, cv2.LINE_AA)
    if contour is not None and len(contour) > 1:
        pts = np.round(contour[np.isfinite(contour).all(axis=1)]).astype(np.int32)
        if len(pts) > 1:
            cv2.polylines(out, [pts], False, (255, 200, 0), 2, cv2.LINE_AA)
    return out


def draw_live_frame(rgb: np.ndarray, pose: PoseFrame, contour: np.ndarray | None, update: CoachUpdate, hud: dict):
    """The overlay (render.overlay.draw_frame, which draws the HUD dict too) plus live-only marks.

    Falls back to a skeleton with text lines while the overlay module lacks ``draw_frame``.
    """

    try:
        from hingecheck.render.overlay import draw_frame
    except ImportError:
        draw_frame = None
    out = None
    if draw_frame is not None:
        try:
            out = draw_frame(rgb, pose, contour, update.angles, hud)
        except Exception:  # the overlay is another stage's work in progress: never let it end a session
            out = None
    lines: list[tuple[str, tuple[int, int, int]]] = []
    if out is None:
        out = _draw_fallback(rgb, pose, contour)
        lines.append((f"reps {hud['reps']}", (255, 255, 255)))
        if hud.get("guidance"):
            lines.append((hud["guidance"], (255, 220, 0)))
        if hud.get("verdict"):
            lines.append((hud["verdict"], (255, 80, 80) if hud.get("verdict_fault") else (80, 255, 80)))
        if hud.get("cue"):
            lines.append((hud["cue"], (255, 255, 255)))
    if hud.get("paused"):
        lines.append(("PAUSED (space to continue)", (255, 220, 0)))
    out = np.ascontiguousarray(out)
    h, w = out.shape[:2]
    scale = max(0.5, w / 1100.0)
    y = int(30 * scale) if draw_frame is None else h // 2
    for text, colour in lines:
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, 2)
        cv2.rectangle(out, (8, y - th - 6), (16 + tw, y + 6), (0, 0, 0), -1)
        cv2.putText(out, text, (12, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, colour, 2, cv2.LINE_AA)
        y += th + int(18 * scale)
    if update.state == "calibrating":
        bar_w = int((w - 40) * update.calibration_progress)
        cv2.rectangle(out, (20, h - 30), (w - 20, h - 14), (255, 255, 255), 1)
        cv2.rectangle(out, (20, h - 30), (20 + bar_w, h - 14), (255, 220, 0), -1)
    if hud.get("perf"):
        cv2.putText(out, hud["perf"], (w - 200, h - 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (200, 200, 200), 1)
    return out


class LiveWindow:
    """cv2.imshow window; ``poll`` returns the key pressed (or -1)."""

    def __init__(self) -> None:
        cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL)

    def show(self, rgb: np.ndarray) -> None:
        cv2.imshow(WINDOW_TITLE, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def poll(self) -> int:
        return cv2.waitKey(1) & 0xFF

    def closed(self) -> bool:
        try:
            return cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(WINDOW_TITLE)
            cv2.waitKey(1)
        except cv2.error:
            pass
