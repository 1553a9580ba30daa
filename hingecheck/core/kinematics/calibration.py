"""Standing baseline: a quiet, upright stretch of the clip whose posture is the zero of every angle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hingecheck.core.kinematics.sagittal import FrameMeasurement
from hingecheck.core.types import FrameAngles, Warning_

# A frame is "upright" when its trunk is less than UPRIGHT_MARGIN_DEG past the clip's 25th centile of trunk
# inclination: standing sway is ≤ 1–2°, the first visible hinge motion 5°+. Not the 10th centile: leaning back
# at lockout can fill 10 % of a clip, and then only the leans would count as upright (the first quiet upright
# stretch, the stand, is what calibrates; a lean back further behind is still "upright" but comes later).
UPRIGHT_PERCENTILE = 25.0
UPRIGHT_MARGIN_DEG = 5.0
# "Quiet": trunk and thigh move less than this over QUIET_WINDOW_S (standing still, not passing upright).
QUIET_RANGE_DEG = 3.0
QUIET_WINDOW_S = 0.3
MIN_STANDING_S = 0.5  # shortest stretch accepted as the baseline
SHORT_STANDING_S = 0.2  # a shorter one is used only as a last resort, with a warning
MAX_BASELINE_S = 2.0  # longer stretches add nothing but the risk of a drift
MIN_SPLIT_FRAMES = 5  # outline baselines need this many trusted frames
# Arm-contaminated standing outline (camera turned towards the subject's front): a hanging arm forms the back
# edge over the pelvis window while standing and leaves it as soon as the trunk tilts, so the standing pelvis
# baseline does not hold for the hinge (the reading jumps ~10° at its start). Then a second pelvis baseline is
# estimated from the first arm-free frames of the first hinge (ArmFreeZero), where the pelvis carries a
# known-ish share of the thoracolumbar outline's tilt (which the arm does not disturb).
ARM_STANDING_SHARE = 0.2  # median arm share of the standing baseline frames above which the baseline is suspect
ARM_FREE_SHARE = 0.05  # frames at most this arm-covered count as a clean outline
# Early-hinge frames used to re-zero (small tilt: the pelvis share matters little). The arm may cling to the back
# up to ~14° of trunk tilt, so the window reaches past that.
REZERO_TRUNK_DEG = (3.0, 16.0)
REZERO_MAX_FRAMES = 15  # enough to fix the zero even if the trunk lingers in the window
# Share of the thoracolumbar tilt carried by the pelvis early in a hinge: ≈ 0.95 in a hip hinge, ≈ 0.45 in a stoop
# (devset README: lumbar share at the bottom 0.01–0.09 vs 0.43–0.69); the midpoint errs by ≤ 0.25·tilt ≤ 3°.
EARLY_PELVIS_SHARE = 0.7
# Lockouts (the top of a rep) as the standing reference, for lifts that start at the bottom (a deadlift from the
# floor) or never stand still: frames whose trunk is within LOCKOUT_BAND_DEG of the clip's most upright (5th
# centile) while the trunk moves slower than LOCKOUT_MAX_SPEED_DEG_S (a top is a turn or a hold), for at
# least LOCKOUT_MIN_S. Measured on real deadlifts (YFGD, PoseReader, AI-GYM): lockouts last 0.15–0.6 s, the
# trunk is within 2° of its sd there; a lift between them bends the trunk 40–60° more. A clip whose trunk never
# bends LOCKOUT_MIN_BEND_DEG past its top has no lockouts, only standing.
LOCKOUT_BAND_DEG = 8.0
LOCKOUT_MAX_SPEED_DEG_S = 45.0
LOCKOUT_MIN_S = 0.1
LOCKOUT_MIN_BEND_DEG = 20.0
# A stand is "at the start" when no frame before it bends the trunk this far past the stand: the person stood
# still before the first hinge, as the filming tips ask. Otherwise a still stretch is a rest between reps.
STAND_BEFORE_BEND_DEG = 20.0
# Lockouts are upright in the picture: a top whose hip→shoulder line is still more than this forward of the image
# vertical is a partial lift that never stood up (PoseReader's RDL from the knees tops out at 45°), not a lockout.
# A standing trunk line sits within ±5° of vertical (devset: 0–4°; camera roll adds a few degrees).
LOCKOUT_MAX_FORWARD_DEG = 25.0


@dataclass
class Calibration:
    """The standing baseline: when it was taken and the zero of every angle (trunk, thigh, pelvis, lumbar)."""

    start_s: float
    end_s: float
    trunk_deg: float
    thigh_deg: float
    shank_deg: float
    pelvis_deg: float
    lumbar_deg: float
    thorax_deg: float
    automatic: bool
    warnings: list[Warning_] = field(default_factory=list)
    # where the standing reference came from: "stand" (still standing, the first before any hinge if there is
    # one), "lockouts" (the tops of the reps), "window" (given by the user) or "none"
    source: str = "stand"
    n_lockouts: int = 0
    # The arm-free pelvis zero's estimator when an arm hid the standing outline (None: pelvis_deg serves all frames)
    arm_free: ArmFreeZero | None = None
    # positions (in the calibrated frame list) of the reference frames: the learned reading's standing features
    reference_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def pelvis_arm_free_deg(self) -> float:
        """Pelvis zero for frames whose outline is arm-free; NaN when not needed or not (yet) fixed."""
        return self.arm_free.zero_deg if self.arm_free is not None else float("nan")

    @property
    def standing_arm_share(self) -> float:
        """Share of the standing outline an arm covered (0 when no arm-free zero is used)."""
        return self.arm_free.standing_arm_share if self.arm_free is not None else 0.0

    @property
    def settled(self) -> bool:
        """True when no later frame can change this calibration (the arm-free zero is fixed or not needed)."""
        return self.arm_free is None or self.arm_free.fixed

    def observe(self, m: FrameMeasurement) -> bool:
        """Feed the next frame after the stand; True when it fixed the arm-free zero (earlier frames then read
        differently: a streaming caller re-reads them)."""
        return self.arm_free is not None and self.arm_free.observe(m)

    def pelvis_baseline_deg(self, m: FrameMeasurement) -> float:
        """The pelvis zero for this frame: the arm-free one where the outline is clear of the arm; otherwise
        whichever of the two zeros reads closer to the pelvis's expected share of the thoracolumbar tilt.

        The arm share does not mark the switch exactly (the reading jumps while the arm still brushes the back),
        but the two zeros differ by the arm's bias (~10°), so the plausible one is clear where it matters.
        """
        if not np.isfinite(self.pelvis_arm_free_deg):
            return self.pelvis_deg
        if m.quality.get("arm_share", 0.0) <= ARM_FREE_SHARE:
            return self.pelvis_arm_free_deg
        expected = EARLY_PELVIS_SHARE * (m.lumbar_deg - self.lumbar_deg)
        return min((self.pelvis_deg, self.pelvis_arm_free_deg), key=lambda zero: abs(m.pelvis_deg - zero - expected))

    @property
    def found(self) -> bool:
        """Whether a standing baseline was found (the angles are relative to it)."""
        return bool(np.isfinite(self.trunk_deg))

    @property
    def split_found(self) -> bool:
        """True when the outline (pelvis/lumbar) baseline could be measured as well."""
        return bool(np.isfinite(self.pelvis_deg) and np.isfinite(self.lumbar_deg))

    def angles(self, m: FrameMeasurement) -> FrameAngles:
        """Angles of one frame relative to standing; NaN where not measurable.

        Pelvic tilt, lumbar and thoracic flexion need a trusted outline (``m.split_ok``); without it they stay
        NaN rather than a guess. Hip flexion then falls back to the landmark trunk–thigh angle (it over-reads
        whenever the back rounds), with confidence 0 so that consumers can tell.
        """
        if not m.detected:
            return FrameAngles(m.index, m.time_s, False)
        nan = float("nan")
        thigh = m.thigh_deg - self.thigh_deg
        trunk = m.trunk_deg - self.trunk_deg
        split = m.split_ok and self.split_found
        pelvis = m.pelvis_deg - self.pelvis_baseline_deg(m) if split else nan
        upper_lumbar = m.lumbar_deg - self.lumbar_deg if split else nan
        thorax = m.thorax_deg - self.thorax_deg if split else nan
        hip = pelvis + thigh if split else trunk + thigh
        return FrameAngles(
            m.index,
            m.time_s,
            True,
            hip_flexion_deg=hip,
            lumbar_flexion_deg=upper_lumbar - pelvis,
            pelvic_tilt_deg=pelvis,
            thoracic_flexion_deg=thorax - upper_lumbar,
            trunk_inclination_deg=trunk,
            knee_flexion_deg=thigh + (m.shank_deg - self.shank_deg),
            thigh_inclination_deg=thigh,
            confidence=m.confidence if split else 0.0,
            outline_hip_flexion_deg=hip,
            outline_lumbar_flexion_deg=upper_lumbar - pelvis,
        )


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) index pairs of the True runs."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _moving_range(t: np.ndarray, x: np.ndarray, window_s: float) -> np.ndarray:
    """Max − min of x over a centred window of window_s (NaN-aware); frames are few, so a plain loop is fine."""
    out = np.full(len(x), np.inf)
    j0 = j1 = 0
    for i in range(len(x)):
        while t[j0] < t[i] - window_s / 2:
            j0 += 1
        while j1 < len(x) - 1 and t[j1 + 1] <= t[i] + window_s / 2:
            j1 += 1
        seg = x[j0 : j1 + 1]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            out[i] = float(seg.max() - seg.min())
    return out


def standing_frames(
    measurements: Sequence[FrameMeasurement],
    min_s: float = MIN_STANDING_S,
    thigh_quiet: bool = True,
    allow_short: bool = True,
) -> tuple[np.ndarray, list[Warning_]]:
    """Boolean selection of the baseline frames: the first quiet, upright stretch (≥ MIN_STANDING_S); quiet in
    trunk and thigh, or in the trunk alone (``thigh_quiet=False``). Without a stretch that long, the longest of
    at least SHORT_STANDING_S, with a warning (unless ``allow_short`` is False)."""
    n = len(measurements)
    if n == 0:
        return np.zeros(0, bool), []
    t = np.array([m.time_s for m in measurements], float)
    trunk = np.array([m.trunk_deg for m in measurements], float)
    thigh = np.array([m.thigh_deg for m in measurements], float)
    arm_raised = np.array([m.quality.get("arm_raised", 0.0) > 0 for m in measurements])
    finite = np.isfinite(trunk) & np.isfinite(thigh)
    if not finite.any():
        return np.zeros(n, bool), []
    # a stand with a hand raised over the head is a signal, not the posture the lift starts from; and a stand is
    # upright in the picture too (a set-up held still at the bar is no stand, however much of a clip it fills)
    upright = finite & ~arm_raised & (trunk < _upright_limit_deg(trunk, finite)) & (trunk <= LOCKOUT_MAX_FORWARD_DEG)
    quiet = _moving_range(t, trunk, QUIET_WINDOW_S) < QUIET_RANGE_DEG
    if thigh_quiet:
        quiet &= _moving_range(t, thigh, QUIET_WINDOW_S) < QUIET_RANGE_DEG
    runs = true_runs(upright & quiet)
    long_runs = [r for r in runs if t[r[1]] - t[r[0]] >= min_s]
    warnings: list[Warning_] = []
    if long_runs:
        a, b = long_runs[0]  # prefer the start: that is where people are told to stand still
    else:
        short = [r for r in runs if t[r[1]] - t[r[0]] >= SHORT_STANDING_S]
        if not short or not allow_short:
            return np.zeros(n, bool), []
        a, b = max(short, key=lambda r: t[r[1]] - t[r[0]])
        warnings.append(
            Warning_(
                "short_standing_baseline",
                f"Only {t[b] - t[a]:.1f} s of still standing was found to calibrate on, so every angle's zero is "
                "less certain. Stand side-on and still for 2 s before the first rep.",
            )
        )
    sel = np.zeros(n, bool)
    b = min(b, int(np.searchsorted(t, t[a] + MAX_BASELINE_S)))
    sel[a : b + 1] = True
    return sel, warnings


def _speed(t: np.ndarray, x: np.ndarray, half_window_s: float = 0.05) -> np.ndarray:
    """|dx/dt| by centred differences over ±half_window_s (NaN at the ends and across gaps)."""
    fps = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 30.0
    h = max(1, int(round(half_window_s * fps)))
    out = np.full(len(x), np.nan)
    if len(x) > 2 * h:
        out[h:-h] = np.abs((x[2 * h :] - x[: -2 * h]) / (t[2 * h :] - t[: -2 * h]))
    return out


def lockout_frames(measurements: Sequence[FrameMeasurement]) -> tuple[np.ndarray, int]:
    """The frames at the tops of the reps (upright and slow) and how many separate tops there are."""
    n = len(measurements)
    none = np.zeros(n, bool), 0
    if n < 3:
        return none
    t = np.array([m.time_s for m in measurements], float)
    trunk = np.array([m.trunk_deg for m in measurements], float)
    thigh = np.array([m.thigh_deg for m in measurements], float)
    finite = np.isfinite(trunk) & np.isfinite(thigh)
    if finite.sum() < 3:
        return none
    top = float(np.nanpercentile(trunk[finite], 5))
    if float(np.nanmax(trunk[finite])) - top < LOCKOUT_MIN_BEND_DEG:
        return none
    with np.errstate(invalid="ignore"):
        # the trunk only: at the top the thigh landmark often jumps (a plate hides the knee: YFGD gym clips read
        # the thigh +25…+46° at lockout and 70°/s of jitter), while the trunk line is steady
        slow = _speed(t, trunk) < LOCKOUT_MAX_SPEED_DEG_S
        flags = finite & (trunk <= top + LOCKOUT_BAND_DEG) & (trunk <= LOCKOUT_MAX_FORWARD_DEG) & slow
    runs = [(a, b) for a, b in true_runs(flags) if t[b] - t[a] >= LOCKOUT_MIN_S - 1e-9]
    sel = np.zeros(n, bool)
    for a, b in runs:
        sel[a : b + 1] = True
    return sel, len(runs)


def _upright_limit_deg(trunk: np.ndarray, finite: np.ndarray) -> float:
    """The trunk inclination below which a frame is upright: UPRIGHT_MARGIN_DEG past the 25th centile of the
    frames before the first hinge (the clip's, when it starts bent over). Over the whole clip, a short clip whose
    reps end leaning back 15° puts that centile in the leans: the stand before them no longer counted as
    upright, the lean calibrated, and the lean itself then read as standing (a validation body's lean back was
    missed so; its trunk read 3.5 → 3.3° RMSE over the 170 validation bodies)."""
    whole = float(np.nanpercentile(trunk[finite], UPRIGHT_PERCENTILE))
    bent = np.flatnonzero(finite & (trunk > whole + STAND_BEFORE_BEND_DEG))
    before = finite.copy()
    if bent.size:
        before[bent[0] :] = False
    if not before.any():
        return whole + UPRIGHT_MARGIN_DEG
    return float(np.nanpercentile(trunk[before], UPRIGHT_PERCENTILE)) + UPRIGHT_MARGIN_DEG


def _stand_comes_first(measurements: Sequence[FrameMeasurement], sel: np.ndarray) -> bool:
    """No frame before the chosen stand bends the trunk far past it: the person stood before the first hinge."""
    first = int(np.flatnonzero(sel)[0])
    trunk = np.array([m.trunk_deg for m in measurements], float)
    stand = float(np.nanmedian(trunk[sel]))
    before = trunk[:first]
    return not bool(np.any(before[np.isfinite(before)] > stand + STAND_BEFORE_BEND_DEG))


def reference_frames(
    measurements: Sequence[FrameMeasurement], min_s: float = MIN_STANDING_S
) -> tuple[np.ndarray, list[Warning_], str, int]:
    """The standing reference: a still stand before the first hinge, else the lockouts, else any still stand.

    Returns the selection, warnings, its source ("stand", "lockouts" or "none") and the number of lockouts.
    """
    sel, warnings = standing_frames(measurements, min_s)
    if sel.any() and _stand_comes_first(measurements, sel):
        return sel, warnings, "stand", 0
    # The knee landmark can flicker for a whole stand while the person stands still (a plate or a kettlebell at
    # the knee: the thigh jumps 10–40 px frame to frame on rendered bar bodies), so no stretch is quiet in the
    # thigh. The trunk alone then finds the stand before the first hinge, as it finds the lockouts (below): two
    # validation bodies' lean backs had calibrated and were missed (hip 3.9 → 3.7° RMSE over all 170). A full stand
    # only: a real floor deadlift (PoseReader) has 0.4 s of still trunk beside the bar before it walks in
    still, still_warnings = standing_frames(measurements, min_s, thigh_quiet=False, allow_short=False)
    if still.any() and _stand_comes_first(measurements, still):
        return still, still_warnings, "stand", 0
    locks, n_locks = lockout_frames(measurements)
    if n_locks:
        return locks, [], "lockouts", n_locks
    if sel.any():
        return sel, warnings, "stand", 0
    return sel, warnings, "none", 0


def calibrate(
    measurements: Sequence[FrameMeasurement], window_s: tuple[float, float] | None = None, min_s: float | None = None
) -> Calibration:
    """Median posture over the standing reference: the given window, else ``reference_frames``."""
    t = np.array([m.time_s for m in measurements], float)
    trunk = np.array([m.trunk_deg for m in measurements], float)
    warnings: list[Warning_] = []
    n_lockouts = 0
    if window_s is not None:
        sel = (t >= window_s[0]) & (t <= window_s[1]) & np.isfinite(trunk)
        automatic, source = False, "window"
    else:
        automatic = True
        sel, warnings, source, n_lockouts = reference_frames(measurements, MIN_STANDING_S if min_s is None else min_s)
    nan = float("nan")
    if not sel.any():
        warnings.append(
            Warning_(
                "no_standing_baseline",
                "No still, upright standing and no lockout at the top of a rep were found to calibrate on: "
                "stand side-on and still for 2 s at the start, or pass --calibration START:END.",
            )
        )
        return Calibration(nan, nan, nan, nan, nan, nan, nan, nan, automatic, warnings, source="none")
    chosen = [m for m, s in zip(measurements, sel, strict=True) if s]
    trusted = [m for m in chosen if m.split_ok]

    def med(frames: list[FrameMeasurement], name: str) -> float:
        vals = np.array([getattr(m, name) for m in frames], float)
        vals = vals[np.isfinite(vals)]
        return float(np.median(vals)) if vals.size else nan

    split_ok = len(trusted) >= min(MIN_SPLIT_FRAMES, len(chosen))
    if not split_ok:
        warnings.append(
            Warning_(
                "standing_outline_unreliable",
                "The outline of the back could not be measured while standing, so hip and low-back motion "
                "cannot be told apart in this clip. Film exactly side-on, arms crossed on the chest or holding "
                "a bar in front, against a plain background.",
            )
        )
    pelvis0 = med(trusted, "pelvis_deg") if split_ok else nan
    lumbar0 = med(trusted, "lumbar_deg") if split_ok else nan
    trunk0 = med(chosen, "trunk_deg")
    # the arm-free zero streams the frames after the stand; lockouts are spread over the clip, so it starts
    # after the first of them
    end_s = float(t[sel].max()) if source != "lockouts" else float(t[np.flatnonzero(sel)[0]])
    calibration = Calibration(
        float(t[sel].min()),
        float(t[sel].max()),
        trunk0,
        med(chosen, "thigh_deg"),
        med(chosen, "shank_deg"),
        pelvis0,
        lumbar0,
        med(trusted, "thorax_deg") if split_ok else nan,
        automatic,
        warnings,
        arm_free=ArmFreeZero.for_standing(chosen, trunk0, pelvis0, lumbar0),
        source=source,
        n_lockouts=n_lockouts,
        reference_positions=np.flatnonzero(sel),
    )
    # exactly as a live caller streams the frames after its stand: the zero is fixed at the same frame
    for m in measurements:
        if calibration.settled:
            break
        if m.time_s > end_s:
            calibration.observe(m)
    return calibration


@dataclass
class ArmFreeZero:
    """The arm-free pelvis zero, fixed once from the first arm-free early-hinge frames after the stand.

    Causal by construction: it is fixed at a definite frame (``fixed_at``), from that frame and the ones before
    it only, so a live caller can fix it at the same frame as ``calibrate`` does offline and then re-read the
    frames since the stand with it (``LiveCoach`` replays them), after which live and offline read every frame
    alike. Fixed rather than refined: a zero that kept moving would re-judge reps already cued.
    """

    trunk0_deg: float
    pelvis0_deg: float
    lumbar0_deg: float
    standing_arm_share: float
    offsets_deg: list[float] = field(default_factory=list)
    zero_deg: float = float("nan")
    fixed_at: int | None = None  # frame index at which the zero was fixed
    last_index: int = -1

    @classmethod
    def for_standing(
        cls, standing: Sequence[FrameMeasurement], trunk0_deg: float, pelvis0_deg: float, lumbar0_deg: float
    ) -> ArmFreeZero | None:
        """The estimator when an arm hid the standing outline; None when the standing zero holds for every frame."""
        if not (np.isfinite(pelvis0_deg) and np.isfinite(lumbar0_deg) and np.isfinite(trunk0_deg)):
            return None
        shares = [m.quality["arm_share"] for m in standing if "arm_share" in m.quality]
        standing_arm = float(np.median(shares)) if shares else 0.0
        if standing_arm <= ARM_STANDING_SHARE:
            return None
        return cls(trunk0_deg, pelvis0_deg, lumbar0_deg, standing_arm)

    @property
    def fixed(self) -> bool:
        """Whether the arm-free pelvis zero has been fixed (early in the first hinge)."""
        return self.fixed_at is not None

    def observe(self, m: FrameMeasurement) -> bool:
        """Feed the next frame after the stand (in order; repeats are ignored). True when this frame fixed it."""
        if self.fixed or m.index <= self.last_index:
            return False
        self.last_index = m.index
        if not (m.detected and np.isfinite(m.trunk_deg)):
            return False
        tilt = m.trunk_deg - self.trunk0_deg
        lo, hi = REZERO_TRUNK_DEG
        if lo <= tilt <= hi and m.split_ok and m.quality.get("arm_share", 1.0) <= ARM_FREE_SHARE:
            offset = m.pelvis_deg - self.pelvis0_deg - EARLY_PELVIS_SHARE * (m.lumbar_deg - self.lumbar0_deg)
            if np.isfinite(offset):
                self.offsets_deg.append(float(offset))
        # fixed when the trunk leaves the window deeper into the hinge (or the window has given enough frames)
        enough = len(self.offsets_deg) >= MIN_SPLIT_FRAMES
        if enough and (tilt > hi or len(self.offsets_deg) >= REZERO_MAX_FRAMES):
            self.zero_deg = self.pelvis0_deg + float(np.median(self.offsets_deg))
            self.fixed_at = m.index
            return True
        return False
