"""Annotated frames: skeleton, dorsal outline, hip-vs-lumbar gauge, rep counter, phase, fault banner, face blur.

Two layers so that batch and live draw the same picture:

- ``draw_frame(rgb, pose, contour, angles, hud, blur_box=...)`` draws from streaming state (live mode builds
  a ``HudState`` from its rep tracker; ``HeadBlur`` keeps the last known head box between frames).
- ``OverlayRenderer(result, blur_faces).draw(rgb, i)`` builds that state for decoded frame i of a finished
  ``AnalysisResult`` (annotated.mp4).

Everything is plain OpenCV on the RGB array (a few rectangles, lines and Hershey text): ~1–2 ms per 640×480
frame, so it fits in the live loop. Hershey fonts are ASCII only, hence ``_ascii`` and the drawn degree sign.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from hingecheck.core.settings import FaultConfig, settings_from_dict
from hingecheck.core.types import (
    LEFT_EAR,
    LEFT_SHOULDER,
    RIGHT_EAR,
    RIGHT_SHOULDER,
    FrameAngles,
    PoseFrame,
)

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult

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
FACE_LANDMARKS = np.arange(0, 11)  # nose, eyes, ears, mouth

# RGB colours (frames are RGB throughout the project).
GREEN = (60, 200, 90)
AMBER = (245, 170, 30)
RED = (230, 50, 50)
GREY = (150, 150, 150)
WHITE = (255, 255, 255)
BLUE = (70, 150, 245)
CONTOUR = (0, 220, 255)
PANEL = (20, 20, 24)

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


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (pixels, exclusive end)


# ----------------------------------------------------------------------------------------------- face blur


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


# ----------------------------------------------------------------------------------------------- text helpers

_ASCII_REPLACEMENTS = {"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "×": "x", "→": "->"}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _ascii(text: str) -> str:
    """Hershey fonts draw ASCII only; keep the degree sign (drawn separately) and fold the rest."""
    for k, v in _ASCII_REPLACEMENTS.items():
        text = text.replace(k, v)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c == "°" or (ord(c) < 128 and not unicodedata.combining(c)))


def _text_width(text: str, scale: float, thickness: int) -> int:
    text = _ascii(text)
    parts = text.split("°")
    width = sum(cv2.getTextSize(p, FONT, scale, thickness)[0][0] for p in parts if p)
    return width + (len(parts) - 1) * (2 * max(2, int(round(3 * scale))) + 2)


def put_text(
    img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int], thickness: int = 1
) -> int:
    """Draw text with real degree signs; returns the x after the text."""
    x, y = org
    parts = _ascii(text).split("°")
    for n, part in enumerate(parts):
        if part:
            cv2.putText(img, part, (x, y), FONT, scale, colour, thickness, cv2.LINE_AA)
            x += cv2.getTextSize(part, FONT, scale, thickness)[0][0]
        if n < len(parts) - 1:  # a small ring, raised to cap height
            r = max(2, int(round(3 * scale)))
            cv2.circle(img, (x + r, y - int(18 * scale)), r, colour, max(1, thickness - 1), cv2.LINE_AA)
            x += 2 * r + 2
    return x


def _wrap(text: str, max_width_px: int, scale: float, thickness: int) -> list[str]:
    words, lines, line = _ascii(text).split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if line and _text_width(trial, scale, thickness) > max_width_px:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


def _panel(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour=PANEL, alpha: float = 0.62) -> None:
    """Translucent rectangle, blended only inside its region (cheap)."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    # roi·(1−α) + colour·α in uint8 with OpenCV's saturating ops (no float copy: ~10× faster than numpy here)
    cv2.add(cv2.convertScaleAbs(roi, alpha=1.0 - alpha), (*(c * alpha for c in colour), 0.0), dst=roi)


# ----------------------------------------------------------------------------------------------- drawing


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def lumbar_colour(lumbar_deg: float | None, cfg: OverlayConfig) -> tuple[int, int, int]:
    if not _finite(lumbar_deg):
        return GREY
    if lumbar_deg >= cfg.lumbar_alarm_deg:
        return RED
    if lumbar_deg >= cfg.lumbar_caution_deg:
        return AMBER
    return GREEN


def _draw_skeleton(img: np.ndarray, pose: PoseFrame, s: float) -> None:
    px = pose.landmarks_px
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


def _draw_contour(img: np.ndarray, contour: np.ndarray, colour: tuple[int, int, int], s: float) -> None:
    c = np.asarray(contour, float)
    c = c[np.all(np.isfinite(c), axis=1)]
    if len(c) < 2:
        return
    cv2.polylines(img, [np.round(c).astype(np.int32).reshape(-1, 1, 2)], False, colour, max(2, int(3 * s)), cv2.LINE_AA)


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
    hip = angles.hip_flexion_deg if angles is not None and angles.detected else None
    status_colour = lumbar_colour(lumbar, cfg)
    if hud.fault_title:
        status_colour = RED

    if contour is not None:
        _draw_contour(img, contour, CONTOUR if status_colour in (GREEN, GREY) else status_colour, s)
    if pose is not None and pose.detected and pose.landmarks_px is not None:
        _draw_skeleton(img, pose, s)

    # Top-left panel: rep counter + phase, then the hip-vs-lumbar gauge.
    _, _, pw, ph = hud_panel_box(h, w)
    _panel(img, 0, 0, pw, ph)
    rep_txt = f"REP {hud.rep_index}" if hud.rep_index is not None else "STANDING"
    x = put_text(img, rep_txt, (int(10 * s), int(26 * s)), 0.7 * s, WHITE, 2)
    if hud.rep_index is not None:
        put_text(img, hud.phase.upper(), (x + int(12 * s), int(26 * s)), 0.55 * s, (200, 220, 255), 1)
    done = f"done: {hud.rep_count}"
    put_text(img, done, (pw - _text_width(done, 0.5 * s, 1) - int(10 * s), int(24 * s)), 0.5 * s, (210, 210, 210), 1)
    bar_w, bar_h = int(170 * s), int(14 * s)
    person = pose is not None and pose.detected
    _draw_bar(
        img, int(10 * s), int(52 * s), bar_w, bar_h, "HIP FLEXION", hip, GREEN, cfg, s,
        "not measurable" if person else "no person",
    )  # fmt: skip
    _draw_bar(
        img, int(10 * s), int(90 * s), bar_w, bar_h, "LOW BACK FLEXION", lumbar, status_colour, cfg, s,
        "lumbar not measurable" if person else "no person", (cfg.lumbar_caution_deg, cfg.lumbar_alarm_deg),
    )  # fmt: skip

    if hud.calibration_message:
        msg = hud.calibration_message
        tw = _text_width(msg, 0.55 * s, 1)
        _panel(img, w - tw - int(24 * s), 0, w, int(34 * s), (30, 60, 110), 0.7)
        put_text(img, msg, (w - tw - int(12 * s), int(23 * s)), 0.55 * s, WHITE, 1)

    if hud.fault_title:
        scale_cue = 0.55 * s
        cue_lines = _wrap(hud.fault_cue or "", w - int(30 * s), scale_cue, 1)[:2]
        line_h = int(24 * s)
        bh = int(40 * s) + line_h * len(cue_lines)
        _panel(img, 0, h - bh, w, h, (150, 20, 20), 0.78)
        put_text(img, hud.fault_title.upper(), (int(14 * s), h - bh + int(30 * s)), 0.8 * s, WHITE, 2)
        for n, line in enumerate(cue_lines):
            put_text(img, line, (int(14 * s), h - bh + int(32 * s) + line_h * (n + 1)), scale_cue, WHITE, 1)
    return img


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

    def hud_state(self, i: int, time_s: float) -> HudState:
        hud = HudState(rep_count=sum(1 for t in self._rep_ends if t <= time_s))
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
