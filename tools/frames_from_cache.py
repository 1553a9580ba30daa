"""Write frames.csv for clips from cached MediaPipe results, with the real kinematics/filter code.

    python tools/frames_from_cache.py POSE_CACHE_DIR OUT_DIR [CLIP ...]   # OUT_DIR/<clip>/frames.csv

For iterating on kinematics and faults without re-running MediaPipe; `bench/faults.py --frames-dir OUT_DIR`
then scores reps and faults on the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hingecheck.core.kinematics import SagittalMeasurer
from hingecheck.core.movement import analyse_reps
from hingecheck.io.config import load_settings
from hingecheck.io.pose_cache import iter_pose_cache
from hingecheck.io.sinks import write_frames_csv
from hingecheck.pipeline import Measured, angles_from
from hingecheck.result import AnalysisResult


def main() -> None:
    cache, out = Path(sys.argv[1]), Path(sys.argv[2])
    names = sys.argv[3:] or sorted(p.stem for p in cache.glob("*.npz"))
    settings = load_settings()
    for name in names:
        measurer = SagittalMeasurer()
        poses, measurements = [], []
        for pose in iter_pose_cache(cache / f"{name}.npz"):
            measurements.append(measurer.measure(pose))
            poses.append(pose.without_mask())
        measured = Measured(poses, measurements, [128.0] * len(poses), [])
        _, series = angles_from(measured, settings, None)
        result = AnalysisResult(video=None, status="ok", message="", angles=series, poses=poses)
        result.reps = analyse_reps(series, settings)
        write_frames_csv(result, out / name / "frames.csv")
        print(name, len(result.reps), "reps", [r.fault_codes for r in result.reps], flush=True)


if __name__ == "__main__":
    main()
