"""A rep's measures from its buffered frames: bottom and return placement, peaks, lumbar share, hinge capacity."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from hingecheck.core.movement.faults import RepFrames, finalise_faults, lumbar_share
from hingecheck.core.settings import FaultConfig, RepConfig
from hingecheck.core.types import Fault, Rep


class TrackedRep(Protocol):
    """What the tracker knows of a finished rep besides its frames."""

    baseline: float
    bottom_i: int | None
    pull_first: bool
    lowering_i: int | None
    top_i: int | None

    @property
    def faults(self) -> list[Fault]:
        """The faults judged so far."""
        ...


def bottom_and_return(frames: RepFrames, stop: int, cfg: RepConfig, baseline: float) -> tuple[int, int]:
    """First and last buffer positions (< stop) where the drive and the trunk are both near their peaks.

    Using the trunk too places the bottom after a late lumbar takeover (hip stalled, trunk still going) and the
    start of the return where the low back begins to arch (hip still, trunk coming up).
    """
    drive = np.asarray(frames.drive[:stop], float)
    peak = float(np.nanmax(drive))
    band = max(cfg.bottom_band_deg, cfg.bottom_band_fraction * (peak - baseline))
    near = drive >= peak - band
    trunk = frames.array("trunk", stop)
    if np.isfinite(trunk).sum() > 0.5 * len(trunk):
        t_peak = float(np.nanmax(trunk))
        t_band = max(cfg.bottom_band_deg, cfg.bottom_band_fraction * t_peak)
        both = near & ~(trunk < t_peak - t_band)  # NaN trunk does not veto
        if both.any():
            near = both
    idx = np.flatnonzero(near)
    return int(idx[0]), int(idx[-1])


def _first_drop(values: np.ndarray, start: int, drop_deg: float) -> int | None:
    """First position ≥ start where ``values`` lies ``drop_deg`` below its running maximum since ``start``."""
    run_max = -math.inf
    for k in range(start, len(values)):
        v = values[k]
        if not math.isfinite(v):
            continue
        run_max = max(run_max, v)
        if v <= run_max - drop_deg:
            return k
    return None


def none_if_nan(x: float) -> float | None:
    """The value as a float, or None when it is missing or not finite."""
    return float(x) if x is not None and math.isfinite(x) else None


def build_rep(
    index: int,
    frames: RepFrames,
    end_i: int | None,
    partial: bool,
    cur: TrackedRep,
    cfg: RepConfig,
    fcfg: FaultConfig,
) -> Rep:
    """Measures of a finished rep from its buffer: phase times, peaks, lumbar share, hinge capacity, lead."""
    stop = (end_i + 1) if end_i is not None else len(frames)
    # a pull-first rep's bottom and pull are placed before its lowering (which ends at the next bottom)
    place_stop = cur.lowering_i if cur.lowering_i is not None else stop
    if cur.bottom_i is not None:
        # placed again over the whole rep: the return may have been confirmed early (noise on a stalled hip)
        bottom_i, return_i = bottom_and_return(frames, place_stop, cfg, cur.baseline)
    else:  # never came back up (cut by the clip's end): the bottom so far, no return
        bottom_i, return_i = bottom_and_return(frames, place_stop, cfg, cur.baseline)[0], None
    t = frames.time_s

    def peak(name: str) -> float | None:
        a = np.asarray(frames.values[name][:stop], float)
        return float(np.nanmax(a)) if np.isfinite(a).any() else None

    lumbar_ok = frames.coverage("lumbar", stop) >= fcfg.min_lumbar_coverage
    share = capacity = lead = lumbar_peak_rise = None
    if lumbar_ok:
        shares = [
            lumbar_share(frames, k, fcfg.share_min_motion_deg)
            for k in range(max(0, bottom_i - 2), min(stop, bottom_i + 3))
        ]
        shares = [s for s in shares if math.isfinite(s)]
        share = float(np.median(shares)) if shares else None
        lum = frames.array("lumbar", stop)
        lumbar_peak_rise = float(np.nanmax(lum))
        # the hips' range before the lumbar joins in: the descent, or a pull-first rep's lowering
        first, last = (0, (return_i if return_i is not None else bottom_i) + 1)
        if cur.pull_first:
            first, last = (cur.lowering_i, stop) if cur.lowering_i is not None else (0, 0)
        passed = np.flatnonzero(lum[first:last] >= fcfg.lumbar_onset_deg)
        if len(passed):
            capacity = none_if_nan(frames.values["hip"][first + passed[0]])
        if return_i is not None:
            k_hip = _first_drop(frames.array("hip", stop), bottom_i, fcfg.lead_deg)
            k_lum = _first_drop(lum, bottom_i, fcfg.lead_deg)
            if k_hip is not None and k_lum is not None:
                lead = t[k_hip] - t[k_lum]
    # faults stay as judged (live has already shown them): each was sustained on frames where it was measured;
    # a rep that never came back up before the clip ended (the set-down, or a cut recording) is counted, not judged
    unfinished = partial and return_i is None and end_i is None
    faults = [] if unfinished else sorted(cur.faults, key=lambda f: f.time_s)
    finalise_faults(faults, lumbar_peak_rise, capacity, lead)
    end_s = t[end_i] if end_i is not None else None
    return Rep(
        index=index,
        start_s=t[0],
        bottom_s=t[bottom_i],
        end_s=end_s,
        start_frame=frames.frame[0],
        bottom_frame=frames.frame[bottom_i],
        end_frame=frames.frame[end_i] if end_i is not None else None,
        return_start_s=t[return_i] if return_i is not None else None,
        partial=partial,
        peak_hip_flexion_deg=peak("hip"),
        peak_lumbar_flexion_deg=peak("lumbar") if lumbar_ok else None,
        peak_knee_flexion_deg=peak("knee"),
        peak_trunk_inclination_deg=peak("trunk"),
        lumbar_share=share,
        hinge_capacity_deg=capacity,
        lumbar_lead_s=lead,
        descent_s=_descent_s(t, bottom_i, end_i, cur),
        hold_s=(t[return_i] - t[bottom_i]) if return_i is not None else None,
        return_s=_return_s(t, return_i, end_s, cur),
        start_position="bottom" if cur.pull_first else "standing",
        faults=faults,
    )


def _descent_s(t: list[float], bottom_i: int, end_i: int | None, cur: TrackedRep) -> float | None:
    """Time going down: to the bottom, or a pull-first rep's lowering (None if it was not lowered)."""
    if not cur.pull_first:
        return t[bottom_i] - t[0]
    if cur.lowering_i is None or end_i is None:
        return None
    return t[end_i] - t[cur.lowering_i]


def _return_s(t: list[float], return_i: int | None, end_s: float | None, cur: TrackedRep) -> float | None:
    """Time coming up: to the rep's end, or a pull-first rep's pull up to standing."""
    if return_i is None:
        return None
    if cur.pull_first:
        return (t[cur.top_i] - t[return_i]) if cur.top_i is not None else None
    return (end_s - t[return_i]) if end_s is not None else None
