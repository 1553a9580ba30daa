"""Per-frame sagittal measurement: facing, segment inclinations from landmarks (provisional, landmark only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..types import (
    LEFT_ANKLE,
    LEFT_EAR,
    LEFT_FOOT_INDEX,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_EAR,
    RIGHT_FOOT_INDEX,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    Facing,
    PoseFrame,
)


@dataclass
class FrameMeasurement:
    """Absolute image-plane measures of one frame (before the standing baseline is subtracted).

    Inclinations are degrees from vertical, + = the segment's top (or the knee, for the thigh) moves towards
    the subject's front.
    """

    index: int
    time_s: float
    detected: bool
    facing: Facing | None = None
    trunk_deg: float = float("nan")  # hip-mid → shoulder-mid line
    thigh_deg: float = float("nan")  # hip → knee, + = knee forward of hip
    shank_deg: float = float("nan")  # ankle → knee, + = knee forward of ankle
    pelvis_deg: float = float("nan")  # pelvis orientation from the dorsal outline
    lumbar_deg: float = float("nan")  # thoracolumbar outline orientation
    thorax_deg: float = float("nan")  # upper back outline orientation
    dorsal_contour: np.ndarray | None = None  # (K, 2) pixel points of the back's outline, for overlays
    confidence: float = 0.0  # 0..1, trust in the hip/lumbar split for this frame
    quality: dict[str, float] = field(default_factory=dict)


def _mid(px: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (px[a] + px[b])


def _inclination_deg(bottom: np.ndarray, top: np.ndarray, forward_sign: float) -> float:
    """Angle of bottom→top from image vertical (up), + towards the subject's front."""
    dx, dy = top[0] - bottom[0], bottom[1] - top[1]
    return float(np.degrees(np.arctan2(forward_sign * dx, dy)))


def facing_vote(pose: PoseFrame) -> float:
    """+1 facing right, −1 facing left (image); toes point forward of heels, nose forward of ears."""
    px = pose.landmarks_px
    if px is None:
        return 0.0
    toe = np.sign(_mid(px, LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX)[0] - _mid(px, LEFT_HEEL, RIGHT_HEEL)[0])
    nose = np.sign(px[NOSE][0] - _mid(px, LEFT_EAR, RIGHT_EAR)[0])
    return float(toe + nose)


class SagittalMeasurer:
    """Streaming measurer. Facing is decided by a running vote, so it settles within the first frames."""

    def __init__(self, facing: Facing | None = None) -> None:
        self._fixed_facing = facing
        self._votes = 0.0

    @property
    def facing(self) -> Facing | None:
        if self._fixed_facing:
            return self._fixed_facing
        if self._votes == 0:
            return None
        return "right" if self._votes > 0 else "left"

    def measure(self, pose: PoseFrame) -> FrameMeasurement:
        if not pose.detected or pose.landmarks_px is None:
            return FrameMeasurement(pose.index, pose.time_s, False, self.facing)
        self._votes += facing_vote(pose)
        facing = self.facing or "right"
        sign = 1.0 if facing == "right" else -1.0
        px = pose.landmarks_px
        hip = _mid(px, LEFT_HIP, RIGHT_HIP)
        shoulder = _mid(px, LEFT_SHOULDER, RIGHT_SHOULDER)
        knee = _mid(px, LEFT_KNEE, RIGHT_KNEE)
        ankle = _mid(px, LEFT_ANKLE, RIGHT_ANKLE)
        trunk = _inclination_deg(hip, shoulder, sign)
        # thigh: + when the knee is forward of the hip, i.e. hip→knee rotated; measure knee relative to hip
        thigh = _inclination_deg(knee, hip, -sign)
        shank = _inclination_deg(ankle, knee, sign)
        vis = pose.visibility if pose.visibility is not None else np.zeros(33)
        conf = float(np.mean(vis[[LEFT_HIP, RIGHT_HIP, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_KNEE, RIGHT_KNEE]]))
        return FrameMeasurement(
            pose.index,
            pose.time_s,
            True,
            facing,
            trunk_deg=trunk,
            thigh_deg=thigh,
            shank_deg=shank,
            confidence=conf * 0.0,  # provisional: no silhouette split yet, so no trust in lumbar values
        )
