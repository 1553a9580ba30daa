"""The offline pipeline behind ``hingecheck analyze``: source → pose → kinematics → filter → movement → sinks.

``measure`` runs the per-frame pass (video, pose, measurements, the quality numbers), ``shots`` calibrates and
tracks reps per shot and decides what each shot supports, ``run`` puts them together (``analyze``).
"""

from hingecheck.pipeline.measure import (
    AnalyzeOptions,
    Measured,
    ProgressCallback,
    angles_from,
    capture_warnings,
    measure_video,
    too_little_person,
)
from hingecheck.pipeline.run import analyze, error_result
from hingecheck.pipeline.shots import Shot, analyse_shots, apply_quality, join_series

__all__ = [
    "AnalyzeOptions",
    "Measured",
    "ProgressCallback",
    "Shot",
    "analyse_shots",
    "analyze",
    "angles_from",
    "apply_quality",
    "capture_warnings",
    "error_result",
    "join_series",
    "measure_video",
    "too_little_person",
]
