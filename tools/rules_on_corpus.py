#!/usr/bin/env python3
"""The fault rules run on out-of-fold readings of the training bodies: where the rules' thresholds are chosen.

Choosing a rule's threshold on the validation bodies would fit it to them. Here the learned reading's trees are
refitted twice on half the training bodies (split by body, the shipped settings and features, the saved
out-of-fold CNN outputs of ``train_lumbopelvic.py --save-oof``) and read the other half; each training clip's
series is then built as the pipeline builds it (learned hip/lumbar/pelvis and their changes where the outline was
read, the hand-made reading's other angles and outline columns, analyze's smoothing) and ``analyse_reps`` runs on
it with the settings given. Scored per fault code against the clip's labelled reps, as ``bench/faults.py`` scores.
On the validation bodies (``--split val``, the shipped model's readings) this gives ``bench/faults.py``'s counts to
within one rep: it does not withhold uncertain lumbar frames.

    /work/renderenv/bin/python tools/rules_on_corpus.py --load-oof CNNS.npz --clips /work/corpus [--config T.toml] \
        [--readings R.npz]    # kept, so that the next threshold tried takes seconds
        [--trainer-args '--min-samples-leaf 150 --max-iter 450 --learning-rate 0.04']   # other trees

Needs the corpus table (data/corpus/) and the clips' ``*_reps.json`` labels (the rendered corpus folder).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "bench"))

import train_lumbopelvic as tl  # noqa: E402
from corpus_table import load_table  # noqa: E402
from faults import read_labels, score_clip  # noqa: E402

from hingecheck.core.filters import smooth_series  # noqa: E402
from hingecheck.core.kinematics.lumbopelvic import CHANGE_TARGETS, TARGETS  # noqa: E402
from hingecheck.core.movement import FAULT_CODES, analyse_reps  # noqa: E402
from hingecheck.core.types import AngleSeries  # noqa: E402
from hingecheck.io.config import load_settings  # noqa: E402


def out_of_fold_readings(t, oof_cnn: np.ndarray, trainer_args: list[str]) -> dict[str, np.ndarray]:
    """Per target (levels and changes), each training frame's reading by trees that never saw its body (the
    trainer's settings, lags and change window: train_lumbopelvic.build_parser's defaults, or ``trainer_args``)."""
    settings = tl.build_parser().parse_args(trainer_args)
    x, _ = tl.features(t)
    x = tl.with_lags(t, np.concatenate([x, oof_cnn], 1).astype(np.float32), tuple(settings.lags_s), True)
    ok = tl.usable(t)
    body = np.array([t.clips[k]["body_id"] for k in t["clip_index"]])
    bodies = np.array(sorted(set(body)))
    fold_of = dict(zip(bodies, np.random.default_rng(7).permutation(len(bodies)) % 2, strict=True))
    fold = np.array([fold_of[b] for b in body])
    truth = {tg: t["gt_angles"][:, t.col("gt_angles", tg)].astype(float) for tg in TARGETS}
    truth.update(tl.change_targets(t, settings.change_window_s))
    out = {}
    for tg, y in truth.items():
        pred = np.full(len(y), np.nan)
        for f in (0, 1):
            use = ok & np.isfinite(y) & (fold != f)
            model = tl.regressor(settings, settings.max_iter).fit(x[use], y[use])
            held = ok & (fold == f)
            pred[held] = model.predict(x[held])
        out[tg] = pred
        print(f"  {tg}: out-of-fold RMSE {tl.rmse(pred - y):.2f}", flush=True)
    return out


def shipped_readings(t) -> dict[str, np.ndarray]:
    """The shipped model's readings of every frame it reads."""
    from hingecheck.io.lumbopelvic_model import load_model

    model = load_model()
    x = tl.model_inputs(model, t)
    ok = tl.usable(t)
    reading = model.read(x[ok])
    out = {}
    for k, v in reading.estimate.items():
        out[k] = np.full(len(ok), np.nan)
        out[k][ok] = v
    return out


def shipped_model_digest() -> str:
    """Which model ``shipped_readings`` reads with (its provenance: corpus, commit, settings, scores), for the
    readings cache."""
    from hingecheck.io.lumbopelvic_model import load_model

    provenance = json.dumps(load_model().provenance, sort_keys=True, default=str)
    return hashlib.sha256(provenance.encode()).hexdigest()[:12]


def file_digest(path: Path) -> str:
    """A short digest of a file's bytes (which out-of-fold CNN outputs the training readings were made from)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def clip_series(t, readings: dict[str, np.ndarray], rows: np.ndarray) -> AngleSeries:
    """One clip's series as the pipeline builds it, smoothed as analyze smooths it."""

    def hand_made(c: str) -> np.ndarray:
        return t["hm_raw"][rows, t.col("hm_raw", c)].astype(float)

    fps = t.clips[t["clip_index"][rows[0]]]["fps"]
    s = AngleSeries.empty(t["frame"][rows].astype(int), t["frame"][rows] / fps)
    s.detected[:] = t["detected"][rows]
    hip, lumbar = hand_made("hip_flexion_deg"), hand_made("lumbar_flexion_deg")
    learned = np.isfinite(readings["hip_flexion_deg"][rows]) & np.isfinite(lumbar)
    s.hip_flexion_deg[:] = np.where(learned, readings["hip_flexion_deg"][rows], hip)
    for name in ("lumbar_flexion_deg", "pelvic_tilt_deg", *CHANGE_TARGETS):
        getattr(s, name)[:] = np.where(learned, readings[name][rows], np.nan)
    for name in ("thoracic_flexion_deg", "trunk_inclination_deg", "knee_flexion_deg", "thigh_inclination_deg"):
        getattr(s, name)[:] = hand_made(name)
    s.confidence[:] = np.nan_to_num(hand_made("confidence"))
    s.outline_hip_flexion_deg[:] = hip
    s.outline_lumbar_flexion_deg[:] = lumbar
    return smooth_series(s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--load-oof", type=Path, help="train_lumbopelvic.py --save-oof's CNNs (needed for train)")
    ap.add_argument("--clips", type=Path, default=Path("/work/corpus"), help="the rendered corpus (*_reps.json)")
    ap.add_argument("--config", type=Path, help="TOML overriding [faults] (the thresholds tried)")
    ap.add_argument(
        "--readings", type=Path,
        help="keep the readings here (npz) and reuse them when it exists: thresholds are tried in seconds",
    )  # fmt: skip
    ap.add_argument(
        "--trainer-args", default="",
        help="train_lumbopelvic.py settings for the trees (e.g. '--min-samples-leaf 150'): tree settings and "
        "thresholds chosen together on the training bodies",
    )  # fmt: skip
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t = load_table(args.split, crops=args.split == "val")
    # what the readings were made from: a cache made from another split, other CNN outputs, other trees or another
    # model is refused
    if args.split == "train":
        cnn = f"cnn {file_digest(args.load_oof)} " if args.load_oof else ""
        made_from = f"train {cnn}{args.trainer_args}".strip()
    else:
        made_from = f"val {shipped_model_digest()}"
    if args.readings and args.readings.exists():
        with np.load(args.readings) as z:
            readings = {k: z[k] for k in z.files if k != "made_from"}
            cached_from = str(z["made_from"]) if "made_from" in z.files else "unknown"
        if len(next(iter(readings.values()))) != len(t["frame"]):
            ap.error(f"{args.readings} was read from another table (the corpus has grown since): delete it")
        if cached_from != made_from:
            ap.error(f"{args.readings} holds readings of '{cached_from}', not '{made_from}': delete it or name another")
    elif args.split == "train":
        if args.load_oof is None:
            ap.error("--split train needs --load-oof (train_lumbopelvic.py --save-oof)")
        with np.load(args.load_oof) as z:
            readings = out_of_fold_readings(t, z["oof"], args.trainer_args.split())
    else:
        readings = shipped_readings(t)
    if args.readings and not args.readings.exists():
        np.savez_compressed(args.readings, made_from=np.array(made_from), **readings)
    settings = load_settings(str(args.config) if args.config else None)
    total = {c: {"TP": 0, "FP": 0, "FN": 0, "TN": 0} for c in FAULT_CODES}
    kc = t["clip_index"].astype(int)
    for k in np.unique(kc):
        clip = t.clips[k]
        labelled = read_labels(args.clips / clip["chunk"] / f"{clip['clip']}_reps.json")
        found = analyse_reps(clip_series(t, readings, np.flatnonzero(kc == k)), settings)
        for code, counts in score_clip(clip["clip"], found, labelled).confusion.items():
            for key, n in counts.items():
                total[code][key] += n
    print(f"{args.split}: {len(t.clips)} clips (TP/FP/FN)")
    for code, c in total.items():
        print(f"  {code:26s} {c['TP']}/{c['FP']}/{c['FN']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
