"""AnalysisResult: everything one analysis produced, handed to the sinks (files, report, store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hingecheck.core.types import AngleSeries, PoseFrame, Rep, VideoInfo, Warning_


@dataclass(frozen=True)
class OutputOptions:
    """How the outputs of a result are written (the video-related switches of ``analyze``)."""

    write_video: bool = True  # annotated.mp4 (a second decoding pass of the source)
    blur_faces: bool = False
    max_width: int | None = 1280  # the analysed frame size: the overlay is drawn at this size


@dataclass
class AnalysisResult:
    """Everything one analysis produced.

    ``reps`` (each with ``faults``), ``frames`` (per-frame angles relative to standing), ``warnings`` and
    ``status`` (``ok``, ``no_person``, ``not_a_video``, …) are the public face; ``save(outdir)`` writes exactly
    what ``hingecheck analyze`` writes.
    """

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
    exercise: dict[str, Any] = field(default_factory=dict)  # name, detected (or given), reason
    back_range: dict[str, Any] | None = None  # the person's own range the takeovers were judged against, if any
    source_path: str = ""  # the analysed file ("" for a live session without a recording)
    output_options: OutputOptions = field(default_factory=OutputOptions)
    # fault code → plain reason, for verdicts the clip could not support (core/quality.py); their faults are
    # not in ``reps`` (the reps themselves are)
    verdicts_withheld: dict[str, str] = field(default_factory=dict)
    shots: list[dict[str, Any]] = field(default_factory=list)  # per shot of an edited clip (one when uncut)
    picture_area: dict[str, int] | None = None  # the picture inside black bars, when there were bars
    zoom_area: dict[str, int] | None = None  # the crop around a small person the pose was found in, when used

    @property
    def frames(self) -> AngleSeries | None:
        """Per-frame angles (degrees, relative to standing; NaN where not measured), column-wise."""
        return self.angles

    def save(self, outdir: str | Path) -> Path:
        """Write frames.csv, reps.csv, summary.json, plots, report.html (and annotated.mp4) into ``outdir``."""
        from hingecheck.report.outputs import write_outputs

        out = Path(outdir)
        write_outputs(self, self.source_path, out, self.output_options)
        return out

    @property
    def ok(self) -> bool:
        """Whether the analysis succeeded (``status == 'ok'``)."""
        return self.status == "ok"

    @property
    def n_frames(self) -> int:
        """Number of decoded frames."""
        return 0 if self.angles is None else len(self.angles)

    @property
    def detection_rate(self) -> float:
        """Share of frames in which the person was found."""
        if self.angles is None or len(self.angles) == 0:
            return 0.0
        return float(np.mean(self.angles.detected))
