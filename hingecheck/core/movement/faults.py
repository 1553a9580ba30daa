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
from hingecheck.core.settings import FaultConfig
from hingecheck.core.types import Fault

FAULT_CODES = ("spinal_flexion_takeover", "extension_from_low_back", "lockout_hyperextension", "knee_dominant")
ANGLES = ("hip", "lumbar", "pelvic", "trunk", "knee")
_COLUMN = {
    "hip": "hip_flexion_deg",
    "lumbar": "lumbar_flexion_deg",
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
        return np.asarray(self.values[name][:stop], float) - self.ref.get(name, 0.0)

    def coverage(self, name: str, stop: int | None = None) -> float:
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


@dataclass
class _Run:
    start: int | None = None


class FaultJudge:
    """Judges one rep frame by frame; ``update`` returns faults the moment they are established."""

    def __init__(self, config: FaultConfig) -> None:
        self.cfg = config
        self.found: dict[str, Fault] = {}
        self._runs = {code: _Run() for code in FAULT_CODES}
        # running state of the return rule: hip maximum so far and where its bottom zone starts
        self._hip_max = -math.inf
        self._zone_start = 0
        self._lumbar_zone_max = -math.inf
        self._avg_cache: dict[tuple[str, int], float] = {}

    def _sustain(self, code: str, ok: bool | None, frames: RepFrames, i: int) -> int | None:
        """Track a condition's run; the run's first frame once it has lasted ``sustain_s`` (None otherwise)."""
        run = self._runs[code]
        if ok is None:  # not measurable on this frame: neither breaks nor extends the run
            return None
        if not ok:
            run.start = None
            return None
        if run.start is None:
            run.start = i
        if frames.time_s[i] - frames.time_s[run.start] >= self.cfg.sustain_s - 1e-9:
            return run.start
        return None

    def _raise(self, code: str, frames: RepFrames, at: int, details: dict[str, float | None]) -> Fault | None:
        if code in self.found:
            return None
        fault = Fault(code, frames.time_s[at], frames.frame[at], "", cue_for(code), details)
        fault.message = fault_message(fault)
        self.found[code] = fault
        return fault

    def update(self, frames: RepFrames, i: int, phase: str) -> list[Fault]:
        """Judge buffer position ``i``; ``phase`` is descent (incl. bottom), return or lockout."""
        new: list[Fault | None] = []
        cfg = self.cfg
        lum, hip = frames.rise("lumbar", i), frames.rise("hip", i)
        if phase in ("descent", "return"):
            # spinal flexion takeover: the lumbar rounds past tolerance and carries a large share of the motion.
            # Also judged in the return (a stalled, noisy hip can look like a return while the lumbar still
            # rounds); harmless there, since a normal return has little lumbar flexion left when its ratio rises.
            # Averaged like the onset rule, so one noisy frame neither makes nor breaks the run.
            lum_avg = self._avg(frames, "lumbar", i)
            pel_avg, trunk_avg = self._avg(frames, "pelvic", i), self._avg(frames, "trunk", i)
            total = lum_avg + pel_avg if math.isfinite(pel_avg) else trunk_avg
            share = lum_avg / total if math.isfinite(total) and total >= cfg.share_min_motion_deg else NAN
            ok = None
            if math.isfinite(lum) and math.isfinite(lum_avg):
                ok = lum_avg >= cfg.lumbar_tolerance_deg and share >= cfg.min_lumbar_share
            if (at := self._sustain("spinal_flexion_takeover", ok, frames, i)) is not None:
                at = self._tolerance_crossing(frames, at)
                new.append(
                    self._raise("spinal_flexion_takeover", frames, at, {"lumbar_deg": frames.rise("lumbar", at)})
                )
        if phase == "descent":
            knee = frames.rise("knee", i)
            ok = None
            if math.isfinite(knee) and math.isfinite(hip):
                ok = knee >= cfg.knee_min_deg and knee >= cfg.knee_hip_ratio * hip
            if (at := self._sustain("knee_dominant", ok, frames, i)) is not None:
                new.append(
                    self._raise(
                        "knee_dominant",
                        frames,
                        at,
                        {"knee_flexion_deg": frames.rise("knee", at), "hip_flexion_deg": frames.rise("hip", at)},
                    )
                )
        if phase in ("descent", "return"):
            new.append(self._judge_return_onset(frames, i))
        if phase == "lockout":
            trunk = frames.rise("trunk", i)
            ok = None
            if math.isfinite(trunk) or math.isfinite(lum):
                lean = math.isfinite(trunk) and trunk <= -cfg.lockout_lean_back_deg
                arch = math.isfinite(lum) and lum <= -cfg.lockout_lumbar_extension_deg
                ok = lean or arch
            if (at := self._sustain("lockout_hyperextension", ok, frames, i)) is not None:
                new.append(
                    self._raise(
                        "lockout_hyperextension",
                        frames,
                        at,
                        {
                            "lean_back_deg": -frames.rise("trunk", at),
                            "lumbar_extension_deg": -frames.rise("lumbar", at),
                        },
                    )
                )
        return [f for f in new if f is not None]

    def _tolerance_crossing(self, frames: RepFrames, at: int) -> int:
        """Where the lumbar (averaged) change last rose past tolerance before ``at``: the takeover's time.

        The rule also needs the lumbar share, which can creep past its threshold long after the lumbar passed
        tolerance (hip and lumbar rising together): its crossing moves by tens of frames with a degree of noise,
        whereas the lumbar passing tolerance on its way up is well defined.
        """
        k = at
        while k > 0:
            prev = self._avg(frames, "lumbar", k - 1)
            if math.isfinite(prev) and prev < self.cfg.lumbar_tolerance_deg:
                break
            k -= 1
        return k

    def _avg(self, frames: RepFrames, name: str, i: int) -> float:
        """Causal mean of the within-rep change over the last ``onset_average_s`` (NaN if none measured).

        The onset rule compares maxima with current values, and a maximum of noisy samples is biased upwards:
        averaging a few frames first keeps it honest on measured (noisy) angles, live or offline alike.
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

    def _judge_return_onset(self, frames: RepFrames, i: int) -> Fault | None:
        """Extension from the low back: near the bottom the lumbar extends while the hips have not moved yet."""
        cfg = self.cfg
        hip_i = self._avg(frames, "hip", i)
        lum_i = self._avg(frames, "lumbar", i)
        if not math.isfinite(hip_i):
            return None
        if hip_i > self._hip_max:
            self._hip_max = hip_i
            # the bottom zone starts at the first frame within bottom_zone_deg of the hip maximum
            j = self._zone_start
            while j < i and not (self._avg(frames, "hip", j) >= self._hip_max - cfg.bottom_zone_deg):
                j += 1
            if j != self._zone_start:
                self._zone_start = j
                zone = [self._avg(frames, "lumbar", k) for k in range(j, i + 1)]
                zone = [v for v in zone if math.isfinite(v)]
                self._lumbar_zone_max = max(zone) if zone else -math.inf
        if not math.isfinite(lum_i):
            return None
        self._lumbar_zone_max = max(self._lumbar_zone_max, lum_i)
        extension = self._lumbar_zone_max - lum_i
        hip_extension = self._hip_max - hip_i
        # Who moved first, judged where the lumbar has extended clearly: the hips may have moved a little plus a
        # share of the lumbar's extension, because a silhouette's pelvis reading follows the lumbar (measured
        # 0.3–0.8° per degree on the devset), whereas a hip-led return has moved the hips well over a degree per
        # lumbar degree by then (the lumbar starts 0.1–0.25 s after the hips). Only the early return counts (the
        # hips have done less than return_onset_fraction of their depth): later in a stoop's return both extend.
        hip_allowed = cfg.return_hip_still_deg + cfg.return_hip_per_lumbar * extension
        early = hip_extension < cfg.return_onset_fraction * max(self._hip_max, cfg.return_hip_still_deg)
        ok = extension >= cfg.return_lumbar_extension_deg and hip_extension < hip_allowed and early
        at = self._sustain("extension_from_low_back", ok, frames, i)
        if at is None:
            return None
        return self._raise(
            "extension_from_low_back",
            frames,
            at,
            {"lumbar_extension_deg": extension, "hip_extension_deg": hip_extension},
        )


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
        lean, arch = d.get("lean_back_deg"), d.get("lumbar_extension_deg")
        parts = []
        if lean is not None and math.isfinite(lean) and lean > 0:
            parts.append(f"leaned back {lean:.0f}° past upright at the top")
        if arch is not None and math.isfinite(arch) and arch > 0:
            parts.append(f"low back arched {arch:.0f}° past standing")
        return ", ".join(parts) or "leaned back past upright at the top"
    if fault.code == "knee_dominant":
        return f"knees bent {n('knee_flexion_deg')} at {n('hip_flexion_deg')} of hip flexion: the hinge became a squat"
    return fault.code
