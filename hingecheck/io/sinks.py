"""File sinks of an analysis: frames.csv, reps.csv, summary.json (the output contract, docs/DESIGN.md §5).

Every file is written to a temporary name and renamed into place, so a killed run never leaves a
half-written file that looks complete.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from hingecheck import __version__
from hingecheck.core.errors import OutputError
from hingecheck.core.types import FrameAngles, Rep, record_columns

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult

# Both follow the record declarations in core/types.py: a field added there is a column here.
FRAME_COLUMNS = ("frame", *record_columns(FrameAngles)[1:], "rep", "phase")
REP_COLUMNS = (*record_columns(Rep), "faults")


@contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` and rename it over ``path`` only when writing succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def writable_dir(path: Path, what: str = "output folder") -> Path:
    """``path`` as a folder that exists and can be written, or an OutputError saying why not in one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(f"{path}: is a file, not a folder (wanted as the {what})") from exc
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the {what} ({exc.strerror or exc})") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: the {what} is not writable")
    return path


def temporary_path(path: Path) -> Path:
    """A hidden sibling name for writers that need a file name (video encoders): rename when done."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def _cell(value: object, digits: int | None) -> str:
    """A CSV cell: numbers with their declared decimals, booleans as 0/1, nothing for unmeasured."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else (f"{value:.{digits}f}" if digits is not None else repr(float(value)))
    return str(value.item() if isinstance(value, np.generic) else value)


def rep_phase_per_frame(result: AnalysisResult) -> tuple[list[int], list[str]]:
    """Rep number (0 outside reps) and phase (stand/descent/bottom/return) for every frame."""
    n = result.n_frames
    rep_no, phase = [0] * n, ["stand"] * n
    if result.angles is None:
        return rep_no, phase
    for rep in result.reps:
        last = rep.end_frame if rep.end_frame is not None else n - 1
        ret = rep.return_start_s
        for i in range(rep.start_frame, min(last, n - 1) + 1):
            t = result.angles.time_s[i]
            rep_no[i] = rep.index
            if i < rep.bottom_frame:
                phase[i] = "descent"
            elif ret is None or t <= ret:
                phase[i] = "bottom"
            else:
                phase[i] = "return"
    return rep_no, phase


def write_frames_csv(result: AnalysisResult, path: Path) -> None:
    """frames.csv: one row per decoded frame, FrameAngles' fields (confidence empty without a person)."""
    a = result.angles
    rep_no, phase = rep_phase_per_frame(result)
    specs = fields(FrameAngles)
    with atomic_open(path, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FRAME_COLUMNS)
        if a is None:
            return
        columns = [getattr(a, f.name) for f in specs]
        for i in range(len(a)):
            cells = [_cell(col[i], f.metadata["digits"]) for f, col in zip(specs, columns, strict=True)]
            if not a.detected[i]:
                cells[-1] = ""  # no confidence without a person
            w.writerow([*cells, rep_no[i], phase[i]])


def write_reps_csv(result: AnalysisResult, path: Path) -> None:
    """reps.csv: one row per rep, the fault codes joined by ';' (written atomically)."""
    with atomic_open(path, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REP_COLUMNS)
        for rep in result.reps:
            d = rep.to_dict()
            w.writerow([*("" if d[c] is None else d[c] for c in REP_COLUMNS[:-1]), ";".join(rep.fault_codes)])


def summary_dict(result: AnalysisResult) -> dict[str, Any]:
    """summary.json's content for a result (status, warnings, reps, settings, model, versions, …)."""
    import mediapipe  # noqa: PLC0415  (only for its version string)

    video = result.video
    complete = [r for r in result.reps if not r.partial]
    faulty = [r for r in complete if r.faults]
    return {
        "status": result.status,
        "message": result.message,
        "warnings": [w.to_dict() for w in result.warnings],
        # fault code → why the clip could not support it (its faults are left out of "reps"; reps still counted)
        "verdicts_withheld": dict(result.verdicts_withheld),
        "reps": [r.to_dict() for r in result.reps],
        "n_reps": len(complete),
        "n_partial_reps": len(result.reps) - len(complete),
        "n_reps_with_faults": len(faulty),
        "fault_counts": _fault_counts(result),
        "tempo": _tempo(result),
        "video": None
        if video is None
        else {
            "path": video.path,
            "file": Path(video.path).name,
            "width": video.width,
            "height": video.height,
            "fps": round(video.fps, 3),
            "duration_s": round(video.duration_s, 3),
            "codec": video.codec,
            "rotation_deg": video.rotation_deg,
            "creation_time": video.creation_time,
            # black pillar/letter-box bars: the pose was found on this part of the frame (pixels; null: none)
            "picture_area": result.picture_area,
            # a person small in the picture and often missed: the pose was found in this crop around them (null: not)
            "zoom_area": result.zoom_area,
        },
        "shots": result.shots,
        "frames": result.n_frames,
        "detection_rate": round(result.detection_rate, 4),
        "facing": result.facing,
        "calibration": result.calibration,
        "exercise": result.exercise,
        "back_range": result.back_range,  # null: the population tolerances were used
        "model": result.model,
        "settings_hash": result.settings_hash,
        "config_source": result.config_source,
        "versions": {
            "hingecheck": __version__,
            "mediapipe": getattr(mediapipe, "__version__", "?"),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "outputs": result.outputs,
    }


def _fault_counts(result: AnalysisResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rep in result.reps:
        for code in rep.fault_codes:
            counts[code] = counts.get(code, 0) + 1
    return counts


def _tempo(result: AnalysisResult) -> dict[str, float | None]:
    def mean(values: list[float | None]) -> float | None:
        vals = [v for v in values if v is not None]
        return round(float(np.mean(vals)), 3) if vals else None

    reps = [r for r in result.reps if not r.partial]
    return {
        "mean_descent_s": mean([r.descent_s for r in reps]),
        "mean_hold_s": mean([r.hold_s for r in reps]),
        "mean_return_s": mean([r.return_s for r in reps]),
    }


def write_summary_json(result: AnalysisResult, path: Path) -> dict[str, Any]:
    """Write summary.json (strict JSON, atomically) and return what was written."""
    summary = summary_dict(result)
    with atomic_open(path) as fh:
        json.dump(summary, fh, indent=2, allow_nan=False, default=_json_default)
        fh.write("\n")
    return summary


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
