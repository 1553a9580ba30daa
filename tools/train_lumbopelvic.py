#!/usr/bin/env python3
"""The learned pelvis/lumbar/hip estimator (hingecheck/core/kinematics/lumbopelvic.py): fit, score, export.

Gradient boosting (sklearn HistGradientBoostingRegressor) per target — pelvic tilt, lumbar flexion and hip flexion
relative to standing — on what the pipeline already has per frame (``FrameFeatures``, built by the same code as in
the pipeline): the hand-made method's calibrated angles and quality terms, the dorsal contour in the trunk's frame
(absolute and minus the clip's standing contour), the pelvis window's points and MediaPipe's landmarks in the
trunk's frame, and the three outputs of a small CNN on the trunk's mask crop against the clip's standing crop
(hingecheck/core/kinematics/crop.py; trained here with torch on the training bodies, 40 epochs, the settings of
tools/train_crop_cnn.py; the trees learn from out-of-fold CNN outputs, 2 folds by body, so they do not trust a CNN
that has seen the body it reads), and each posture feature's change over the last 0.133, 0.267 and 0.4 s (2, 4 and
6 frames at the corpus' 15 fps; hingecheck/core/kinematics/lagged.py, taken per clip over the frames the pipeline
reads, as it takes them). Two more mean models read the change of lumbar and hip flexion over the last 0.4 s (the
low-back rule's timing). A 5 % and a 95 % quantile model per target give the stated uncertainty: their
half-width, scaled so that estimate ± uncertainty held the truth on 90 % of the frames of bodies held out of the fit
(normalised split conformal). The trees are held back from describing single bodies: ≥ 300 frames per leaf (about
four bodies' worth) and 30 % of the features per split. Measured with the same CNN outputs (val hip/lumbar °RMSE):
40 frames and all features 4.5/3.2; 300 and 30 % 4.3/3.3; 150 and 50 % 4.2/3.4; 600 and 30 % 4.3/3.5; 300 and 30 %
with 600 trees at half the rate 4.3/3.3. Predicting the CNN's error instead of the angle (all three, or the hip only)
4.6/3.3; the hip as the thigh's inclination plus a learned rest 4.5. Fitted on the training bodies of the corpus
table (data/corpus/) only; scored on the validation bodies and on the devset against the hand-made method
(analyze's smoothed output) with the numpy tree walk the package runs (checked equal to sklearn's predictions).

    make retrain   # pip install -e '.[train]'; tools/train_lumbopelvic.py --export hingecheck/models/lumbopelvic.npz
    tools/train_lumbopelvic.py --cnn-epochs 0    # the trees alone (no torch needed)

Prints per-split RMSE, coverage, interval calibration and the worst clips; ``--export`` writes the shipped model
with its provenance (corpus shards, bodies, commit, scores) inside.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dataclasses import fields, replace  # noqa: E402

from corpus_table import SHARD_DIR, load_table  # noqa: E402

from hingecheck.core.kinematics.crop import N_CNN_SCALARS, CropNet, CropReference, cnn_scalars  # noqa: E402
from hingecheck.core.kinematics.lagged import earlier_rows, lagged_columns, lagged_differences  # noqa: E402
from hingecheck.core.kinematics.lumbopelvic import (  # noqa: E402
    CHANGE_OF,
    CHANGE_TARGETS,
    MIN_OUTLINE_STATIONS,
    RESIDUAL_OF,
    TARGETS,
    FrameFeatures,
    LumbopelvicModel,
    feature_names,
    present_feature_names,
    raw_half_width,
    windowed_correction,
)
from hingecheck.core.kinematics.sagittal import landmarks_in_trunk_frame  # noqa: E402
from hingecheck.core.kinematics.trees import TreeEnsemble  # noqa: E402
from hingecheck.core.sections import ReadingConfig  # noqa: E402
from hingecheck.io.lumbopelvic_model import SHIPPED, save_model  # noqa: E402


def standing_mask(t, k_clip: np.ndarray) -> np.ndarray:
    """Frames inside each clip's calibration window (the hand-made method's standing stretch)."""
    fps = np.array([c["fps"] for c in t.clips], float)[k_clip]
    tsec = t["frame"] / fps
    st = np.array([c["calibration"]["start_s"] for c in t.clips], float)[k_clip]
    en = np.array([c["calibration"]["end_s"] for c in t.clips], float)[k_clip]
    ok = np.isfinite(st) & np.isfinite(en)
    return ok & (tsec >= st - 1e-6) & (tsec <= en + 1e-6)


def per_clip_baseline(x: np.ndarray, k_clip: np.ndarray, stand: np.ndarray) -> np.ndarray:
    """x minus its median over the clip's standing frames (NaN-aware), per clip."""
    out = np.full_like(x, np.nan, dtype=np.float32)
    for k in np.unique(k_clip):
        sel = k_clip == k
        s = sel & stand
        if s.sum() < 3:
            s = sel & (np.arange(len(sel)) < np.flatnonzero(sel)[0] + 10)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                base = np.nanmedian(x[s], axis=0)
        out[sel] = x[sel] - base
    return out


def table_features(t) -> FrameFeatures:
    """The estimator's per-frame inputs from the corpus table (the same FrameFeatures the pipeline builds)."""
    facing = t["crop_xform"][:, 4]
    facing = np.where(np.isfinite(facing), facing, 1.0)
    return FrameFeatures(
        relative=t["hm_raw"].astype(float),
        quality=t["hm_quality"].astype(float),
        absolute=t["hm_abs"][:, :6].astype(float),
        contour_l=t["contour"].astype(float),
        pelvis_window_l=t["pelvis_window"].astype(float),
        landmarks_l=landmarks_in_trunk_frame(t["landmarks_px"].astype(float), facing),
        visibility=t["landmarks_vis"][..., 0].astype(float),
        crop=t.get("crop"),
        crop_xform=t["crop_xform"].astype(float),
    )


def clip_parts(t):
    """Per clip: its frames' rows, its FrameFeatures and its standing reference frames (the calibration's, or the
    first 10 frames when it found fewer than 3)."""
    k = t["clip_index"].astype(int)
    stand = standing_mask(t, k)
    ff = table_features(t)
    for c in np.unique(k):
        sel = np.flatnonzero(k == c)
        ref = stand[sel]
        if ref.sum() < 3:
            ref = np.arange(len(sel)) < 10
        yield sel, FrameFeatures(*(getattr(ff, f.name)[sel] if getattr(ff, f.name) is not None else None
                                   for f in fields(FrameFeatures))), ref  # fmt: skip


def model_inputs(model: LumbopelvicModel, t) -> np.ndarray:
    """The trees' input of every frame as the pipeline builds it (LumbopelvicModel.inputs, then with_changes
    over the clip's frames it reads, per clip); NaN rows where it reads none."""
    out = np.full((len(t["frame"]), len(model.names())), np.nan, np.float32)
    ok = usable(t)
    times = frame_times(t)
    for sel, part, ref in clip_parts(t):
        reference = part.crop_reference(ref) if model.cnn is not None else None
        read = ok[sel]
        if read.any():
            present = model.inputs(part, part.baseline(ref), reference, read)
            out[sel[read]] = model.with_changes(present, times[sel[read]])
    return out


def frame_times(t) -> np.ndarray:
    """Each frame's time in its clip (seconds)."""
    fps = np.array([c["fps"] for c in t.clips], float)
    return t["frame"] / fps[t["clip_index"].astype(int)]


def with_lags(t, x: np.ndarray, lags_s: tuple[float, ...], cnn: bool) -> np.ndarray:
    """``x`` (present features) and, per clip, each read frame's differences from the read frames ``lags_s``
    earlier, exactly as LumbopelvicModel.with_changes takes them in the pipeline."""
    columns = lagged_columns(present_feature_names(cnn=cnn))
    lagged = np.full((len(x), len(lags_s) * len(columns)), np.nan, np.float32)
    ok = usable(t)
    times = frame_times(t)
    k = t["clip_index"].astype(int)
    for c in np.unique(k):
        rows = np.flatnonzero((k == c) & ok)
        lagged[rows] = lagged_differences(x[rows], times[rows], lags_s, columns)
    return np.concatenate([x, lagged], 1)


def change_over(t, values: np.ndarray, window_s: float) -> np.ndarray:
    """Per clip, each frame's ``values`` minus those ``window_s`` earlier (NaN where the clip has no frame then)."""
    out = np.full(len(values), np.nan)
    times = frame_times(t)
    k = t["clip_index"].astype(int)
    for c in np.unique(k):
        rows = np.flatnonzero(k == c)
        j = earlier_rows(times[rows], window_s)
        out[rows] = np.where(j >= 0, values[rows] - values[rows[np.maximum(j, 0)]], np.nan)
    return out


def change_targets(t, window_s: float) -> dict[str, np.ndarray]:
    """The true change of each CHANGE_OF angle over the last ``window_s``."""
    return {
        target: change_over(t, t["gt_angles"][:, t.col("gt_angles", angle)].astype(float), window_s)
        for target, angle in CHANGE_OF.items()
    }


class CnnData:
    """The CNN's training inputs of a table (the interface tools/train_crop_cnn.train_cnn reads): per frame the
    crop, its clip's standing crop, the scalars (FrameFeatures.cnn_inputs' own) and the targets."""

    def __init__(self, t) -> None:
        n = len(t["frame"])
        self.crop = t["crop"]
        self.clip = np.zeros(n, int)
        self.scalars = np.zeros((n, N_CNN_SCALARS), np.float32)
        standing = []
        for c, (sel, part, ref) in enumerate(clip_parts(t)):
            reference: CropReference = part.crop_reference(ref)
            self.scalars[sel] = cnn_scalars(part.relative, part.crop_xform, reference)
            self.clip[sel] = c
            standing.append(reference.crop)
        self.standing = np.stack(standing)
        self.y = np.stack([t["gt_angles"][:, t.col("gt_angles", c)] for c in TARGETS], 1).astype(np.float32)

    def batch(self, idx: np.ndarray):
        """Images (n, 2, 64, 64) in 0..1 and scalars (n, S) of the frames ``idx``, as torch tensors."""
        import torch

        img = np.stack([self.crop[idx], self.standing[self.clip[idx]]], 1).astype(np.float32) / 255.0
        return torch.from_numpy(img), torch.from_numpy(self.scalars[idx])


def features(t) -> tuple[np.ndarray, list[str]]:
    """Feature matrix of every frame: per clip, relative parts from its standing frames (the calibration's)."""
    names = feature_names()
    out = np.full((len(t["frame"]), len(names)), np.nan, np.float32)
    for sel, part, ref in clip_parts(t):
        out[sel] = part.matrix(part.baseline(ref))
    return out, names


# ------------------------------------------------------------------------------------------------------- the CNN


def cnn_settings(args) -> argparse.Namespace:
    """tools/train_crop_cnn.py's training settings (its defaults: the widths and epochs it chose on val), with
    ``--cnn-epochs``."""
    from train_crop_cnn import build_parser

    return build_parser().parse_args(["--epochs", str(args.cnn_epochs)])


def numpy_net(net, norm: dict) -> CropNet:
    """The torch CropNet (tools/train_crop_cnn.py) as the package's numpy CropNet."""
    return CropNet(
        tuple(c.weight.detach().numpy().transpose(1, 2, 3, 0).reshape(-1, c.out_channels).copy() for c in net.convs),
        tuple(c.bias.detach().numpy().copy() for c in net.convs),
        net.fc1.weight.detach().numpy().T.copy(),
        net.fc1.bias.detach().numpy().copy(),
        net.fc2.weight.detach().numpy().T.copy(),
        net.fc2.bias.detach().numpy().copy(),
        np.asarray(norm["mean"], np.float64),
        np.asarray(norm["std"], np.float64),
    )


def fit_cnn(data: CnnData, frames: np.ndarray, args, seed: int) -> tuple[CropNet, float]:
    """A CNN fitted on ``frames`` (torch, 1 thread), as numpy; checked against torch on up to 300 frames."""
    import torch
    from train_crop_cnn import train_cnn

    torch.set_num_threads(1)
    net, norm = train_cnn(data, frames, cnn_settings(args), seed=seed)
    np_net = numpy_net(net, norm)
    idx = frames[:300]
    img, sc = data.batch(idx)
    with torch.inference_mode():
        ref = net(img, sc).numpy()
    diff = float(np.abs(np_net.standardised(img.numpy(), sc.numpy()) - ref).max())
    assert diff < 1e-4, f"numpy CNN differs from torch by {diff}"
    return np_net, diff


def cnn_outputs(net: CropNet, data: CnnData, frames: np.ndarray) -> np.ndarray:
    """(len(frames), 3) degrees."""
    out = [net(*[v.numpy() for v in data.batch(frames[b : b + 512])]) for b in range(0, len(frames), 512)]
    return np.concatenate(out) if out else np.zeros((0, len(TARGETS)))


def out_of_fold(t, data: CnnData, ok: np.ndarray, args) -> np.ndarray:
    """(n, 3) CNN outputs of every usable frame from a CNN that did not see its body (``args.cnn_folds`` folds of
    the bodies), so the trees learn how far an unseen body's CNN reading can be trusted."""
    body = np.array([t.clips[k]["body_id"] for k in t["clip_index"]])
    bodies = np.array(sorted(set(body)))
    fold_of = dict(zip(bodies, np.random.default_rng(1).permutation(len(bodies)) % args.cnn_folds, strict=True))
    fold = np.array([fold_of[b] for b in body])
    oof = np.full((len(ok), len(TARGETS)), np.nan, np.float32)
    for f in range(args.cnn_folds):
        print(f"out-of-fold CNN {f + 1}/{args.cnn_folds}", flush=True)
        net, _ = fit_cnn(data, np.flatnonzero(ok & (fold != f)), args, seed=args.seed + 1 + f)
        held = np.flatnonzero(ok & (fold == f))
        oof[held] = cnn_outputs(net, data, held)
    return oof


def usable(t) -> np.ndarray:
    """Frames the pipeline reads with the model: a person and an outline (lumbopelvic.has_outline)."""
    return t["detected"] & (np.isfinite(t["contour"]).sum(1) >= MIN_OUTLINE_STATIONS)


def smooth_per_clip(x: np.ndarray, k_clip: np.ndarray, fps: np.ndarray, window_s: float) -> np.ndarray:
    """Centred moving average over ``window_s`` within each clip (NaN-aware), like analyze smooths its angles."""
    out = np.array(x, dtype=np.float64)
    for k in np.unique(k_clip):
        s = np.flatnonzero(k_clip == k)
        w = max(1, int(round(window_s * fps[k])) | 1)
        if w == 1:
            continue
        v = out[s]
        ok = np.isfinite(v)
        ker = np.ones(w)
        num = np.convolve(np.where(ok, v, 0.0), ker, "same")
        den = np.convolve(ok.astype(float), ker, "same")
        out[s] = np.where(ok, num / np.maximum(den, 1), np.nan)
    return out


def rmse(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return float(np.sqrt(np.mean(e**2))) if len(e) else float("nan")


def ensemble_of(model) -> TreeEnsemble:
    """A fitted sklearn HistGradientBoostingRegressor as flat node arrays (leaves point to themselves)."""
    feats, thrs, miss, lefts, rights, vals, roots = [], [], [], [], [], [], []
    offset = 0
    depth = 0
    for (pred,) in model._predictors:
        nodes = pred.nodes
        n = len(nodes)
        idx = np.arange(n) + offset
        leaf = nodes["is_leaf"].astype(bool)
        feats.append(np.where(leaf, 0, nodes["feature_idx"]))
        thrs.append(np.where(leaf, 0.0, nodes["num_threshold"]))
        miss.append(nodes["missing_go_to_left"].astype(bool))
        lefts.append(np.where(leaf, idx, nodes["left"] + offset))
        rights.append(np.where(leaf, idx, nodes["right"] + offset))
        vals.append(np.where(leaf, nodes["value"], 0.0))
        roots.append(offset)
        depth = max(depth, int(nodes["depth"].max()) + 1)
        offset += n
    cat = np.concatenate
    return TreeEnsemble(
        cat(feats).astype(np.intp), cat(thrs), cat(miss), cat(lefts).astype(np.intp), cat(rights).astype(np.intp),
        cat(vals), np.array(roots, np.intp), depth, float(np.ravel(model._baseline_prediction)[0]),
    )  # fmt: skip


def checked_ensemble(model, x_walk: np.ndarray, x_fitted: np.ndarray, name: str) -> TreeEnsemble:
    """``ensemble_of(model)``, checked: the numpy walk on ``x_walk`` gives sklearn's numbers on ``x_fitted`` (the
    same rows, in the columns the model was fitted on)."""
    ensemble = ensemble_of(model)
    diff = float(np.abs(ensemble.predict(x_walk) - model.predict(x_fitted)).max())
    assert diff < 1e-6, f"{name}: numpy trees differ from sklearn by {diff}"
    return ensemble


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The trainer's settings: the shipped model's (tools/rules_on_corpus.py refits its trees with them)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--export", type=Path, default=None, help=f"write the shipped model here (e.g. {SHIPPED})")
    ap.add_argument("--max-iter", type=int, default=300, help="trees of each mean model")
    ap.add_argument("--quantile-iter", type=int, default=150, help="trees of each 5 %% / 95 %% model")
    ap.add_argument("--learning-rate", type=float, default=0.06, help="each tree's shrinkage")
    ap.add_argument(
        "--min-samples-leaf", type=int, default=300,
        help="frames per leaf: ~4 bodies' worth (75 frames each), so a leaf cannot describe one body",
    )  # fmt: skip
    ap.add_argument(
        "--max-features", type=float, default=0.3,
        help="share of the features each split may choose from (decorrelates the trees)",
    )  # fmt: skip
    ap.add_argument("--shards", type=Path, default=SHARD_DIR, help="shard folder (default data/corpus/)")
    ap.add_argument("--per-clip", action="store_true", help="print every validation clip")
    ap.add_argument(
        "--residual", action="store_true", help="predict the hand-made reading's error (worse on unseen bodies)"
    )
    ap.add_argument(
        "--window-s", type=float, default=ReadingConfig().correction_window_s,
        help="the pipeline's correction window (keep_outline_detail); 0: the trees alone",
    )  # fmt: skip
    ap.add_argument("--smooth-s", type=float, default=0.2, help="centred moving average of the predictions (0: none)")
    ap.add_argument("--cnn-epochs", type=int, default=40, help="epochs of the crop CNN (0: no CNN, trees alone)")
    ap.add_argument("--cnn-folds", type=int, default=2, help="folds (by body) of the trees' out-of-fold CNN outputs")
    ap.add_argument(
        "--lags-s", type=float, nargs="*", default=[0.133, 0.267, 0.4],
        help="the trees also read each posture feature's change over these (2, 4, 6 frames at the corpus' 15 fps)",
    )  # fmt: skip
    ap.add_argument(
        "--interval-lags", action="store_true",
        help="the 5 %% / 95 %% trees also read the lagged differences (wider lumbar intervals on real footage)",
    )  # fmt: skip
    ap.add_argument(
        "--change-window-s", type=float, default=0.4,
        help="the change targets: how far lumbar and hip flexion moved over the last this many seconds",
    )  # fmt: skip
    ap.add_argument("--seed", type=int, default=0, help="the CNN's seed (folds use seed+1...; the trees their own 0)")
    ap.add_argument("--save-oof", type=Path, default=None, help="keep the CNNs (npz) to refit the trees faster")
    ap.add_argument("--load-oof", type=Path, default=None, help="reuse the CNNs saved by --save-oof")
    return ap


def regressor(args: argparse.Namespace, iters: int, **kw):
    """One of the model's gradient-boosted ensembles, with the trainer's settings."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=iters, learning_rate=args.learning_rate, max_leaf_nodes=31, min_samples_leaf=args.min_samples_leaf,
        max_features=args.max_features, l2_regularization=1.0, random_state=0, **kw,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported: 1 thread, the machine is shared
    from sklearn import __version__ as sklearn_version

    crops = args.cnn_epochs > 0
    tr = load_table("train", shard_dir=args.shards, crops=crops)
    sets = {"val": load_table("val", shard_dir=args.shards, crops=crops)}
    if (SHARD_DIR / "devset.npz").exists():
        sets["devset"] = load_table("devset", shards=["devset"], crops=crops)
    print(
        f"train: {len(tr.clips)} clips/bodies, {len(tr['frame'])} frames; "
        + "; ".join(f"{k}: {len(v.clips)} clips, {len(v['frame'])} frames" for k, v in sets.items())
    )

    def fit_model(t) -> tuple[LumbopelvicModel, dict]:
        """The CNN (all training bodies; out-of-fold outputs as the trees' features), mean and quantile ensembles
        per target; the interval scale from held-out training bodies."""
        x, _ = features(t)
        ok = usable(t)
        cnn: CropNet | None = None
        cnn_info: dict = {}
        if args.cnn_epochs > 0:
            t_cnn = time.time()
            data = CnnData(t)
            if args.load_oof:
                with np.load(args.load_oof) as z:
                    oof, cnn = z["oof"], CropNet.from_arrays(dict(z), "cnn.")
                    diff = float(z["diff"])
            else:
                oof = out_of_fold(t, data, ok, args)
                print("CNN on every training body", flush=True)
                cnn, diff = fit_cnn(data, np.flatnonzero(ok), args, seed=args.seed)
                if args.save_oof:
                    np.savez(args.save_oof, oof=oof, diff=diff, **cnn.arrays("cnn."))
            x = np.concatenate([x, oof], 1)
            n_params = sum(a.size for a in cnn.arrays("").values()) - 6  # less mean and std
            settings = cnn_settings(args)
            cnn_info = {
                "architecture": f"2x64x64 crop+standing crop; conv3x3/2 {settings.channels} ReLU; "
                f"+{N_CNN_SCALARS} scalars; dense {settings.hidden} ReLU; 3 outputs",
                "parameters": int(n_params),
                "epochs": settings.epochs,
                "batch": settings.batch,
                "lr": settings.lr,
                "weight_decay": settings.weight_decay,
                "augmentation": "per channel shift +-3 cells, scale 1+-0.07 (train_crop_cnn.augment)",
                "seed": args.seed,
                "out_of_fold": args.cnn_folds,
                "numpy_vs_torch_max_diff": diff,
                "seconds": round(time.time() - t_cnn),
            }
        lags_s = tuple(args.lags_s)
        x = with_lags(t, x.astype(np.float32), lags_s, cnn is not None)
        # Normalised split conformal: every model is first fitted on 80 % of the bodies; on the other 20 % (whole
        # bodies, so the correlation of frames within a clip does not flatter it) the 90th centile of
        # |truth - mean| / quantile half-width scales the stated uncertainty. The mean is then refitted on all.
        body = np.array([t.clips[k]["body_id"] for k in t["clip_index"]])
        bodies = sorted(set(body))
        rng = np.random.default_rng(0)
        cal_bodies = list(rng.choice(bodies, max(1, len(bodies) // 5), replace=False))
        cal = np.isin(body, cal_bodies) & ok
        fit = ~np.isin(body, cal_bodies) & ok
        ensembles: dict[str, dict[str, TreeEnsemble]] = {}
        scale: dict[str, float] = {}
        names = feature_names(cnn=cnn is not None, lags_s=lags_s)
        assert x.shape[1] == len(names), (x.shape, len(names))
        # the interval's trees read the frame as it is (present_feature_names) unless --interval-lags
        xq = x if args.interval_lags else x[:, : len(present_feature_names(cnn=cnn is not None))]
        residual_of = dict(RESIDUAL_OF) if args.residual else {}
        for tgt in TARGETS:
            y = t["gt_angles"][:, t.col("gt_angles", tgt)].astype(float)
            if tgt in residual_of:  # learn the hand-made reading's error
                y = y - x[:, names.index(residual_of[tgt])]
            fit_t, cal_t = fit & np.isfinite(y), cal & np.isfinite(y)
            part = {
                "mid": regressor(args, args.max_iter, loss="squared_error").fit(x[fit_t], y[fit_t]),
                "lo": regressor(args, args.quantile_iter, loss="quantile", quantile=0.05).fit(xq[fit_t], y[fit_t]),
                "hi": regressor(args, args.quantile_iter, loss="quantile", quantile=0.95).fit(xq[fit_t], y[fit_t]),
            }
            pr = {q: m.predict((x if q == "mid" else xq)[cal_t]) for q, m in part.items()}
            # the pipeline's estimate: the hand-made reading plus the windowed correction
            mid_all = np.full(len(x), np.nan)
            mid_all[cal] = part["mid"].predict(x[cal]) + (x[cal, names.index(residual_of[tgt])] if residual_of else 0)
            est = with_detail(t, mid_all, tgt, args.window_s)[cal_t]
            truth = t["gt_angles"][cal_t, t.col("gt_angles", tgt)]
            ratio = np.abs(truth - est) / raw_half_width(pr["lo"], pr["hi"])
            scale[tgt] = float(np.quantile(ratio, min(0.9 * (1 + 1 / max(cal_t.sum(), 1)), 1.0)))
            use = ok & np.isfinite(y)
            part["mid"] = regressor(args, args.max_iter, loss="squared_error").fit(x[use], y[use])
            # quantile trees fitted on the present features index only those: they walk the full input alike
            ensembles[tgt] = {
                q: checked_ensemble(m, x[cal][:500], (x if q == "mid" else xq)[cal][:500], f"{tgt} {q}")
                for q, m in part.items()
            }
        # the changes over the last change_window_s: mean models only (the low-back rule's timing)
        changes: dict[str, TreeEnsemble] = {}
        for tgt, y in change_targets(t, args.change_window_s).items():
            use = ok & np.isfinite(y)
            m = regressor(args, args.max_iter, loss="squared_error").fit(x[use], y[use])
            changes[tgt] = checked_ensemble(m, x[use][:500], x[use][:500], tgt)
        info = {"frames": int(ok.sum()), "bodies": len(bodies), "calibration_bodies": len(cal_bodies)}
        if cnn_info:
            info["cnn"] = cnn_info
        model = LumbopelvicModel(
            ensembles, scale, residual_of=residual_of, cnn=cnn, lags_s=lags_s, changes=changes,
            change_window_s=args.change_window_s,
        )  # fmt: skip
        return model, info

    t0 = time.time()
    model, info = fit_model(tr)
    print(
        f"fitted {len(TARGETS) * 3} models on {info['frames']} frames ({info['bodies']} bodies; intervals calibrated "
        f"on {info['calibration_bodies']}) in {time.time() - t0:.0f} s; interval scale "
        + ", ".join(f"{k} x{v:.2f}" for k, v in model.interval_scale.items())
    )
    scores = {name: score(model, t, name, args) for name, t in sets.items()}
    if args.export:
        # the shipped model is the one scored here: fitted on the training bodies only, so the validation bodies
        # (and bench/accuracy.py on their clips) stay unseen by it
        shards = sorted(p.name for p in args.shards.glob("c[0-9][0-9][0-9].npz"))
        provenance = {
            "trained": time.strftime("%Y-%m-%d"),
            "hingecheck_commit": git_commit(),
            "script": "tools/train_lumbopelvic.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "corpus_shards": shards,
            "fitted_on": "train bodies",
            **info,
            "scikit_learn": sklearn_version,
            "mean_trees": args.max_iter,
            "quantile_trees": args.quantile_iter,
            "min_samples_leaf": args.min_samples_leaf,
            "learning_rate": args.learning_rate,
            "max_features": args.max_features,
            "interval_reads_lags": args.interval_lags,
            "correction_window_s": args.window_s,
            "lags_s": list(model.lags_s),
            "change_window_s": model.change_window_s,
            "scores": scores,
        }
        if model.cnn is not None:
            import torch

            provenance["torch"] = torch.__version__
        save_model(replace(model, provenance=provenance), args.export)
        print(f"saved {args.export} ({args.export.stat().st_size / 1e6:.1f} MB)")
    return 0


def with_detail(t, learned: np.ndarray, target: str, window_s: float) -> np.ndarray:
    """Per clip, the pipeline's blend (lumbopelvic.windowed_correction): the hand-made reading plus the learned
    correction averaged over a centred window; NaN stays where nothing was learned."""
    if window_s <= 0:
        return learned
    hm = t["hm_raw"][:, t.col("hm_raw", target)].astype(float)
    fps = np.array([c["fps"] for c in t.clips], float)
    kc = t["clip_index"].astype(int)
    out = np.array(learned, float)
    for k in np.unique(kc):
        s = np.flatnonzero(kc == k)
        out[s] = windowed_correction(t["frame"][s] / fps[k], learned[s], hm[s], window_s, False)
    return np.where(np.isfinite(learned), out, np.nan)


def score(model: LumbopelvicModel, t, name: str, args) -> dict:
    """Print and return RMSE (hand-made vs learned), coverage and interval calibration on one split."""
    x = model_inputs(model, t)
    ok = usable(t)
    t1 = time.perf_counter()
    reading = model.read(x[ok])
    ms_frame = (time.perf_counter() - t1) / max(ok.sum(), 1) * 1000
    t1 = time.perf_counter()
    for i in np.flatnonzero(ok)[:200]:
        model.read(x[i : i + 1])
    ms_single = (time.perf_counter() - t1) / max(min(ok.sum(), 200), 1) * 1000
    fps = np.array([c["fps"] for c in t.clips], float)
    kc = t["clip_index"].astype(int)
    pred: dict[str, np.ndarray] = {}
    unc: dict[str, np.ndarray] = {}
    for tg in TARGETS:
        full = np.full(len(x), np.nan)
        full[ok] = reading.estimate[tg]
        full = with_detail(t, full, tg, args.window_s)
        pred[tg] = smooth_per_clip(full, kc, fps, args.smooth_s) if args.smooth_s > 0 else full
        full = np.full(len(x), np.nan)
        full[ok] = reading.uncertainty[tg]
        unc[tg] = full
    print(
        f"\n== {name}: {len(t.clips)} clips, {len(x)} frames (batch {ms_frame:.3f} ms/frame, "
        f"one frame at a time {ms_single:.2f} ms)"
    )
    print(
        f"{'':18s} {'hand-made RMSE':>15s} {'cover':>6s} {'learned RMSE':>13s} {'cover':>6s} {'90% in':>7s} "
        f"{'mean ±':>7s}"
    )
    out: dict = {}
    for key in TARGETS:
        gt = t["gt_angles"][:, t.col("gt_angles", key)]
        h = t["hm_smooth"][:, t.col("hm_smooth", key)]
        p = pred[key]
        okp = np.isfinite(p) & np.isfinite(unc[key])
        inside = np.abs(gt - p) <= unc[key]
        r = {"hand_made_rmse": rmse(h - gt), "learned_rmse": rmse(p - gt), "coverage": float(ok.mean()),
             "in_90": float(inside[okp].mean()), "mean_uncertainty": float(np.nanmean(unc[key]))}  # fmt: skip
        out[key] = {k: round(v, 3) for k, v in r.items()}
        print(
            f"{key:18s} {r['hand_made_rmse']:15.2f} {np.isfinite(h).mean():6.0%} {r['learned_rmse']:13.2f} "
            f"{okp.mean():6.0%} {r['in_90']:7.0%} {r['mean_uncertainty']:7.2f}"
        )
    # the changes against the hand-made reading's own change over the same window (its frames.csv columns)
    truth = change_targets(t, model.change_window_s)
    for key, est in ((k, v) for k, v in reading.estimate.items() if k in CHANGE_TARGETS):
        full = np.full(len(x), np.nan)
        full[ok] = est
        h = t["hm_smooth"][:, t.col("hm_smooth", CHANGE_OF[key])].astype(float)
        h_change = change_over(t, h, model.change_window_s)
        returning = t["phase"] == 3
        r = {"hand_made_rmse": rmse(h_change - truth[key]), "learned_rmse": rmse(full - truth[key]),
             "learned_rmse_return": rmse((full - truth[key])[returning])}  # fmt: skip
        out[key] = {k: round(v, 3) for k, v in r.items()}
        print(
            f"{key:18s} {r['hand_made_rmse']:15.2f} {'':6s} {r['learned_rmse']:13.2f}   (returns: "
            f"{r['learned_rmse_return']:.2f})"
        )
    worst = []
    for k, c in enumerate(t.clips):
        s = kc == k
        row = [c["clip"]]
        for key in ("hip_flexion_deg", "lumbar_flexion_deg"):
            gt = t["gt_angles"][s, t.col("gt_angles", key)]
            h = t["hm_smooth"][s, t.col("hm_smooth", key)]
            row += [rmse(h - gt), rmse(pred[key][s] - gt)]
        half = (
            float(np.nanmean(unc["lumbar_flexion_deg"][s]))
            if np.isfinite(unc["lumbar_flexion_deg"][s]).any()
            else np.nan
        )
        worst.append((*row, half, c.get("weight", 0), c.get("top", ""), c.get("yaw_deg", 0)))
    worst.sort(key=lambda r: -max(r[2], r[4]))
    n_show = len(worst) if args.per_clip else 8
    print(f"clips by learned RMSE (hip hand-made/learned, lumbar hand-made/learned, mean lumbar ±), top {n_show}:")
    for r in worst[:n_show]:
        print(
            f"  {r[0]:10s} hip {r[1]:5.1f}/{r[2]:5.1f}  lumbar {r[3]:5.1f}/{r[4]:5.1f}  ±{r[5]:4.1f}  "
            f"weight {r[6]:.2f} {r[7]} yaw {r[8]}"
        )
    n_bad = sum(1 for r in worst if r[2] > 7 or r[4] > 7)
    n_silent = sum(1 for r in worst if max(r[2], r[4]) > 8 and r[5] < 4)
    print(f"clips above 7° (learned hip or lumbar): {n_bad} of {len(worst)}; above 8° with mean ± below 4°: {n_silent}")
    out["clips_above_7deg"] = n_bad
    out["clips_above_8deg_claiming_below_4deg"] = n_silent
    return out


if __name__ == "__main__":
    raise SystemExit(main())
