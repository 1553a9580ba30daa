"""The typed values that flow through the stages (source → pose → kinematics → filter → movement → sinks).

Everything here is plain data (numpy arrays and small dataclasses); no I/O.
Angles follow ../DESIGN (docs/DESIGN.md §2): degrees, sagittal plane, relative to calibrated standing,
NaN where not measured.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

import numpy as np


def measure(default: Any = MISSING, *, digits: int | None = 2, doc: str = "") -> Any:
    """A record field: its default, the decimals it is written with (None: as is) and what it means.

    Records (``FrameAngles``, ``Rep``, ``Fault``) declare their fields once; frames.csv, reps.csv,
    summary.json and the SQLite columns follow from the declaration (``record_columns``).
    """
    metadata = {"digits": digits, "doc": doc}
    return field(metadata=metadata) if default is MISSING else field(default=default, metadata=metadata)


def rounded(value: Any, digits: int | None) -> Any:
    """A value as written out: floats rounded (NaN and inf become None), everything else unchanged."""
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else (float(value) if digits is None else round(float(value), digits))
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def record_columns(cls: type) -> tuple[str, ...]:
    """The scalar fields of a record, in declaration order (lists and dicts are written separately)."""
    return tuple(f.name for f in fields(cls) if f.default_factory is MISSING)


def record_dict(record: Any) -> dict[str, Any]:
    """A record's declared fields as JSON-ready values (nested records through their own ``to_dict``)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, list):
            out[f.name] = [v.to_dict() for v in value]
        elif isinstance(value, dict):
            out[f.name] = {k: rounded(v, f.metadata.get("digits", 2)) for k, v in value.items()}
        else:
            out[f.name] = rounded(value, f.metadata.get("digits", 2))
    return out


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
    """One decoded frame: its index, presentation time and upright RGB pixels."""

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
        """summary.json's warning object."""
        return {"code": self.code, "message": self.message}


@dataclass
class FrameAngles:
    """One frame of angles relative to standing (NaN = not measured). The unit the movement stage streams.

    Its fields are frames.csv's columns, in this order (``index`` is written as ``frame``), then ``rep``/``phase``.
    """

    index: int = measure(doc="0-based decode index")
    time_s: float = measure(digits=4, doc="presentation time from the container")
    detected: bool = measure(doc="a person was found in this frame")
    hip_flexion_deg: float = measure(float("nan"), doc="pelvis relative to thigh, + flexion")
    lumbar_flexion_deg: float = measure(float("nan"), doc="thoracolumbar region relative to the pelvis, + rounding")
    pelvic_tilt_deg: float = measure(float("nan"), doc="pelvis rotation in space, + anterior")
    thoracic_flexion_deg: float = measure(float("nan"), doc="upper back relative to the thoracolumbar region")
    trunk_inclination_deg: float = measure(float("nan"), doc="hip-shoulder line vs standing, + forward")
    knee_flexion_deg: float = measure(float("nan"), doc="shank relative to thigh, + flexion")
    thigh_inclination_deg: float = measure(float("nan"), doc="thigh in space, + knee forward of the hip")
    confidence: float = measure(0.0, digits=3, doc="0..1, overall trust in this frame's hip/lumbar split")
    outline_hip_flexion_deg: float = measure(
        float("nan"), doc="hip flexion as the outline fit reads it: its changes time extension_from_low_back"
    )
    outline_lumbar_flexion_deg: float = measure(
        float("nan"), doc="lumbar flexion as the outline fit reads it (who moved first at the return's start)"
    )
    lumbar_change_deg: float = measure(
        float("nan"), doc="learned change of lumbar flexion over the last 0.4 s (who moved first, with the hip's)"
    )
    hip_change_deg: float = measure(float("nan"), doc="learned change of hip flexion over the last 0.4 s")
    hip_uncertainty_deg: float = measure(
        float("nan"), doc="half-width of the 90 % interval of hip flexion (learned reading; empty: hand-made)"
    )
    lumbar_uncertainty_deg: float = measure(
        float("nan"), doc="half-width of the 90 % interval of lumbar flexion (above the bound, lumbar is left empty)"
    )


# the angle columns of frames.csv, the filters and the movement stage: FrameAngles' angles, in its order
ANGLE_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(FrameAngles) if f.name.endswith("_deg") and not f.name.endswith("_uncertainty_deg")
)
# the learned reading's stated uncertainties (degrees): smoothed with the angles, not angles themselves
UNCERTAINTY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FrameAngles) if f.name.endswith("_uncertainty_deg"))


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
    outline_hip_flexion_deg: np.ndarray
    outline_lumbar_flexion_deg: np.ndarray
    lumbar_change_deg: np.ndarray
    hip_change_deg: np.ndarray
    hip_uncertainty_deg: np.ndarray
    lumbar_uncertainty_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    @classmethod
    def empty(cls, index: np.ndarray, time_s: np.ndarray) -> AngleSeries:
        """A series of ``len(index)`` frames with nothing measured (angles NaN, not detected)."""
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
            nan(),
            nan(),
            nan(),
            nan(),
            nan(),
            nan(),
        )

    @classmethod
    def from_frames(cls, frames: list[FrameAngles]) -> AngleSeries:
        """Column-wise series from per-frame angles."""
        cols = {f.name: np.array([getattr(fr, f.name) for fr in frames]) for f in fields(FrameAngles)}
        if not frames:
            cols = {f.name: np.zeros(0) for f in fields(FrameAngles)}
        cols["detected"] = cols["detected"].astype(bool)
        cols["index"] = cols["index"].astype(int)
        return cls(**cols)

    def frame(self, i: int) -> FrameAngles:
        """Frame ``i`` as a FrameAngles."""
        return FrameAngles(**{f.name: _scalar(getattr(self, f.name)[i]) for f in fields(FrameAngles)})

    def __iter__(self):
        return (self.frame(i) for i in range(len(self)))


# AngleSeries is FrameAngles column-wise: the same fields in the same order, or import fails here
if [f.name for f in fields(AngleSeries)] != [f.name for f in fields(FrameAngles)]:
    raise TypeError("AngleSeries must declare FrameAngles' fields, in the same order")


def _scalar(x):
    return x.item() if isinstance(x, np.generic) else x


@dataclass
class Fault:
    """A fault found in a rep. ``code`` is one of movement.faults.FAULT_CODES (the output contract)."""

    code: str = measure(doc="fault code (movement.faults.FAULT_CODES)")
    time_s: float = measure(digits=3, doc="when it was found, seconds from the start of the clip")
    frame: int = measure(doc="the frame it was found at")
    message: str = measure(doc='what happened, with numbers ("low back rounded 24° at 41° of hip flexion")')
    cue: str = measure(doc="what to do next rep, one plain sentence")
    # a detail that could not be measured (e.g. the low back while leaning back) is null, never NaN
    details: dict[str, float | None] = field(default_factory=dict, metadata={"digits": 2, "doc": "the numbers"})

    def to_dict(self) -> dict[str, Any]:
        """summary.json's fault object."""
        return record_dict(self)


@dataclass
class Rep:
    """One repetition with its measures (degrees relative to standing, seconds from the clip start)."""

    index: int = measure(doc="1-based rep number")
    start_s: float = measure(digits=3, doc="descent begins")
    bottom_s: float = measure(digits=3, doc="deepest point")
    end_s: float | None = measure(digits=3, doc="back at standing; empty for a rep cut off by the end of the clip")
    start_frame: int = measure(doc="frame of start_s")
    bottom_frame: int = measure(doc="frame of bottom_s")
    end_frame: int | None = measure(doc="frame of end_s")
    return_start_s: float | None = measure(None, digits=3, doc="the return begins")
    partial: bool = measure(False, doc="cut off by the clip's start or end, or by a gap in the measurements")
    peak_hip_flexion_deg: float | None = measure(None, doc="most hip flexion in the rep")
    peak_lumbar_flexion_deg: float | None = measure(None, doc="most lumbar flexion in the rep")
    peak_knee_flexion_deg: float | None = measure(None, doc="most knee flexion in the rep")
    peak_trunk_inclination_deg: float | None = measure(None, doc="most forward lean of the hip-shoulder line")
    lumbar_share: float | None = measure(None, digits=3, doc="lumbar / (lumbar + pelvic tilt) at the bottom")
    hinge_capacity_deg: float | None = measure(None, doc="hip flexion where lumbar flexion passed tolerance")
    lumbar_lead_s: float | None = measure(None, digits=3, doc="+ = the lumbar spine started the return before the hips")
    descent_s: float | None = measure(None, digits=3, doc="duration of the descent")
    hold_s: float | None = measure(None, digits=3, doc="duration of the hold at the bottom")
    return_s: float | None = measure(None, digits=3, doc="duration of the return")
    start_position: str = measure("standing", doc="standing (down, then up) or bottom (pull first, then lower)")
    lumbar_range_share: float | None = measure(
        None, digits=3, doc="peak lumbar flexion as a share of the person's own range (range test); empty without"
    )
    faults: list[Fault] = field(default_factory=list, metadata={"digits": "nested", "doc": "faults found"})

    @property
    def fault_codes(self) -> list[str]:
        """The codes of this rep's faults, in the order found."""
        return [f.code for f in self.faults]

    def to_dict(self) -> dict[str, Any]:
        """summary.json's rep object: every declared field, rounded as declared."""
        return record_dict(self)
