"""Cache MediaPipe results (landmarks + quantised masks) of clips, so kinematics work can iterate fast.

    python tools/pose_cache.py OUT_DIR VIDEO [VIDEO ...]      # writes OUT_DIR/<stem>.npz (skips existing ones)

Runs MediaPipe with analyze's pose configuration (``[pose] num_poses``); the file format and the reader are
``hingecheck.io.pose_cache`` (``iter_pose_cache(path)`` gives the PoseFrames back).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hingecheck.io.pose import PoseEstimator, configured_num_poses
from hingecheck.io.pose_cache import save_pose_cache
from hingecheck.io.video import VideoReader


def build(video: Path, out: Path, num_poses: int | None = None) -> None:
    """Cache one clip; num_poses defaults to analyze's."""
    with VideoReader(video) as reader, PoseEstimator(num_poses=num_poses or configured_num_poses()) as estimator:
        save_pose_cache(out, [estimator.process(frame) for frame in reader])


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for v in sys.argv[2:]:
        target = out_dir / (Path(v).stem + ".npz")
        if not target.exists():
            build(Path(v), target)
            print("cached", target, flush=True)
