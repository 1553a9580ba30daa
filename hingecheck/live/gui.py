"""The live window: OpenCV's GUI (loaded before PyAV, so the window can open), keys, and the HUD drawing.

OpenCV's Qt window and PyAV both bundle xcb libraries under the same hashed file names; when PyAV's are loaded
first, ``cv2.namedWindow`` hangs. ``hingecheck.live.session`` imports this module before anything that pulls in PyAV
(cli.py imports ``hingecheck.live.session`` first), and refuses a window (headless, with a note) if PyAV won the race.
"""

import sys

AV_LOADED_BEFORE_CV2 = "av" in sys.modules and "cv2" not in sys.modules

import os  # noqa: E402
import platform  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402  (must follow the check above)
import numpy as np  # noqa: E402

from hingecheck.core.coach import CoachUpdate  # noqa: E402
from hingecheck.core.types import PoseFrame  # noqa: E402
from hingecheck.render.overlay import OverlayConfig, draw_frame  # noqa: E402

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


def draw_live_frame(
    rgb: np.ndarray,
    pose: PoseFrame,
    contour: np.ndarray | None,
    update: CoachUpdate,
    hud: dict[str, Any],
    overlay: OverlayConfig,
) -> np.ndarray:
    """The overlay (render.overlay.draw_frame, which draws the HUD dict too) plus live-only marks: the pause
    line, the calibration progress bar and the frame-rate corner. ``overlay`` holds the gauge's thresholds
    (``OverlayConfig.from_faults(settings.faults)``: the fault rule's own)."""
    out = np.ascontiguousarray(draw_frame(rgb, pose, contour, update.angles, hud, config=overlay))
    h, w = out.shape[:2]
    if hud.get("paused"):
        scale = max(0.5, w / 1100.0)
        text, y = "PAUSED (space to continue)", h // 2
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, 2)
        cv2.rectangle(out, (8, y - th - 6), (16 + tw, y + 6), (0, 0, 0), -1)
        cv2.putText(out, text, (12, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, (255, 220, 0), 2, cv2.LINE_AA)
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
        """Show an RGB frame."""
        cv2.imshow(WINDOW_TITLE, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def poll(self) -> int:
        """The key pressed since the last poll, or -1 (also lets the window repaint)."""
        return cv2.waitKey(1) & 0xFF

    def closed(self) -> bool:
        """Whether the user closed the window."""
        try:
            return cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        """Close the window (a window already gone is fine)."""
        try:
            cv2.destroyWindow(WINDOW_TITLE)
            cv2.waitKey(1)
        except cv2.error:
            pass
