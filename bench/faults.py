"""Rep counting and fault detection against labelled clips (devset format: <clip>.mp4, <clip>_gt.csv, <clip>_reps.json).

    python bench/faults.py /work/shared/devset                      # ground-truth angles (fast: tests the logic)
    python bench/faults.py /work/shared/devset --noise 3            # GT + realistic measurement noise, 3 seeds
    python bench/faults.py /work/shared/devset --frames-dir RUNS    # RUNS/<clip>/frames.csv from `hingecheck analyze`
    python bench/faults.py /work/shared/devset --measured           # run the whole pipeline on every video (slow)
    python bench/faults.py /work/shared/devset --noise 1 --live     # also check live (one-euro) = offline reps

Per clip: reps found vs labelled, and per fault code a rep-level confusion table (TP/FP/FN/TN). Detected
reps are matched to labelled reps by time overlap; a detected rep with no labelled partner counts its
faults as false positives (and the clip's rep count as wrong).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from hingecheck.core.movement import FAULT_CODES, RepTracker, analyse_reps, track

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.synthetic: dev-only helpers

from hingecheck.core.settings import Settings
from hingecheck.core.types import ANGLE_COLUMNS as SERIES_COLUMNS
from hingecheck.core.types import AngleSeries, Rep
from hingecheck.io.config import load_settings
from tests.synthetic import add_measurement_noise, smooth  # noqa: E402


@dataclass
class LabelledRep:
    index: int
    start_s: float
    end_s: float
    labels: list[str]
    kind: str


@dataclass
class ClipScore:
    clip: str
    n_labelled: int
    n_found: int
    n_partial: int
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)


def _float(x: str) -> float:
    return float(x) if x not in ("", None) else math.nan


def read_angle_csv(path: Path) -> AngleSeries:
    """A devset ``_gt.csv`` or a hingecheck ``frames.csv`` as an AngleSeries (missing columns stay NaN)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    idx = np.array([int(r["frame"]) for r in rows])
    series = AngleSeries.empty(idx, np.array([float(r["time_s"]) for r in rows]))
    series.detected = np.array([r.get("detected", "1") in ("1", "True", "true") for r in rows], bool)
    for col in SERIES_COLUMNS:
        if rows and col in rows[0]:
            setattr(series, col, np.array([_float(r[col]) for r in rows]))
    conf = [_float(r.get("confidence", "1") or "nan") for r in rows]
    series.confidence = np.nan_to_num(np.array(conf), nan=0.0)
    return series


def read_labels(path: Path) -> list[LabelledRep]:
    info = json.loads(path.read_text())
    return [LabelledRep(r["index"], r["start_s"], r["end_s"], list(r["labels"]), r["type"]) for r in info["reps"]]


def _smooth_offline(series: AngleSeries) -> AngleSeries:
    """The pipeline's offline smoother when it exists, else Savitzky–Golay (9, 2) per run of finite values."""
    try:
        from hingecheck.core.filters import smooth_series
    except ImportError:
        return smooth(series)
    return smooth_series(series)


def live_smoother_available() -> bool:
    from hingecheck.core.coach import make_live_smoother

    return make_live_smoother(load_settings().live) is not None


def _smooth_live(series: AngleSeries, settings: Settings) -> AngleSeries:
    """What live mode feeds the tracker: the live (one-euro) smoother applied causally, frame by frame."""
    from hingecheck.core.coach import make_live_smoother, smooth_frame

    smoother = make_live_smoother(settings.live)
    return AngleSeries.from_frames([smooth_frame(smoother, f) for f in series])


def match(found: list[Rep], labelled: list[LabelledRep]) -> dict[int, Rep]:
    """Labelled rep index → detected rep, greedily by largest time overlap (each used once)."""
    pairs = []
    for lab in labelled:
        for k, rep in enumerate(found):
            end = rep.end_s if rep.end_s is not None else math.inf
            overlap = min(end, lab.end_s) - max(rep.start_s, lab.start_s)
            if overlap > 0:
                pairs.append((overlap, lab.index, k))
    used_l, used_f, out = set(), set(), {}
    for _, li, k in sorted(pairs, reverse=True):
        if li not in used_l and k not in used_f:
            used_l.add(li)
            used_f.add(k)
            out[li] = found[k]
    return out


def score_clip(clip: str, found: list[Rep], labelled: list[LabelledRep]) -> ClipScore:
    matched = match(found, labelled)
    score = ClipScore(clip, len(labelled), sum(not r.partial for r in found), sum(r.partial for r in found))
    score.confusion = {code: {"TP": 0, "FP": 0, "FN": 0, "TN": 0} for code in FAULT_CODES}
    for lab in labelled:
        rep = matched.get(lab.index)
        codes = set(rep.fault_codes) if rep else set()
        for code in FAULT_CODES:
            truth, said = code in lab.labels, code in codes
            key = "TP" if truth and said else "FN" if truth else "FP" if said else "TN"
            score.confusion[code][key] += 1
            if key in ("FN", "FP"):
                why = (
                    " (no rep)"
                    if rep is None
                    else " (lumbar not measured)"
                    if rep.peak_lumbar_flexion_deg is None
                    else ""
                )
                score.misses.append(f"{clip} rep {lab.index} ({lab.kind}): {key} {code}{why}")
    matched_ids = {id(r) for r in matched.values()}
    for rep in found:
        if id(rep) not in matched_ids:
            score.misses.append(f"{clip}: extra rep {rep.start_s:.2f}–{rep.end_s} s, faults {rep.fault_codes}")
            for code in rep.fault_codes:
                score.confusion[code]["FP"] += 1
    return score


def compare_live(clip: str, offline: list[Rep], live: list[Rep], fps: float) -> list[str]:
    """Differences between the offline and live reps: count, fault codes, times beyond 2 frames."""
    problems = []
    if len(offline) != len(live):
        return [f"{clip}: {len(offline)} reps offline vs {len(live)} live"]
    for a, b in zip(offline, live, strict=True):
        if sorted(a.fault_codes) != sorted(b.fault_codes):
            problems.append(f"{clip} rep {a.index}: faults {a.fault_codes} offline vs {b.fault_codes} live")
        for name in ("start", "bottom", "end"):  # compared in frames: the CSVs' time_s is rounded to 1 ms
            fa, fb = getattr(a, f"{name}_frame"), getattr(b, f"{name}_frame")
            if fa is not None and fb is not None and abs(fa - fb) > 2:
                ta, tb = getattr(a, f"{name}_s"), getattr(b, f"{name}_s")
                shift = f"{fb - fa:+d} frames"
                problems.append(f"{clip} rep {a.index}: {name}_s {ta:.3f} offline vs {tb:.3f} live ({shift})")
    return problems


def rep_table(title: str, reps: list[Rep]) -> Table:
    table = Table(title=title)
    cols = ("#", "start", "bottom", "return", "end", "hip°", "lumbar°", "share", "capacity°", "lead s", "faults")
    for col in cols:
        table.add_column(col)

    def f(x: float | None, nd: int = 1) -> str:
        return "-" if x is None else f"{x:.{nd}f}"

    for r in reps:
        table.add_row(
            f"{r.index}{'p' if r.partial else ''}",
            f(r.start_s, 2),
            f(r.bottom_s, 2),
            f(r.return_start_s, 2),
            f(r.end_s, 2),
            f(r.peak_hip_flexion_deg),
            f(r.peak_lumbar_flexion_deg),
            f(r.lumbar_share, 2),
            f(r.hinge_capacity_deg),
            f(r.lumbar_lead_s, 2),
            "; ".join(x.message for x in r.faults),
        )
    return table


def _clips(folder: Path) -> list[str]:
    return sorted(p.name[: -len("_reps.json")] for p in folder.glob("*_reps.json"))


def reps_for(
    clip: str, args: argparse.Namespace, settings: Settings, seed: int
) -> tuple[list[Rep], AngleSeries | None]:
    folder = Path(args.devset)
    if args.measured:
        from hingecheck.pipeline import AnalyzeOptions, analyze

        result = analyze(folder / f"{clip}.mp4", AnalyzeOptions(write_video=False), settings=settings)
        return result.reps, result.angles
    if args.frames_dir:
        series = read_angle_csv(Path(args.frames_dir) / clip / "frames.csv")
        return analyse_reps(series, settings), series
    series = read_angle_csv(folder / f"{clip}_gt.csv")
    if args.noise:
        raw = add_measurement_noise(series, np.random.default_rng([seed, _clips(folder).index(clip)]))
        series = _smooth_offline(raw)
        if args.live and live_smoother_available():
            args._live_raw[(clip, seed)] = raw
    return analyse_reps(series, settings), series


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("devset", help="folder with <clip>_reps.json (+ _gt.csv, .mp4)")
    ap.add_argument("--frames-dir", help="folder with <clip>/frames.csv from `hingecheck analyze` runs")
    ap.add_argument("--measured", action="store_true", help="run the pipeline on every <clip>.mp4 (slow)")
    ap.add_argument("--noise", type=int, default=0, metavar="SEEDS", help="GT + measurement noise, this many seeds")
    ap.add_argument("--live", action="store_true", help="with --noise: check live (one-euro) against offline")
    ap.add_argument("--config", help="TOML overriding [reps]/[faults]")
    ap.add_argument("--show-reps", action="store_true", help="print every detected rep")
    args = ap.parse_args(argv)
    args._live_raw = {}
    settings = load_settings(args.config)
    folder = Path(args.devset)
    console = Console()
    clips = _clips(folder)
    if not clips:
        console.print(f"no <clip>_reps.json in {folder}")
        return 2
    seeds = range(max(1, args.noise))
    mode = "measured" if args.measured else "frames.csv" if args.frames_dir else "GT + noise" if args.noise else "GT"

    per_clip = Table(title=f"Reps per clip ({mode})")
    for col in ("clip", "seed", "labelled", "found", "partial", "ok"):
        per_clip.add_column(col)
    total = {code: {"TP": 0, "FP": 0, "FN": 0, "TN": 0} for code in FAULT_CODES}
    misses: list[str] = []
    live_problems: list[str] = []
    n_count_ok = n_runs = 0
    for seed in seeds:
        for clip in clips:
            labelled = read_labels(folder / f"{clip}_reps.json")
            if args.frames_dir and not (Path(args.frames_dir) / clip / "frames.csv").is_file():
                per_clip.add_row(clip, str(seed), str(len(labelled)), "-", "-", "no frames.csv")
                continue
            found, _ = reps_for(clip, args, settings, seed)
            score = score_clip(clip, found, labelled)
            ok = score.n_found == score.n_labelled and score.n_partial == 0
            n_count_ok += ok
            n_runs += 1
            per_clip.add_row(
                clip, str(seed), str(score.n_labelled), str(score.n_found), str(score.n_partial), "✓" if ok else "✗"
            )
            for code in FAULT_CODES:
                for k, v in score.confusion[code].items():
                    total[code][k] += v
            misses += [f"[seed {seed}] {m}" if args.noise else m for m in score.misses]
            if args.show_reps:
                console.print(rep_table(f"{clip} (seed {seed})" if args.noise else clip, found))
            raw = args._live_raw.get((clip, seed))
            if raw is not None:
                live = track(_smooth_live(raw, settings), RepTracker.from_settings(settings))
                live_problems += compare_live(clip, found, live, fps=30.0)
    console.print(per_clip)

    table = Table(title=f"Faults, rep level ({mode})")
    for col in ("code", "TP", "FP", "FN", "TN", "precision", "recall"):
        table.add_column(col)
    for code, c in total.items():
        prec = c["TP"] / (c["TP"] + c["FP"]) if c["TP"] + c["FP"] else math.nan
        rec = c["TP"] / (c["TP"] + c["FN"]) if c["TP"] + c["FN"] else math.nan
        table.add_row(code, *(str(c[k]) for k in ("TP", "FP", "FN", "TN")), f"{prec:.2f}", f"{rec:.2f}")
    console.print(table)
    console.print(f"rep count exact on {n_count_ok}/{n_runs} clip runs")
    for m in misses:
        console.print(f"  {m}", markup=False, soft_wrap=True)
    if args.live:
        if not live_smoother_available():
            console.print("live check skipped: hingecheck.core.filters has no live smoother yet")
        else:
            console.print(f"live vs offline: {len(live_problems)} differences")
            for p in live_problems:
                console.print(f"  {p}", markup=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
