"""Per-frame sagittal measurement: facing, segment inclinations from landmarks, and the hip/lumbar split
from the dorsal outline of the segmentation mask (DESIGN §3).

All inclinations are absolute image-plane angles from vertical in degrees, + = the segment's top moves
towards the subject's front (for the thigh: + = the knee moves forward of the hip). The standing baseline is
subtracted later (calibration.py), so constant offsets of the outline (skin, buttocks, lordosis) cancel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hingecheck.core.kinematics.contour import LineFit, dorsal_points, fit_line
from hingecheck.core.kinematics.crop import CropTransform, crop_transform, mask_crop
from hingecheck.core.types import (
    LEFT_ANKLE,
    LEFT_EAR,
    LEFT_ELBOW,
    LEFT_FOOT_INDEX,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    LEFT_WRIST,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_EAR,
    RIGHT_ELBOW,
    RIGHT_FOOT_INDEX,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    RIGHT_WRIST,
    Facing,
    PoseFrame,
)

# Geometry of the outline windows, in trunk lengths L (hip-mid → shoulder-mid). Sources: the rendered
# devset skeleton (README: hip joints 0.53 of stature, lumbar_low 0.58, lumbar_high 0.62, thoracolumbar
# 0.66, shoulders 0.80, so L ≈ 0.27 stature) and a sweep of windows on the devset outlines (the
# thoracolumbar window tracks pelvis + lumbar within ~2° RMSE; chosen as a broad optimum, not per clip).
CONTOUR_STATIONS_L = (-0.30, 1.00, 0.025)  # start, stop, step of the stations drawn as the dorsal contour
PELVIS_WINDOW_L = (-0.05, 0.20)  # along the pelvis's own axis from the hip joint (anatomically anchored)
PELVIS_ANCHOR_ITERATIONS = 3  # fixed-point passes: the window's axis is the outline direction it measures
PELVIS_STATIONS = 11
THORACOLUMBAR_WINDOW_L = (0.42, 0.68)  # along the hip→shoulder axis
THORAX_WINDOW_L = (0.72, 0.95)
MARCH_MAX_L = 0.8  # how far towards the back to look for the edge
# Arm gate (DESIGN §3): share of window outline points within this distance of an arm's centre line
# (shoulder→elbow→wrist). The arm is ~0.2 L thick, so its own edge lies ~0.1 L from its centre line; on the
# devset the back edge is ≥ 0.15 L from the arms except where the arm hangs behind the back (camera turned
# towards the subject's front).
ARM_NEAR_L = 0.12
ARM_GATE_SHARE = 0.5  # above this share the outline there is probably the arm, not the back
# Fit residuals above this (in L) mean the window is not a clean skin line (clothing fold, hand, noise).
FIT_RMS_MAX_L = 0.03
# Landmarks that must be inside the image for the analysis (shoulders, hips, knees, ankles).
BODY_LANDMARKS = [LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP, LEFT_KNEE, RIGHT_KNEE, LEFT_ANKLE, RIGHT_ANKLE]
# A side view of a hinge keeps the trunk between leaning back a little and bent past horizontal, and the knee
# never far behind the hip. MediaPipe, shown a body cut by the frame's edge (a close gym camera at lockout, head
# and shoulders out of view), can return a person lying on their side (YFGD: trunk −88°, thigh −112°); such a
# frame is no posture of this person and is taken as "no person found" (quality "implausible_pose" says why).
PLAUSIBLE_TRUNK_DEG = (-45.0, 135.0)
PLAUSIBLE_THIGH_MIN_DEG = -60.0
# Frames whose split confidence is below this leave lumbar and pelvic tilt unmeasured (calibration.py).
MIN_SPLIT_CONFIDENCE = 0.4


@dataclass(frozen=True)
class TrunkOutline:
    """The back's outline in the trunk's frame (unit: the trunk length L; NaN where no edge was found)."""

    contour: np.ndarray  # (stations,) offset from the hip→shoulder axis towards the back at CONTOUR_STATIONS_L
    pelvis_window: np.ndarray  # (PELVIS_STATIONS, 2) the pelvis window's points: (along the axis, towards the back)


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
    pelvis_deg: float = float("nan")  # pelvis orientation from the dorsal outline (sacral window)
    lumbar_deg: float = float("nan")  # thoracolumbar outline orientation (= pelvis + lumbar flexion + const)
    thorax_deg: float = float("nan")  # upper back outline orientation
    dorsal_contour: np.ndarray | None = None  # (K, 2) pixel points of the back's outline, for overlays
    confidence: float = 0.0  # 0..1, trust in the hip/lumbar split for this frame
    quality: dict[str, float] = field(default_factory=dict)
    trunk_length_px: float = float("nan")
    pelvis_window: np.ndarray | None = None  # (N, 2) outline points the pelvis line was fitted to
    thoracolumbar_window: np.ndarray | None = None  # (N, 2) outline points of the thoracolumbar fit
    outline_l: TrunkOutline | None = None  # the outline in the trunk's frame (the learned reading's input)
    landmarks_l: np.ndarray | None = None  # (33, 2) landmarks in the trunk's frame (lumbopelvic.py)
    landmark_visibilities: np.ndarray | None = None  # (33,) MediaPipe's visibility of each landmark
    crop: np.ndarray | None = None  # (64, 64) uint8 mask crop around the trunk (crop.py; the learned reading's CNN)
    crop_xform: CropTransform | None = None  # where that crop sits in the image

    @property
    def split_ok(self) -> bool:
        """True when the outline-based values (pelvis, lumbar) are trustworthy enough to report."""
        return self.confidence >= MIN_SPLIT_CONFIDENCE and np.isfinite(self.pelvis_deg)


def _mid(px: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (px[a] + px[b])


def inclination_deg(direction: np.ndarray, forward_sign: float) -> float:
    """Angle of an upward direction vector (image x right, y down) from vertical, + towards the front."""
    return float(np.degrees(np.arctan2(forward_sign * direction[0], -direction[1])))


def _inclination_deg(bottom: np.ndarray, top: np.ndarray, forward_sign: float) -> float:
    return inclination_deg(top - bottom, forward_sign)


def landmarks_in_trunk_frame(px: np.ndarray, facing_sign: np.ndarray) -> np.ndarray:
    """Landmarks (..., 33, 2 image px) in the trunk's frame: origin hip-mid, unit the trunk length, (along the
    hip→shoulder axis, towards the subject's front). ``facing_sign`` +1 faces image-right, −1 left."""
    hip = 0.5 * (px[..., LEFT_HIP, :] + px[..., RIGHT_HIP, :])
    axis = 0.5 * (px[..., LEFT_SHOULDER, :] + px[..., RIGHT_SHOULDER, :]) - hip
    length = np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-6)
    up = axis / length
    fwd = np.stack([-up[..., 1], up[..., 0]], -1) * np.asarray(facing_sign, float)[..., None]
    rel = (px - hip[..., None, :]) / length[..., None, :]
    return np.stack([np.einsum("...kc,...c->...k", rel, up), np.einsum("...kc,...c->...k", rel, fwd)], -1)


def facing_vote(pose: PoseFrame) -> float:
    """+ facing right, − facing left (image); toes point forward of heels, nose forward of ears."""
    px = pose.landmarks_px
    if px is None:
        return 0.0
    toe = np.sign(_mid(px, LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX)[0] - _mid(px, LEFT_HEEL, RIGHT_HEEL)[0])
    nose = np.sign(px[NOSE][0] - _mid(px, LEFT_EAR, RIGHT_EAR)[0])
    return float(toe + nose)


def dorsal_unit(axis_unit: np.ndarray, forward_sign: float) -> np.ndarray:
    """Unit normal of an upward axis that points to the subject's back (image coordinates)."""
    return -forward_sign * np.array([-axis_unit[1], axis_unit[0]])


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def arm_share(points: np.ndarray, px: np.ndarray, trunk_length_px: float) -> float:
    """Share of outline points within ARM_NEAR_L of either arm (shoulder→elbow→wrist) in the image."""
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    near = np.zeros(len(pts), bool)
    for s, e, w in ((LEFT_SHOULDER, LEFT_ELBOW, LEFT_WRIST), (RIGHT_SHOULDER, RIGHT_ELBOW, RIGHT_WRIST)):
        d = np.minimum(_segment_distance(pts, px[s], px[e]), _segment_distance(pts, px[e], px[w]))
        near |= d < ARM_NEAR_L * trunk_length_px
    return float(near.mean())


def fit_pelvis_window(
    mask: np.ndarray, hip: np.ndarray, start_axis: np.ndarray, trunk_length_px: float, forward_sign: float
) -> tuple[LineFit | None, np.ndarray]:
    """Line of the sacral outline, with stations anchored to the pelvis itself rather than the trunk axis.

    The stations hang on a line through the hip joint along the direction the outline itself has there
    (fixed point, a few passes). A rigid pelvis rotation about the hip then moves the stations with the
    same skin, which trunk-axis stations do not: they slide onto lumbar skin as the spine flexes (DESIGN §3).
    """
    axis = start_axis
    stations = np.linspace(*PELVIS_WINDOW_L, PELVIS_STATIONS) * trunk_length_px
    fit: LineFit | None = None
    points = np.full((PELVIS_STATIONS, 2), np.nan)
    for _ in range(PELVIS_ANCHOR_ITERATIONS):
        points = dorsal_points(
            mask, hip, axis, dorsal_unit(axis, forward_sign), stations, MARCH_MAX_L * trunk_length_px
        )
        new_fit = fit_line(points, axis)
        if new_fit is None:
            return None, points
        fit = new_fit
        axis = fit.direction
    return fit, points


class SagittalMeasurer:
    """Streaming measurer (no look-ahead). Facing is decided by a running vote, so it settles within frames."""

    def __init__(self, facing: Facing | None = None, with_crop: bool = True) -> None:
        """``with_crop``: also cut the trunk's mask crop (FrameMeasurement.crop) for the learned reading."""
        self._fixed_facing = facing
        self._with_crop = with_crop
        self._votes = 0.0

    def new_shot(self) -> None:
        """Forget the facing vote: after a cut in an edited clip the person may face the other way."""
        self._votes = 0.0

    @property
    def facing(self) -> Facing | None:
        """Which way the person faces (left / right), once known; None before."""
        if self._fixed_facing:
            return self._fixed_facing
        if self._votes == 0:
            return None
        return "right" if self._votes > 0 else "left"

    def measure(self, pose: PoseFrame, brightness: float | None = None) -> FrameMeasurement:
        """Measure one frame. ``brightness`` (mean luma 0..255 of the frame), when given, feeds the quality."""
        if not pose.detected or pose.landmarks_px is None:
            return FrameMeasurement(pose.index, pose.time_s, False, self.facing)
        vote = facing_vote(pose)
        self._votes += vote
        facing = self.facing or "right"
        sign = 1.0 if facing == "right" else -1.0
        px = pose.landmarks_px
        hip = _mid(px, LEFT_HIP, RIGHT_HIP)
        shoulder = _mid(px, LEFT_SHOULDER, RIGHT_SHOULDER)
        knee = _mid(px, LEFT_KNEE, RIGHT_KNEE)
        ankle = _mid(px, LEFT_ANKLE, RIGHT_ANKLE)
        trunk_vec = shoulder - hip
        trunk_length = float(np.linalg.norm(trunk_vec))
        m = FrameMeasurement(
            pose.index,
            pose.time_s,
            True,
            facing,
            trunk_deg=_inclination_deg(hip, shoulder, sign),
            thigh_deg=_inclination_deg(knee, hip, -sign),
            shank_deg=_inclination_deg(ankle, knee, sign),
            trunk_length_px=trunk_length,
        )
        lo, hi = PLAUSIBLE_TRUNK_DEG
        if not (lo <= m.trunk_deg <= hi) or m.thigh_deg < PLAUSIBLE_THIGH_MIN_DEG:
            self._votes -= vote  # nor does it say which way the person faces
            return FrameMeasurement(pose.index, pose.time_s, False, self.facing, quality={"implausible_pose": 1.0})
        vis = pose.visibility if pose.visibility is not None else np.zeros(len(px))
        landmark_vis = float(np.mean(vis[[LEFT_HIP, RIGHT_HIP, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_KNEE, RIGHT_KNEE]]))
        m.quality["landmark_visibility"] = landmark_vis
        # A hand raised above a shoulder (a start signal, a wave) is not standing: it lifts the shoulder and
        # bends the outline of the back (TBY66: 52–90 % of such "stands", ≤ 0.9 % of other frames)
        hands = px[[LEFT_WRIST, RIGHT_WRIST, LEFT_ELBOW, RIGHT_ELBOW], 1]
        m.quality["arm_raised"] = float(np.min(hands) < min(px[LEFT_SHOULDER, 1], px[RIGHT_SHOULDER, 1]))
        # How far from side-on: in a side view the two shoulders (hips) overlap; their image separation
        # grows with yaw (shoulder breadth ≈ 0.9 L). view.py turns this into a yaw estimate.
        m.quality["shoulder_width_l"] = float(abs(px[LEFT_SHOULDER, 0] - px[RIGHT_SHOULDER, 0])) / max(
            trunk_length, 1e-9
        )
        m.quality["hip_width_l"] = float(abs(px[LEFT_HIP, 0] - px[RIGHT_HIP, 0])) / max(trunk_length, 1e-9)
        inside = (px[:, 0] >= 0) & (px[:, 0] < pose.width) & (px[:, 1] >= 0) & (px[:, 1] < pose.height)
        m.quality["body_in_frame"] = float(inside[BODY_LANDMARKS].mean())
        if trunk_length >= 8.0:
            m.landmarks_l = landmarks_in_trunk_frame(px, np.array(sign))
            m.landmark_visibilities = np.asarray(vis, float)
        if brightness is not None:
            m.quality["brightness"] = float(brightness)
        if pose.mask is None or trunk_length < 8.0:
            return m
        if self._with_crop:
            m.crop_xform = crop_transform(hip, shoulder, sign)
            if m.crop_xform is not None:
                m.crop = mask_crop(pose.mask, m.crop_xform)
        self._measure_outline(m, pose.mask, px, hip, trunk_vec / trunk_length, trunk_length, sign)
        return m

    def _measure_outline(
        self,
        m: FrameMeasurement,
        mask: np.ndarray,
        px: np.ndarray,
        hip: np.ndarray,
        trunk_unit: np.ndarray,
        trunk_length: float,
        sign: float,
    ) -> None:
        back = dorsal_unit(trunk_unit, sign)
        reach = MARCH_MAX_L * trunk_length
        start, stop, step = CONTOUR_STATIONS_L
        fractions = np.arange(start, stop + 1e-9, step)
        contour = dorsal_points(mask, hip, trunk_unit, back, fractions * trunk_length, reach)
        m.dorsal_contour = contour[np.isfinite(contour).all(axis=1)]

        def window_fit(window: tuple[float, float]) -> tuple[LineFit | None, np.ndarray]:
            sel = (fractions >= window[0] - 1e-9) & (fractions <= window[1] + 1e-9)
            return fit_line(contour[sel], trunk_unit), contour[sel]

        lumbar_fit, lumbar_pts = window_fit(THORACOLUMBAR_WINDOW_L)
        thorax_fit, _ = window_fit(THORAX_WINDOW_L)
        pelvis_fit, pelvis_pts = fit_pelvis_window(mask, hip, trunk_unit, trunk_length, sign)
        m.pelvis_window = pelvis_pts[np.isfinite(pelvis_pts).all(axis=1)]
        m.outline_l = TrunkOutline(
            ((contour - hip) @ back) / trunk_length,
            np.stack([(pelvis_pts - hip) @ trunk_unit, (pelvis_pts - hip) @ back], 1) / trunk_length,
        )
        m.thoracolumbar_window = lumbar_pts[np.isfinite(lumbar_pts).all(axis=1)]
        if lumbar_fit is not None:
            m.lumbar_deg = inclination_deg(lumbar_fit.direction, sign)
        if thorax_fit is not None:
            m.thorax_deg = inclination_deg(thorax_fit.direction, sign)
        if pelvis_fit is not None:
            m.pelvis_deg = inclination_deg(pelvis_fit.direction, sign)

        # Confidence: product of independent reasons for doubt, each 1 when all is well.
        arm = arm_share(np.concatenate([pelvis_pts, lumbar_pts]), px, trunk_length)
        pelvis_cover = (pelvis_fit.n_points / PELVIS_STATIONS) if pelvis_fit else 0.0
        lumbar_cover = (lumbar_fit.n_points / max(len(lumbar_pts), 1)) if lumbar_fit else 0.0
        rms_l = max(
            pelvis_fit.rms_residual_px if pelvis_fit else np.inf,
            lumbar_fit.rms_residual_px if lumbar_fit else np.inf,
        ) / max(trunk_length, 1e-9)
        fit_quality = float(np.clip(1.5 - rms_l / FIT_RMS_MAX_L, 0.0, 1.0))
        arm_quality = 1.0 - 0.5 * arm  # detected and flagged; the clip-level warning tells how to film
        vis_quality = float(np.clip((m.quality["landmark_visibility"] - 0.3) / 0.4, 0.0, 1.0))
        m.quality.update(
            arm_share=arm,
            fit_rms_l=float(rms_l),
            pelvis_coverage=pelvis_cover,
            lumbar_coverage=lumbar_cover,
        )
        m.confidence = float(vis_quality * fit_quality * arm_quality * min(pelvis_cover, lumbar_cover))
