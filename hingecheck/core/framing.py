"""Live calibration's eyes: is the whole body in view and side-on, and has the person stood still long enough?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hingecheck.core.kinematics import FrameMeasurement
from hingecheck.core.settings import LiveConfig
from hingecheck.core.types import (
    LEFT_ANKLE,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    PoseFrame,
)

# landmarks that must be in the picture for a usable side view of the whole body
BODY_LANDMARKS = (
    NOSE,
    LEFT_SHOULDER,
    RIGHT_SHOULDER,
    LEFT_HIP,
    RIGHT_HIP,
    LEFT_KNEE,
    RIGHT_KNEE,
    LEFT_ANKLE,
    RIGHT_ANKLE,
)


@dataclass
class FramingCheck:
    """Is the whole body in view and the camera side-on? ``problem`` is a short instruction, empty when fine."""

    whole_body: bool
    side_on: bool
    problem: str

    @property
    def ok(self) -> bool:
        """Whole body in view and side-on."""
        return self.whole_body and self.side_on


def check_framing(pose: PoseFrame, cfg: LiveConfig) -> FramingCheck:
    """Is this pose's whole body in view, side-on to the camera? Names what to change when not."""
    if not pose.detected or pose.landmarks_px is None:
        return FramingCheck(False, False, "step into view, side-on to the camera")
    px = pose.landmarks_px[list(BODY_LANDMARKS)]
    vis = pose.visibility[list(BODY_LANDMARKS)] if pose.visibility is not None else np.ones(len(BODY_LANDMARKS))
    mx, my = cfg.frame_margin_frac * pose.width, cfg.frame_margin_frac * pose.height
    inside = (px[:, 0] >= mx) & (px[:, 0] <= pose.width - mx) & (px[:, 1] >= my) & (px[:, 1] <= pose.height - my)
    # the far-side limbs are hidden in a side view: a landmark counts when either it or its partner is seen
    seen = vis >= cfg.min_visibility
    seen_pairs = [seen[0]] + [seen[i] or seen[i + 1] for i in range(1, len(BODY_LANDMARKS), 2)]
    whole = bool(inside.all() and all(seen_pairs))
    lm = pose.landmarks_px
    hip = 0.5 * (lm[LEFT_HIP] + lm[RIGHT_HIP])
    shoulder = 0.5 * (lm[LEFT_SHOULDER] + lm[RIGHT_SHOULDER])
    trunk_len = float(np.linalg.norm(shoulder - hip)) or 1.0
    # side-on: the two shoulders (and hips) nearly overlap left-right; face-on they sit ~0.8 trunk lengths apart
    spread = max(abs(lm[LEFT_SHOULDER, 0] - lm[RIGHT_SHOULDER, 0]), abs(lm[LEFT_HIP, 0] - lm[RIGHT_HIP, 0]))
    side_on = bool(spread / trunk_len <= cfg.side_on_max_ratio)
    if not whole:
        top, bottom = px[:, 1].min(), px[:, 1].max()
        if top < my:
            problem = "head is cut off: step back or tilt the camera up"
        elif bottom > pose.height - my:
            problem = "feet are cut off: step back or tilt the camera down"
        elif not inside.all():
            problem = "move into the middle of the picture"
        else:
            problem = "whole body must be visible: step back, light the body"
        return FramingCheck(False, side_on, problem)
    if not side_on:
        return FramingCheck(True, False, "turn side-on to the camera")
    return FramingCheck(True, True, "")


def _hip_mid(pose: PoseFrame) -> np.ndarray | None:
    if pose.landmarks_px is None:
        return None
    return 0.5 * (pose.landmarks_px[LEFT_HIP] + pose.landmarks_px[RIGHT_HIP])


def _body_height_px(pose: PoseFrame) -> float:
    lm = pose.landmarks_px
    assert lm is not None, "only detected poses have a height"
    ankle = 0.5 * (lm[LEFT_ANKLE] + lm[RIGHT_ANKLE])
    return float(np.linalg.norm(lm[NOSE] - ankle)) or 1.0


class StillnessDetector:
    """The current stretch of still, upright, well-framed standing (frame positions in the coach's buffer)."""

    def __init__(self, cfg: LiveConfig) -> None:
        self.cfg = cfg
        self.reset()

    def reset(self) -> None:
        """Forget the current stretch."""
        self.start: int | None = None  # buffer position of the stretch's first frame
        self.start_time_s = 0.0
        self.last_time_s = 0.0
        self._trunk: list[float] = []
        self._hip0: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        """Length of the current still stretch in seconds (0 when none)."""
        return 0.0 if self.start is None else self.last_time_s - self.start_time_s

    def update(self, position: int, pose: PoseFrame, m: FrameMeasurement, framing: FramingCheck) -> bool:
        """Add one frame; False when it broke the stretch (the stretch then restarts at this frame if it can)."""
        usable = framing.ok and m.detected and np.isfinite(m.trunk_deg) and abs(m.trunk_deg) <= self.cfg.upright_max_deg
        if not usable:
            broke = self.start is not None
            self.reset()
            return not broke
        hip = _hip_mid(pose)
        if self.start is not None:
            assert hip is not None and self._hip0 is not None  # usable frames are detected
            # trunk and hip centre, not the thigh: the knee landmark can jump 10–40 px between frames of a still
            # stand (a plate or a kettlebell at the knee), and a knee bend moves the hip centre (analyze's stand
            # falls back to the trunk alone for the same reason, calibration.reference_frames)
            moved = float(np.linalg.norm(hip - self._hip0)) / _body_height_px(pose)
            still_trunk = abs(m.trunk_deg - float(np.median(self._trunk))) <= self.cfg.still_tolerance_deg
            if still_trunk and moved <= self.cfg.still_shift_frac:
                self._trunk.append(m.trunk_deg)
                self.last_time_s = m.time_s
                return True
            self.reset()
            self._begin(position, pose, m)
            return False
        self._begin(position, pose, m)
        return True

    def _begin(self, position: int, pose: PoseFrame, m: FrameMeasurement) -> None:
        self.start = position
        self.start_time_s = self.last_time_s = m.time_s
        self._trunk = [m.trunk_deg]
        self._hip0 = _hip_mid(pose)


# --- the smoother and the tracker, built as analyze builds them ---
