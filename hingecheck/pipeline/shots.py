"""Per shot: its standing reference, reps (with the exercise) and what it can support (quality)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hingecheck.core import picture, quality
from hingecheck.core.kinematics import Calibration, FrameMeasurement
from hingecheck.core.kinematics.lumbopelvic import uncertainty_warning
from hingecheck.core.kinematics.view import estimate_yaw_deg
from hingecheck.core.movement.exercise import ExerciseChoice, choose_exercise
from hingecheck.core.movement.faults import FAULT_CODES
from hingecheck.core.movement.unseen_top import unseen_top_reps
from hingecheck.core.settings import QualityConfig, Settings
from hingecheck.core.types import (
    LEFT_SHOULDER,
    RIGHT_SHOULDER,
    AngleSeries,
    PoseFrame,
    Rep,
    Warning_,
)
from hingecheck.pipeline.measure import Measured, angles_from, finite_or_none
from hingecheck.result import AnalysisResult


@dataclass
class Shot:
    """One shot of a clip (the whole clip when it has no cut): its frames, standing reference, angles and reps."""

    start: int  # position of its first frame in the clip's frame lists
    stop: int  # exclusive
    calibration: Calibration
    series: AngleSeries
    reps: list[Rep]
    back_measure: str = "lumbar"  # what the takeover was judged on: lumbar, or spine where the outline is clothing
    quality: quality.ShotQuality | None = None


def shot_outline(part: Measured, cfg: QualityConfig) -> quality.OutlineVerdict | None:
    """The shot's back outline judged on its standing frames (None when the pass kept no outline numbers)."""
    if len(part.outline) != len(part.measurements):
        return None
    trunk = [m.trunk_deg for m in part.measurements]
    thoracic = [m.thorax_deg - m.lumbar_deg if m.split_ok else float("nan") for m in part.measurements]
    return quality.assess_outline(part.outline, trunk, cfg, thoracic)


def analyse_shots(
    measured: Measured, settings: Settings, window_s: tuple[float, float] | None = None, exercise: str = "auto"
) -> tuple[list[Shot], ExerciseChoice]:
    """Calibrate and track reps per shot: a cut changes camera and framing, so each shot has its own standing
    reference and reps never span a cut. An uncut clip is one shot (exactly the unsplit analysis).

    The reps are found with the generic profile first; the exercise (given, or detected from them) then sets
    the squat rule, and the reps are tracked again with its profile when it differs.
    """
    n = len(measured.measurements)
    cuts: list[int] = []
    if len(measured.hist_diff) == n and n:
        times = [m.time_s for m in measured.measurements]
        cuts = picture.find_cuts(measured.hist_diff, times, settings.quality)
    shots = []
    for start, stop in picture.shots_from_cuts(n, cuts) or [(0, n)]:
        part = measured if (start, stop) == (0, n) else measured.part(start, stop)
        window = window_s
        if window_s is not None and part.measurements:
            t0, t1 = part.measurements[0].time_s, part.measurements[-1].time_s
            window = window_s if t0 <= window_s[0] <= t1 else None
        calibration, series = angles_from(part, settings, window)
        # where clothing shapes the outline, the takeover is judged on the whole back instead of its lumbar window
        outline = shot_outline(part, settings.quality)
        back = "spine" if outline is not None and outline.hidden else "lumbar"
        shot = Shot(start, stop, calibration, series, [], back_measure=back)
        shot.reps = shot_reps(shot, part, settings, "hinge")
        shots.append(shot)
    choice = choose_exercise(
        exercise,
        [r for s in shots for r in s.reps],
        join_series([s.series for s in shots]),
        measured.poses,
        False,  # a lift starts at the bottom when its first rep does (a reference from lockouts alone does not say so)
        settings.exercise,
    )
    if choice.name != "hinge":
        for shot in shots:
            if shot.calibration.found:  # reps with unseen tops are counted alike for every exercise
                shot.reps = shot_reps(shot, measured.part(shot.start, shot.stop), settings, choice.name)
    return shots, choice


def shot_reps(shot: Shot, part: Measured, settings: Settings, exercise: str) -> list[Rep]:
    """The shot's reps: tracked on its angles; where it has no standing reference at all, the lifts whose tops
    were out of view (counted, never judged: see ``unseen_top``)."""
    from hingecheck.core.movement import analyse_reps

    if not shot.calibration.found:
        return unseen_top_reps(
            np.array([m.index for m in part.measurements]),
            np.array([m.time_s for m in part.measurements], float),
            np.array([m.trunk_deg if m.detected else np.nan for m in part.measurements], float),
            np.array([_shoulder_y_px(p, m) for m, p in zip(part.measurements, part.poses, strict=True)], float),
            np.array([m.trunk_length_px for m in part.measurements], float),
            settings.reps,
        )
    bottom = shot.calibration.source == "lockouts"
    return analyse_reps(shot.series, settings, bottom, exercise, shot.back_measure, shot.calibration.trunk_deg)


def _shoulder_y_px(pose: PoseFrame, m: FrameMeasurement) -> float:
    """The shoulders' height in the picture where the person was measured (NaN elsewhere)."""
    px = pose.landmarks_px
    if px is None or not m.detected:
        return float("nan")
    return 0.5 * float(px[LEFT_SHOULDER, 1] + px[RIGHT_SHOULDER, 1])


def join_series(parts: list[AngleSeries]) -> AngleSeries:
    """The shots' angle series end to end (one entry per frame of the clip)."""
    if len(parts) == 1:
        return parts[0]
    names = [f.name for f in fields(AngleSeries)]
    return AngleSeries(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})


def leaned_reference(shot: Shot, cfg: QualityConfig, own_range: bool = False) -> None:
    """A lockout reference is no zero for the low back when it leans back, or when the lift starts at the bottom
    (a loaded lockout, shoulders back and the bar on the thighs, is not the person's neutral stand: thirteen
    good real floor deadlifts read 25–63° of lumbar flexion from it, and no measure told good from bad lifts).
    Then the low-back verdicts are withheld, unless the person's own range was measured, and the warning says
    how to film."""
    cal = shot.calibration
    assert shot.quality is not None
    if cal.source != "lockouts":
        return
    lean = -cal.trunk_deg
    if lean > cfg.lockout_reference_lean_max_deg:
        code, why = "reference_leans_back", f"the tops of the reps lean back {lean:.0f}° past upright"
        say = f"at the top of each rep you lean back about {lean:.0f}° past upright (or the camera is tilted)"
    elif any(r.start_position == "bottom" for r in shot.reps) and not own_range:
        code, why = "no_standing_reference", "the lift starts at the bottom with no still stand before it"
        say = "the lift starts at the bar and its lockouts, under load, are not your standing posture"
    else:
        return
    shot.quality.support.withhold_codes(quality.LUMBAR_CODES, why)
    shot.quality.warnings.append(
        Warning_(
            code,
            f"There is no still stand before the first rep, and {say}, so the low back has no true standing zero: "
            "whether it rounded or led the way up is left out. Stand still and upright, side-on, for 2 s before "
            "the first pull.",
        )
    )


def tops_out_of_view(shot: Shot) -> None:
    """Reps counted without a standing reference (their tops out of view) have no angle to judge: every verdict
    is withheld, and the warning says how to film."""
    assert shot.quality is not None
    if shot.calibration.found or not shot.reps:
        return
    shot.quality.support.withhold_codes(FAULT_CODES, "the top of each rep was out of the picture")
    shot.quality.warnings.append(
        Warning_(
            "lockout_out_of_view",
            f"At the top of {'each rep' if len(shot.reps) > 1 else 'the rep'} you left the picture, so no standing "
            "posture was seen to measure from: the reps are counted, but no fault is judged. Film from further "
            "away so that the whole body stays in view at lockout.",
        )
    )


def apply_quality(
    result: AnalysisResult, measured: Measured, shots: list[Shot], settings: Settings, own_range: bool = False
) -> None:
    """Per shot: judge what it shows (view, clothing, legs), withhold the verdicts it cannot support, then
    gather the reps (renumbered across shots), warnings and what was withheld into ``result``."""
    cfg = settings.quality
    n = len(measured.measurements)
    reps: list[Rep] = []
    withheld = quality.VerdictSupport()
    for k, shot in enumerate(shots):
        part = measured.part(shot.start, shot.stop)
        outline = shot_outline(part, cfg)
        legs = float("nan")
        if len(part.leg_vis) == len(part.measurements):
            legs = quality.assess_legs(part.leg_vis, shot.reps, [m.index for m in part.measurements], cfg)
        trunk = [m.trunk_length_px for m in part.measurements if m.detected]
        shot.quality = quality.decide(
            estimate_yaw_deg(part.measurements),
            outline,
            legs,
            cfg,
            settings.faults.lockout_lean_back_deg,
            float(np.nanmedian(trunk)) if trunk else float("nan"),
        )
        leaned_reference(shot, cfg, own_range)
        tops_out_of_view(shot)
        uncertain = uncertainty_warning(
            shot.series, part.measurements, rep_spans(shot), settings.reading.uncertain_share_warn
        )
        if uncertain is not None:
            shot.quality.warnings.append(uncertain)
        shot.quality.support.withhold(shot.reps)
        withheld.merge(shot.quality.support, prefix=f"shot {k + 1}: " if len(shots) > 1 else "")
        for w in shot.quality.warnings:
            if w.code not in {x.code for x in result.warnings}:
                result.warnings.append(w)
        if k > 0:  # a later shot's own standing-reference warnings
            result.warnings += [w for w in shot.calibration.warnings if w.code not in {x.code for x in result.warnings}]
        reps += shot.reps
    for i, rep in enumerate(reps, start=1):
        rep.index = i
    result.reps = reps
    result.verdicts_withheld = dict(withheld.withheld)
    if len(shots) > 1:
        cuts = len(shots) - 1
        result.warnings.append(
            Warning_(
                "edited_clip",
                f"This video has {cuts} cut{'s' if cuts > 1 else ''}; each shot was analysed on its own "
                "(its own standing reference; no rep spans a cut).",
            )
        )
    turned = any("side-on" in withheld.withheld.get(c, "") for c in quality.LUMBAR_CODES)
    if turned and any(w.code == "not_side_on" for w in result.warnings):
        result.warnings = [
            Warning_(w.code, w.message + " Low-back verdicts were left out.") if w.code == "not_side_on" else w
            for w in result.warnings
        ]
    result.shots = [
        {
            "index": k + 1,
            "start_s": finite_or_none(measured.measurements[s.start].time_s) if n else None,
            "end_s": finite_or_none(measured.measurements[s.stop - 1].time_s) if n else None,
            "facing": _facing_of(measured.measurements[s.start : s.stop]),
            "calibration_found": bool(s.calibration.found),
            "reps": len(s.reps),
            **(s.quality.to_dict() if s.quality else {}),
        }
        for k, s in enumerate(shots)
    ]
    if measured.area is not None and measured.area.cropped:
        result.picture_area = measured.area.to_dict()
    if measured.zoom is not None:
        result.zoom_area = measured.zoom.to_dict()


def rep_spans(shot: Shot) -> list[tuple[int, int]]:
    """Each rep's first and last position in the shot's series."""
    index = np.asarray(shot.series.index)
    last = int(index[-1]) if len(index) else 0
    return [
        (
            int(np.searchsorted(index, r.start_frame)),
            int(np.searchsorted(index, r.end_frame if r.end_frame is not None else last)),
        )
        for r in shot.reps
    ]


def _facing_of(measurements: list[FrameMeasurement]) -> str | None:
    """The facing most frames of a shot were measured with."""
    votes = [m.facing for m in measurements if m.detected and m.facing]
    return max(set(votes), key=votes.count) if votes else None
