"""AnalysisResult: everything one analysis produced, handed to the sinks (files, report, store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .types import AngleSeries, PoseFrame, Rep, VideoInfo, Warning_


@dataclass
class AnalysisResult:
    video: VideoInfo | None
    status: str  # ok / no_person / not_a_video / corrupt / error / model_error / config_error
    message: str  # one line; empty when ok
    warnings: list[Warning_] = field(default_factory=list)
    angles: AngleSeries | None = None  # filtered, relative to standing; one entry per decoded frame
    poses: list[PoseFrame] = field(default_factory=list)  # without masks
    dorsal_contours: list[np.ndarray | None] = field(default_factory=list)  # per frame, pixels
    reps: list[Rep] = field(default_factory=list)
    facing: str | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    settings_hash: str = ""
    config_source: str = "defaults"
    model: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # name → file name inside OUTDIR

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def n_frames(self) -> int:
        return 0 if self.angles is None else len(self.angles)

    @property
    def detection_rate(self) -> float:
        if self.angles is None or len(self.angles) == 0:
            return 0.0
        return float(np.mean(self.angles.detected))
