"""Cache MediaPipe results (landmarks + quantised masks) of clips, so kinematics work can iterate fast.

    python tools/pose_cache.py OUT_DIR VIDEO [VIDEO ...]      # writes OUT_DIR/<stem>.npz

``load(path)`` gives the list of PoseFrame back (masks de-quantised to float32).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hingecheck.config import load_settings
from hingecheck.pose import PoseEstimator
from hingecheck.types import PoseFrame
from hingecheck.video import VideoReader


def build(video: Path, out: Path, num_poses: int | None = None) -> None:
    """Cache one clip; num_poses defaults to analyze's (``[pose] num_poses``)."""
    if num_poses is None:
        num_poses = int(load_settings().section("pose").get("num_poses", 1))
    frames: list[PoseFrame] = []
    with VideoReader(video) as reader, PoseEstimator(num_poses=num_poses) as estimator:
        for frame in reader:
            frames.append(estimator.process(frame))
    n = len(frames)
    h, w = frames[0].height, frames[0].width
    px = np.full((n, 33, 2), np.nan)
    norm = np.full((n, 33, 3), np.nan)
    vis = np.zeros((n, 33))
    pres = np.zeros((n, 33))
    world = np.full((n, 33, 3), np.nan)
    masks = np.zeros((n, h, w), np.uint8)
    for i, f in enumerate(frames):
        if f.detected:
            px[i], norm[i], vis[i], pres[i] = f.landmarks_px, f.landmarks_norm, f.visibility, f.presence
            if f.world is not None:
                world[i] = f.world
            if f.mask is not None:
                masks[i] = np.clip(np.round(f.mask * 255), 0, 255).astype(np.uint8)
    np.savez_compressed(
        out, index=np.array([f.index for f in frames]), time_s=np.array([f.time_s for f in frames]),
        detected=np.array([f.detected for f in frames]), n_people=np.array([f.n_people for f in frames]),
        landmarks_px=px, landmarks_norm=norm, visibility=vis, presence=pres, world=world, masks=masks,
        width=w, height=h,
    )


def load(path: Path) -> list[PoseFrame]:
    d = dict(np.load(path))  # read each array once: NpzFile re-decompresses on every access
    w, h = int(d["width"]), int(d["height"])
    out = []
    for i in range(len(d["index"])):
        det = bool(d["detected"][i])
        out.append(PoseFrame(
            index=int(d["index"][i]), time_s=float(d["time_s"][i]), width=w, height=h, detected=det,
            landmarks_px=d["landmarks_px"][i] if det else None, landmarks_norm=d["landmarks_norm"][i] if det else None,
            visibility=d["visibility"][i] if det else None, presence=d["presence"][i] if det else None,
            world=d["world"][i] if det else None,
            mask=(d["masks"][i].astype(np.float32) / 255.0) if det else None, n_people=int(d["n_people"][i]),
        ))
    return out


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for v in sys.argv[2:]:
        target = out_dir / (Path(v).stem + ".npz")
        if not target.exists():
            build(Path(v), target)
            print("cached", target, flush=True)
