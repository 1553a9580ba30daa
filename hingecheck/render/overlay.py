"""Annotated frames: skeleton, dorsal outline, hip-vs-lumbar gauge, rep counter, phase, fault banner, face blur.

Two layers so that batch and live draw the same picture:

- ``draw_frame(rgb, pose, contour, angles, hud, blur_box=...)`` draws from streaming state (live mode builds
  a ``HudState`` from its rep tracker; ``HeadBlur`` keeps the last known head box between frames).
- ``OverlayRenderer(result, blur_faces).draw(rgb, i)`` builds that state for decoded frame i of a finished
  ``AnalysisResult`` (annotated.mp4).

Everything is plain OpenCV on the RGB array (a few rectangles, lines and Hershey text): ~1–2 ms per 640×480
frame, so it fits in the live loop. The face blur is ``render.blur``, the text, panels and skeleton ``render.draw``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import cv2
import numpy as np

from hingecheck.core.settings import FaultConfig, settings_from_dict
from hingecheck.core.types import FrameAngles, PoseFrame
from hingecheck.render.blur import Box, blur_region, head_boxes_for_clip
from hingecheck.render.draw import (
    AMBER,
    CONTOUR,
    GREEN,
    GREY,
    RED,
    WHITE,
    draw_contour,
    draw_skeleton,
    panel,
    put_text,
    text_width,
    wrap_text,
)

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult

FAULT_TITLES = {
    "spinal_flexion_takeover": "Low back took over",
    "extension_from_low_back": "Came up with the low back",
    "lockout_hyperextension": "Leaned back at the top",
    "knee_dominant": "Turned into a squat",
}


@dataclass(frozen=True)
class OverlayConfig:
    """Gauge colours and banner timing. The lumbar thresholds are the fault rules' own ([faults] in defaults.toml:
    ``lumbar_onset_deg`` turns the gauge amber, ``lumbar_tolerance_deg`` red), so the picture and the verdict agree.
    """

    lumbar_caution_deg: float  # no defaults here: always the fault rules' own (from_faults)
    lumbar_alarm_deg: float
    fault_banner_s: float = 1.5  # long enough to read a one-line cue at normal playback speed
    gauge_min_deg: float = -20.0  # the gauge's shared scale: some arching, up to a deep hinge
    gauge_max_deg: float = 100.0

    @classmethod
    def from_faults(cls, faults: FaultConfig) -> OverlayConfig:
        """The gauge turns amber at the takeover onset and red at the takeover tolerance of these rules."""
        return cls(lumbar_caution_deg=faults.lumbar_onset_deg, lumbar_alarm_deg=faults.lumbar_tolerance_deg)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any] | None) -> OverlayConfig:
        """From a result's recorded settings (``AnalysisResult.settings``); defaults where none were recorded."""
        return cls.from_faults(settings_from_dict(values or {}).faults)


@dataclass
class HudState:
    """What the heads-up display shows besides the angles; live mode fills it from its streaming state."""

    rep_count: int = 0  # completed reps so far
    rep_index: int | None = None  # the rep in progress (None when standing between reps)
    phase: str = "stand"  # stand / descent / bottom / return
    fault_title: str | None = None  # banner headline while a fault is fresh
    fault_cue: str | None = None  # one plain sentence: what to do next rep
    calibration_message: str | None = None  # e.g. "stand still side-on: calibrating"
    lumbar_withheld: bool = False  # the video cannot support low-back verdicts: the gauge shows no lumbar value

    @classmethod
    def from_mapping(cls, hud: Mapping[str, Any]) -> HudState:
        """Live mode's HUD dict (keys reps, rep, phase, guidance, verdict, verdict_fault, cue) as a HudState."""
        fault = bool(hud.get("verdict_fault"))
        return cls(
            rep_count=int(hud.get("reps") or 0),
            rep_index=hud.get("rep"),
            phase=str(hud.get("phase") or "stand"),
            fault_title=hud.get("verdict") if fault else None,
            fault_cue=hud.get("cue") if fault else None,
            calibration_message=hud.get("guidance") or None,
        )


# ----------------------------------------------------------------------------------------------- drawing


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and math.isfinite(x)


def lumbar_colour(lumbar_deg: float | None, cfg: OverlayConfig) -> tuple[int, int, int]:
    """The gauge colour of a lumbar angle: green, amber past the onset, red past the tolerance."""
    if not _finite(lumbar_deg):
        return GREY
    if lumbar_deg >= cfg.lumbar_alarm_deg:
        return RED
    if lumbar_deg >= cfg.lumbar_caution_deg:
        return AMBER
    return GREEN


def _draw_bar(
    img: np.ndarray,
    x: int,
    y: int,
    width: int,
    height: int,
    label: str,
    value: float | None,
    colour: tuple[int, int, int],
    cfg: OverlayConfig,
    s: float,
    missing_text: str,
    thresholds: tuple[float, ...] = (),
) -> None:
    """One horizontal gauge bar on a shared degree scale, with its zero (standing) marked."""
    scale_txt = 0.5 * s
    put_text(img, label, (x, y - int(5 * s)), scale_txt, WHITE, 1)
    cv2.rectangle(img, (x, y), (x + width, y + height), (70, 70, 78), -1)
    span = cfg.gauge_max_deg - cfg.gauge_min_deg

    def to_x(deg: float) -> int:
        return x + int(round(width * (np.clip(deg, cfg.gauge_min_deg, cfg.gauge_max_deg) - cfg.gauge_min_deg) / span))

    x_zero = to_x(0.0)
    if not _finite(value):  # say so instead of a scale with nothing on it
        put_text(img, missing_text, (x + int(6 * s), y + height - int(4 * s)), 0.42 * s, (220, 220, 220), 1)
        return
    xa, xb = sorted((x_zero, to_x(value)))
    cv2.rectangle(img, (xa, y), (max(xb, xa + 1), y + height), colour, -1)
    put_text(img, f"{value:.0f}°", (x + width + int(8 * s), y + height - int(2 * s)), 0.6 * s, colour, 2)
    for tick in thresholds:
        cv2.line(img, (to_x(tick), y), (to_x(tick), y + height), (200, 200, 200), 1)
    cv2.line(img, (x_zero, y - int(3 * s)), (x_zero, y + height + int(3 * s)), WHITE, 1)


def _scale(h: int, w: int) -> float:
    return max(0.6, min(h / 480.0, w / 640.0))  # sizes are designed at 640×480; portrait frames scale by width


def hud_panel_box(h: int, w: int) -> Box:
    """Where the top-left gauge panel sits in an h×w frame (kept small: the person is usually mid-frame)."""
    s = _scale(h, w)
    return 0, 0, min(w, int(262 * s)), min(h, int(112 * s))


def draw_frame(
    rgb: np.ndarray,
    pose: PoseFrame | None,
    contour: np.ndarray | None,
    angles: FrameAngles | None,
    hud: HudState | Mapping[str, Any],
    *,
    blur: bool = False,
    blur_box: Box | None = None,
    config: OverlayConfig,
    in_place: bool = False,
) -> np.ndarray:
    """Draw one annotated frame (RGB). With ``blur=True`` the head box (``None`` = whole frame) is blurred first."""
    cfg = config
    if not isinstance(hud, HudState):
        hud = HudState.from_mapping(hud)
    img = rgb if in_place else rgb.copy()
    h, w = img.shape[:2]
    s = _scale(h, w)

    if blur:
        blur_region(img, blur_box)

    lumbar = angles.lumbar_flexion_deg if angles is not None and angles.detected else None
    if hud.lumbar_withheld:  # a value the verdicts were withheld on would contradict them
        lumbar = None
    hip = angles.hip_flexion_deg if angles is not None and angles.detected else None
    status_colour = lumbar_colour(lumbar, cfg)
    if hud.fault_title:
        status_colour = RED

    if contour is not None:
        draw_contour(img, contour, CONTOUR if status_colour in (GREEN, GREY) else status_colour, s)
    if pose is not None and pose.detected and pose.landmarks_px is not None:
        draw_skeleton(img, pose, s)

    _draw_gauge_panel(img, hud, hip, lumbar, status_colour, person=pose is not None and pose.detected, cfg=cfg, s=s)
    if hud.calibration_message:
        _draw_calibration_banner(img, hud.calibration_message, s)
    if hud.fault_title:
        _draw_fault_banner(img, hud.fault_title, hud.fault_cue or "", s)
    return img


def _draw_gauge_panel(
    img: np.ndarray,
    hud: HudState,
    hip: float | None,
    lumbar: float | None,
    lumbar_colour_: tuple[int, int, int],
    *,
    person: bool,
    cfg: OverlayConfig,
    s: float,
) -> None:
    """Top-left panel: rep counter and phase, then the hip-vs-lumbar gauge (lumbar ticks at the fault limits)."""
    h, w = img.shape[:2]
    _, _, pw, ph = hud_panel_box(h, w)
    panel(img, 0, 0, pw, ph)
    rep_txt = f"REP {hud.rep_index}" if hud.rep_index is not None else "STANDING"
    x = put_text(img, rep_txt, (int(10 * s), int(26 * s)), 0.7 * s, WHITE, 2)
    if hud.rep_index is not None:
        put_text(img, hud.phase.upper(), (x + int(12 * s), int(26 * s)), 0.55 * s, (200, 220, 255), 1)
    done = f"done: {hud.rep_count}"
    put_text(img, done, (pw - text_width(done, 0.5 * s, 1) - int(10 * s), int(24 * s)), 0.5 * s, (210, 210, 210), 1)
    bar_w, bar_h = int(170 * s), int(14 * s)
    _draw_bar(
        img, int(10 * s), int(52 * s), bar_w, bar_h, "HIP FLEXION", hip, GREEN, cfg, s,
        "not measurable" if person else "no person",
    )  # fmt: skip
    _draw_bar(
        img, int(10 * s), int(90 * s), bar_w, bar_h, "LOW BACK FLEXION", lumbar, lumbar_colour_, cfg, s,
        "not judged in this video" if hud.lumbar_withheld else "lumbar not measurable" if person else "no person",
        (cfg.lumbar_caution_deg, cfg.lumbar_alarm_deg),
    )  # fmt: skip


def _draw_calibration_banner(img: np.ndarray, msg: str, s: float) -> None:
    """Top-right: the calibration instruction (or 'standing baseline' in a recording)."""
    w = img.shape[1]
    tw = text_width(msg, 0.55 * s, 1)
    panel(img, w - tw - int(24 * s), 0, w, int(34 * s), (30, 60, 110), 0.7)
    put_text(img, msg, (w - tw - int(12 * s), int(23 * s)), 0.55 * s, WHITE, 1)


def _draw_fault_banner(img: np.ndarray, title: str, cue: str, s: float) -> None:
    """Bottom: a red banner with the fault's title and up to two lines of its cue."""
    h, w = img.shape[:2]
    scale_cue = 0.55 * s
    cue_lines = wrap_text(cue, w - int(30 * s), scale_cue, 1)[:2]
    line_h = int(24 * s)
    bh = int(40 * s) + line_h * len(cue_lines)
    panel(img, 0, h - bh, w, h, (150, 20, 20), 0.78)
    put_text(img, title.upper(), (int(14 * s), h - bh + int(30 * s)), 0.8 * s, WHITE, 2)
    for n, line in enumerate(cue_lines):
        put_text(img, line, (int(14 * s), h - bh + int(32 * s) + line_h * (n + 1)), scale_cue, WHITE, 1)


# ----------------------------------------------------------------------------------------------- offline


class OverlayRenderer:
    """Draws one frame of an analysis result; call ``draw(rgb, i)`` for decoded frame i."""

    def __init__(self, result: AnalysisResult, blur_faces: bool = False) -> None:
        from hingecheck.io.sinks import rep_phase_per_frame

        self.result = result
        self.blur_faces = blur_faces
        self.config = OverlayConfig.from_settings(result.settings)
        self._rep_no, self._phase = rep_phase_per_frame(result)
        self._head_boxes = head_boxes_for_clip(result.poses) if blur_faces else []
        self._faults = sorted((f for rep in result.reps for f in rep.faults), key=lambda f: f.time_s)
        self._rep_ends = sorted(r.end_s for r in result.reps if r.end_s is not None and not r.partial)
        cal = result.calibration or {}
        self._calibration_window = (cal.get("start_s"), cal.get("end_s"))
        # the low-back verdicts withheld for the whole clip (a turned camera, no standing zero): no lumbar gauge
        self._lumbar_withheld = "spinal_flexion_takeover" in result.verdicts_withheld

    def hud_state(self, i: int, time_s: float) -> HudState:
        """The HUD of frame ``i`` at ``time_s``: rep and phase, done count, fresh fault, baseline."""
        hud = HudState(rep_count=sum(1 for t in self._rep_ends if t <= time_s), lumbar_withheld=self._lumbar_withheld)
        if i < len(self._rep_no) and self._rep_no[i]:
            hud.rep_index, hud.phase = self._rep_no[i], self._phase[i]
        fresh = [f for f in self._faults if f.time_s <= time_s < f.time_s + self.config.fault_banner_s]
        if fresh:
            fault = fresh[-1]
            hud.fault_title = FAULT_TITLES.get(fault.code, fault.code.replace("_", " "))
            hud.fault_cue = fault.cue or fault.message
        start, end = self._calibration_window
        if start is not None and end is not None and start <= time_s <= end:
            hud.calibration_message = "standing baseline"
        return hud

    def _time_of(self, i: int) -> float:
        a = self.result.angles
        if a is not None and i < len(a):
            return float(a.time_s[i])
        if i < len(self.result.poses):
            return self.result.poses[i].time_s
        fps = self.result.video.fps if self.result.video and self.result.video.fps else 30.0
        return i / fps

    def draw(self, rgb: np.ndarray, i: int) -> np.ndarray:
        """Annotated copy of decoded frame ``i``."""
        r = self.result
        pose = r.poses[i] if i < len(r.poses) else None
        contour = r.dorsal_contours[i] if i < len(r.dorsal_contours) else None
        angles = r.angles.frame(i) if r.angles is not None and i < len(r.angles) else None
        box = None
        if self.blur_faces and self._head_boxes:
            box = self._head_boxes[min(i, len(self._head_boxes) - 1)]
        return draw_frame(
            rgb,
            pose,
            contour,
            angles,
            self.hud_state(i, self._time_of(i)),
            blur=self.blur_faces,
            blur_box=box,
            config=self.config,
        )
