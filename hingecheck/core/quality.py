"""Honest when it cannot see: detectors of what a clip does not show, and the verdicts it can support.

Pure numpy, no I/O. The edges compute cheap per-frame numbers in the video/pose pass (edge luma, colour
histogram differences, landmark visibility, the back's outline); the functions here turn them into
decisions:

- ``find_picture_area``: black pillar/letter-box bars of a phone clip → the picture MediaPipe should see.
- ``person_area``: a person small in the picture and often missed → a crop around them for a second look.
- ``histogram_difference`` / ``find_cuts`` / ``shots_from_cuts``: scene cuts of an edited clip → shots, each
  analysed on its own (its own standing reference; reps never span a cut).
- ``outline_shape`` / ``assess_outline``: the back's outline standing off the body or bridging the lumbar hollow
  (loose clothing) → lumbar verdicts withheld.
- ``assess_legs``: knees and ankles hidden during the reps (plates, crops) → ``knee_dominant`` withheld.
- ``view_support``: a camera turned from side-on → lumbar (and hip-based knee) verdicts withheld.
- ``VerdictSupport``: the one place that says which fault codes a clip or shot supports; ``withhold`` removes
  the others' faults from the reps (reps are still counted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from hingecheck.core.settings import QualityConfig
from hingecheck.core.types import Rep, Warning_

TAKEOVER = "spinal_flexion_takeover"
LOW_BACK_RETURN = "extension_from_low_back"
LOCKOUT = "lockout_hyperextension"
KNEE = "knee_dominant"
# verdicts read from the back's outline (the lockout rule reads it too, for an arch without a lean: see withhold)
LUMBAR_CODES: tuple[str, ...] = (TAKEOVER, LOW_BACK_RETURN)


# ---------------------------------------------------------------- verdict support


@dataclass
class VerdictSupport:
    """Which fault codes a clip (or shot) supports: ``withheld`` maps each unsupported code to a plain reason.

    ``lockout_lean_min_deg``: when the lumbar codes are withheld, a ``lockout_hyperextension`` found on the
    lumbar arch alone (the trunk leaning back less than this) is withheld too; one found on the trunk's lean
    (landmarks only) is kept.
    """

    withheld: dict[str, str] = field(default_factory=dict)
    lockout_lean_min_deg: float = 8.0
    lumbar_numbers: bool = True  # False: the reps' low-back numbers (peak, share, lead) are left empty too

    def withhold_codes(self, codes: Iterable[str], reason: str) -> None:
        """Withhold ``codes`` for ``reason`` (the first reason given for a code is kept)."""
        for code in codes:
            self.withheld.setdefault(code, reason)

    def supports(self, code: str) -> bool:
        """True when faults of ``code`` may be reported."""
        return code not in self.withheld

    @property
    def lumbar_supported(self) -> bool:
        """True when the back's outline can be judged (live mode's lumbar cues follow this)."""
        return all(self.supports(c) for c in LUMBAR_CODES)

    def merge(self, other: VerdictSupport, prefix: str = "") -> None:
        """Add ``other``'s withheld codes (their reasons prefixed, e.g. ``"shot 2: "``)."""
        for code, reason in other.withheld.items():
            self.withheld.setdefault(code, prefix + reason)

    def withhold(self, reps: Sequence[Rep]) -> int:
        """Remove unsupported faults from ``reps`` in place; returns how many were removed. Reps stay."""
        removed = 0
        for rep in reps:
            kept = [f for f in rep.faults if self.keeps(f.code, f.details)]
            removed += len(rep.faults) - len(kept)
            rep.faults = kept
            if not (self.lumbar_numbers and self.lumbar_supported):
                # numbers read from the outline's lumbar window: what the withheld verdicts would have judged
                rep.peak_lumbar_flexion_deg = rep.lumbar_share = rep.lumbar_lead_s = None
            if not self.supports(TAKEOVER):
                rep.hinge_capacity_deg = None  # where the takeover began
        return removed

    def keeps(self, code: str, details: dict[str, float | None]) -> bool:
        """True when a fault of ``code`` with these ``details`` may be reported (live mode asks per cue)."""
        if not self.supports(code):
            return False
        if code == LOCKOUT and not self.lumbar_supported:
            lean = details.get("lean_back_deg")
            return lean is not None and math.isfinite(lean) and lean >= self.lockout_lean_min_deg
        return True


# ---------------------------------------------------------------- the back's outline (clothing)


@dataclass(frozen=True)
class OutlineShape:
    """One frame's back outline against the hip→shoulder landmark line, in trunk lengths L.

    ``standoff_l``: median distance of the outline behind the line over the low back (0.35–0.65 L up the
    trunk); skin sits ~0.1–0.2 L behind it, a loose top or a hood's fabric further. ``hollow_l``: how far the
    low back lies in front of the straight line from the buttock (0.05–0.15 L) to the upper back
    (0.75–0.9 L): the lordosis a fitted top shows; a garment standing off the body bridges it (≈ 0 or
    negative). ``roughness_l``: RMS of the outline's second differences (folds, hood bulges).
    """

    standoff_l: float
    hollow_l: float
    roughness_l: float


def outline_shape(
    contour_px: np.ndarray | None, hip_px: np.ndarray, shoulder_px: np.ndarray, back_unit: np.ndarray
) -> OutlineShape | None:
    """Measure the outline (``contour_px``: (K, 2) pixels) against the hip→shoulder line; ``back_unit`` points back."""
    if contour_px is None or len(contour_px) < 10:
        return None
    axis = np.asarray(shoulder_px, float) - np.asarray(hip_px, float)
    length = float(np.linalg.norm(axis))
    if length < 8.0:
        return None
    unit = axis / length
    rel = np.asarray(contour_px, float) - np.asarray(hip_px, float)
    t = rel @ unit / length
    d = rel @ np.asarray(back_unit, float) / length
    order = np.argsort(t)
    t, d = t[order], d[order]

    def band(lo: float, hi: float) -> np.ndarray:
        return d[(t >= lo) & (t <= hi)]

    low_back, buttock, upper = band(0.35, 0.65), band(0.05, 0.15), band(0.75, 0.90)
    if len(low_back) < 3 or len(buttock) < 2 or len(upper) < 2:
        return None
    t_mid = float(np.median(t[(t >= 0.35) & (t <= 0.65)]))
    chord = np.interp(t_mid, [0.10, 0.825], [float(np.median(buttock)), float(np.median(upper))])
    sel = (t >= 0.05) & (t <= 0.90)
    rough = float(np.sqrt(np.mean(np.diff(d[sel], 2) ** 2))) if sel.sum() >= 5 else float("nan")
    return OutlineShape(float(np.median(low_back)), float(chord - np.median(low_back)), rough)


@dataclass(frozen=True)
class OutlineVerdict:
    """The clip-level judgement of the back's outline: the numbers behind it and whether it can be judged."""

    frames: int
    standoff_l: float  # median over the standing frames
    hollow_l: float
    roughness_l: float
    hidden: bool
    reason: str = ""
    upper_back_bend_deg: float = math.nan  # the outline's thoracic part, bent over vs standing (+ flexion)

    def to_dict(self) -> dict[str, float | int | bool | str | None]:
        """summary.json's form (non-finite numbers as null)."""
        return {
            "frames": self.frames,
            "standoff_l": _rounded(self.standoff_l, 3),
            "hollow_l": _rounded(self.hollow_l, 3),
            "roughness_l": _rounded(self.roughness_l, 4),
            "upper_back_bend_deg": _rounded(self.upper_back_bend_deg, 1),
            "hidden": self.hidden,
        }


def _rounded(x: float, digits: int) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


def upper_back_bend(thoracic_deg: Sequence[float] | np.ndarray, trunk_deg: Sequence[float] | np.ndarray) -> float:
    """How the outline's upper back (thorax window relative to the thoracolumbar window, absolute degrees per
    frame) changes from standing (trunk within 10° of its 10th centile) to bent over (within 10° of its 95th
    centile); NaN when the clip never bends 25° or the outline was not measured. A spine flexes here or stays;
    a hood bunching behind the neck or a top hanging from the shoulder blades reads strongly negative."""
    th = np.asarray(thoracic_deg, float)
    trunk = np.asarray(trunk_deg, float)
    ok = np.isfinite(th) & np.isfinite(trunk)
    if ok.sum() < 10:
        return math.nan
    lo, hi = np.percentile(trunk[ok], 10), np.percentile(trunk[ok], 95)
    if hi - lo < 25.0:
        return math.nan
    upright, deep = ok & (trunk <= lo + 10.0), ok & (trunk >= hi - 10.0)
    return float(np.median(th[deep]) - np.median(th[upright]))


def assess_outline(
    shapes: Sequence[OutlineShape | None],
    trunk_deg: Sequence[float],
    cfg: QualityConfig | None = None,
    thoracic_deg: Sequence[float] | None = None,
) -> OutlineVerdict:
    """Judge the back's outline of one shot from its frames alone (callable before the reps are known).

    Hidden when, standing (trunk within 10° of its 10th centile), the outline stands off the landmark line by
    more than ``outline_standoff_max_l`` with no lumbar hollow left (``outline_hollow_min_l``), or is rougher
    than ``outline_roughness_max_l``; or when its upper back bends backwards by more than
    ``outline_upper_back_bend_deg`` as the trunk bends forward (``upper_back_bend``, from ``thoracic_deg``): the
    fabric's shape, not the spine's. Dark clothing alone is no reason: a fitted dark top still shows the line.
    """
    cfg = cfg or QualityConfig()
    trunk = np.asarray(trunk_deg, float)
    bend = upper_back_bend(thoracic_deg, trunk) if thoracic_deg is not None else math.nan
    ok = np.array([s is not None for s in shapes]) & np.isfinite(trunk)
    if ok.sum() < cfg.outline_min_frames:
        return OutlineVerdict(int(ok.sum()), math.nan, math.nan, math.nan, False, upper_back_bend_deg=bend)
    upright = ok & (trunk <= np.nanpercentile(trunk[ok], 10) + 10.0)
    chosen = [s for s, u in zip(shapes, upright, strict=True) if u and s is not None]
    standoff = float(np.median([s.standoff_l for s in chosen]))
    hollow = float(np.median([s.hollow_l for s in chosen]))
    rough = float(np.nanmedian([s.roughness_l for s in chosen]))
    reason = ""
    if standoff > cfg.outline_standoff_max_l and hollow < cfg.outline_hollow_min_l:
        reason = "the outline of the back stands off the body with no low-back curve (loose clothing)"
    elif math.isfinite(rough) and rough > cfg.outline_roughness_max_l:
        reason = "the outline of the back is folded and bumpy (loose clothing or a hood)"
    elif math.isfinite(bend) and bend < -cfg.outline_upper_back_bend_deg:
        reason = "its upper part bends backwards as you bend forward: the shape of a hood or a loose top, not a spine"
    return OutlineVerdict(len(chosen), standoff, hollow, rough, bool(reason), reason, bend)


# ---------------------------------------------------------------- legs hidden


def shank_cover(mask: np.ndarray | None, knee_px: np.ndarray, ankle_px: np.ndarray) -> float:
    """Share of the knee→ankle line (0.2-0.8 of the way) on the person's segmentation mask (> 0.5): a plate or a
    bar in front of the shins takes it off the person's silhouette. NaN without a mask."""
    if mask is None:
        return math.nan
    h, w = mask.shape
    t = np.linspace(0.2, 0.8, 7)[:, None]
    pts = np.asarray(knee_px, float) + t * (np.asarray(ankle_px, float) - np.asarray(knee_px, float))
    x, y = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    on = np.zeros(len(t), bool)
    on[inside] = mask[y[inside], x[inside]] > 0.5
    return float(on.mean())


def leg_visibility(
    visibility: np.ndarray | None, in_frame: np.ndarray | None = None, cover: tuple[float, float] | None = None
) -> float:
    """How well the better-seen leg's knee and ankle are seen (0..1): MediaPipe visibility, 0 outside the picture,
    times the share of its shank on the person's mask (``cover``: left, right; ``shank_cover``) when given.

    ``visibility``: (33,) per landmark; ``in_frame``: (33,) bool, landmark inside the picture.
    """
    if visibility is None:
        return math.nan
    vis = np.asarray(visibility, float).copy()
    if in_frame is not None:
        vis[~np.asarray(in_frame, bool)] = 0.0
    left = min(vis[25], vis[27])  # knee, ankle
    right = min(vis[26], vis[28])
    if cover is not None:
        left *= 1.0 if math.isnan(cover[0]) else cover[0]
        right *= 1.0 if math.isnan(cover[1]) else cover[1]
    return float(max(left, right))


def assess_legs(
    leg_vis: Sequence[float], reps: Sequence[Rep], index: Sequence[int], cfg: QualityConfig | None = None
) -> float:
    """Median leg visibility over the frames of the reps (the whole clip when there is none). NaN: nothing seen."""
    cfg = cfg or QualityConfig()
    vis = np.asarray(leg_vis, float)
    idx = np.asarray(index)
    inside = np.zeros(len(vis), bool)
    for r in reps:
        stop = r.end_frame if r.end_frame is not None else idx[-1] if len(idx) else 0
        inside |= (idx >= r.start_frame) & (idx <= stop)
    pick = vis[inside] if inside.any() else vis
    pick = pick[np.isfinite(pick)]
    return float(np.median(pick)) if len(pick) else math.nan


# ---------------------------------------------------------------- the decision


@dataclass
class ShotQuality:
    """What one shot (the whole clip when uncut) shows, and what it therefore supports."""

    yaw_deg: float = math.nan
    outline: OutlineVerdict | None = None
    leg_visibility: float = math.nan
    support: VerdictSupport = field(default_factory=VerdictSupport)
    warnings: list[Warning_] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """summary.json's form of the shot's quality."""
        return {
            "yaw_deg": round(self.yaw_deg, 1) if math.isfinite(self.yaw_deg) else None,
            "outline": self.outline.to_dict() if self.outline else None,
            "leg_visibility": round(self.leg_visibility, 3) if math.isfinite(self.leg_visibility) else None,
            "verdicts_withheld": dict(self.support.withheld),
        }


def small_back_reason(trunk_px: float, cfg: QualityConfig) -> str | None:
    """Why the low back cannot be read at this trunk length in the picture (hip to shoulder, px; its median over a
    shot or a rep), or None when it can (or the length is not known): under ``min_trunk_px`` the low back's curve
    spans about a pixel of the outline."""
    if math.isfinite(trunk_px) and trunk_px < cfg.min_trunk_px:
        return f"the back spans only {trunk_px:.0f} px of the picture"
    return None


def decide(
    yaw_deg: float,
    outline: OutlineVerdict | None,
    leg_vis: float,
    cfg: QualityConfig | None = None,
    lockout_lean_min_deg: float = 8.0,
    trunk_px: float = float("nan"),
) -> ShotQuality:
    """Which verdicts a shot supports, with the warnings that say why in plain words. ``trunk_px``: the trunk's
    median length in the picture (hip to shoulder, pixels; NaN: not known)."""
    cfg = cfg or QualityConfig()
    q = ShotQuality(yaw_deg, outline, leg_vis, VerdictSupport(lockout_lean_min_deg=lockout_lean_min_deg))
    too_small = small_back_reason(trunk_px, cfg)
    if too_small is not None:
        q.support.lumbar_numbers = False
        q.support.withhold_codes(LUMBAR_CODES, too_small)
        q.warnings.append(
            Warning_(
                "person_too_small",
                f"You are too small in the picture to read the low back (hip to shoulder spans {trunk_px:.0f} px), "
                "so whether it rounded or led the way up is left out; reps, the hips and the knees are still "
                "judged. Film closer: fill at least half of the picture's height.",
            )
        )
    if math.isfinite(yaw_deg) and yaw_deg > cfg.max_yaw_lumbar_deg:
        reason = f"camera about {yaw_deg:.0f}° from side-on"
        q.support.withhold_codes(LUMBAR_CODES, reason)
        if yaw_deg > cfg.max_yaw_knee_deg:
            q.support.withhold_codes([KNEE], reason + " (the hip angle the knee rule compares with is off)")
    if outline is not None and outline.hidden:
        q.support.lumbar_numbers = False
        # the takeover is then judged on the whole back (hip-shoulder line vs the outline's pelvis: the movement
        # stage's back measure), which clothing does not bend; the low back's timing on the way up needs the
        # outline's lumbar window itself
        q.support.withhold_codes([LOW_BACK_RETURN], "clothing hides the line of the low back")
        q.warnings.append(
            Warning_(
                "back_outline_hidden",
                "Clothing hides the line of your back (" + outline.reason + "), so whether the low back led the "
                "way up could not be judged (rounding is judged on the whole back, shoulders to hips). Wear a "
                "fitted top, tucked in, for the full check.",
            )
        )
    if math.isfinite(leg_vis) and leg_vis < cfg.min_leg_visibility:
        q.support.withhold_codes([KNEE], "knees and ankles hidden")
        q.warnings.append(
            Warning_(
                "legs_hidden",
                "The knees and ankles were hidden for most of the reps (a plate, the bar or the picture's edge), "
                "so whether the hinge turned into a squat could not be judged. Film from where the legs stay "
                "in view.",
            )
        )
    return q
