#!/usr/bin/env python3
"""Render synthetic side-view hip-hinge clips with exact ground truth (devset format).

Each clip: ``<clip>.mp4`` (H.264 yuv420p, 30 fps), ``<clip>_gt.csv`` (per-frame joint angles and
projected 2D joint centres) and ``<clip>_reps.json`` (clip metadata + one record per rep), plus a
``manifest.csv`` for the whole output directory. The format follows ../shared/devset/README.md.

Pipeline: the ``anny`` parametric body (MakeHuman assets, Apache-2.0) is posed through its skeleton
with sagittal rotations only, rendered with pyrender (Mesa EGL, no display), degraded (gain, blur,
noise, optional JPEG) and encoded with PyAV (libx264, yuv420p).

Runs in its own environment (see tools/README.md), e.g.::

    .venv-render/bin/python tools/render_clips.py --out /tmp/clips --n 2 --seed 7

Everything a clip contains is drawn from ``numpy.random.default_rng(SeedSequence([seed, index]))``,
so the same arguments give the same clip (byte-identical CSV/JSON; the video up to the encoder).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
if not hasattr(np, "infty"):  # pyrender 0.1.45 still uses np.infty (removed in numpy 2)
    np.infty = np.inf  # type: ignore[attr-defined]

FPS = 30
# the random mix (unchanged, so random clips stay reproducible); the new types only via --reps
RANDOM_REP_TYPES = ("good", "spinal_flexion", "low_back_return", "both")
NEW_REP_TYPES = ("lockout_hyperextension", "knee_dominant")
REP_TYPES = RANDOM_REP_TYPES + NEW_REP_TYPES
VARIANTS = ("simultaneous", "late_takeover")
LABELS = {
    "good": [],
    "spinal_flexion": ["spinal_flexion_takeover"],
    "low_back_return": ["extension_from_low_back"],
    "both": ["spinal_flexion_takeover", "extension_from_low_back"],
    "lockout_hyperextension": ["lockout_hyperextension"],
    "knee_dominant": ["knee_dominant"],
}
REP_ALIASES = {
    "g": "good",
    "sf": "spinal_flexion",
    "lb": "low_back_return",
    "b": "both",
    "lo": "lockout_hyperextension",
    "lh": "lockout_hyperextension",
    "k": "knee_dominant",
    "kd": "knee_dominant",
}
ANGLE_COLS = [
    "hip_flexion_deg",
    "lumbar_flexion_deg",
    "thoracic_flexion_deg",
    "pelvic_tilt_deg",
    "knee_flexion_deg",
    "trunk_inclination_deg",
    "thorax_inclination_deg",
    "thigh_inclination_deg",
    "shin_inclination_deg",
    "neck_flexion_deg",
    "trunk_line_absolute_deg",
]
# 2D points: name -> anny bone whose head is the point
SIDE_POINTS = {
    "shoulder": "upperarm01",
    "elbow": "lowerarm01",
    "wrist": "wrist",
    "hip": "upperleg01",
    "knee": "lowerleg01",
    "ankle": "foot",
    "toe": "toe2-1",
    "eye": "eye",
}
MID_POINTS = {
    "pelvis_centre": "root",
    "lumbar_low": "spine04",
    "lumbar_high": "spine03",
    "thoracolumbar": "spine02",
    "thoracic_mid": "spine01",
    "neck_base": "neck01",
    "head_base": "head",
}


def point_names() -> list[str]:
    names = [f"{p}_{s}" for p in SIDE_POINTS for s in ("L", "R")]
    return names + list(MID_POINTS)


def point_bone(name: str) -> str:
    if name in MID_POINTS:
        return MID_POINTS[name]
    base, side = name.rsplit("_", 1)
    return f"{SIDE_POINTS[base]}.{side}"


# ----------------------------------------------------------------------------------------------
# Motion: keyframes -> monotone cubic per angle
# ----------------------------------------------------------------------------------------------


@dataclass
class Track:
    """Keyframes (frame, value) of one angle; interpolated with a monotone cubic (PCHIP)."""

    knots: list[tuple[int, float]] = field(default_factory=lambda: [(0, 0.0)])

    def add(self, frame: int, value: float) -> None:
        if frame == self.knots[-1][0]:
            self.knots[-1] = (frame, float(value))
        elif frame > self.knots[-1][0]:
            self.knots.append((frame, float(value)))
        else:
            raise ValueError(f"knots must increase: {frame} after {self.knots[-1][0]}")

    def sample(self, n_frames: int) -> np.ndarray:
        from scipy.interpolate import PchipInterpolator

        if self.knots[-1][0] < n_frames - 1:
            self.add(n_frames - 1, self.knots[-1][1])
        x = np.array([k[0] for k in self.knots], float)
        y = np.array([k[1] for k in self.knots], float)
        if len(x) == 1:
            return np.full(n_frames, y[0])
        return PchipInterpolator(x, y)(np.arange(n_frames, dtype=float))


def sec(rng: np.random.Generator, lo: float, hi: float, span: float = 1.0) -> int:
    """Random duration in whole frames, drawn from the lower ``span`` fraction of [lo, hi]."""
    return max(1, int(round(rng.uniform(lo, lo + span * (hi - lo)) * FPS)))


@dataclass
class MotionStyle:
    good_hip_deg: float
    knee_deg: float
    shin_ratio: float
    neck_style: str
    fast: bool = False
    span: float = 1.0  # < 1 draws durations from the lower part of their ranges (duration cap)


def plan_rep(rng: np.random.Generator, rtype: str, variant: str | None, style: MotionStyle, start: int) -> dict:
    """Keyframes of one rep starting at frame ``start``. Returns {'tracks': {angle: [(f, v)]}, 'meta': ...}.

    Primary tracks: hip, lumbar, thoracic, knee (shin/thigh/pelvis are derived).
    """
    if rtype == "lockout_hyperextension":
        return plan_lockout_rep(rng, style, start)
    if rtype == "knee_dominant":
        return plan_knee_dominant_rep(rng, style, start)
    fast = style.fast
    sp = style.span
    descent = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 2.5, sp)
    hold = sec(rng, 0.05, 0.5, sp)
    ret = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 1.8, sp)
    knee = float(np.clip(style.knee_deg + rng.uniform(-3, 3), 5, 25))
    flexed = rtype in ("spinal_flexion", "both")
    if flexed:
        hip = rng.uniform(25, 55)
        lumbar = rng.uniform(22, 45)
        thor = rng.uniform(6, 18)
    else:
        hip = float(np.clip(style.good_hip_deg + rng.uniform(-4, 4), 60, 90))
        lumbar = rng.uniform(0, 6)
        thor = rng.uniform(0, 8)
    s, b = start, start + descent
    r0 = b + hold
    tr: dict[str, list[tuple[int, float]]] = {k: [(s, 0.0)] for k in ("hip", "lumbar", "thoracic", "knee")}
    meta: dict = {"start": s, "bottom": b, "return_start": r0}
    if flexed and variant == "late_takeover":
        hip = min(hip, 52 + 2)
        frac = rng.uniform(0.45, 0.60)
        stall = s + max(2, int(round(frac * descent)))
        if b - stall < 3:
            b = stall + 3
            r0 = b + hold
            meta.update(bottom=b, return_start=r0)
        hip_stall = float(np.clip(hip - rng.uniform(0.5, 2.5), 25, 52))
        hip_gain = rng.uniform(0.3, 2.5)
        hip = hip_stall + hip_gain
        lumbar_stall = rng.uniform(0.0, 2.0)
        thor_stall = rng.uniform(0.0, 2.0)
        knee_stall = knee * rng.uniform(0.85, 1.0)
        tr["hip"] += [(stall, hip_stall), (b, hip)]
        tr["lumbar"] += [(stall, lumbar_stall), (b, lumbar)]
        tr["thoracic"] += [(stall, thor_stall), (b, thor)]
        tr["knee"] += [(stall, knee_stall), (b, knee)]
        meta["stall"] = stall
    else:
        for k, v in (("hip", hip), ("lumbar", lumbar), ("thoracic", thor), ("knee", knee)):
            tr[k].append((b, v))
    for k, v in (("hip", hip), ("lumbar", lumbar), ("thoracic", thor), ("knee", knee)):
        tr[k].append((r0, v))
    if rtype in ("low_back_return", "both"):
        onset = sec(rng, 0.3, 0.5)
        w_end = r0 + onset
        hip_ext = rng.uniform(0.2, 1.8)
        # low_back_return: arch from ~0 to -12..-22; both: extend 12-22 deg from the flexed peak
        lum_w = (0.0 if rtype == "low_back_return" else lumbar) - rng.uniform(12, 22)
        rest = ret
        end = w_end + rest
        tr["hip"] += [(w_end, hip - hip_ext), (end, 0.0)]
        tr["lumbar"] += [(w_end, lum_w), (end, 0.0)]
        tr["thoracic"] += [(w_end, thor), (end, 0.0)]
        tr["knee"] += [(w_end, knee), (end, 0.0)]
        meta["onset_end"] = w_end
    else:
        end = r0 + ret
        lag = sec(rng, 0.1, 0.25)
        tr["hip"].append((end, 0.0))
        tr["knee"].append((end, 0.0))
        tr["lumbar"] += [(r0 + lag, lumbar), (end, 0.0)]
        lag_t = sec(rng, 0.1, 0.25)
        tr["thoracic"] += [(r0 + lag_t, thor), (end, 0.0)]
    meta["end"] = end
    return {"tracks": tr, "meta": meta, "type": rtype, "variant": variant}


def plan_lockout_rep(rng: np.random.Generator, style: MotionStyle, start: int) -> dict:
    """A good hinge whose return overshoots standing: the hips drive on through standing into hip extension
    while the low back arches (it starts arching in the last part of the return), the lean back is held
    0.4–0.8 s, then the subject comes back to standing. Knee and descent as in ``good``."""
    fast, sp = style.fast, style.span
    descent = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 2.5, sp)
    hold = sec(rng, 0.05, 0.5, sp)
    ret = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 1.8, sp)
    knee = float(np.clip(style.knee_deg + rng.uniform(-3, 3), 5, 25))
    hip = float(np.clip(style.good_hip_deg + rng.uniform(-4, 4), 60, 90))
    lumbar = rng.uniform(0, 6)
    thor = rng.uniform(0, 8)
    lag = sec(rng, 0.1, 0.25)
    lag_t = sec(rng, 0.1, 0.25)
    over = sec(rng, 0.12, 0.25)  # from passing standing (hip 0) to the full lean back
    lean_hold = sec(rng, 0.4, 0.8, sp)
    back = sec(rng, 0.3, 0.6)
    hip_ext = rng.uniform(2, 5)  # hip extension past standing (posterior pelvic tilt, hips through)
    lum_ext = rng.uniform(12, 20)  # lumbar arch past standing
    thor_ext = rng.uniform(0, 3)  # chest up
    arch_at_top = rng.uniform(0.45, 0.65)  # share of the arch already there when the hip passes standing
    relax = rng.uniform(0.85, 1.0)  # the lean eases a little during its hold
    s, b = start, start + descent
    r0 = b + hold
    top = r0 + ret
    l1 = top + over
    l2 = l1 + lean_hold
    end = l2 + back
    tr = {
        "hip": [(s, 0.0), (b, hip), (r0, hip), (top, 0.0), (l1, -hip_ext), (l2, -hip_ext * relax), (end, 0.0)],
        "knee": [(s, 0.0), (b, knee), (r0, knee), (top, 0.0), (end, 0.0)],
        "lumbar": [
            (s, 0.0),
            (b, lumbar),
            (r0, lumbar),
            (r0 + lag, lumbar),
            (top, -arch_at_top * lum_ext),
            (l1, -lum_ext),
            (l2, -lum_ext * relax),
            (end, 0.0),
        ],
        "thoracic": [
            (s, 0.0),
            (b, thor),
            (r0, thor),
            (r0 + lag_t, thor),
            (top, -arch_at_top * thor_ext),
            (l1, -thor_ext),
            (l2, -thor_ext * relax),
            (end, 0.0),
        ],
    }
    meta = {"start": s, "bottom": b, "return_start": r0, "end": end, "lean": (top, l1, l2)}
    return {"tracks": tr, "meta": meta, "type": "lockout_hyperextension", "variant": None}


def plan_knee_dominant_rep(rng: np.random.Generator, style: MotionStyle, start: int) -> dict:
    """A squat-like rep: knee 60–95° at the bottom, hip 1.0–1.3 × the knee, flexing and extending in a fixed
    ratio (the knee/hip ratio is constant through the rep), shank a larger share (0.3–0.42) of the knee than
    in a hinge, lumbar near neutral, arms (when hanging) raised forward with the depth for balance."""
    fast, sp = style.fast, style.span
    descent = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 2.5, sp)
    hold = sec(rng, 0.05, 0.5, sp)
    ret = sec(rng, 0.6, 0.9) if fast else sec(rng, 0.8, 1.8, sp)
    knee = rng.uniform(60, 95)
    hip = float(min(120.0, knee * rng.uniform(1.0, 1.3)))
    lumbar = rng.uniform(0, 6)
    thor = rng.uniform(0, 8)
    shin_ratio = rng.uniform(0.3, 0.42)
    arm_raise = rng.uniform(30, 60)
    lag = sec(rng, 0.1, 0.25)
    lag_t = sec(rng, 0.1, 0.25)
    s, b = start, start + descent
    r0 = b + hold
    end = r0 + ret
    tr = {
        "hip": [(s, 0.0), (b, hip), (r0, hip), (end, 0.0)],
        "knee": [(s, 0.0), (b, knee), (r0, knee), (end, 0.0)],
        "lumbar": [(s, 0.0), (b, lumbar), (r0, lumbar), (r0 + lag, lumbar), (end, 0.0)],
        "thoracic": [(s, 0.0), (b, thor), (r0, thor), (r0 + lag_t, thor), (end, 0.0)],
    }
    meta = {
        "start": s,
        "bottom": b,
        "return_start": r0,
        "end": end,
        "shin_ratio": float(shin_ratio),
        "arm_raise": float(arm_raise),
        "knee_peak": float(knee),
    }
    return {"tracks": tr, "meta": meta, "type": "knee_dominant", "variant": None}


def build_motion(rng: np.random.Generator, rep_specs: list[tuple[str, str | None]], style: MotionStyle) -> dict:
    pre = rng.uniform(0.9, 1.2)
    post = rng.uniform(0.4, 0.7)
    frame = int(round(pre * FPS))
    reps = []
    for i, (rtype, variant) in enumerate(rep_specs):
        if i:
            frame += sec(rng, 0.3, 0.9, style.span)
        rep = plan_rep(rng, rtype, variant, style, frame)
        reps.append(rep)
        frame = rep["meta"]["end"]
    n_frames = frame + int(round(post * FPS)) + 1
    tracks = {k: Track() for k in ("hip", "lumbar", "thoracic", "knee", "neck")}
    for rep in reps:
        for k, knots in rep["tracks"].items():
            for f, v in knots:
                tracks[k].add(f, v)
        m = rep["meta"]
        nb = neck_bottom(rng, style)
        tracks["neck"].add(m["start"], 0.0)
        tracks["neck"].add(m["bottom"], nb)
        tracks["neck"].add(m["return_start"], nb)
        tracks["neck"].add(m["end"], 0.0)
    a = {k: t.sample(n_frames) for k, t in tracks.items()}
    t = np.arange(n_frames) / FPS
    ph1, ph2, ph3 = rng.uniform(0, 2 * np.pi, 3)
    breath = 0.25 * np.sin(2 * np.pi * t / rng.uniform(3.0, 5.0) + ph1) + 0.12 * np.sin(2 * np.pi * t / 1.7 + ph2)
    a["thoracic"] = a["thoracic"] + np.clip(breath, -0.4, 0.4)
    a["neck"] = a["neck"] + 0.8 * np.sin(2 * np.pi * t / rng.uniform(4.0, 7.0) + ph3)
    knee = a["knee"]
    squats = [r["meta"] for r in reps if "shin_ratio" in r["meta"]]
    if squats:  # knee_dominant reps: their own shank share and a forward arm raise (old clips: untouched)
        ratio = np.full(n_frames, style.shin_ratio)
        arm_extra = np.zeros(n_frames)
        for m in squats:
            sl = slice(m["start"], m["end"] + 1)
            ratio[sl] = m["shin_ratio"]
            arm_extra[sl] = m["arm_raise"] * np.clip(knee[sl] / m["knee_peak"], 0, 1)
        shin = ratio * knee
    else:
        shin = style.shin_ratio * knee
    thigh = knee - shin
    pelvic = a["hip"] - thigh
    angles = {
        "hip_flexion_deg": a["hip"],
        "lumbar_flexion_deg": a["lumbar"],
        "thoracic_flexion_deg": a["thoracic"],
        "pelvic_tilt_deg": pelvic,
        "knee_flexion_deg": knee,
        "thigh_inclination_deg": thigh,
        "shin_inclination_deg": shin,
        "neck_flexion_deg": a["neck"],
    }
    angles["thorax_inclination_deg"] = pelvic + a["lumbar"] + a["thoracic"]
    if squats:
        angles["arm_forward_extra_deg"] = arm_extra  # not a CSV column: posing only
    return {"n_frames": n_frames, "reps": reps, "angles": angles, "pre_s": pre, "post_s": post}


def neck_bottom(rng: np.random.Generator, style: MotionStyle) -> float:
    if style.neck_style == "look_forward":
        return -rng.uniform(10, 25)
    return rng.uniform(-5, 5)


# ----------------------------------------------------------------------------------------------
# Labels and rep records from the sampled angles
# ----------------------------------------------------------------------------------------------


def rep_record(rep: dict, idx: int, ang: dict[str, np.ndarray]) -> dict:
    m = rep["meta"]
    s, b, r0, e = m["start"], m["bottom"], m["return_start"], m["end"]
    hip, lum = ang["hip_flexion_deg"], ang["lumbar_flexion_deg"]
    sl = slice(s, e + 1)

    def f2t(f: int) -> float:
        return round(f / FPS, 3)

    rec: dict = {
        "index": idx,
        "type": rep["type"],
        "variant": rep["variant"],
        "labels": list(LABELS[rep["type"]]),
        "start_s": f2t(s),
        "bottom_s": f2t(b),
        "return_start_s": f2t(r0),
        "end_s": f2t(e),
        "start_frame": s,
        "bottom_frame": b,
        "return_start_frame": r0,
        "end_frame": e,
        "descent_s": f2t(b - s),
        "hold_s": f2t(r0 - b),
        "return_s": f2t(e - r0),
    }
    for col in ("hip_flexion", "lumbar_flexion"):
        rec[f"peak_{col}_deg"] = round(float(ang[f"{col}_deg"][sl].max()), 3)
    rec["min_lumbar_flexion_deg"] = round(float(lum[sl].min()), 3)
    for col in ("thoracic_flexion", "knee_flexion", "pelvic_tilt", "trunk_inclination", "thorax_inclination"):
        rec[f"peak_{col}_deg"] = round(float(ang[f"{col}_deg"][sl].max()), 3)
    pt = ang["pelvic_tilt_deg"][b]
    rec["lumbar_share_at_bottom"] = round(float(lum[b] / (lum[b] + pt)), 3) if (lum[b] + pt) else None
    hit = [f for f in range(s, b + 1) if lum[f] >= 10]
    rec["lumbar_flexion_reaches_10deg"] = (
        {"time_s": f2t(hit[0]), "frame": hit[0], "hip_flexion_deg": round(float(hip[hit[0]]), 3)} if hit else None
    )
    if "stall" in m:
        st = m["stall"]
        rec["takeover"] = {
            "stall_start_s": f2t(st),
            "stall_start_frame": st,
            "hip_at_stall_start_deg": round(float(hip[st]), 3),
            "lumbar_at_stall_start_deg": round(float(lum[st]), 3),
            "hip_gain_after_stall_deg": round(float(hip[b] - hip[st]), 3),
            "lumbar_gain_after_stall_deg": round(float(lum[b] - lum[st]), 3),
        }
    if "onset_end" in m:
        we = m["onset_end"]
        rec["low_back_onset"] = {
            "end_s": f2t(we),
            "end_frame": we,
            "duration_s": f2t(we - r0),
            "lumbar_extension_deg": round(float(lum[r0] - lum[we]), 3),
            "hip_extension_deg": round(float(hip[r0] - hip[we]), 3),
        }
    onset = {}
    for w in (0.3, 0.5):
        hi = min(e, r0 + int(round(w * FPS)))
        seg = slice(r0, hi + 1)
        onset[f"first_{w}s"] = {
            "hip_extension_deg": round(float(hip[r0] - hip[seg].min()), 3),
            "lumbar_extension_deg": round(float(lum[r0] - lum[seg].min()), 3),
        }
    rec["return_onset"] = onset
    ext10 = [f for f in range(r0 + 1, e + 1) if lum[r0] - lum[f] >= 10]
    rec["hip_extension_when_lumbar_extended_10deg"] = round(float(hip[r0] - hip[ext10[0]]), 3) if ext10 else None

    def first3(x: np.ndarray) -> float | None:
        fr = [f for f in range(r0 + 1, e + 1) if x[r0] - x[f] >= 3]
        return round((fr[0] - r0) / FPS, 3) if fr else None

    th, tl = first3(hip), first3(lum)
    rec["return_3deg_extension_times_s"] = {
        "hip": th,
        "lumbar": tl,
        "lumbar_lead": round(th - tl, 3) if th is not None and tl is not None else None,
    }
    if rep["type"] == "lockout_hyperextension":
        rec["lockout"] = lockout_record(m, ang)
    elif rep["type"] == "knee_dominant":
        rec["squat"] = squat_record(m, ang)
    return rec


# The new rep types' label lines, with a margin from the pipeline's rules ([faults] in hingecheck/defaults.toml:
# lean back 8°, lumbar arch 12°, judged from where the hip is back below 8° (the tracker's end_deg) for
# lockout_s = 0.4 s after it, sustained 0.1 s; knee >= 45° and >= 0.6 x hip during the descent).
LEAN_BACK_DEG = 10.0  # trunk inclination <= -this ...
LEAN_ARCH_DEG = 14.0  # ... or lumbar <= -this: the lean condition of a lockout_hyperextension rep
LEAN_WINDOW_FROM_HIP_DEG = 8.0  # the lean condition must set in within LEAN_MAX_DELAY_S after the hip is below this
LEAN_MAX_DELAY_S = 0.27
LEAN_MIN_HELD_S = 0.3
KNEE_LABEL_DEG = 50.0  # knee_dominant: knee >= this and >= KNEE_LABEL_RATIO x hip on >= KNEE_MIN_FRAMES descent frames
KNEE_LABEL_RATIO = 0.7
KNEE_MIN_FRAMES = 6  # at 30 fps; scaled with --fps (0.2 s)


def knee_min_frames() -> int:
    return KNEE_MIN_FRAMES if FPS == 30 else max(3, int(round(KNEE_MIN_FRAMES * FPS / 30)))


def lockout_record(m: dict, ang: dict[str, np.ndarray]) -> dict:
    s, r0, e = m["start"], m["return_start"], m["end"]
    top, l1, l2 = m["lean"]
    hip, lum, trunk = ang["hip_flexion_deg"], ang["lumbar_flexion_deg"], ang["trunk_inclination_deg"]
    sl = slice(s, e + 1)
    below = [f for f in range(r0 + 1, e + 1) if hip[f] < LEAN_WINDOW_FROM_HIP_DEG]
    cond = (trunk <= -LEAN_BACK_DEG) | (lum <= -LEAN_ARCH_DEG)
    k = next((f for f in range(below[0], e + 1) if cond[f]), None) if below else None
    held = 0
    if k is not None:
        while k + held <= e and cond[k + held]:
            held += 1
    passed = [f for f in range(r0 + 1, e + 1) if hip[f] <= 0]
    return {
        "hip_below_8deg_frame": below[0] if below else None,
        "hip_below_8deg_s": round(below[0] / FPS, 3) if below else None,
        "standing_pass_frame": passed[0] if passed else None,
        "lean_reached_frame": l1,
        "lean_hold_end_frame": l2,
        "lean_hold_s": round((l2 - l1) / FPS, 3),
        "max_lean_back_deg": round(float(-trunk[sl].min()), 3),
        "max_lumbar_extension_deg": round(float(-lum[sl].min()), 3),
        "max_hip_extension_deg": round(float(-hip[sl].min()), 3),
        "lean_condition_frame": k,
        "lean_condition_delay_s": round((k - below[0]) / FPS, 3) if k is not None else None,
        "lean_condition_held_s": round(held / FPS, 3),
    }


def squat_record(m: dict, ang: dict[str, np.ndarray]) -> dict:
    s, b, r0 = m["start"], m["bottom"], m["return_start"]
    hip, knee = ang["hip_flexion_deg"], ang["knee_flexion_deg"]
    hit = [f for f in range(s, b + 1) if knee[f] >= 45]
    n_dom = sum(1 for f in range(s, r0 + 1) if knee[f] >= KNEE_LABEL_DEG and knee[f] >= KNEE_LABEL_RATIO * hip[f])
    return {
        "knee_at_bottom_deg": round(float(knee[b]), 3),
        "hip_at_bottom_deg": round(float(hip[b]), 3),
        "knee_hip_ratio": round(float(knee[b] / hip[b]), 3),
        "shin_ratio": round(m["shin_ratio"], 3),
        "shin_at_bottom_deg": round(float(ang["shin_inclination_deg"][b]), 3),
        "arm_forward_raise_deg": round(m["arm_raise"], 3),
        "knee_reaches_45deg": (
            {"time_s": round(hit[0] / FPS, 3), "frame": hit[0], "hip_flexion_deg": round(float(hip[hit[0]]), 3)}
            if hit
            else None
        ),
        "knee_dominant_descent_frames": n_dom,
    }


def check_labels(rec: dict, ang: dict[str, np.ndarray]) -> bool:
    """The devset label definitions must hold exactly on the frame-sampled ground truth."""
    s, r0, e = rec["start_frame"], rec["return_start_frame"], rec["end_frame"]
    lum, hip = ang["lumbar_flexion_deg"], ang["hip_flexion_deg"]
    takeover = bool(lum[s : e + 1].max() >= 20)
    lowback = False
    for f in range(r0 + 1, e + 1):
        if lum[r0] - lum[f] >= 10:
            lowback = hip[r0] - hip[f] < 3
            break
    labels = set(rec["labels"])
    ok = takeover == ("spinal_flexion_takeover" in labels) and lowback == ("extension_from_low_back" in labels)
    if rec["type"] == "good" or rec["type"] == "low_back_return":
        ok = ok and rec["peak_lumbar_flexion_deg"] <= 6.0
    if rec["type"] in ("spinal_flexion", "both"):
        ok = ok and rec["peak_lumbar_flexion_deg"] >= 22.0
        if rec["variant"] == "late_takeover":
            tk = rec["takeover"]
            ok = ok and tk["lumbar_at_stall_start_deg"] <= 5 and tk["hip_gain_after_stall_deg"] <= 3
    if "low_back_onset" in rec:
        ok = ok and rec["low_back_onset"]["hip_extension_deg"] <= 2.0
    if rec["type"] in ("good", "spinal_flexion"):
        h10 = rec["hip_extension_when_lumbar_extended_10deg"]
        ok = ok and (h10 is None or h10 >= 8.0)
    if rec["type"] in NEW_REP_TYPES:
        ok = ok and check_new_labels(rec, ang)
    return ok


def check_new_labels(rec: dict, ang: dict[str, np.ndarray]) -> bool:
    """lockout_hyperextension / knee_dominant reps: their label holds with a margin and no other label does."""
    s, e = rec["start_frame"], rec["end_frame"]
    sl = slice(s, e + 1)
    h10 = rec["hip_extension_when_lumbar_extended_10deg"]
    ok = rec["peak_lumbar_flexion_deg"] <= 6.0 and (h10 is None or h10 >= 8.0)
    if rec["type"] == "lockout_hyperextension":
        lo = rec["lockout"]
        ok = ok and rec["peak_knee_flexion_deg"] <= 30.0  # far from knee_dominant (45°)
        ok = ok and lo["lean_condition_frame"] is not None
        ok = ok and lo["lean_condition_delay_s"] <= LEAN_MAX_DELAY_S and lo["lean_condition_held_s"] >= LEAN_MIN_HELD_S
        ok = ok and LEAN_BACK_DEG <= lo["max_lean_back_deg"] <= 19.0
    else:  # knee_dominant
        sq = rec["squat"]
        ok = ok and sq["knee_at_bottom_deg"] >= 55.0 and sq["knee_dominant_descent_frames"] >= knee_min_frames()
        knee, hip = ang["knee_flexion_deg"][sl], ang["hip_flexion_deg"][sl]
        ok = ok and bool(np.all((knee < 45) | (knee >= KNEE_LABEL_RATIO * hip)))
        # no lockout: no lean back, no arch past standing
        ok = ok and float(ang["trunk_inclination_deg"][sl].min()) >= -1.0 and rec["min_lumbar_flexion_deg"] >= -3.0
    return ok


# ----------------------------------------------------------------------------------------------
# Body: anny model, posing, colours
# ----------------------------------------------------------------------------------------------


def rot_x(deg: np.ndarray | float) -> np.ndarray:
    a = np.radians(np.asarray(deg, float))
    c, s = np.cos(a), np.sin(a)
    r = np.zeros(a.shape + (3, 3))
    r[..., 0, 0] = 1
    r[..., 1, 1] = c
    r[..., 1, 2] = -s
    r[..., 2, 1] = s
    r[..., 2, 2] = c
    return r


def rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def rot_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction u to direction v."""
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    ax = np.cross(u, v)
    s = np.linalg.norm(ax)
    c = float(np.dot(u, v))
    if s < 1e-9:
        return np.eye(3)
    k = ax / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


class Body:
    """One anny body with a fixed phenotype; poses it frame by frame."""

    def __init__(self, model, phenotype: dict[str, float], arms: dict):
        import torch

        self.torch = torch
        self.model = model
        self.labels = list(model.bone_labels)
        self.idx = {n: i for i, n in enumerate(self.labels)}
        self.pheno = {k: torch.tensor([float(v)], dtype=torch.float64) for k, v in phenotype.items()}
        self.faces = model.get_triangular_faces().cpu().numpy().astype(np.int32)
        self.arms = arms
        out = self._forward({})
        self.rest_vertices = out["vertices"][0]
        self.rest_bones = out["bone_poses"][0]
        self.floor_z = float(self.rest_vertices[:, 2].min())
        self.stature = float(self.rest_vertices[:, 2].max() - self.floor_z)
        w = model.vertex_bone_weights.cpu().numpy()
        bi = model.vertex_bone_indices.cpu().numpy()
        self.dominant = bi[np.arange(len(bi)), w.argmax(1)]

    def head(self, bones: np.ndarray, name: str) -> np.ndarray:
        return bones[..., self.idx[name], :3, 3]

    def _forward(self, deltas: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        n = len(next(iter(deltas.values()))) if deltas else 1
        pose = {}
        for name, rot in deltas.items():
            m = np.zeros((n, 4, 4))
            m[:, :3, :3] = rot
            m[:, 3, 3] = 1
            pose[name] = torch.from_numpy(m)
        pheno = {k: v.expand(n) for k, v in self.pheno.items()}
        with torch.no_grad():
            out = self.model(pose_parameters=pose if pose else None, phenotype_kwargs=pheno)
        return {"vertices": out["vertices"].cpu().numpy(), "bone_poses": out["bone_poses"].cpu().numpy()}

    def arm_targets(
        self, side: str, thorax_rot: np.ndarray, extra_fw: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """World directions (n,3) of upper arm and forearm (``extra_fw``: per-frame forward raise, deg)."""
        sx = 1.0 if side == "L" else -1.0
        n = len(thorax_rot)
        a = self.arms
        if a["pose"] == "crossed":
            # in the thorax frame: upper arm down and forward, forearm across the chest
            lift = a.get("cross_lift_deg", 0.0) * (1 if side == "L" else -1)
            up = np.array([sx * 0.15, -0.55, -0.82])
            fo = np.array([-sx * 0.90, -0.12, 0.42 + math.radians(lift)])
            up_w = thorax_rot @ (up / np.linalg.norm(up))
            fo_w = thorax_rot @ (fo / np.linalg.norm(fo))
            return up_w, fo_w
        ab = math.radians(a["angle_from_vertical_deg"])
        fw = math.radians(a["forward_deg"])
        if extra_fw is not None:
            fwn = fw + np.radians(np.asarray(extra_fw, float))
            d = np.stack([np.full(n, sx * math.sin(ab)), -np.sin(fwn), -math.cos(ab) * np.cos(fwn)], -1)
            d = d / np.linalg.norm(d, axis=1, keepdims=True)
            return d, d.copy()
        d = np.array([sx * math.sin(ab), -math.sin(fw), -math.cos(ab) * math.cos(fw)])
        d = d / np.linalg.norm(d)
        return np.tile(d, (n, 1)), np.tile(d, (n, 1))

    def pose(self, ang: dict[str, np.ndarray], sl: slice) -> dict[str, np.ndarray]:
        """Pose frames ``sl``; returns vertices (n,V,3) and bone heads (n,B,3) in the world frame before yaw."""
        p = ang["pelvic_tilt_deg"][sl]
        n = len(p)
        lum = ang["lumbar_flexion_deg"][sl]
        tho = ang["thoracic_flexion_deg"][sl]
        d = {
            "root": rot_x(p),
            "spine04": rot_x(lum / 2),
            "spine03": rot_x(lum / 2),
            "spine02": rot_x(tho / 2),
            "spine01": rot_x(tho / 2),
        }
        neck = ang["neck_flexion_deg"][sl]
        for b in ("neck01", "neck02", "neck03"):
            d[b] = rot_x(neck / 3)
        hip = ang["hip_flexion_deg"][sl]
        knee = ang["knee_flexion_deg"][sl]
        shin = ang["shin_inclination_deg"][sl]
        for s in ("L", "R"):
            d[f"upperleg01.{s}"] = rot_x(-hip)
            d[f"lowerleg01.{s}"] = rot_x(knee)
            d[f"foot.{s}"] = rot_x(-shin)
        thorax = rot_x(p + lum + tho)
        rb = self.rest_bones
        for s in ("L", "R"):
            ua = self.head(rb, f"lowerarm01.{s}") - self.head(rb, f"upperarm01.{s}")
            fa = self.head(rb, f"wrist.{s}") - self.head(rb, f"lowerarm01.{s}")
            extra = ang["arm_forward_extra_deg"][sl] if "arm_forward_extra_deg" in ang else None
            up_w, fo_w = self.arm_targets(s, thorax, extra)
            q1 = np.stack([rot_between(ua, u) for u in up_w])
            q2 = np.stack([rot_between(fa, f) for f in fo_w])
            # local-ref deltas compose in world axes: G_child = G_parent @ D_child
            d[f"upperarm01.{s}"] = np.transpose(thorax, (0, 2, 1)) @ q1
            d[f"lowerarm01.{s}"] = np.transpose(q1, (0, 2, 1)) @ q2
        out = self._forward(d)
        verts, bones = out["vertices"], out["bone_poses"][..., :3, 3]
        ank = 0.5 * (bones[:, self.idx["foot.L"]] + bones[:, self.idx["foot.R"]])
        # keep the ankles where they are in standing: origin on the floor midway between the ankles
        rest_ank = 0.5 * (self.head(self.rest_bones, "foot.L") + self.head(self.rest_bones, "foot.R"))
        off = rest_ank[None] - ank
        off[:, 0] -= rest_ank[0]
        off[:, 1] -= rest_ank[1]
        off[:, 2] -= self.floor_z
        assert n == len(verts)
        return {"vertices": verts + off[:, None], "bones": bones + off[:, None]}

    def colours(self, look: dict, arms_pose: str, top_hem_drop_m: float = 0.0) -> np.ndarray:
        """Per-vertex sRGB colours (V,4 uint8): skin, shirt, lower garment, shoes, hair.

        ``top_hem_drop_m`` lowers the shirt's hem below the waist (long loose tops, hoodies; 0 = as before).
        The garment regions are kept in ``self.regions`` for the clothing geometry (``Dress``)."""
        v = self.rest_vertices.copy()
        v[:, 2] -= self.floor_z
        rb = self.rest_bones.copy()
        rb[:, 2, 3] -= self.floor_z
        dom = np.array(self.labels)[self.dominant]
        col = np.tile(np.array(look["skin"], float), (len(v), 1))
        hip_z = self.head(rb, "upperleg01.L")[2]
        knee_z = self.head(rb, "lowerleg01.L")[2]
        ankle_z = self.head(rb, "foot.L")[2]
        waist_z = hip_z + 0.55 * (self.head(rb, "spine04")[2] - hip_z) + 0.06 * self.stature
        if top_hem_drop_m:
            waist_z = waist_z - top_hem_drop_m
        neck_z = self.head(rb, "neck01")[2]
        is_arm = np.array([d.split(".")[0] in ARM_BONES or d.startswith(("finger", "metacarpal")) for d in dom])
        is_head = np.isin(dom, ["head", "eye.L", "eye.R", "neck02", "neck03"]) | (dom == "jaw")
        z = v[:, 2]
        if look["lower_garment"] == "long_pants":
            hem_z = ankle_z + 0.02 * self.stature
        else:
            hem_z = hip_z - look["shorts_hem"] * (hip_z - knee_z)
        lower = (~is_arm) & (~is_head) & (z >= hem_z) & (z < waist_z)
        shirt = (~is_arm) & (~is_head) & (z >= waist_z) & (z < neck_z - 0.01 * self.stature)
        torso_shirt = shirt.copy()
        # sleeves: distance along the arm from the shoulder joint
        for s in ("L", "R"):
            sh = self.head(rb, f"upperarm01.{s}")
            el = self.head(rb, f"lowerarm01.{s}")
            wr = self.head(rb, f"wrist.{s}")
            side = (v[:, 0] > 0) if s == "L" else (v[:, 0] < 0)
            arm = is_arm & side
            ua = el - sh
            t_up = ((v - sh) @ ua) / (ua @ ua)
            fa = wr - el
            t_fo = ((v - el) @ fa) / (fa @ fa)
            long_sleeve = look["sleeves"] == "long"
            sleeve = arm & (t_fo < 0.93) if long_sleeve else arm & (t_up < 0.45) & (t_fo < 0)
            shirt |= sleeve
        shoes = (~is_arm) & (z < ankle_z + 0.035 * self.stature)
        hair = np.zeros(len(v), bool)
        if look.get("hair_style", "none") != "none":
            eye = 0.5 * (self.head(rb, "eye.L") + self.head(rb, "eye.R"))
            back = v[:, 1] > eye[1] + 0.045
            top = z > eye[2] + 0.045
            drop = 0.09 if look["hair_style"] == "long" else 0.02
            hair = is_head & (top | (back & (z > eye[2] - drop)))
        self.regions = {
            "torso_top": torso_shirt & ~(z < ankle_z + 0.035 * self.stature),
            "sleeve": shirt & ~torso_shirt,
            "lower": lower & ~shirt,
            "skin_or_other": ~(shirt | lower),
            "is_arm": is_arm,
            "is_head": is_head,
            "waist_z": waist_z,
            "hem_z": hem_z,
            "hip_z": hip_z,
            "neck_z": neck_z,
            "shoulder_z": float(self.head(rb, "upperarm01.L")[2]),
        }
        col[lower] = look["lower"]
        col[shirt] = look["shirt"]
        col[shoes] = look["shoes"]
        col[hair] = look["hair"]
        eyes = np.isin(dom, ["eye.L", "eye.R"])
        col[eyes] = (60, 50, 45)
        out = np.concatenate([col, np.full((len(v), 1), 255.0)], 1)
        return out.astype(np.uint8)


ARM_BONES = {"upperarm01", "upperarm02", "lowerarm01", "lowerarm02", "wrist"}


# ----------------------------------------------------------------------------------------------
# Clothing geometry and hand-held props (new options; off = the body as before)
# ----------------------------------------------------------------------------------------------

TOP_FITS = ("fitted", "loose", "hoodie")
LOWER_FITS = ("fitted", "baggy")
PROPS = ("none", "bar", "kettlebell", "dumbbells")


def _vertex_adjacency(faces: np.ndarray, n_vertices: int):
    """Row-normalised vertex adjacency (sparse) of a triangle mesh: one Laplacian smoothing step is ``A @ x``."""
    from scipy import sparse

    i = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2], faces[:, 1], faces[:, 2], faces[:, 0]])
    j = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0], faces[:, 0], faces[:, 1], faces[:, 2]])
    a = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n_vertices, n_vertices))
    a.data[:] = 1.0
    deg = np.asarray(a.sum(1)).ravel()
    return sparse.diags(1.0 / np.maximum(deg, 1)) @ a


def _upper_hull(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The upper convex hull of points (z, y) (z increasing), evaluated at z: a taut line over the hollows."""
    pts: list[tuple[float, float]] = []
    for p in zip(z, y, strict=True):
        while len(pts) >= 2:
            (z1, y1), (z2, y2) = pts[-2], pts[-1]
            if (z2 - z1) * (p[1] - y1) - (y2 - y1) * (p[0] - z1) >= 0:
                pts.pop()
            else:
                break
        pts.append(p)
    hz = np.array([p[0] for p in pts])
    hy = np.array([p[1] for p in pts])
    return np.interp(z, hz, hy)


class Dress:
    """Extra geometry on a posed body: garments inflated along the vertex normals (loose top / hoodie with the
    lumbar hollow bridged by the cloth, baggy trousers), a hood behind the neck, and a prop in the hands.

    ``apply`` takes posed vertices (n, V, 3) and bone heads (n, B, 3) (world frame before yaw) and returns
    (n, V + extra, 3); ``faces`` and ``colours`` cover the same extended vertex list. Ground truth is untouched:
    it comes from the skeleton, which the clothes only hide.
    """

    def __init__(self, body: Body, spec: dict, base_colours: np.ndarray):
        import trimesh

        self.body = body
        self.spec = spec
        reg = body.regions
        v = body.rest_vertices.copy()
        v[:, 2] -= body.floor_z
        nv = len(v)
        off = np.zeros(nv)
        top, lower = spec.get("top", "fitted"), spec.get("lower_fit", "fitted")
        if top != "fitted":
            t = spec["top_offset_m"]
            off[reg["torso_top"]] = t
            off[reg["sleeve"]] = 0.6 * t
            # the cloth bridges the lumbar hollow: a taut line from the shoulder blades over the back
            tz = reg["torso_top"] & (np.abs(v[:, 0]) < 0.16)
            if tz.sum() > 20:
                zs = v[tz, 2]
                edges = np.arange(zs.min(), zs.max() + 0.01, 0.01)
                zc, yb = [], []
                for z0 in edges:
                    sel = tz & (v[:, 2] >= z0) & (v[:, 2] < z0 + 0.01) & (np.abs(v[:, 0]) < 0.05)
                    if sel.any():
                        zc.append(z0 + 0.005)
                        yb.append(float(v[sel, 1].max()))  # back-most (the body faces -y)
                zc, yb = np.array(zc), np.array(yb)
                if len(zc) >= 3:
                    hollow = np.clip(_upper_hull(zc, yb) - yb, 0, None)
                    back = reg["torso_top"] & (v[:, 1] > np.interp(v[:, 2], zc, yb) - 0.12)
                    lat = np.clip(1 - (v[:, 0] / 0.14) ** 2, 0, 1)
                    fill = spec.get("hollow_fill", 0.8) * np.interp(v[:, 2], zc, hollow) * lat
                    off[back] += fill[back]
        if lower == "baggy":
            lo = reg["lower"]
            # wider towards the hem (trouser legs hang), less at the waist
            zrel = np.clip((reg["hip_z"] - v[:, 2]) / max(reg["hip_z"], 1e-6), 0, 1)
            off[lo] = np.maximum(off[lo], spec["lower_offset_m"] * (0.6 + 0.8 * zrel[lo]))
        self.offsets = None
        if off.any():
            adj = _vertex_adjacency(body.faces, nv)
            keep = reg["is_head"] | (v[:, 2] < reg.get("hem_z", 0.0) - 0.01)
            for _ in range(10):  # soft garment edges (no steps at hems and sleeves)
                off = adj @ off
                off[keep] = 0.0
            self.offsets = off
            self._rows = np.flatnonzero(off > 1e-4)
            from scipy import sparse

            f = body.faces
            nf = len(f)
            inc = sparse.csr_matrix((np.ones(3 * nf), (f.reshape(-1), np.repeat(np.arange(nf), 3))), shape=(nv, nf))
            self._inc = inc[self._rows]
        # extra meshes: (vertices in a local frame, faces, rgb, attachment)
        self.parts: list[tuple[np.ndarray, np.ndarray, list[int], str]] = []
        s = body.stature / 1.75
        if top == "hoodie":
            sph = trimesh.creation.icosphere(subdivisions=2)
            r = np.array([0.105, 0.06, 0.12]) * s  # lateral, backwards, up
            self.parts.append((sph.vertices * r + np.array([0, 0.06, -0.03]) * s, sph.faces, spec["hood_rgb"], "hood"))
        prop = spec.get("prop", "none")
        if prop == "bar":
            length = spec["bar_length_m"]
            bar = trimesh.creation.cylinder(radius=0.014, height=length, sections=12)
            bar.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
            self.parts.append((bar.vertices, bar.faces, [70, 70, 75], "hands_mid"))
            pr = spec.get("plate_radius_m", 0.0)
            if pr > 0:
                for sgn in (-1, 1):
                    pl = trimesh.creation.cylinder(radius=pr, height=spec["plate_width_m"], sections=24)
                    pl.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
                    pl.apply_translation([sgn * (length / 2 - 0.12), 0, 0])
                    self.parts.append((pl.vertices, pl.faces, spec["plate_rgb"], "hands_mid"))
        elif prop == "kettlebell":
            rb_ = spec["kb_radius_m"]
            bell = trimesh.creation.icosphere(subdivisions=2, radius=rb_)
            bell.apply_translation([0, 0, -(0.07 + rb_)])
            hnd = trimesh.creation.torus(major_radius=0.07, minor_radius=0.013, major_sections=16, minor_sections=8)
            hnd.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
            hnd.apply_translation([0, 0, -0.03])
            for m in (bell, hnd):
                self.parts.append((m.vertices, m.faces, spec["kb_rgb"], "hands_mid"))
        elif prop == "dumbbells":
            for side in ("L", "R"):
                h = trimesh.creation.cylinder(radius=0.016, height=0.16, sections=10)
                h.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
                self.parts.append((h.vertices, h.faces, [70, 70, 75], f"hand_{side}"))
                for sgn in (-1, 1):
                    w = trimesh.creation.cylinder(radius=spec["db_radius_m"], height=0.06, sections=16)
                    w.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
                    w.apply_translation([sgn * 0.11, 0, 0])
                    self.parts.append((w.vertices, w.faces, spec["db_rgb"], f"hand_{side}"))
        faces = [body.faces]
        cols = [base_colours]
        k = nv
        for pv, pf, rgb, _ in self.parts:
            faces.append(np.asarray(pf, np.int32) + k)
            cols.append(np.tile(np.array([*rgb, 255], np.uint8), (len(pv), 1)))
            k += len(pv)
        self.faces = np.concatenate(faces).astype(np.int32)
        self.colours = np.concatenate(cols).astype(np.uint8)

    @property
    def active(self) -> bool:
        return self.offsets is not None or bool(self.parts)

    def _hand(self, bones: np.ndarray, side: str) -> np.ndarray:
        b = self.body
        wr = bones[:, b.idx[f"wrist.{side}"]]
        el = bones[:, b.idx[f"lowerarm01.{side}"]]
        d = wr - el
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        return wr + 0.075 * (b.stature / 1.75) * d  # middle of the palm, past the wrist along the forearm

    def apply(self, verts: np.ndarray, bones: np.ndarray) -> np.ndarray:
        n = len(verts)
        out = [verts]
        if self.offsets is not None:
            f = self.body.faces
            v0, v1, v2 = verts[:, f[:, 0]], verts[:, f[:, 1]], verts[:, f[:, 2]]
            fn = np.cross(v1 - v0, v2 - v0)  # area-weighted face normals (n, F, 3)
            nf = len(f)
            vn = (self._inc @ fn.transpose(1, 0, 2).reshape(nf, -1)).reshape(len(self._rows), n, 3).transpose(1, 0, 2)
            vn /= np.maximum(np.linalg.norm(vn, axis=2, keepdims=True), 1e-12)
            verts = verts.copy()
            verts[:, self._rows] += vn * self.offsets[self._rows][None, :, None]
            out = [verts]
        b = self.body
        for pv, _pf, _rgb, att in self.parts:
            if att == "hood":
                neck = bones[:, b.idx["neck01"]]
                up = neck - bones[:, b.idx["spine01"]]
                up /= np.linalg.norm(up, axis=1, keepdims=True)
                x = np.tile(np.array([1.0, 0, 0]), (n, 1))
                back = np.cross(up, x)
                pos = neck[:, None] + pv[None, :, 0:1] * x[:, None] + pv[None, :, 1:2] * back[:, None]
                pos = pos + pv[None, :, 2:3] * up[:, None]
            else:
                if att == "hands_mid":
                    c = 0.5 * (self._hand(bones, "L") + self._hand(bones, "R"))
                else:
                    c = self._hand(bones, att.split("_")[1])
                pos = c[:, None] + pv[None]
            out.append(pos.astype(verts.dtype))
        return np.concatenate(out, axis=1) if len(out) > 1 else out[0]


# ----------------------------------------------------------------------------------------------
# Clip parameters
# ----------------------------------------------------------------------------------------------

SKIN = [(250, 214, 186), (234, 190, 160), (205, 150, 115), (170, 115, 80), (120, 80, 55), (92, 62, 44)]
CLOTH = [
    (200, 40, 40),
    (40, 90, 180),
    (30, 130, 70),
    (230, 200, 60),
    (240, 240, 240),
    (30, 30, 34),
    (120, 40, 140),
    (240, 130, 40),
    (60, 60, 66),
    (20, 160, 170),
    (150, 150, 150),
    (90, 60, 40),
]
HAIR = [(30, 25, 20), (70, 45, 25), (120, 80, 40), (190, 150, 95), (160, 160, 160)]
WALLS = [(235, 232, 225), (200, 210, 220), (140, 140, 150), (215, 200, 175), (180, 200, 180)]
FLOORS = {"wood": (150, 110, 75), "tiles": (200, 200, 195), "concrete": (150, 150, 150), "carpet": (90, 80, 100)}


def draw_params(args: argparse.Namespace, idx: int, rep_specs: list[tuple[str, str | None]]) -> dict:
    ss = np.random.SeedSequence([args.seed, idx])
    rng = np.random.default_rng(ss)
    wide = args.profile == "corpus"  # anny's whole adult phenotype range, yaw +-35 (the training corpus)
    stress = args.profile == "stress" or wide
    gender = float(rng.uniform(0, 1))
    if wide:
        age = float(rng.uniform(0.6, 1.0))
        weight = float(rng.uniform(0.0, 1.0))
        muscle = float(rng.uniform(0.0, 1.0))
        height = float(rng.uniform(0.0, 1.0))
        proportions = float(rng.uniform(0.2, 0.8))
    else:
        age = float(rng.uniform(0.62, 1.0) if stress else rng.uniform(0.67, 0.92))
        weight = float(rng.uniform(0.15, 0.95) if stress else rng.uniform(0.3, 0.85))
        muscle = float(rng.uniform(0.15, 0.85) if stress else rng.uniform(0.25, 0.8))
        height = float(rng.uniform(0.1, 0.95) if stress else rng.uniform(0.25, 0.8))
        proportions = float(rng.uniform(0.35, 0.75))
    body = getattr(args, "body", None) or {}
    gender = float(body.get("gender", gender))
    age = float(body.get("age", age))
    weight = float(body.get("weight", weight))
    muscle = float(body.get("muscle", muscle))
    height = float(body.get("height", height))
    proportions = float(body.get("proportions", proportions))
    dark = args.dark if args.dark is not None else (stress and rng.uniform() < 0.25)
    cloth = list(range(len(CLOTH)))
    i_sh, i_lo = rng.choice(cloth, 2, replace=False)
    shirt, lower = CLOTH[i_sh], CLOTH[i_lo]
    wall = WALLS[int(rng.integers(len(WALLS)))]
    if dark:
        shirt, lower, wall = (28, 28, 32), (35, 33, 38), (55, 55, 60)
    lower_garment = args.lower or ("long_pants" if rng.uniform() < (0.4 if stress else 0.25) else "shorts")
    look = {
        "skin": list(SKIN[int(rng.integers(len(SKIN)))]),
        "shirt": list(shirt),
        "lower": list(lower),
        "shoes": list(CLOTH[int(rng.choice([4, 5, 10]))]),
        "hair": list(HAIR[int(rng.integers(len(HAIR)))]),
        "hair_style": str(rng.choice(["short", "long", "none"], p=[0.5, 0.35, 0.15])),
        "lower_garment": lower_garment,
        "shorts_hem": round(float(rng.uniform(0.35, 0.7)), 3),
        "sleeves": str(rng.choice(["short", "long"], p=[0.65, 0.35])),
    }
    arms_pose = args.arms
    arms = {
        "pose": arms_pose,
        "angle_from_vertical_deg": round(float(rng.uniform(4, 10)), 3),
        "forward_deg": round(float(rng.uniform(-2, 4)), 3),
        "cross_lift_deg": round(float(rng.uniform(3, 8)), 3),
    }
    facing = args.facing or str(rng.choice(["left", "right"]))
    yaw = float(args.yaw) if args.yaw is not None else float(rng.uniform(-20, 20) if stress else rng.uniform(-12, 12))
    if wide and args.yaw is None:
        yaw = yaw * 35 / 20
    dist = float(rng.uniform(2.4, 4.6) if stress else rng.uniform(2.8, 4.2))
    if args.distance is not None:
        dist = args.distance
    cam_h = float(
        args.cam_height if args.cam_height is not None else rng.uniform(0.6, 1.5) if stress else rng.uniform(0.8, 1.25)
    )
    fill = float(rng.uniform(0.5, 0.75))
    floor = str(rng.choice(list(FLOORS)))
    key_az = float(rng.uniform(-70, 70))
    light = {
        "ambient": round(float(rng.uniform(0.35, 0.55)), 3),
        "key_intensity": round(float(rng.uniform(2.0, 3.5)), 3),
        "key_azimuth_deg": round(key_az, 3),
        "key_elevation_deg": round(float(rng.uniform(30, 60)), 3),
        "key_rgb": [1.0, round(float(rng.uniform(0.92, 1.0)), 3), round(float(rng.uniform(0.85, 1.0)), 3)],
        "fill_intensity": round(float(rng.uniform(0.6, 1.2)), 3),
        "shadows": False,
    }
    deg = {
        "h264_crf": int(args.crf if args.crf is not None else rng.integers(20, 26 if stress else 24)),
        "jpeg_quality": getattr(args, "jpeg", None),
        "noise_sigma": round(
            float(args.noise if args.noise is not None else rng.uniform(0.0, 2.5 if stress else 1.5)), 3
        ),
        "blur_sigma": round(
            float(
                args.blur
                if args.blur is not None
                else (rng.uniform(0.5, 1.2) if stress and rng.uniform() < 0.3 else 0.0)
            ),
            3,
        ),
        "gain": round(float(rng.uniform(0.9, 1.08)), 3),
    }
    style = MotionStyle(
        good_hip_deg=float(rng.uniform(62, 88)),
        knee_deg=float(rng.uniform(8, 22)),
        shin_ratio=float(rng.uniform(0.15, 0.4)),
        neck_style=str(rng.choice(["neutral", "look_forward"])),
        fast=bool(args.fast),
    )
    motion_rng = np.random.default_rng(ss.spawn(1)[0])
    extras = draw_extras(args, idx, look, arms)
    return {
        "extras": extras,
        "rng": rng,
        "motion_rng": motion_rng,
        "phenotype": {
            "gender": gender,
            "age": age,
            "weight": weight,
            "muscle": muscle,
            "height": height,
            "proportions": proportions,
        },
        "look": look,
        "arms": arms,
        "facing": facing,
        "yaw": yaw,
        "distance": dist,
        "cam_height": cam_h,
        "fill": fill,
        "vfov": getattr(args, "vfov", None),
        "profile": args.profile,
        "floor": floor,
        "wall_rgb": list(wall),
        "wall_distance": float(rng.uniform(1.5, 3.0)),
        "light": light,
        "degradation": deg,
        "style": style,
        "seed_sequence": [args.seed, idx],
        "rep_specs": rep_specs,
    }


def draw_extras(args: argparse.Namespace, idx: int, look: dict, arms: dict) -> dict | None:
    """The new options (clothing geometry, props, roll, clutter, scene colours, wide lighting), drawn from their
    own stream ``SeedSequence([seed, index, 11])`` so clips without them draw exactly what they drew before.
    None when every new option is off. May adjust ``arms`` (hands in front of the thighs to hold a prop)."""
    top = getattr(args, "top", "fitted") or "fitted"
    lower_fit = getattr(args, "lower_fit", "fitted") or "fitted"
    prop = getattr(args, "prop", "none") or "none"
    roll = getattr(args, "roll", None)
    clutter = getattr(args, "clutter", 0) or 0
    scene_colours = getattr(args, "scene_colours", "default") or "default"
    light = getattr(args, "light", "default") or "default"
    if (
        top == "fitted"
        and lower_fit == "fitted"
        and prop == "none"
        and not roll
        and not clutter
        and scene_colours == "default"
        and light == "default"
    ):
        return None
    x = np.random.default_rng(np.random.SeedSequence([args.seed, idx, 11]))
    ex: dict = {"top": top, "lower_fit": lower_fit, "prop": prop, "roll_deg": float(roll or 0.0)}
    if top != "fitted":
        ex["top_offset_m"] = round(float(x.uniform(0.015, 0.05) if top == "loose" else x.uniform(0.025, 0.06)), 4)
        ex["hollow_fill"] = round(float(x.uniform(0.6, 1.0)), 3)
        ex["top_hem_drop_m"] = round(float(x.uniform(0.0, 0.12)), 3)
        if top == "hoodie":
            ex["hood_rgb"] = list(look["shirt"])
            look["sleeves"] = "long"
    if lower_fit == "baggy":
        ex["lower_offset_m"] = round(float(x.uniform(0.02, 0.06)), 4)
        look["lower_garment"] = "long_pants"
    if prop != "none":
        arms["pose"] = "hanging"
        if prop == "bar":
            ex["bar_length_m"] = round(float(x.choice([1.2, 1.5, 1.8, 2.2])), 2)
            ex["plate_radius_m"] = round(float(x.choice([0.0, 0.1, 0.15, 0.225])), 3)
            ex["plate_width_m"] = round(float(x.uniform(0.03, 0.09)), 3)
            ex["plate_rgb"] = [int(c) for c in CLOTH[int(x.integers(len(CLOTH)))]]
            arms["angle_from_vertical_deg"] = round(float(x.uniform(0, 5)), 3)
            arms["forward_deg"] = round(float(x.uniform(9, 16)), 3)
        elif prop == "kettlebell":
            ex["kb_radius_m"] = round(float(x.uniform(0.07, 0.12)), 3)
            ex["kb_rgb"] = [int(c) for c in CLOTH[int(x.choice([5, 8, 0, 1, 3]))]]
            arms["angle_from_vertical_deg"] = round(float(x.uniform(-16, -11)), 3)
            arms["forward_deg"] = round(float(x.uniform(14, 20)), 3)
        else:
            ex["db_radius_m"] = round(float(x.uniform(0.04, 0.08)), 3)
            ex["db_rgb"] = [int(c) for c in CLOTH[int(x.choice([5, 8, 1, 10]))]]
            arms["angle_from_vertical_deg"] = round(float(x.uniform(1, 6)), 3)
            arms["forward_deg"] = round(float(x.uniform(8, 14)), 3)
    if scene_colours == "random":
        ex["wall_rgb"] = [int(c) for c in x.integers(20, 250, 3)]
        ex["floor_rgb"] = [int(c) for c in x.integers(20, 230, 3)]
    if clutter:
        items = []
        for _ in range(int(clutter)):
            kind = str(x.choice(["box", "cylinder", "poster"], p=[0.5, 0.2, 0.3]))
            item = {
                "kind": kind,
                "rgb": [int(c) for c in x.integers(0, 256, 3)],
                "lateral_m": round(float(x.uniform(-3.0, 3.0)), 3),
                "from_wall_m": round(float(x.uniform(0.0, 0.9)), 3),
            }
            if kind == "poster":
                item.update(
                    width_m=round(float(x.uniform(0.3, 1.2)), 3),
                    height_m=round(float(x.uniform(0.3, 1.0)), 3),
                    z_m=round(float(x.uniform(0.8, 2.0)), 3),
                    from_wall_m=0.0,
                )
            else:
                item.update(
                    width_m=round(float(x.uniform(0.15, 1.0)), 3),
                    depth_m=round(float(x.uniform(0.15, 0.6)), 3),
                    height_m=round(float(x.uniform(0.2, 2.0)), 3),
                )
            items.append(item)
        ex["clutter"] = items
    if light == "wide":
        ex["light"] = {
            "ambient": round(float(x.uniform(0.12, 0.7)), 3),
            "key_intensity": round(float(x.uniform(0.8, 5.0)), 3),
            "key_azimuth_deg": round(float(x.uniform(-120, 120)), 3),
            "key_elevation_deg": round(float(x.uniform(10, 75)), 3),
            "key_rgb": [round(float(c), 3) for c in x.uniform(0.75, 1.0, 3)],
            "fill_intensity": round(float(x.uniform(0.1, 1.5)), 3),
        }
    return ex


def parse_reps(text: str) -> list[tuple[str, str | None]]:
    """'good,spinal_flexion(late_takeover),both' -> [(type, variant)]; SF/B default simultaneous."""
    out = []
    for tok in [t.strip() for t in text.split(",") if t.strip()]:
        variant = None
        if "(" in tok:
            tok, variant = tok.rstrip(")").split("(")
        if tok.endswith("*"):
            tok, variant = tok[:-1], "late_takeover"
        tok = REP_ALIASES.get(tok.lower(), tok)
        if tok not in REP_TYPES:
            raise SystemExit(f"unknown rep type {tok!r}; use {', '.join(REP_TYPES)}")
        if tok in ("spinal_flexion", "both"):
            variant = variant or "simultaneous"
            if variant not in VARIANTS:
                raise SystemExit(f"unknown variant {variant!r}")
        else:
            variant = None
        out.append((tok, variant))
    return out


def random_reps(rng: np.random.Generator, n_max: int) -> list[tuple[str, str | None]]:
    n = int(rng.integers(3, n_max + 1))
    specs = []
    for _ in range(n):
        t = str(rng.choice(RANDOM_REP_TYPES, p=[0.35, 0.25, 0.25, 0.15]))
        v = str(rng.choice(VARIANTS)) if t in ("spinal_flexion", "both") else None
        specs.append((t, v))
    return specs


# ----------------------------------------------------------------------------------------------
# Camera + scene + render
# ----------------------------------------------------------------------------------------------


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    f = target - eye
    f /= np.linalg.norm(f)
    r = np.cross(f, [0, 0, 1.0])
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = r, u, -f, eye
    return m


def project(cam_to_world: np.ndarray, fx: float, cx: float, cy: float, pts: np.ndarray) -> np.ndarray:
    w2c = np.linalg.inv(cam_to_world)
    p = pts @ w2c[:3, :3].T + w2c[:3, 3]
    x, y, z = p[..., 0], -p[..., 1], -p[..., 2]  # camera frame X right, Y down, Z forward
    return np.stack([cx + fx * x / z, cy + fx * y / z], -1)


def frame_camera(prm: dict, verts_world: np.ndarray, width: int, height: int) -> dict:
    """Place a side-view camera and choose the focal length so the whole motion fits (2 % margin)."""
    sx = 1.0 if prm["facing"] == "left" else -1.0
    lo, hi = verts_world.reshape(-1, 3).min(0), verts_world.reshape(-1, 3).max(0)
    stature = prm["stature"]
    aim_y = 0.5 * (lo[1] + hi[1])
    target_z = 0.5 * (lo[2] + hi[2])
    eye = np.array([sx * prm["distance"], aim_y, prm["cam_height"]])
    target = np.array([0.0, aim_y, target_z])
    c2w = look_at(eye, target)
    roll = (prm.get("extras") or {}).get("roll_deg", 0.0)
    if roll:  # rotate the camera about its optical axis (its own z)
        c2w[:3, :3] = c2w[:3, :3] @ rot_z(roll)
    fx = prm["fill"] * height * prm["distance"] / stature
    if prm.get("vfov") is not None:
        fx = 0.5 * height / math.tan(math.radians(prm["vfov"]) / 2)
    cx, cy = width / 2.0, height / 2.0
    steps = 0
    mx, my = 0.02 * width, 0.02 * height
    while True:
        uv = project(c2w, fx, cx, cy, verts_world.reshape(-1, 3))
        if (
            uv[:, 0].min() >= mx
            and uv[:, 0].max() <= width - mx
            and uv[:, 1].min() >= my
            and uv[:, 1].max() <= height - my
        ):
            break
        fx *= 0.96
        steps += 1
    stand = project(c2w, fx, cx, cy, verts_world[0])
    return {
        "c2w": c2w,
        "fx": fx,
        "cx": cx,
        "cy": cy,
        "eye": eye,
        "target": target,
        "steps": steps,
        "aim": [round(float(aim_y), 3), round(float(target_z - 0.5 * stature), 3)],
        "stand_frac": float((stand[:, 1].max() - stand[:, 1].min()) / height),
    }


class Renderer:
    def __init__(self, width: int, height: int):
        import pyrender

        self.pyrender = pyrender
        self.r = pyrender.OffscreenRenderer(width, height)
        self.w, self.h = width, height

    def scene(self, prm: dict, cam: dict, faces: np.ndarray) -> None:
        import pyrender
        import trimesh

        light = prm["light"]
        amb = light["ambient"]
        sc = pyrender.Scene(bg_color=[0, 0, 0, 1], ambient_light=[amb, amb, amb])
        sx = 1.0 if prm["facing"] == "left" else -1.0
        # wall: vertical plane x = -sx * d, parallel to the image plane
        wd = prm["wall_distance"]
        wall = trimesh.creation.box(extents=[0.02, 30, 12])
        wall.apply_translation([-sx * (wd + 0.01), 0, 6 - 0.001])
        wall.visual.vertex_colors = [*prm["wall_rgb"], 255]
        floor = trimesh.creation.box(extents=[30, 30, 0.02])
        floor.apply_translation([0, 0, -0.01])
        ex = prm.get("extras") or {}
        floor.visual.vertex_colors = [*(ex.get("floor_rgb") or FLOORS[prm["floor"]]), 255]
        for m in (wall, floor):
            sc.add(pyrender.Mesh.from_trimesh(m, smooth=False))
        for it in ex.get("clutter", []):  # furniture, bins, posters between the wall and the subject
            if it["kind"] == "poster":
                m = trimesh.creation.box(extents=[0.01, it["width_m"], it["height_m"]])
                m.apply_translation([-sx * (wd - 0.005), it["lateral_m"], it["z_m"]])
            elif it["kind"] == "cylinder":
                m = trimesh.creation.cylinder(radius=it["width_m"] / 2, height=it["height_m"], sections=20)
                m.apply_translation(
                    [-sx * (wd - it["from_wall_m"] - it["width_m"] / 2), it["lateral_m"], it["height_m"] / 2]
                )
            else:
                m = trimesh.creation.box(extents=[it["depth_m"], it["width_m"], it["height_m"]])
                m.apply_translation(
                    [-sx * (wd - it["from_wall_m"] - it["depth_m"] / 2), it["lateral_m"], it["height_m"] / 2]
                )
            m.visual.vertex_colors = [*it["rgb"], 255]
            sc.add(pyrender.Mesh.from_trimesh(m, smooth=False))
        cam = pyrender.IntrinsicsCamera(cam["fx"], cam["fx"], cam["cx"], cam["cy"], znear=0.05, zfar=50)
        sc.add(cam, pose=self._cam_pose)
        az, el = math.radians(light["key_azimuth_deg"]), math.radians(light["key_elevation_deg"])
        # key light comes from the camera side, rotated by the azimuth about the vertical
        src = np.array([sx * math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
        key = pyrender.DirectionalLight(color=light["key_rgb"], intensity=light["key_intensity"])
        sc.add(key, pose=look_at(src * 5, np.zeros(3)))
        fill = pyrender.PointLight(color=[1, 1, 1], intensity=light["fill_intensity"] * 12)
        fill_pos = self._cam_pose[:3, 3] + np.array([0, -sx * 1.0, 0.8])
        fp = np.eye(4)
        fp[:3, 3] = fill_pos
        sc.add(fill, pose=fp)
        self.sc = sc
        self.faces = faces
        self.body_node = None

    def set_camera(self, c2w: np.ndarray) -> None:
        self._cam_pose = c2w

    def render(self, verts: np.ndarray, colours: np.ndarray) -> np.ndarray:
        pyrender = self.pyrender
        import trimesh

        tm = trimesh.Trimesh(verts, self.faces, vertex_colors=colours, process=False)
        mesh = pyrender.Mesh.from_trimesh(tm, smooth=True)
        if self.body_node is not None:
            self.sc.remove_node(self.body_node)
        self.body_node = self.sc.add(mesh)
        rgb, _ = self.r.render(self.sc)
        return rgb

    def close(self) -> None:
        self.r.delete()


def degrade(img: np.ndarray, deg: dict, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32) * deg["gain"]
    if deg["blur_sigma"] > 0:
        from scipy.ndimage import gaussian_filter

        x = gaussian_filter(x, sigma=(deg["blur_sigma"], deg["blur_sigma"], 0))
    if deg["noise_sigma"] > 0:
        x += rng.normal(0, deg["noise_sigma"], x.shape).astype(np.float32)
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    if deg.get("jpeg_quality"):
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(x).save(buf, format="JPEG", quality=int(deg["jpeg_quality"]))
        x = np.asarray(Image.open(buf).convert("RGB"))
    return x


# ----------------------------------------------------------------------------------------------
# One clip
# ----------------------------------------------------------------------------------------------


STATURE_RANGE_M = {"default": (1.50, 1.95), "stress": (1.45, 2.00), "corpus": (1.45, 2.02)}


def fit_stature(model, prm: dict) -> None:
    """Keep the stature plausible: if the drawn height phenotype gives a body outside the profile's range,
    move the phenotype (bisection) until the stature sits on the nearest bound. anny's height phenotype is
    steep (0.5 is ~1.85 m), so the raw draw alone can give 2.2 m bodies."""
    import torch

    def stature(h: float) -> float:
        ph = {k: torch.tensor([float(v)], dtype=torch.float64) for k, v in prm["phenotype"].items()}
        ph["height"] = torch.tensor([h], dtype=torch.float64)
        with torch.no_grad():
            z = model(phenotype_kwargs=ph)["vertices"][0, :, 2]
        return float(z.max() - z.min())

    lo_m, hi_m = STATURE_RANGE_M[prm["profile"]]
    h = prm["phenotype"]["height"]
    s = stature(h)
    if lo_m <= s <= hi_m:
        return
    target = lo_m if s < lo_m else hi_m
    a, b = (h, 1.0) if s < lo_m else (0.0, h)
    for _ in range(12):
        mid = 0.5 * (a + b)
        if stature(mid) < target:
            a = mid
        else:
            b = mid
    prm["phenotype"]["height"] = 0.5 * (a + b)


def sagittal_angles(bones_body: np.ndarray, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Hip-mid -> shoulder-mid line, absolute inclination (deg from vertical, + forward) per frame."""
    i = body.idx
    hm = 0.5 * (bones_body[:, i["upperleg01.L"]] + bones_body[:, i["upperleg01.R"]])
    sm = 0.5 * (bones_body[:, i["upperarm01.L"]] + bones_body[:, i["upperarm01.R"]])
    d = sm - hm
    absolute = np.degrees(np.arctan2(-d[:, 1], d[:, 2]))  # body faces -y
    return absolute


def render_clip(
    model, args: argparse.Namespace, idx: int, name: str, rep_specs, out_dir: Path, renderer: Renderer | None = None
) -> dict:
    t_start = time.time()
    prm = draw_params(args, idx, rep_specs)
    # motion, with rejection until every rep's label definitions hold exactly
    fit_stature(model, prm)
    body = Body(model, prm["phenotype"], prm["arms"])
    ex = prm.get("extras")
    colours = body.colours(prm["look"], prm["arms"]["pose"], (ex or {}).get("top_hem_drop_m", 0.0))
    dress = None
    if ex:
        if ex.get("light"):
            prm["light"] = {**prm["light"], **ex["light"]}
        if ex.get("wall_rgb"):
            prm["wall_rgb"] = ex["wall_rgb"]
        dress = Dress(body, ex, colours)
        if not dress.active:
            dress = None
    for _attempt in range(50):
        motion = build_motion(prm["motion_rng"], rep_specs, prm["style"])
        if args.duration_cap and motion["n_frames"] > args.duration_cap * FPS:
            prm["style"].span = max(0.1, prm["style"].span * 0.85)
            continue
        ang = motion["angles"]
        n = motion["n_frames"]
        # pose everything (cheap) to get trunk inclination and framing
        verts_all, bones_all = [], []
        for s in range(0, n, 64):
            sl = slice(s, min(n, s + 64))
            p = body.pose(ang, sl)
            v = p["vertices"] if dress is None else dress.apply(p["vertices"], p["bones"])
            verts_all.append(v.astype(np.float32))
            bones_all.append(p["bones"])
        verts = np.concatenate(verts_all)
        bones = np.concatenate(bones_all)
        absolute = sagittal_angles(bones, body)
        ang["trunk_line_absolute_deg"] = absolute
        stand_abs = float(np.median(absolute[: motion["reps"][0]["meta"]["start"] + 1]))
        ang["trunk_inclination_deg"] = absolute - stand_abs
        records = [rep_record(r, k + 1, ang) for k, r in enumerate(motion["reps"])]
        if all(check_labels(rec, ang) for rec in records):
            break
    else:
        raise RuntimeError(f"{name}: could not draw a motion satisfying the label definitions")
    prm["stature"] = body.stature
    # yaw: + turns the front (-y) towards the camera (+x when facing left)
    sx = 1.0 if prm["facing"] == "left" else -1.0
    rz = rot_z(sx * prm["yaw"])
    verts_w = verts @ rz.T.astype(np.float32)
    bones_w = bones @ rz.T
    sub = verts_w[:: max(1, n // 60), ::7]
    cam = frame_camera(prm, sub, args.width, args.height)
    faces = body.faces
    if dress is not None:
        faces, colours = dress.faces, dress.colours

    own = renderer is None
    if own:
        renderer = Renderer(args.width, args.height)
    renderer.set_camera(cam["c2w"])
    renderer.scene(prm, cam, faces)

    import av

    out_dir.mkdir(parents=True, exist_ok=True)
    mp4 = out_dir / f"{name}.mp4"
    noise_rng = np.random.default_rng(np.random.SeedSequence([args.seed, idx, 7]))
    container = av.open(str(mp4), mode="w")
    stream = container.add_stream("libx264", rate=FPS)
    stream.width, stream.height = args.width, args.height
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = Fraction(1, FPS)
    crf = prm["degradation"]["h264_crf"]
    stream.options = {"crf": str(crf), "preset": args.preset, "maxrate": "3M", "bufsize": "6M"}
    t_render = 0.0
    for i in range(n):
        t0 = time.time()
        img = renderer.render(verts_w[i], colours)
        t_render += time.time() - t0
        img = degrade(img, prm["degradation"], noise_rng)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        frame.time_base = Fraction(1, FPS)
        for pkt in stream.encode(frame):
            container.mux(pkt)
        if args.save_png is not None and i in args.save_png:
            from PIL import Image

            Image.fromarray(img).save(out_dir / f"{name}_f{i:04d}.png")
    for pkt in stream.encode():
        container.mux(pkt)
    container.close()
    if own:
        renderer.close()

    # ---------- ground truth ----------
    pts = point_names()
    bidx = [body.idx[point_bone(p)] for p in pts]
    uv = project(cam["c2w"], cam["fx"], cam["cx"], cam["cy"], bones_w[:, bidx])
    rep_of = np.zeros(n, int)
    phase = np.array(["stand"] * n, dtype=object)
    for rec in records:
        s, b, r0, e = rec["start_frame"], rec["bottom_frame"], rec["return_start_frame"], rec["end_frame"]
        rep_of[s : e + 1] = rec["index"]
        phase[s:b] = "descent"
        phase[b:r0] = "bottom"
        phase[r0 : e + 1] = "return"
    with open(out_dir / f"{name}_gt.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "time_s", "rep", "phase", *ANGLE_COLS] + [f"{p}_{c}" for p in pts for c in ("u", "v")])
        for i in range(n):
            row = [i, f"{i / FPS:.4f}", int(rep_of[i]), phase[i]]
            row += [f"{ang[c][i]:.3f}" for c in ANGLE_COLS]
            row += [f"{x:.2f}" for x in uv[i].reshape(-1)]
            w.writerow(row)
    vfov = math.degrees(2 * math.atan(args.height / 2 / cam["fx"]))
    hfov = math.degrees(2 * math.atan(args.width / 2 / cam["fx"]))
    pitch = math.degrees(math.atan2(cam["target"][2] - cam["eye"][2], prm["distance"]))
    facing = prm["facing"]
    camera_side = "left" if facing == "left" else "right"
    look = prm["look"]
    meta = {
        "clip": name,
        "fps": FPS,
        "n_frames": n,
        "duration_s": round(n / FPS, 3),
        "width": args.width,
        "height": args.height,
        "video_codec": "h264",
        "generator": "hingecheck tools/render_clips.py (anny + pyrender)",
        "seed": {"set_seed": args.seed, "clip_index": idx, "clip_seed_sequence": prm["seed_sequence"]},
        "subject": {
            "gender_label": "female" if prm["phenotype"]["gender"] >= 0.5 else "male",
            **{k: round(v, 3) for k, v in prm["phenotype"].items() if k != "height"},
            "look": look,
            "arms": {k: v for k, v in prm["arms"].items() if prm["arms"]["pose"] == "crossed" or k != "cross_lift_deg"},
            "height_phenotype": round(prm["phenotype"]["height"], 3),
            "stature_m": round(body.stature, 3),
        },
        "camera": {
            "facing": facing,
            "camera_side": camera_side,
            "distance_m": round(prm["distance"], 3),
            "height_m": round(prm["cam_height"], 3),
            "yaw_deg": round(prm["yaw"], 3),
            "roll_deg": round(float((ex or {}).get("roll_deg", 0.0)), 3),
            "fill_drawn": round(prm["fill"], 3),
            "aim_offset_m": cam["aim"],
            "fx": round(cam["fx"], 3),
            "fy": round(cam["fx"], 3),
            "cx": cam["cx"],
            "cy": cam["cy"],
            "vfov_deg": round(vfov, 3),
            "hfov_deg": round(hfov, 3),
            "eye_m": [round(float(x), 3) for x in cam["eye"]],
            "target_m": [round(float(x), 3) for x in cam["target"]],
            "pitch_deg": round(pitch, 3),
            "standing_height_frac": round(cam["stand_frac"], 3),
            "zoomed_out_steps": cam["steps"],
            "cam_to_world": [[round(float(x), 5) for x in r] for r in cam["c2w"]],
        },
        "scene": {
            "wall_rgb": prm["wall_rgb"],
            "wall_distance_m": round(prm["wall_distance"], 3),
            "floor": prm["floor"],
            "n_props": len((ex or {}).get("clutter", [])),
            "mat": False,
            "light": prm["light"],
        },
        "degradation": prm["degradation"],
        "motion_style": {
            "good_hip_deg": round(prm["style"].good_hip_deg, 3),
            "knee_deg": round(prm["style"].knee_deg, 3),
            "shin_ratio": round(prm["style"].shin_ratio, 3),
            "neck_style": prm["style"].neck_style,
            "fast_tempo": prm["style"].fast,
        },
        "timing": {"pre_s": round(motion["pre_s"], 3), "post_s": round(motion["post_s"], 3)},
        "reps": records,
    }
    if ex:  # the new options (absent when all are off, so older clips' JSON is unchanged)
        meta["extras"] = ex
    with open(out_dir / f"{name}_reps.json", "w") as fh:
        json.dump(meta, fh, indent=1)
        fh.write("\n")
    meta["_render_s_per_frame"] = t_render / n
    meta["_wall_s"] = time.time() - t_start
    return meta


def manifest_row(meta: dict) -> dict:
    s, c, d = meta["subject"], meta["camera"], meta["degradation"]
    look = s["look"]
    reps = " ".join(r["type"] + (f"({r['variant']})" if r["variant"] else "") for r in meta["reps"])
    return {
        "clip": meta["clip"],
        "n_frames": meta["n_frames"],
        "duration_s": meta["duration_s"],
        "resolution": f"{meta['width']}x{meta['height']}",
        "facing": c["facing"],
        "yaw_deg": c["yaw_deg"],
        "roll_deg": c["roll_deg"],
        "cam_distance_m": c["distance_m"],
        "cam_height_m": c["height_m"],
        "vfov_deg": c["vfov_deg"],
        "gender": s["gender_label"],
        "age": s["age"],
        "weight": s["weight"],
        "muscle": s["muscle"],
        "stature_m": s["stature_m"],
        "clothing": f"{look['sleeves']}-sleeve/{look['lower_garment']}",
        "floor": meta["scene"]["floor"],
        "shadows": meta["scene"]["light"]["shadows"],
        "crf": d["h264_crf"],
        "jpeg_quality": d["jpeg_quality"] if d["jpeg_quality"] is not None else "",
        "noise_sigma": d["noise_sigma"],
        "blur_sigma": d["blur_sigma"],
        "rep_types": reps,
        "arms": s["arms"]["pose"],
    }


def update_manifest(out_dir: Path, rows: list[dict]) -> None:
    path = out_dir / "manifest.csv"
    existing: dict[str, dict] = {}
    if path.exists():
        with open(path, newline="") as fh:
            existing = {r["clip"]: r for r in csv.DictReader(fh)}
    for r in rows:
        existing[r["clip"]] = r
    fields = list(rows[0].keys())
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for k in sorted(existing):
            w.writerow(existing[k])


def load_model():
    import anny

    return anny.Anny()


def parse_body(text: str) -> dict[str, float]:
    """'gender=0.2,weight=0.9' -> phenotype overrides (gender, age, weight, muscle, height, proportions)."""
    out = {}
    for tok in [t.strip() for t in text.split(",") if t.strip()]:
        k, v = tok.split("=")
        if k not in ("gender", "age", "weight", "muscle", "height", "proportions"):
            raise argparse.ArgumentTypeError(f"unknown phenotype {k!r}")
        out[k] = float(v)
    return out


def set_fps(fps: int) -> None:
    """Frame rate of the clips rendered from now on (motion keyframes, ground truth and video; default 30)."""
    global FPS
    FPS = int(fps)


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.yaw is not None and not -35 <= args.yaw <= 35:
        ap.error("--yaw must be within -35..35")
    if args.name and args.n != 1:
        ap.error("--name needs --n 1")
    set_fps(args.fps)
    t0 = time.time()
    model = load_model()
    print(f"model loaded in {time.time() - t0:.1f}s", file=sys.stderr)
    renderer = Renderer(args.width, args.height)
    rows = []
    try:
        for k in range(args.n):
            idx = args.start_index + k
            if args.reps:
                specs = parse_reps(args.reps)
            else:
                specs = random_reps(np.random.default_rng(np.random.SeedSequence([args.seed, idx, 1])), args.max_reps)
            name = args.name or f"{args.prefix}_{idx:02d}"
            meta = render_clip(model, args, idx, name, specs, args.out, renderer)
            rows.append(manifest_row(meta))
            print(
                f"{name}: {meta['n_frames']} frames, {meta['_render_s_per_frame']:.3f} s/frame render, "
                f"{meta['_wall_s']:.0f} s total; reps: {rows[-1]['rep_types']}",
                file=sys.stderr,
            )
    finally:
        renderer.close()
    if rows and not args.no_manifest:
        update_manifest(args.out, rows)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--n", type=int, default=1, help="number of clips")
    ap.add_argument("--seed", type=int, default=0, help="set seed (clip i uses SeedSequence([seed, i]))")
    ap.add_argument("--start-index", type=int, default=1, help="index of the first clip (default 1)")
    ap.add_argument(
        "--reps",
        default=None,
        help="comma list of rep types, e.g. 'good,spinal_flexion(late_takeover),both'; short forms "
        "G, SF, SF*, LB, B, B* (* = late_takeover), LO (lockout_hyperextension), K (knee_dominant). "
        "Default: random 3-5 reps per clip (never LO/K)",
    )
    ap.add_argument("--max-reps", type=int, default=5, help="max reps when drawn at random (3..N)")
    ap.add_argument("--prefix", default="synth", help="clip name prefix: <prefix>_<index:02d>")
    ap.add_argument("--name", default=None, help="exact clip name (only with --n 1)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--arms", choices=["hanging", "crossed"], default="hanging")
    ap.add_argument("--yaw", type=float, default=None, help="fixed yaw in degrees (-35..35); default random")
    ap.add_argument("--facing", choices=["left", "right"], default=None)
    ap.add_argument("--distance", type=float, default=None, help="camera distance m")
    ap.add_argument("--cam-height", type=float, default=None, help="camera height m")
    ap.add_argument("--vfov", type=float, default=None, help="vertical field of view (deg); default from a drawn fill")
    ap.add_argument("--lower", choices=["shorts", "long_pants"], default=None)
    ap.add_argument("--dark", action=argparse.BooleanOptionalAction, default=None, help="dark clothes on a dark wall")
    ap.add_argument("--fast", action="store_true", help="fast tempo (descent/return 0.6-0.9 s)")
    ap.add_argument("--duration-cap", type=float, default=None, help="redraw timing until the clip is <= S seconds")
    ap.add_argument("--crf", type=int, default=None)
    ap.add_argument("--noise", type=float, default=None, help="noise sigma (8-bit units)")
    ap.add_argument("--blur", type=float, default=None, help="Gaussian blur sigma (px)")
    ap.add_argument("--jpeg", type=int, default=None, help="JPEG re-encode every frame at this quality")
    ap.add_argument("--preset", default="medium", help="x264 preset")
    ap.add_argument("--no-manifest", action="store_true", help="do not write/merge manifest.csv")
    ap.add_argument(
        "--profile",
        choices=["default", "stress", "corpus"],
        default="default",
        help="'stress' widens the random ranges (bodies, yaw +-20, camera, colours); 'corpus' as stress with "
        "anny's whole adult phenotype range and yaw +-35",
    )
    ap.add_argument(
        "--save-png",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help="also save these frame indices as PNG (comma list)",
    )
    new = ap.add_argument_group("wider corpus (all off by default: clips render as before)")
    new.add_argument("--fps", type=int, default=30, help="frame rate of motion, ground truth and video (default 30)")
    new.add_argument(
        "--body",
        type=parse_body,
        default=None,
        help="phenotype overrides, e.g. 'gender=0.1,age=0.8,weight=0.95,muscle=0.2,height=0.4'",
    )
    new.add_argument(
        "--top",
        choices=TOP_FITS,
        default="fitted",
        help="fitted (painted, as before), loose (inflated shirt bridging the lumbar hollow), hoodie (+ hood)",
    )
    new.add_argument("--lower-fit", choices=LOWER_FITS, default="fitted", help="baggy: inflated long trousers")
    new.add_argument("--prop", choices=PROPS, default="none", help="held in the hands (implies hanging arms)")
    new.add_argument("--roll", type=float, default=None, help="camera roll about the optical axis (deg)")
    new.add_argument("--clutter", type=int, default=0, help="number of random boxes/cylinders/posters by the wall")
    new.add_argument(
        "--scene-colours", choices=["default", "random"], default="default", help="random: any wall and floor colour"
    )
    new.add_argument(
        "--light",
        choices=["default", "wide"],
        default="default",
        help="wide: dim to bright ambient, key from behind to front, tinted",
    )
    return ap


if __name__ == "__main__":
    raise SystemExit(main())
