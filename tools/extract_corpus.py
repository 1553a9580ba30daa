#!/usr/bin/env python3
"""The compact training table of the lumbopelvic corpus: MediaPipe + the hand-made outline method + ground truth,
per frame, with a small mask crop around the trunk. Separate from rendering (tools/build_corpus.py), so features
can be recomputed and a retrain needs no re-render.

For each finished clip of the corpus (``<corpus>/<chunk>/<clip>_reps.json``) it runs the pose stage exactly as
``hingecheck analyze`` does (VideoReader with the same max width, PoseEstimator in VIDEO mode with the configured
num_poses and confidence, SagittalMeasurer, calibration and smoothing) and stores, per frame, everything listed
in data/corpus/README.md. One ``.npz`` per clip goes to ``<corpus>/features/`` (resumable: finished clips are
skipped), then one compressed shard per chunk to ``data/corpus/<chunk>.npz`` (committed).

    /work/renderenv/bin/python tools/extract_corpus.py                 # every rendered clip, then the shards
    /work/renderenv/bin/python tools/extract_corpus.py --chunks 0-2    # some chunks
    /work/renderenv/bin/python tools/extract_corpus.py --devset /work/shared/devset   # the devset as shard 'devset'

Runs in any environment that has hingecheck installed (the render venv does: ``pip install -e '.[render]'``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from hingecheck.core.kinematics.crop import CROP_CELLS, CROP_SIDE_L

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from render_clips import ANGLE_COLS  # noqa: E402  (the ground truth's angle columns: the renderer writes them)

SHARD_DIR = REPO / "data" / "corpus"
DEFAULT_CORPUS = Path("/work/corpus")
# the mask crop is the measurer's (hingecheck/core/kinematics/crop.py: CROP_CELLS cells, CROP_SIDE_L trunk lengths)

POINTS = [f"{p}_{s}" for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "toe", "eye") for s in "LR"] + [
    "pelvis_centre",
    "lumbar_low",
    "lumbar_high",
    "thoracolumbar",
    "thoracic_mid",
    "neck_base",
    "head_base",
]
PHASES = {"stand": 0, "descent": 1, "bottom": 2, "return": 3}
# hand-made method, absolute image-plane values per frame (FrameMeasurement) ...
HM_ABS = ["trunk_deg", "thigh_deg", "shank_deg", "pelvis_deg", "lumbar_deg", "thorax_deg", "confidence",
          "trunk_length_px"]  # fmt: skip
HM_QUALITY = ["landmark_visibility", "shoulder_width_l", "hip_width_l", "body_in_frame", "arm_share", "fit_rms_l",
              "pelvis_coverage", "lumbar_coverage"]  # fmt: skip
# ... and relative to the calibrated standing (FrameAngles), raw and as analyze smooths them
HM_REL = ["hip_flexion_deg", "lumbar_flexion_deg", "pelvic_tilt_deg", "thoracic_flexion_deg", "trunk_inclination_deg",
          "knee_flexion_deg", "thigh_inclination_deg", "confidence"]  # fmt: skip


def _imports():
    """The pipeline's pieces, imported when a clip is extracted (not to list a shard's columns)."""
    from hingecheck.core.filters import smooth_series
    from hingecheck.core.kinematics import SagittalMeasurer, calibrate
    from hingecheck.core.kinematics import sagittal as sg
    from hingecheck.core.types import AngleSeries
    from hingecheck.io.config import load_settings
    from hingecheck.io.pose import PoseEstimator, configured_num_poses, resolve_model
    from hingecheck.io.video import VideoReader

    return {
        "smooth_series": smooth_series,
        "SagittalMeasurer": SagittalMeasurer,
        "calibrate": calibrate,
        "sg": sg,
        "AngleSeries": AngleSeries,
        "load_settings": load_settings,
        "PoseEstimator": PoseEstimator,
        "configured_num_poses": configured_num_poses,
        "resolve_model": resolve_model,
        "VideoReader": VideoReader,
    }


def _pose_config(settings) -> tuple[int, float]:
    pose = getattr(settings, "pose", None)
    if pose is None:
        pose = settings.section("pose")
    get = (lambda k, d: pose.get(k, d)) if isinstance(pose, dict) else (lambda k, d: getattr(pose, k, d))
    return int(get("num_poses", 1)), float(get("min_confidence", 0.5))


PX_UNIT = 8  # pixel coordinates are stored as int16 in 1/8 px (range +-4096 px); NaN -> INT16_NAN
INT16_NAN = -32768


def q8(x: np.ndarray) -> np.ndarray:
    out = np.round(np.nan_to_num(x, nan=0.0) * PX_UNIT).clip(-32767, 32767).astype(np.int16)
    out[~np.isfinite(x)] = INT16_NAN
    return out


def u8(x: np.ndarray) -> np.ndarray:
    return np.round(np.nan_to_num(x, nan=0.0) * 255).clip(0, 255).astype(np.uint8)


def extract_clip(mp4: Path, gt_csv: Path, reps_json: Path, hc: dict, estimator_args: tuple) -> dict[str, np.ndarray]:
    sg = hc["sg"]
    settings, model, num_poses, min_conf = estimator_args
    meta = json.loads(reps_json.read_text())
    with open(gt_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    n_gt = len(rows)
    start, stop, step = sg.CONTOUR_STATIONS_L
    k_st = len(np.arange(start, stop + 1e-9, step))
    measurer = hc["SagittalMeasurer"]()
    measurements = []
    recs: dict[str, list] = {k: [] for k in ("lm", "det", "contour", "pelvis_win", "crop", "xf", "facing")}
    t0 = time.time()
    with (
        hc["VideoReader"](mp4, max_width=1280) as reader,
        hc["PoseEstimator"](model, num_poses=num_poses, min_confidence=min_conf) as est,
    ):
        for frame in reader:
            pose = est.process(frame)
            m = measurer.measure(pose)
            measurements.append(m)
            lm = np.full((33, 5), np.nan, np.float32)
            contour = np.full(k_st, np.nan, np.float32)
            pwin = np.full((sg.PELVIS_STATIONS, 2), np.nan, np.float32)
            crop = np.zeros((CROP_CELLS, CROP_CELLS), np.uint8)
            xf = np.full(5, np.nan, np.float32)
            facing = 0
            if pose.detected and pose.landmarks_px is not None:
                lm[:, :2] = pose.landmarks_px
                lm[:, 2] = pose.landmarks_norm[:, 2]
                lm[:, 3] = pose.visibility
                lm[:, 4] = pose.presence
                facing = 1 if (measurer.facing or "right") == "right" else -1
                if m.outline_l is not None:  # the measurer's own outline in the trunk's frame (what the model reads)
                    contour[:] = m.outline_l.contour
                    pwin[:] = m.outline_l.pelvis_window
                # the measurer's own crop (what the model reads). Shards up to c022 and the devset were cut by
                # OpenCV's warpAffine here, also on frames the measurer then called implausible (no person, no
                # crop now); crop.py's numpy warp agrees with it to 1 grey level on ~1 % of cells
                if m.crop is not None and m.crop_xform is not None:
                    crop = m.crop
                    xf[:] = m.crop_xform.as_array()
            recs["lm"].append(lm)
            recs["det"].append(bool(pose.detected))
            recs["contour"].append(contour)
            recs["pelvis_win"].append(pwin)
            recs["crop"].append(crop)
            recs["xf"].append(xf)
            recs["facing"].append(facing)
        info_w, info_h = frame.rgb.shape[1], frame.rgb.shape[0]
    t_pose = time.time() - t0
    n = len(measurements)
    calibration = hc["calibrate"](measurements)
    rel = [calibration.angles(m) for m in measurements]
    raw = hc["AngleSeries"].from_frames(rel)
    smooth = hc["smooth_series"](raw)
    scale = info_w / meta["width"]
    nn = min(n, n_gt)
    gt_ang = np.array([[float(r[c]) for c in ANGLE_COLS] for r in rows[:nn]], np.float32)
    gt_pts = np.array([[[float(r[f"{p}_u"]), float(r[f"{p}_v"])] for p in POINTS] for r in rows[:nn]], np.float32)
    out = {
        "frame": np.arange(nn, dtype=np.int16),
        "rep": np.array([int(r["rep"]) for r in rows[:nn]], np.int8),
        "phase": np.array([PHASES[r["phase"]] for r in rows[:nn]], np.int8),
        "gt_angles": gt_ang,
        "gt_points": q8(gt_pts * scale),
        "detected": np.array(recs["det"][:nn]),
        "landmarks_px": q8(np.stack(recs["lm"][:nn])[..., :2]),
        "landmarks_z": np.stack(recs["lm"][:nn])[..., 2].astype(np.float16),
        "landmarks_vis": u8(np.stack(recs["lm"][:nn])[..., 3:5]),
        "hm_abs": np.array([[getattr(m, k) for k in HM_ABS] for m in measurements[:nn]], np.float32),
        "hm_quality": np.array([[m.quality.get(k, np.nan) for k in HM_QUALITY] for m in measurements[:nn]], np.float32),
        "hm_raw": np.stack([np.asarray(getattr(raw, k), np.float32) for k in HM_REL], 1)[:nn],
        "hm_smooth": np.stack([np.asarray(getattr(smooth, k), np.float32) for k in HM_REL], 1)[:nn],
        "contour": np.stack(recs["contour"][:nn]).astype(np.float16),
        "pelvis_window": np.stack(recs["pelvis_win"][:nn]).astype(np.float16),
        "crop": np.stack(recs["crop"][:nn]),
        "crop_xform": np.stack(recs["xf"][:nn]),
        "facing": np.array(recs["facing"][:nn], np.int8),
    }
    cal = {
        "found": bool(calibration.found) if hasattr(calibration, "found") else None,
        "start_s": float(calibration.start_s),
        "end_s": float(calibration.end_s),
        "pelvis_deg": float(calibration.pelvis_deg),
        "lumbar_deg": float(calibration.lumbar_deg),
        "trunk_deg": float(calibration.trunk_deg),
        "arm_free": calibration.arm_free is not None,
    }
    out["_clip"] = {
        "n_frames_video": n,
        "n_frames_gt": n_gt,
        "decoded_width": info_w,
        "decoded_height": info_h,
        "scale": scale,
        "facing": measurer.facing,
        "calibration": cal,
        "pose_s_per_frame": t_pose / max(n, 1),
    }
    return out


CLIP_FIELDS = ["clip", "body_id", "split", "chunk"]


def clip_meta(meta: dict, row: dict, extra: dict) -> dict:
    s, c, d = meta["subject"], meta["camera"], meta["degradation"]
    ex = meta.get("extras") or {}
    return {
        **{k: row.get(k, "") for k in CLIP_FIELDS},
        "fps": meta["fps"],
        "width": meta["width"],
        "height": meta["height"],
        "gender": s["gender"],
        "age": s["age"],
        "weight": s["weight"],
        "muscle": s["muscle"],
        "proportions": s["proportions"],
        "stature_m": s["stature_m"],
        "top": ex.get("top", "fitted"),
        "lower_garment": s["look"]["lower_garment"],
        "lower_fit": ex.get("lower_fit", "fitted"),
        "sleeves": s["look"]["sleeves"],
        "arms": s["arms"]["pose"],
        "prop": ex.get("prop", "none"),
        "facing": c["facing"],
        "yaw_deg": c["yaw_deg"],
        "roll_deg": c["roll_deg"],
        "cam_height_m": c["height_m"],
        "distance_m": c["distance_m"],
        "vfov_deg": c["vfov_deg"],
        "noise_sigma": d["noise_sigma"],
        "blur_sigma": d["blur_sigma"],
        "jpeg_quality": d["jpeg_quality"] or 0,
        "crf": d["h264_crf"],
        "clutter": len(ex.get("clutter", [])),
        "reps": " ".join(r["type"] + (f"({r['variant']})" if r["variant"] else "") for r in meta["reps"]),
        **extra,
    }


def write_shard(name: str, feats: list[tuple[dict, dict]], out_dir: Path) -> Path:
    """One compressed shard: per-frame arrays concatenated, ``clip_index`` into the per-clip table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, list] = {}
    clip_index = []
    metas = []
    for k, (f, cm) in enumerate(feats):
        n = len(f["frame"])
        clip_index.append(np.full(n, k, np.int16))
        metas.append(cm)
        for key, v in f.items():
            if not key.startswith("_"):
                arrays.setdefault(key, []).append(v)
    out = {k: np.concatenate(v) for k, v in arrays.items()}
    out["clip_index"] = np.concatenate(clip_index)
    out["clips_json"] = np.array(json.dumps(metas))
    out["columns_json"] = np.array(
        json.dumps(
            {
                "gt_angles": ANGLE_COLS,
                "gt_points": POINTS,
                "phase": list(PHASES),
                "hm_abs": HM_ABS,
                "hm_quality": HM_QUALITY,
                "hm_raw": HM_REL,
                "hm_smooth": HM_REL,
                "crop_xform": ["centre_x_px", "centre_y_px", "px_per_cell", "trunk_angle_deg", "facing"],
                "crop": {"side_cells": CROP_CELLS, "side_trunk_lengths": CROP_SIDE_L},
            }
        )
    )
    path = out_dir / f"{name}.npz"
    tmp = out_dir / f".{name}.tmp.npz"
    np.savez_compressed(tmp, **out)
    tmp.replace(path)
    return path


def load_clip_feats(path: Path) -> tuple[dict, dict]:
    d = dict(np.load(path, allow_pickle=False))
    cm = json.loads(str(d.pop("meta_json")))
    return d, cm


def save_clip_feats(path: Path, feats: dict, cm: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrs = {k: v for k, v in feats.items() if not k.startswith("_")}
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(tmp, meta_json=np.array(json.dumps(cm)), **arrs)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="rendered corpus (tools/build_corpus.py)")
    ap.add_argument("--chunks", default=None, help="chunk numbers, e.g. '0-3' (default: every chunk on disk)")
    ap.add_argument("--shards", type=Path, default=SHARD_DIR, help="where the shards go (default data/corpus/)")
    ap.add_argument("--devset", type=Path, default=None, help="extract this devset-format folder as shard 'devset'")
    ap.add_argument("--no-shards", action="store_true", help="per-clip features only")
    ap.add_argument("--max-clips", type=int, default=None)
    args = ap.parse_args(argv)

    hc = _imports()
    settings = hc["load_settings"]()
    num_poses, min_conf = hc["configured_num_poses"](settings), _pose_config(settings)[1]
    model = hc["resolve_model"]()
    est_args = (settings, model, num_poses, min_conf)
    feat_dir = args.corpus / "features"

    if args.devset:
        feats = []
        for rj in sorted(args.devset.glob("*_reps.json")):
            clip = rj.name[: -len("_reps.json")]
            fp = feat_dir / "devset" / f"{clip}.npz"
            if not fp.exists():
                f = extract_clip(args.devset / f"{clip}.mp4", args.devset / f"{clip}_gt.csv", rj, hc, est_args)
                row = {"clip": clip, "body_id": f"devset_{clip}", "split": "devset", "chunk": "devset"}
                save_clip_feats(fp, f, clip_meta(json.loads(rj.read_text()), row, f["_clip"]))
                print(f"{clip}: {len(f['frame'])} frames", file=sys.stderr, flush=True)
            feats.append(load_clip_feats(fp))
        if not args.no_shards:
            print(write_shard("devset", feats, args.shards), file=sys.stderr)
        return 0

    from build_corpus import read_manifest

    rows = {r["clip"]: r for r in read_manifest()}
    chunk_dirs = sorted(p for p in args.corpus.glob("c[0-9][0-9][0-9]") if p.is_dir())
    if args.chunks:
        from build_corpus import parse_range

        want = {f"c{k:03d}" for k in parse_range(args.chunks, 1000)}
        chunk_dirs = [p for p in chunk_dirs if p.name in want]
    done = 0
    for cd in chunk_dirs:
        feats = []
        for rj in sorted(cd.glob("*_reps.json")):
            clip = rj.name[: -len("_reps.json")]
            fp = feat_dir / cd.name / f"{clip}.npz"
            if not fp.exists():
                if args.max_clips is not None and done >= args.max_clips:
                    continue
                t0 = time.time()
                f = extract_clip(cd / f"{clip}.mp4", cd / f"{clip}_gt.csv", rj, hc, est_args)
                save_clip_feats(fp, f, clip_meta(json.loads(rj.read_text()), rows[clip], f["_clip"]))
                done += 1
                print(
                    f"{clip}: {len(f['frame'])} frames, detected {f['detected'].mean():.0%}, {time.time() - t0:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            feats.append(load_clip_feats(fp))
        if feats and not args.no_shards:
            p = write_shard(cd.name, feats, args.shards)
            print(f"{p}: {len(feats)} clips, {p.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
