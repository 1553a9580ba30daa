"""The typed values that flow through the stages (source → pose → kinematics → filter → movement → sinks).

Everything here is plain data (numpy arrays and small dataclasses); no I/O.
Angles follow ../DESIGN (docs/DESIGN.md §2): degrees, sagittal plane, relative to calibrated standing,
NaN where not measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

import numpy as np

# MediaPipe pose landmark indices used across the project.
NOSE = 0
LEFT_EAR, RIGHT_EAR = 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
LEFT_HEEL, RIGHT_HEEL = 29, 30
LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX = 31, 32
N_LANDMARKS = 33

Facing = Literal["left", "right"]


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (after rotation is applied: width/height are upright)."""

    path: str
    width: int
    height: int
    fps: float
    n_frames_hint: int  # from the container; may be 0 or wrong, never trust it for counting
    duration_s: float
    codec: str
    rotation_deg: int
    creation_time: str | None = None


@dataclass
class VideoFrame:
    index: int  # 0-based decode index
    time_s: float  # presentation time from the container
    rgb: np.ndarray  # (H, W, 3) uint8, upright


@dataclass
class PoseFrame:
    """One frame's pose for the chosen person. Arrays are None when nobody was detected."""

    index: int
    time_s: float
    width: int
    height: int
    detected: bool
    landmarks_px: np.ndarray | None = None  # (33, 2) x, y in pixels of the upright frame
    landmarks_norm: np.ndarray | None = None  # (33, 3) x, y in [0, 1], z relative depth
    visibility: np.ndarray | None = None  # (33,)
    presence: np.ndarray | None = None  # (33,)
    world: np.ndarray | None = None  # (33, 3) metres, hip-centred
    mask: np.ndarray | None = None  # (H, W) float32 in [0, 1]: the chosen person's segmentation
    n_people: int = 0  # how many people the detector saw in this frame

    def without_mask(self) -> PoseFrame:
        """A copy that does not hold the (large) mask, for keeping a whole clip in memory."""
        return PoseFrame(
            self.index,
            self.time_s,
            self.width,
            self.height,
            self.detected,
            self.landmarks_px,
            self.landmarks_norm,
            self.visibility,
            self.presence,
            self.world,
            None,
            self.n_people,
        )


@dataclass(frozen=True)
class Warning_:
    """A warning for the user: a stable ``code`` and a plain-language ``message`` (with a capture tip)."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


ANGLE_COLUMNS = (
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "pelvic_tilt_deg",
    "thoracic_flexion_deg",
    "trunk_inclination_deg",
    "knee_flexion_deg",
    "thigh_inclination_deg",
)


@dataclass
class FrameAngles:
    """One frame of angles relative to standing (NaN = not measured). The unit the movement stage streams."""

    index: int
    time_s: float
    detected: bool
    hip_flexion_deg: float = float("nan")
    lumbar_flexion_deg: float = float("nan")
    pelvic_tilt_deg: float = float("nan")
    thoracic_flexion_deg: float = float("nan")
    trunk_inclination_deg: float = float("nan")
    knee_flexion_deg: float = float("nan")
    thigh_inclination_deg: float = float("nan")
    confidence: float = 0.0  # 0..1, overall trust in this frame's hip/lumbar split


@dataclass
class AngleSeries:
    """A whole clip of angles, column-wise (each array has one entry per decoded frame)."""

    index: np.ndarray
    time_s: np.ndarray
    detected: np.ndarray  # bool
    hip_flexion_deg: np.ndarray
    lumbar_flexion_deg: np.ndarray
    pelvic_tilt_deg: np.ndarray
    thoracic_flexion_deg: np.ndarray
    trunk_inclination_deg: np.ndarray
    knee_flexion_deg: np.ndarray
    thigh_inclination_deg: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def empty(cls, index: np.ndarray, time_s: np.ndarray) -> AngleSeries:
        n = len(index)
        nan = lambda: np.full(n, np.nan)  # noqa: E731
        return cls(
            np.asarray(index),
            np.asarray(time_s, float),
            np.zeros(n, bool),
            nan(),
            nan(),
            nan(),
            nan(),
            nan(),
            nan(),
            nan(),
            np.zeros(n),
        )

    @classmethod
    def from_frames(cls, frames: list[FrameAngles]) -> AngleSeries:
        cols = {f.name: np.array([getattr(fr, f.name) for fr in frames]) for f in fields(FrameAngles)}
        if not frames:
            cols = {f.name: np.zeros(0) for f in fields(FrameAngles)}
        cols["detected"] = cols["detected"].astype(bool)
        cols["index"] = cols["index"].astype(int)
        return cls(**cols)

    def frame(self, i: int) -> FrameAngles:
        return FrameAngles(**{f.name: _scalar(getattr(self, f.name)[i]) for f in fields(FrameAngles)})

    def __iter__(self):
        return (self.frame(i) for i in range(len(self)))


def _scalar(x):
    return x.item() if isinstance(x, np.generic) else x


@dataclass
class Fault:
    """A fault found in a rep. ``code`` is one of movement.faults.FAULT_CODES (the output contract)."""

    code: str
    time_s: float
    frame: int
    message: str  # what happened, with numbers ("low back rounded 24° at 41° of hip flexion")
    cue: str  # what to do next rep, one plain sentence
    details: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "time_s": round(self.time_s, 3),
            "frame": self.frame,
            "message": self.message,
            "cue": self.cue,
            # a detail that could not be measured (e.g. the low back while leaning back) is null, never NaN
            "details": {
                k: (round(float(v), 2) if v is not None and np.isfinite(v) else None) for k, v in self.details.items()
            },
        }


@dataclass
class Rep:
    """One repetition with its measures (degrees relative to standing, seconds from the clip start)."""

    index: int  # 1-based
    start_s: float
    bottom_s: float
    end_s: float | None  # None for a rep cut off by the end of the clip
    start_frame: int
    bottom_frame: int
    end_frame: int | None
    return_start_s: float | None = None
    partial: bool = False
    peak_hip_flexion_deg: float | None = None
    peak_lumbar_flexion_deg: float | None = None
    peak_knee_flexion_deg: float | None = None
    peak_trunk_inclination_deg: float | None = None
    lumbar_share: float | None = None  # lumbar / (lumbar + pelvic tilt) at the bottom
    hinge_capacity_deg: float | None = None  # hip flexion where lumbar flexion passed tolerance
    lumbar_lead_s: float | None = None  # + = the lumbar spine started the return before the hips
    descent_s: float | None = None
    hold_s: float | None = None
    return_s: float | None = None
    faults: list[Fault] = field(default_factory=list)

    @property
    def fault_codes(self) -> list[str]:
        return [f.code for f in self.faults]

    def to_dict(self) -> dict:
        def r(x: float | None, nd: int = 2) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), nd)

        return {
            "index": self.index,
            "partial": self.partial,
            "start_s": r(self.start_s, 3),
            "bottom_s": r(self.bottom_s, 3),
            "return_start_s": r(self.return_start_s, 3),
            "end_s": r(self.end_s, 3),
            "start_frame": self.start_frame,
            "bottom_frame": self.bottom_frame,
            "end_frame": self.end_frame,
            "peak_hip_flexion_deg": r(self.peak_hip_flexion_deg),
            "peak_lumbar_flexion_deg": r(self.peak_lumbar_flexion_deg),
            "peak_knee_flexion_deg": r(self.peak_knee_flexion_deg),
            "peak_trunk_inclination_deg": r(self.peak_trunk_inclination_deg),
            "lumbar_share": r(self.lumbar_share, 3),
            "hinge_capacity_deg": r(self.hinge_capacity_deg),
            "lumbar_lead_s": r(self.lumbar_lead_s, 3),
            "descent_s": r(self.descent_s, 3),
            "hold_s": r(self.hold_s, 3),
            "return_s": r(self.return_s, 3),
            "faults": [f.to_dict() for f in self.faults],
        }
