"""Clip-level view checks: is this a usable side view of one whole person? Stable codes, plain messages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hingecheck.core.kinematics.sagittal import ARM_GATE_SHARE, FIT_RMS_MAX_L, MIN_SPLIT_CONFIDENCE, FrameMeasurement
from hingecheck.core.settings import QualityConfig
from hingecheck.core.types import PoseFrame, Warning_

# Shoulder breadth in trunk lengths (hip-mid → shoulder-mid): ≈ 0.9 for adults (biacromial ≈ 0.23 of
# stature, L ≈ 0.27 of stature). Image separation of the shoulders = breadth · sin(yaw).
SHOULDER_BREADTH_L = 0.9


def estimate_yaw_deg(measurements: Sequence[FrameMeasurement]) -> float:
    """Unsigned yaw away from a pure side view, from the image separation of the shoulders when upright."""
    trunk = np.array([m.trunk_deg for m in measurements if m.detected], float)
    widths = np.array([m.quality.get("shoulder_width_l", np.nan) for m in measurements if m.detected], float)
    ok = np.isfinite(trunk) & np.isfinite(widths)
    if not ok.any():
        return float("nan")
    upright = ok & (trunk < np.nanpercentile(trunk[ok], 10) + 5.0)  # the hinge itself turns the shoulder line
    ratio = float(np.median(widths[upright])) / SHOULDER_BREADTH_L
    return float(np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0))))


def _share(measurements: Sequence[FrameMeasurement], test) -> float:
    detected = [m for m in measurements if m.detected]
    return float(np.mean([bool(test(m)) for m in detected])) if detected else 0.0


def assess_view(
    measurements: Sequence[FrameMeasurement], poses: Sequence[PoseFrame], cfg: QualityConfig | None = None
) -> list[Warning_]:
    """Clip-level view warnings: several people, a turned camera, body parts out of view, and so on ([quality]
    thresholds)."""
    cfg = cfg or QualityConfig()
    warnings: list[Warning_] = []
    if poses:
        multi = np.mean([p.n_people > 1 for p in poses])
        if multi > cfg.multiple_people_share:
            warnings.append(
                Warning_(
                    "multiple_people",
                    f"More than one person was in view in {multi:.0%} of the "
                    "frames; the largest, steadiest person was analysed. Film the lifter alone.",
                )
            )
    if not any(m.detected for m in measurements):
        return warnings
    yaw = estimate_yaw_deg(measurements)
    if np.isfinite(yaw) and yaw > cfg.not_side_on_yaw_deg:
        warnings.append(
            Warning_(
                "not_side_on",
                f"The camera looks about {yaw:.0f}° away from a side view, so the outline of the back is partly "
                "the arm or the far side of the body. Place the camera square to the side, at hip height.",
            )
        )
    out = _share(measurements, lambda m: m.quality.get("body_in_frame", 1.0) < 1.0)
    if out > cfg.out_of_frame_share:
        warnings.append(
            Warning_(
                "partly_out_of_frame",
                f"Part of the body (shoulders to ankles) was outside the picture in {out:.0%} of the frames. "
                "Step back or zoom out so the whole body stays in view through the deepest rep.",
            )
        )
    arm = _share(measurements, lambda m: m.quality.get("arm_share", 0.0) > ARM_GATE_SHARE)
    if arm > cfg.arm_hides_back_share:
        warnings.append(
            Warning_(
                "arm_hides_back",
                f"In {arm:.0%} of the frames an arm forms the outline of the low back, so low-back readings are "
                "less certain. Cross the arms on the chest or hold a bar in front, and film square to the side.",
            )
        )
    rough = _share(measurements, lambda m: m.quality.get("fit_rms_l", 0.0) > FIT_RMS_MAX_L)
    untrusted = _share(measurements, lambda m: m.confidence < MIN_SPLIT_CONFIDENCE)
    if rough > cfg.outline_unreliable_share or untrusted > cfg.outline_unreliable_share:
        warnings.append(
            Warning_(
                "outline_unreliable",
                f"The outline of the back was unclear in {max(rough, untrusted):.0%} of the frames, so hip and "
                "low back could not always be told apart. Wear a fitted top, use a plain background and good light.",
            )
        )
    # "too dark" is judged on whole frames by the pipeline (pipeline.capture_warnings), for analyze and live alike
    return warnings
