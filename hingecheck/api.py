"""The Python API: ``hingecheck.analyze(path)`` returns an ``AnalysisResult``; ``result.save(outdir)``.

>>> import hingecheck
>>> result = hingecheck.analyze("samples/hinge_lowback.mp4", write_video=False)
>>> result.status
'ok'
>>> [rep.index for rep in result.reps]
[1, 2, 3]
>>> [sorted(fault.code for fault in rep.faults) for rep in result.reps]
[['extension_from_low_back'], ['spinal_flexion_takeover'], ['extension_from_low_back', 'spinal_flexion_takeover']]
>>> abs(float(result.frames.hip_flexion_deg[0])) < 5.0  # angles are relative to standing
True
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from hingecheck.core.errors import HingecheckError, OutputError
from hingecheck.io.sinks import writable_dir
from hingecheck.pipeline import AnalyzeOptions, ProgressCallback, error_result
from hingecheck.pipeline import analyze as run_pipeline
from hingecheck.result import AnalysisResult

_OPTION_NAMES = tuple(f.name for f in dataclasses.fields(AnalyzeOptions) if f.name != "config_path")


def analyze(
    path: str | os.PathLike[str],
    *,
    config: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    **options: Any,
) -> AnalysisResult:
    """Analyse one video and return its result; never raises for bad input.

    ``config`` is a TOML file overriding any default (see ``hingecheck/core/defaults.toml``). ``options`` are
    those of ``hingecheck analyze``: ``model_path``, ``calibration_s`` (start, end) in seconds,
    ``write_video`` (for ``save``), ``blur_faces``, ``num_poses``, ``max_width``. A video that cannot be
    analysed gives a result whose ``status`` says why (``not_a_video``, ``no_person``, ``config_error``, …)
    and whose ``message`` is one plain line.

    >>> r = analyze("no/such/file.mp4")
    >>> r.status, r.message, r.reps
    ('error', 'no/such/file.mp4: file not found', [])
    """
    unknown = sorted(set(options) - set(_OPTION_NAMES))
    if unknown:
        raise TypeError(f"analyze() got unknown option(s) {', '.join(unknown)}; known: {', '.join(_OPTION_NAMES)}")
    analyze_options = AnalyzeOptions(config_path=None if config is None else str(config), **options)
    return _analyze(Path(path), analyze_options, progress)


def _analyze(path: Path, options: AnalyzeOptions, progress: ProgressCallback | None) -> AnalysisResult:
    try:
        return run_pipeline(path, options, progress=progress)
    except HingecheckError as exc:
        return error_result(path, exc, options)


def analyze_to_dir(
    video_path: str | Path,
    out_dir: str | Path,
    options: AnalyzeOptions | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Analyse a video and write every output into ``out_dir``; never raises for bad input.

    summary.json always carries the honest status, so batch work continues past a bad file. Used by
    ``hingecheck analyze``, ``batch`` and the portal's workers.
    """
    out = writable_dir(Path(out_dir))  # before the work: an unwritable folder must not cost a whole analysis
    result = _analyze(Path(video_path), options or AnalyzeOptions(), progress)
    try:
        result.save(out)
    except OSError as exc:  # e.g. the disk filled up while writing
        raise OutputError(f"{out}: cannot write the outputs ({exc.strerror or exc})") from exc
    return result
