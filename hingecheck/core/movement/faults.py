"""Fault rules judged while a rep streams in, and the per-rep measures behind them.

Codes (the output contract, docs/DESIGN.md §4): ``spinal_flexion_takeover``, ``extension_from_low_back``,
``lockout_hyperextension``, ``knee_dominant``. Every rule works on *within-rep change*: each angle minus
its value in the standing just before the rep (``RepFrames.ref``), because absolute lumbar angles from a
silhouette carry a bias that grows with hip flexion. Each rule must hold for ``sustain_s`` so one noisy
frame cannot raise a fault, and each fault is raised at most once per rep. Thresholds and their sources:
``[faults]`` in hingecheck/core/defaults.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hingecheck.core.movement.cues import cue_for
from hingecheck.core.settings import ExerciseProfile, FaultConfig, HingeProfile
from hingecheck.core.types import Fault

FAULT_CODES = ("spinal_flexion_takeover", "extension_from_low_back", "lockout_hyperextension", "knee_dominant")
ANGLES = ("hip", "lumbar", "pelvic", "trunk", "knee", "outline_hip", "outline_lumbar", "lumbar_change", "hip_change")
# changes over a short window already (the learned reading's): read as they are, not against the standing before
CHANGES = frozenset({"lumbar_change", "hip_change"})
_COLUMN = {
    "hip": "hip_flexion_deg",
    "lumbar": "lumbar_flexion_deg",
    "outline_hip": "outline_hip_flexion_deg",
    "outline_lumbar": "outline_lumbar_flexion_deg",
    "lumbar_change": "lumbar_change_deg",
    "hip_change": "hip_change_deg",
    "pelvic": "pelvic_tilt_deg",
    "trunk": "trunk_inclination_deg",
    "knee": "knee_flexion_deg",
}
NAN = float("nan")


@dataclass
class RepFrames:
    """The frames of one rep (plus a little look-back), column-wise, with the pre-rep standing reference."""

    ref: dict[str, float]
    frame: list[int] = field(default_factory=list)
    time_s: list[float] = field(default_factory=list)
    drive: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ANGLES})

    def append(self, frame: int, time_s: float, drive: float, angles: dict[str, float]) -> None:
        """Add one frame's angles (and the drive) to the rep's buffer."""
        self.frame.append(frame)
        self.time_s.append(time_s)
        self.drive.append(drive)
        for k in ANGLES:
            self.values[k].append(angles[k])

    def rise(self, name: str, i: int) -> float:
        """Change of angle ``name`` at buffer position ``i`` from the standing before the rep (NaN if unknown)."""
        return self.values[name][i] - self.ref.get(name, 0.0)

    def __len__(self) -> int:
        return len(self.frame)

    def array(self, name: str, stop: int | None = None) -> np.ndarray:
        """Angle ``name`` relative to the pre-rep standing, as an array (up to ``stop``)."""
        return np.asarray(self.values[name][:stop], float) - self.ref.get(name, 0.0)

    def coverage(self, name: str, stop: int | None = None) -> float:
        """Share of the rep's frames (up to ``stop``) where angle ``name`` was measured."""
        a = np.asarray(self.values[name][:stop], float)
        return float(np.isfinite(a).mean()) if len(a) else 0.0


def lumbar_share(frames: RepFrames, i: int, min_motion_deg: float) -> float:
    """lumbar / (lumbar + pelvic tilt) at ``i`` (within-rep changes); of trunk motion when pelvic tilt is NaN."""
    lum = frames.rise("lumbar", i)
    pel = frames.rise("pelvic", i)
    total = lum + pel if math.isfinite(pel) else frames.rise("trunk", i)
    if not (math.isfinite(lum) and math.isfinite(total)) or total < min_motion_deg:
        return NAN
    return lum / total


class FaultJudge:
    """Judges one rep frame by frame with every rule (``rules.make_rules``); ``update`` returns new faults at once.

    The shared machinery lives here: the causal averages the rules read, the ``sustain_s`` runs that turn a
    condition into a fault, and raising each fault at most once per rep. Each rule is a small class of its own.
    """

    def __init__(
        self,
        config: FaultConfig,
        profile: ExerciseProfile | None = None,
        back_measure: str = "lumbar",
        reference_trunk_deg: float | None = None,
    ) -> None:
        from hingecheck.core.movement.rules import make_rules

        self.cfg = config
        self.found: dict[str, Fault] = {}
        self.rules = make_rules(config, profile or HingeProfile(), back_measure, reference_trunk_deg)
        self._run_start: dict[str, int | None] = {rule.code: None for rule in self.rules}
        self._avg_cache: dict[tuple[str, int], float] = {}
        self.phase = ""  # the phase of the frame being judged

    def update(self, frames: RepFrames, i: int, phase: str) -> list[Fault]:
        """Judge buffer position ``i``; ``phase`` is descent (incl. bottom), setup (a pull-first rep at the bar),
        return or lockout."""
        self.phase = phase
        new = []
        for rule in self.rules:
            if phase not in rule.phases or rule.code in self.found:
                continue
            at = self.sustained(rule.code, rule.holds(self, frames, i), frames, i)
            if at is not None:
                at = rule.place(self, frames, at)
                new.append(self._raise(rule.code, frames, at, rule.details(self, frames, at)))
        return new

    def sustained(self, code: str, ok: bool | None, frames: RepFrames, i: int) -> int | None:
        """Track a condition's run; the run's first frame once it has lasted ``sustain_s`` (None otherwise).

        ``ok`` None (not measurable on this frame) neither breaks nor extends the run.
        """
        if ok is None:
            return None
        if not ok:
            self._run_start[code] = None
            return None
        if self._run_start[code] is None:
            self._run_start[code] = i
        start = self._run_start[code]
        assert start is not None
        if frames.time_s[i] - frames.time_s[start] >= self.cfg.sustain_s - 1e-9:
            return start
        return None

    def _raise(self, code: str, frames: RepFrames, at: int, details: dict[str, float | None]) -> Fault:
        fault = Fault(code, frames.time_s[at], frames.frame[at], "", cue_for(code), details)
        fault.message = fault_message(fault)
        self.found[code] = fault
        return fault

    def peak(self, frames: RepFrames, name: str, start: int, stop: int) -> tuple[int | None, float]:
        """Where the (averaged) ``name`` is largest over positions start..stop, and its value (None, −inf: none
        measured); the first such position on a tie."""
        where, best = None, -math.inf
        for k in range(start, stop + 1):
            v = self.avg(frames, name, k)
            if math.isfinite(v) and v > best:
                where, best = k, v
        return where, best

    def avg(self, frames: RepFrames, name: str, i: int) -> float:
        """Causal mean of the within-rep change over the last ``onset_average_s`` (NaN if none measured).

        Rules compare maxima with current values, and a maximum of noisy samples is biased upwards: averaging a
        few frames first keeps it honest on measured (noisy) angles, live or offline alike.
        """
        key = (name, i)
        if key not in self._avg_cache:
            t_i, vals, k = frames.time_s[i], [], i
            while k >= 0 and t_i - frames.time_s[k] <= self.cfg.onset_average_s + 1e-9:
                v = frames.rise(name, k)
                if math.isfinite(v):
                    vals.append(v)
                k -= 1
            self._avg_cache[key] = sum(vals) / len(vals) if vals else NAN
        return self._avg_cache[key]


def finalise_faults(
    faults: list[Fault],
    lumbar_peak_rise_deg: float | None,
    hinge_capacity_deg: float | None,
    lumbar_lead_s: float | None,
) -> None:
    """Complete the faults' numbers with the whole rep's measures (peak, hinge capacity, lead) and reword them."""
    for fault in faults:
        if fault.code == "spinal_flexion_takeover":
            if lumbar_peak_rise_deg is not None:
                fault.details["lumbar_deg"] = lumbar_peak_rise_deg
            fault.details["hinge_capacity_deg"] = hinge_capacity_deg
        elif fault.code == "extension_from_low_back":
            fault.details["lumbar_lead_s"] = lumbar_lead_s
        fault.message = fault_message(fault)


def fault_message(fault: Fault) -> str:
    """What happened, in one sentence with the numbers (uses ``fault.details``)."""
    d = fault.details

    def n(key: str) -> str:
        v = d.get(key)
        return "?" if v is None or not math.isfinite(v) else f"{v:.0f}°"

    if fault.code == "spinal_flexion_takeover":
        cap = d.get("hinge_capacity_deg")
        where = f" from {cap:.0f}° of hip flexion" if cap is not None and math.isfinite(cap) else ""
        if "spine_deg" in d:
            return f"back rounded {n('spine_deg')}{where}"
        return f"low back rounded {n('lumbar_deg')}{where}"
    if fault.code == "extension_from_low_back":
        lead = d.get("lumbar_lead_s")
        tail = ""
        if lead is not None and math.isfinite(lead):
            # a lead under ~2 frames is "together": the hips did not drive the start either way
            together = "; hips and low back started together"
            tail = f"; the low back led the hips by {lead:.2f} s" if lead >= 0.05 else together
        arch, hips = n("lumbar_extension_deg"), n("hip_extension_deg")
        return f"started standing up by arching the low back {arch} while the hips moved {hips}{tail}"
    if fault.code == "lockout_hyperextension":
        lean, arched = d.get("lean_back_deg"), d.get("lumbar_extension_deg")
        parts = []
        if lean is not None and math.isfinite(lean) and lean > 0:
            parts.append(f"leaned back {lean:.0f}° past upright at the top")
        if arched is not None and math.isfinite(arched) and arched > 0:
            parts.append(f"low back arched {arched:.0f}° past standing")
        return ", ".join(parts) or "leaned back past upright at the top"
    if fault.code == "knee_dominant":
        knees = f"knees bent {n('knee_flexion_deg')} at {n('hip_flexion_deg')} of hip flexion"
        trunk = d.get("trunk_inclination_deg")
        chest = f", chest {trunk:.0f}° from upright" if trunk is not None and math.isfinite(trunk) else ""
        return f"{knees}{chest}: the hinge became a squat"
    return fault.code
