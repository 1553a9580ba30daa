#!/usr/bin/env python3
"""A small CNN on the trunk mask crop against the gradient-boosted trees (issue 13, part 2: choose the model family).

The CNN reads two 64×64 channels — the frame's soft trunk mask crop (``crop`` in data/corpus, back on the left,
trunk axis up) and the clip's standing crop (the median crop over its calibration window, since every target is
relative to standing) — plus a few scalars the crop cannot show (it is rotated to the trunk axis): the hand-made
relative angles, the trunk's image angle and scale relative to standing. Four stride-2 3×3 conv layers
(16-32-48-64 channels, ReLU) to 4×4, flattened, concatenated with the scalars, one hidden layer of 96, three
outputs: pelvic tilt, lumbar flexion, hip flexion (degrees relative to standing). Trained on the train bodies
only with small random shifts and scalings of each channel (MSE on standardised targets, AdamW, one-cycle
schedule, 40 epochs of batch 128). A narrower net (16-32-32-32, hidden 64, 30 epochs) scored 5.6/4.5/4.2 °RMSE
(val hip/pelvis/lumbar) and 3.7/3.2/2.9 (devset): the widths and epochs were chosen on the val split.

Scored exactly like tools/train_lumbopelvic.py: predictions on the frames the model reads (a person and an
outline), smoothed per clip with a centred 0.2 s moving average, RMSE against the ground truth on the validation
bodies and on the devset. Compared with: the hand-made method (analyze's smoothed output), the gradient-boosted
trees refitted here on the same frames (mean models only), and the trees with the CNN's three outputs as extra
features (out-of-fold CNN outputs on the training bodies, 2 folds by body). Inference cost per frame: torch
(1 thread, batch 1), a pure-numpy forward pass (im2col with stride tricks; checked against torch), and the
trees' numpy walk (one frame, three targets).

    nice -n 5 /work/renderenv/bin/python tools/train_crop_cnn.py [--epochs 40] [--no-combo] [--save cnn.pt] \\
        | tee tools/corpus/cnn_vs_gbm.txt
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from torch import nn  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus_table import SHARD_DIR, Table, load_table  # noqa: E402
from train_lumbopelvic import (  # noqa: E402
    ensemble_of,
    features,
    rmse,
    smooth_per_clip,
    standing_mask,
    usable,
)

from hingecheck.core.kinematics.lumbopelvic import RELATIVE_ANGLES, TARGETS  # noqa: E402

CROP = 64
HM_COLUMNS = RELATIVE_ANGLES[:-1]  # the hand-made reading's angles (not its confidence)
DEG_SCALE = 30.0  # scalar angle inputs are divided by this
SHORT = {"hip_flexion_deg": "hip", "pelvic_tilt_deg": "pelvis", "lumbar_flexion_deg": "lumbar"}


# ---------------------------------------------------------------------------------------------------------- inputs


def standing_reference(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the index of its clip's reference frames' row in the returned (clips, 64, 64) standing crops
    (the median crop over the clip's calibration window, detected frames only; first 10 detected as fallback),
    and those crops."""
    k = t["clip_index"].astype(int)
    stand = standing_mask(t, k) & t["detected"]
    crops = np.zeros((len(t.clips), CROP, CROP), np.uint8)
    for c in np.unique(k):
        sel = k == c
        s = sel & stand
        if s.sum() < 3:
            det = np.flatnonzero(sel & t["detected"])[:10]
            s = np.zeros_like(sel)
            s[det] = True
        if s.any():
            crops[c] = np.median(t["crop"][s], axis=0).round().astype(np.uint8)
    return k, crops


def scalar_inputs(t: Table) -> np.ndarray:
    """(N, 10) scalars: the hand-made relative angles (/30°, 0 where missing), a missing flag, the trunk's image
    angle relative to the clip's standing (signed by facing, /30°) and log of its scale relative to standing."""
    k = t["clip_index"].astype(int)
    stand = standing_mask(t, k) & t["detected"]
    hm = np.stack([t["hm_raw"][:, t.col("hm_raw", c)] for c in HM_COLUMNS], 1).astype(np.float32)
    missing = ~np.isfinite(hm[:, 0])
    hm = np.where(np.isfinite(hm), hm / DEG_SCALE, 0.0)
    xf = t["crop_xform"].astype(np.float64)
    angle, scale, facing = xf[:, 3], xf[:, 2], np.where(np.isfinite(xf[:, 4]), xf[:, 4], 1.0)
    rel_angle = np.zeros(len(k))
    rel_scale = np.zeros(len(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for c in np.unique(k):
            sel = k == c
            s = sel & stand
            if s.sum() < 3:
                s = sel & t["detected"]
            a0 = np.nanmedian(angle[s]) if s.any() else 0.0
            s0 = np.nanmedian(scale[s]) if s.any() else 1.0
            da = (angle[sel] - a0 + 180.0) % 360.0 - 180.0
            rel_angle[sel] = da * facing[sel] / DEG_SCALE
            rel_scale[sel] = np.log(np.maximum(scale[sel], 1e-6) / max(s0, 1e-6))
    out = np.concatenate([hm, missing[:, None], rel_angle[:, None], rel_scale[:, None]], 1)
    return np.where(np.isfinite(out), out, 0.0).astype(np.float32)


def targets(t: Table) -> np.ndarray:
    """(N, 3) ground truth in TARGETS order."""
    return np.stack([t["gt_angles"][:, t.col("gt_angles", c)] for c in TARGETS], 1).astype(np.float32)


class Inputs:
    """A split's CNN inputs: the frame crops, the per-clip standing crops, scalars, targets and the frames read."""

    def __init__(self, t: Table) -> None:
        self.table = t
        self.clip, self.standing = standing_reference(t)
        self.crop = t["crop"]
        self.scalars = scalar_inputs(t)
        self.y = targets(t)
        self.ok = usable(t)
        self.fps = np.array([c["fps"] for c in t.clips], float)

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (n, 2, 64, 64) in 0..1 and scalars (n, S) of the frames ``idx``."""
        img = np.stack([self.crop[idx], self.standing[self.clip[idx]]], 1).astype(np.float32) / 255.0
        return torch.from_numpy(img), torch.from_numpy(self.scalars[idx])


# ------------------------------------------------------------------------------------------------------------ model


class CropNet(nn.Module):
    """Stride-2 3×3 convs to 4×4, flattened, concatenated with the scalars, a hidden layer, three outputs."""

    def __init__(self, n_scalars: int, channels: tuple[int, ...] = (16, 32, 48, 64), hidden: int = 96) -> None:
        super().__init__()
        convs = []
        c_in = 2
        for c in channels:
            convs.append(nn.Conv2d(c_in, c, 3, stride=2, padding=1))
            c_in = c
        self.convs = nn.ModuleList(convs)
        side = CROP // 2 ** len(channels)
        self.fc1 = nn.Linear(c_in * side * side + n_scalars, hidden)
        self.fc2 = nn.Linear(hidden, len(TARGETS))

    def forward(self, img: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        x = img
        for conv in self.convs:
            x = F.relu(conv(x))
        x = torch.cat([x.flatten(1), scalars], 1)
        return self.fc2(F.relu(self.fc1(x)))


def augment(img: torch.Tensor, gen: torch.Generator, shift: float = 3.0, scale: float = 0.07) -> torch.Tensor:
    """Each channel of each crop independently shifted by up to ±``shift`` cells and scaled by 1±``scale``."""
    n, c, h, w = img.shape
    flat = img.reshape(n * c, 1, h, w)
    s = 1.0 + (torch.rand(n * c, generator=gen) * 2 - 1) * scale
    d = (torch.rand(n * c, 2, generator=gen) * 2 - 1) * shift * 2 / w
    theta = torch.zeros(n * c, 2, 3)
    theta[:, 0, 0] = s
    theta[:, 1, 1] = s
    theta[:, :, 2] = d
    grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
    return F.grid_sample(flat, grid, mode="bilinear", padding_mode="zeros", align_corners=False).reshape(n, c, h, w)


def train_cnn(data: Inputs, frames: np.ndarray, args: argparse.Namespace, seed: int = 0) -> tuple[CropNet, dict]:
    """Fit a CropNet on ``frames`` of ``data`` (MSE on standardised targets, AdamW, cosine schedule)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    frames = frames[np.isfinite(data.y[frames]).all(1)]
    mean = data.y[frames].mean(0)
    std = data.y[frames].std(0) + 1e-6
    net = CropNet(data.scalars.shape[1], tuple(args.channels), args.hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps = args.epochs * int(np.ceil(len(frames) / args.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    y_all = torch.from_numpy((data.y - mean) / std)
    t0 = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = rng.permutation(frames)
        total = 0.0
        for b in range(0, len(order), args.batch):
            idx = np.sort(order[b : b + args.batch])
            img, sc = data.batch(idx)
            img = augment(img, gen)
            loss = F.mse_loss(net(img, sc), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch == 0 or (epoch + 1) % 5 == 0 or epoch + 1 == args.epochs:
            print(
                f"  epoch {epoch + 1:3d}: train MSE (standardised) {total / len(frames):.4f}, {time.time() - t0:.0f} s"
            )
    net.eval()
    return net, {"mean": mean, "std": std, "seconds": time.time() - t0}


def predict_cnn(net: CropNet, norm: dict, data: Inputs, frames: np.ndarray) -> np.ndarray:
    """(len(frames), 3) degrees."""
    out = []
    with torch.inference_mode():
        for b in range(0, len(frames), 512):
            img, sc = data.batch(frames[b : b + 512])
            out.append(net(img, sc).numpy())
    return np.concatenate(out) * norm["std"] + norm["mean"] if out else np.zeros((0, len(TARGETS)))


# ------------------------------------------------------------------------------------------------- numpy forward


class NumpyCropNet:
    """CropNet's forward pass in numpy (NHWC; each conv an im2col matmul over a strided window view)."""

    def __init__(self, net: CropNet, norm: dict) -> None:
        self.convs = [
            (
                c.weight.detach().numpy().transpose(1, 2, 3, 0).reshape(-1, c.out_channels).copy(),  # (C·k·k, O)
                c.bias.detach().numpy().copy(),
                c.kernel_size[0],
                c.stride[0],
                c.padding[0],
            )
            for c in net.convs
        ]
        self.w1 = net.fc1.weight.detach().numpy().T.copy()
        self.b1 = net.fc1.bias.detach().numpy().copy()
        self.w2 = net.fc2.weight.detach().numpy().T.copy()
        self.b2 = net.fc2.bias.detach().numpy().copy()
        self.mean, self.std = norm["mean"], norm["std"]

    def raw(self, img: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """Standardised outputs for ``img`` (n, 2, 64, 64) float32 and ``scalars`` (n, S)."""
        x = np.ascontiguousarray(img.transpose(0, 2, 3, 1))
        n = len(x)
        for wm, b, k, stride, pad in self.convs:
            x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            win = sliding_window_view(x, (k, k), axis=(1, 2))[
                :, : x.shape[1] - k + 1 : stride, : x.shape[2] - k + 1 : stride
            ]
            ho, wo = win.shape[1], win.shape[2]
            x = np.maximum(win.reshape(n * ho * wo, -1) @ wm + b, 0.0).reshape(n, ho, wo, -1)  # (C, k, k) order
        h = np.concatenate([x.transpose(0, 3, 1, 2).reshape(n, -1), scalars], 1)
        return np.maximum(h @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2

    def __call__(self, img: np.ndarray, scalars: np.ndarray) -> np.ndarray:
        """Degrees."""
        return self.raw(img, scalars) * self.std + self.mean


# ---------------------------------------------------------------------------------------------------------- scoring


def smoothed_rmse(data: Inputs, pred: np.ndarray, args: argparse.Namespace) -> dict[str, float]:
    """RMSE per target of ``pred`` ((n_read, 3) on data.ok frames), smoothed per clip, against the ground truth."""
    out = {}
    for j, tg in enumerate(TARGETS):
        full = np.full(len(data.ok), np.nan)
        full[data.ok] = pred[:, j]
        p = smooth_per_clip(full, data.clip, data.fps, args.smooth_s) if args.smooth_s > 0 else full
        out[tg] = rmse(p - data.y[:, j])
    return out


def hand_made_rmse(t: Table) -> dict[str, float]:
    """The hand-made method's RMSE (analyze's smoothed output) where it reports a value, as train_lumbopelvic."""
    return {
        tg: rmse(t["hm_smooth"][:, t.col("hm_smooth", tg)] - t["gt_angles"][:, t.col("gt_angles", tg)])
        for tg in TARGETS
    }


def fit_gbm(x: np.ndarray, y: np.ndarray, iters: int) -> list:
    """One HistGradientBoostingRegressor per target, the settings of train_lumbopelvic's mean models."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    models = []
    for j in range(y.shape[1]):
        m = HistGradientBoostingRegressor(
            max_iter=iters, learning_rate=0.06, max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
            random_state=0, loss="squared_error",
        )  # fmt: skip
        models.append(m.fit(x, y[:, j]))
    return models


def time_per_frame(fn, n: int) -> float:
    """Milliseconds per call of ``fn(i)`` over i < n (after 20 warm-up calls)."""
    for i in range(min(20, n)):
        fn(i)
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t0) / n * 1000


def build_parser() -> argparse.ArgumentParser:
    """The CNN's training settings (also tools/train_lumbopelvic.py's, which trains with these defaults)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=Path, default=SHARD_DIR, help="shard folder (default data/corpus/)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--channels", type=int, nargs="+", default=[16, 32, 48, 64], help="conv widths (stride 2 each)")
    ap.add_argument("--hidden", type=int, default=96, help="width of the hidden dense layer")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--max-iter", type=int, default=300, help="trees of each GBM mean model")
    ap.add_argument("--smooth-s", type=float, default=0.2, help="centred moving average of the predictions (0: none)")
    ap.add_argument("--no-combo", action="store_true", help="skip the GBM + CNN-outputs combination (2 more CNN fits)")
    ap.add_argument("--save", type=Path, default=None, help="write the CNN's state dict here (not for git)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)

    tables = {"train": load_table("train", shard_dir=args.shards), "val": load_table("val", shard_dir=args.shards)}
    if (args.shards / "devset.npz").exists():
        tables["devset"] = load_table("devset", shards=["devset"], shard_dir=args.shards)
    data = {k: Inputs(t) for k, t in tables.items()}
    tr = data["train"]
    print(
        "; ".join(
            f"{k}: {len(t.clips)} clips, {len(t['frame'])} frames ({data[k].ok.sum()} read)" for k, t in tables.items()
        )
    )
    evals = [k for k in data if k != "train"]
    rows: dict[str, dict[str, dict[str, float]]] = {"hand-made": {k: hand_made_rmse(tables[k]) for k in evals}}
    ms: dict[str, str] = {"hand-made": "-"}
    train_frames = np.flatnonzero(tr.ok)

    # --- CNN
    net = CropNet(tr.scalars.shape[1], tuple(args.channels), args.hidden)
    n_params = sum(p.numel() for p in net.parameters())
    print(
        f"\nCNN {args.channels} + dense {args.hidden}: {n_params} parameters; "
        f"{args.epochs} epochs on {len(train_frames)} training frames"
    )
    net, norm = train_cnn(tr, train_frames, args)
    train_s = norm["seconds"]
    print(f"trained in {train_s:.0f} s")
    if args.save:
        torch.save({"state_dict": net.state_dict(), "mean": norm["mean"], "std": norm["std"]}, args.save)
    cnn_pred = {k: predict_cnn(net, norm, data[k], np.flatnonzero(data[k].ok)) for k in evals}
    rows["CNN (crop + standing crop + scalars)"] = {k: smoothed_rmse(data[k], cnn_pred[k], args) for k in evals}

    # --- inference cost and the numpy check
    npnet = NumpyCropNet(net, norm)
    ev = data["val"]
    idx = np.flatnonzero(ev.ok)[:300]
    img, sc = ev.batch(idx)
    with torch.inference_mode():
        ref = net(img, sc).numpy()
    diff = float(np.abs(npnet.raw(img.numpy(), sc.numpy()) - ref).max())
    print(f"numpy forward vs torch on {len(idx)} frames: max |diff| of the standardised outputs {diff:.2e}")
    assert diff < 1e-4, f"numpy forward differs from torch by {diff}"
    imgs = [img[i : i + 1] for i in range(len(idx))]
    scs = [sc[i : i + 1] for i in range(len(idx))]
    imgs_np = [a.numpy() for a in imgs]
    scs_np = [a.numpy() for a in scs]

    def torch_one(i: int) -> None:
        with torch.inference_mode():
            net(imgs[i], scs[i])

    ms_torch = time_per_frame(torch_one, len(idx))
    ms_numpy = time_per_frame(lambda i: npnet(imgs_np[i], scs_np[i]), len(idx))
    ms_prep = time_per_frame(lambda i: ev.batch(idx[i : i + 1]), len(idx))
    ms["CNN (crop + standing crop + scalars)"] = f"{ms_torch:.2f} torch / {ms_numpy:.2f} numpy"
    print(
        f"CNN per frame (1 thread, batch 1): torch {ms_torch:.3f} ms, numpy {ms_numpy:.3f} ms "
        f"(+ {ms_prep:.3f} ms stacking the input; not counted: warping the mask to the crop)"
    )

    # --- GBM refitted on the same frames
    x = {k: features(tables[k])[0] for k in data}
    t0 = time.time()
    gbm = fit_gbm(x["train"][tr.ok], tr.y[tr.ok], args.max_iter)
    print(
        f"\nGBM: {len(TARGETS)} mean models ({args.max_iter} trees, {x['train'].shape[1]} features) "
        f"in {time.time() - t0:.0f} s"
    )
    gbm_pred = {k: np.stack([m.predict(x[k][data[k].ok]) for m in gbm], 1) for k in evals}
    rows["GBM (train_lumbopelvic features)"] = {k: smoothed_rmse(data[k], gbm_pred[k], args) for k in evals}
    walks = [ensemble_of(m) for m in gbm]
    xv = x["val"][ev.ok][: len(idx)]
    ms_gbm = time_per_frame(lambda i: [w.predict(xv[i : i + 1]) for w in walks], len(xv))
    ms["GBM (train_lumbopelvic features)"] = f"{ms_gbm:.2f} numpy walk"
    print(f"GBM per frame (numpy tree walk, 3 targets, features given): {ms_gbm:.3f} ms")

    # --- GBM with the CNN's outputs as features (out-of-fold on the training bodies)
    if not args.no_combo:
        body = np.array([tr.table.clips[c]["body_id"] for c in tr.clip])
        bodies = np.array(sorted(set(body)))
        fold_of = dict(zip(bodies, np.random.default_rng(1).permutation(len(bodies)) % 2, strict=True))
        fold = np.array([fold_of[b] for b in body])
        oof = np.full((len(tr.ok), len(TARGETS)), np.nan, np.float32)
        for f in (0, 1):
            print(f"out-of-fold CNN {f + 1}/2")
            n_f, norm_f = train_cnn(tr, np.flatnonzero(tr.ok & (fold != f)), args, seed=1 + f)
            train_s += norm_f["seconds"]
            held = np.flatnonzero(tr.ok & (fold == f))
            oof[held] = predict_cnn(n_f, norm_f, tr, held)
        xc_tr = np.concatenate([x["train"], oof], 1)
        combo = fit_gbm(xc_tr[tr.ok], tr.y[tr.ok], args.max_iter)
        combo_pred = {}
        for k in evals:
            xc = np.concatenate([x[k][data[k].ok], cnn_pred[k]], 1)
            combo_pred[k] = np.stack([m.predict(xc) for m in combo], 1)
        rows["GBM + CNN outputs"] = {k: smoothed_rmse(data[k], combo_pred[k], args) for k in evals}
        ms["GBM + CNN outputs"] = f"{ms_gbm + ms_numpy:.2f} numpy (sum)"

    # --- table
    order = ("hip_flexion_deg", "pelvic_tilt_deg", "lumbar_flexion_deg")
    heads = [f"{k} {SHORT[tg]}" for k in evals for tg in order]
    print(f"\n°RMSE of the smoothed ({args.smooth_s:g} s) per-frame estimates; CNN training (all fits) {train_s:.0f} s")
    print(f"{'model':38s} " + " ".join(f"{h:>13s}" for h in heads) + "  ms/frame")
    for name, r in rows.items():
        vals = " ".join(f"{r[k][tg]:13.2f}" for k in evals for tg in order)
        print(f"{name:38s} {vals}  {ms[name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
