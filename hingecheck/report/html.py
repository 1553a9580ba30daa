"""report.html: one self-contained page per analysis (verdict, reps, faults that seek the video, plots, settings).

Self-contained means it opens from an e-mail attachment or a file share: plots are inline PNG data URIs, the
annotated video is an inline ``data:video/mp4`` source when it is small enough (else a relative link), and
nothing loads from the network. Jinja2 autoescaping is on, so file names, paths and messages are text,
never markup.
"""

from __future__ import annotations

import base64
import json
import math
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import jinja2

from hingecheck import __version__
from hingecheck.core.types import Fault, Rep
from hingecheck.io.sinks import atomic_open

if TYPE_CHECKING:  # the result is the data these stages read; they sit below it
    from hingecheck.result import AnalysisResult

REPORT_NAME = "report.html"
TEMPLATES = Path(__file__).with_name("templates")
MAX_INLINE_VIDEO_BYTES = 40 * 1024 * 1024  # base64 adds a third; beyond this the page gets slow to open

FAULT_TITLES = {
    "spinal_flexion_takeover": "Low back took over",
    "extension_from_low_back": "Came up with the low back",
    "lockout_hyperextension": "Leaned back at the top",
    "knee_dominant": "Turned into a squat",
}
# The order in which faults make the headline (the first is the one the tool exists to catch).
FAULT_PRIORITY = ("spinal_flexion_takeover", "extension_from_low_back", "knee_dominant", "lockout_hyperextension")

STATUS_TEXT = {
    "no_person": (
        "No person could be followed in this video",
        "Film from the side with the whole body in view (head to feet), in good light, one person in the picture.",
    ),
    "not_a_video": (
        "This file is not a video hingecheck can read",
        "Use a video file straight from the camera or phone (MP4, MOV, MKV, WebM, AVI …).",
    ),
    "corrupt": (
        "This video file is damaged",
        "The file could not be decoded. Copy it again from the camera or phone and retry.",
    ),
    "model_error": (
        "The pose model could not be loaded",
        "Check the --model path, or reinstall hingecheck to restore the bundled model.",
    ),
    "config_error": ("The settings file is not valid", "Fix the --config file (see hingecheck/core/defaults.toml)."),
}


@dataclass
class Verdict:
    """The report's headline: one sentence, a detail line, the cue and its tone (good / bad / neutral)."""

    headline: str
    detail: str
    cue: str | None
    tone: str  # good / bad / neutral


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and math.isfinite(x)


def fmt_deg(x: float | None) -> str:
    """Degrees for the report (no decimals), '—' when not measured."""
    return f"{x:.0f}°" if _finite(x) else "—"


def fmt_s(x: float | None, signed: bool = False) -> str:
    """Seconds for the report (two decimals, signed if asked), '—' when not measured."""
    if not _finite(x):
        return "—"
    return f"{x:+.2f} s" if signed else f"{x:.2f} s"


def fmt_share(x: float | None) -> str:
    """A share as a percentage, '—' when not measured."""
    return f"{x:.0%}" if _finite(x) else "—"


def fault_title(code: str) -> str:
    """A fault code's short title for people."""
    return FAULT_TITLES.get(code, code.replace("_", " ").capitalize())


def _hip_at_fault(rep: Rep, fault: Fault) -> float | None:
    if _finite(rep.hinge_capacity_deg):
        return rep.hinge_capacity_deg
    for key, value in fault.details.items():
        if "hip" in key and _finite(value):
            return value
    return None


def _fault_sentence(rep: Rep, fault: Fault) -> str:
    """The headline sentence for a fault, with its number when the rep has one."""
    if fault.code == "spinal_flexion_takeover":
        hip = _hip_at_fault(rep, fault)
        if hip is not None:
            return f"your low back took over at {hip:.0f}° of hip flexion"
        return "your low back took over from your hips"
    if fault.code == "extension_from_low_back":
        if _finite(rep.lumbar_lead_s) and rep.lumbar_lead_s > 0:
            return f"you came up with your low back first ({rep.lumbar_lead_s:.2f} s before the hips)"
        return "you came up with your low back first"
    if fault.code == "knee_dominant":
        if _finite(rep.peak_knee_flexion_deg):
            return f"the hinge turned into a squat (knees bent {rep.peak_knee_flexion_deg:.0f}°)"
        return "the hinge turned into a squat"
    if fault.code == "lockout_hyperextension":
        return "you leaned back past standing at the top"
    return fault.message or fault_title(fault.code)


def withheld_rows(result: AnalysisResult) -> list[tuple[str, str]]:
    """The verdicts this video could not support, as (plain fault title, reason), in the report's fault order."""
    order = {code: k for k, code in enumerate(FAULT_PRIORITY)}
    codes = sorted(result.verdicts_withheld, key=lambda c: order.get(c, len(order)))
    return [(fault_title(c), result.verdicts_withheld[c]) for c in codes]


def lumbar_measurable(result: AnalysisResult) -> bool:
    """Whether the low back was measured in any frame of the result."""
    a = result.angles
    return a is not None and bool(any(math.isfinite(float(v)) for v in a.lumbar_flexion_deg))


def verdict(result: AnalysisResult) -> Verdict:
    """The one-line answer at the top of the page."""
    if not result.ok:
        title, advice = STATUS_TEXT.get(result.status, ("This video could not be analysed", ""))
        return Verdict(title, result.message, advice or None, "bad")
    complete = [r for r in result.reps if not r.partial]
    if not result.reps:
        return Verdict(
            "No hinge reps were found",
            "The person was followed, but no rep moved far enough from standing to count.",
            "Stand still side-on for a second, then hinge down until your trunk is well forward, and come back up.",
            "neutral",
        )
    faulty = [(rep, f) for rep in result.reps for f in rep.faults]
    n_faulty = len({rep.index for rep, _ in faulty})
    count = f"{len(complete)} rep{'s' if len(complete) != 1 else ''}"
    if not faulty:
        lumbar_codes = ("spinal_flexion_takeover", "extension_from_low_back")
        lumbar_withheld = [c for c in lumbar_codes if c in result.verdicts_withheld]
        if lumbar_withheld:
            reason = result.verdicts_withheld[lumbar_withheld[0]]
            return Verdict(
                f"{count}; whether they came from the hips or the low back was not judged",
                f"This video cannot support a low-back verdict ({reason}), so none is given rather than a guess.",
                None,
                "neutral",
            )
        if not lumbar_measurable(result):
            hips = [r.peak_hip_flexion_deg for r in complete if _finite(r.peak_hip_flexion_deg)]
            reach = f", hip flexion up to {max(hips):.0f}°" if hips else ""
            return Verdict(
                f"{count}{reach}; the low back could not be measured",
                "Without the low back's angle the hip/low-back split cannot be judged for this clip.",
                None,
                "neutral",
            )
        return Verdict(
            f"All {count} came from the hips",
            "The low back stayed within tolerance on the way down and up.",
            None,
            "good",
        )
    rank = {code: k for k, code in enumerate(FAULT_PRIORITY)}
    rep, fault = min(faulty, key=lambda rf: (rank.get(rf[1].code, len(rank)), rf[1].time_s))
    return Verdict(
        f"Rep {rep.index} — {_fault_sentence(rep, fault)}",
        f"{n_faulty} of {len(result.reps)} reps had a fault. {fault.message}".strip(),
        fault.cue or None,
        "bad",
    )


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _rep_rows(result: AnalysisResult) -> list[dict[str, Any]]:
    rows = []
    for rep in result.reps:
        phases = (rep.descent_s, rep.hold_s, rep.return_s)
        tempo = (
            " / ".join(f"{x:.1f}" if _finite(x) else "?" for x in phases) + " s" if any(map(_finite, phases)) else ""
        )
        rows.append(
            {
                "index": rep.index,
                "partial": rep.partial,
                "start_s": rep.start_s,
                "span": f"{rep.start_s:.1f}–{rep.end_s:.1f} s" if _finite(rep.end_s) else f"{rep.start_s:.1f} s –",
                "peak_hip": fmt_deg(rep.peak_hip_flexion_deg),
                "peak_lumbar": fmt_deg(rep.peak_lumbar_flexion_deg),
                "lumbar_share": fmt_share(rep.lumbar_share),
                "hinge_capacity": fmt_deg(rep.hinge_capacity_deg),
                "lumbar_lead": fmt_s(rep.lumbar_lead_s, signed=True),
                "tempo": tempo or "—",
                "faults": [
                    {
                        "code": f.code,
                        "title": fault_title(f.code),
                        "time_s": f.time_s,
                        "time": f"{f.time_s:.1f} s",
                        "message": f.message,
                        "cue": f.cue,
                    }
                    for f in rep.faults
                ],
            }
        )
    return rows


def _versions() -> dict[str, str]:
    import av
    import matplotlib
    import mediapipe
    import numpy

    versions = {"hingecheck": __version__, "python": platform.python_version(), "numpy": numpy.__version__}
    versions["mediapipe"] = getattr(mediapipe, "__version__", "?")
    versions.update({"PyAV": av.__version__, "matplotlib": matplotlib.__version__, "Jinja2": jinja2.__version__})
    return versions


def _settings_rows(result: AnalysisResult) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    v = result.video
    if v is not None:
        rows += [
            ("Video", f"{Path(v.path).name} — {v.width}×{v.height}, {v.fps:.2f} fps, {v.duration_s:.1f} s, {v.codec}"),
            ("Rotation applied", f"{v.rotation_deg}°"),
        ]
        if v.creation_time:
            rows.append(("Recorded", v.creation_time))
        if result.picture_area:
            a = result.picture_area
            rows.append(("Black bars", f"cropped: the pose was found in x {a['x0']}–{a['x1']}, y {a['y0']}–{a['y1']}"))
        if result.zoom_area:
            a = result.zoom_area
            rows.append(
                (
                    "Small in the picture",
                    f"the pose was found in a crop around you: x {a['x0']}–{a['x1']}, y {a['y0']}–{a['y1']}",
                )
            )
    if len(result.shots) > 1:
        shots = [s for s in result.shots if s.get("start_s") is not None]
        spans = ", ".join(f"{s['start_s']:.1f}–{s['end_s']:.1f} s" for s in shots)
        rows.append(("Shots (cuts)", f"{len(result.shots)}, each analysed on its own: {spans}"))
    if result.n_frames:
        rows.append(("Frames analysed", f"{result.n_frames} (person found in {result.detection_rate:.0%})"))
    if result.facing:
        rows.append(("Facing", result.facing))
    cal = result.calibration or {}
    if cal:
        if cal.get("found") and cal.get("start_s") is not None:
            if not cal.get("automatic"):
                how = "given with --calibration"
            elif cal.get("source") == "lockouts":
                how = f"from the tops of {cal.get('n_lockouts', 0)} reps (no still stand before the first rep)"
            else:
                how = "still standing, found automatically"
            rows.append(("Standing reference", f"{cal['start_s']:.2f}–{cal['end_s']:.2f} s, {how}"))
        else:
            rows.append(("Standing reference", "not found"))
    if result.exercise:
        how = "detected: " + str(result.exercise.get("reason", "")) if result.exercise.get("detected") else "given"
        rows.append(("Exercise", f"{result.exercise.get('name', '?')} ({how})"))
    if result.back_range:
        r = result.back_range
        rows.append(
            (
                "Own range (range test)",
                f"lumbar flexion {r.get('lumbar_flexion_deg')}°, whole back {r.get('spine_flexion_deg')}°: "
                "takeovers judged as a share of it",
            )
        )
    if result.settings_hash:  # a run that failed before loading its settings has none
        rows.append(("Settings", f"{result.config_source} (hash {result.settings_hash})"))
    if result.model:
        state = "checksum verified" if result.model.get("verified") else "checksum not verified"
        rows.append(("Pose model", f"{result.model.get('name', '?')} ({state})"))
        rows.append(("Model sha256", str(result.model.get("sha256", "?"))))
    rows.append(("Versions", ", ".join(f"{k} {val}" for k, val in _versions().items())))
    if result.timings_s:
        rows.append(("Timings", ", ".join(f"{k} {val:.1f} s" for k, val in result.timings_s.items())))
    return rows


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from the user (file names, paths, messages) is text, not markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _video_entry(result: AnalysisResult, out_dir: Path) -> dict[str, Any] | None:
    """annotated.mp4 for the page: inline (data URI) when small, else linked; None without one."""
    video = None
    video_name = result.outputs.get("annotated_video")  # absent with --no-video: a stale file is not shown
    if video_name and (out_dir / video_name).is_file():
        size = (out_dir / video_name).stat().st_size
        video = {
            "name": video_name,
            "src": _data_uri(out_dir / video_name, "video/mp4") if size <= MAX_INLINE_VIDEO_BYTES else video_name,
            "inline": size <= MAX_INLINE_VIDEO_BYTES,
            "size_mb": size / 1e6,
        }
    return video


def _plot_entries(result: AnalysisResult, out_dir: Path) -> list[dict[str, str]]:
    """The plots, embedded as data URIs, with titles and alt texts."""
    plots = []
    for key, title, alt in (
        (
            "plot_angles",
            "Angles over time",
            "Hip, lumbar, pelvic tilt, trunk and knee angles over time, reps shaded, faults as red dashed lines.",
        ),
        (
            "plot_rhythm",
            "Hip vs low back, rep by rep",
            "Lumbar flexion against hip flexion for each rep; solid on the way down, dashed on the way up.",
        ),
    ):
        name = result.outputs.get(key)
        if key == "plot_rhythm" and not result.reps:
            continue  # its file only says "no reps"; the page says that already
        if name and (out_dir / name).is_file():
            plots.append({"title": title, "alt": alt, "src": _data_uri(out_dir / name, "image/png"), "file": name})
    return plots


def report_context(result: AnalysisResult, out_dir: Path) -> dict[str, Any]:
    """Everything the template shows, already formatted (the template only lays it out)."""
    out_dir = Path(out_dir)
    file_name = Path(result.video.path).name if result.video is not None else None
    video = _video_entry(result, out_dir)
    plots = _plot_entries(result, out_dir)
    files = [
        (label, result.outputs[key])
        for key, label in (
            ("annotated_video", "annotated video"),
            ("frames", "per-frame angles (CSV)"),
            ("reps", "per-rep measures (CSV)"),
        )
        if key in result.outputs
    ]
    files.append(("summary (JSON)", "summary.json"))  # written last by report.outputs.write_outputs, always
    return {
        "result": result,
        "file_name": file_name,
        "verdict": verdict(result),
        "ok": result.ok,
        "status": result.status,
        "message": result.message,
        "lumbar_measurable": lumbar_measurable(result),
        "reps": _rep_rows(result),
        "video": video,
        "plots": plots,
        "warnings": [w.to_dict() for w in result.warnings],
        "withheld": withheld_rows(result),
        "settings_rows": _settings_rows(result),
        "settings_json": json.dumps(result.settings, indent=2, sort_keys=True, default=str) if result.settings else "",
        "files": files,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_report(result: AnalysisResult, out_dir: Path) -> str:
    """report.html for a result as a string (plots embedded from ``out_dir``)."""
    return _environment().get_template("report.html.j2").render(**report_context(result, out_dir))


def write_report(result: AnalysisResult, out_dir: Path) -> Path:
    """Write OUTDIR/report.html (atomically) and return its path."""
    path = Path(out_dir) / REPORT_NAME
    html = render_report(result, Path(out_dir))
    with atomic_open(path, encoding="utf-8") as fh:
        fh.write(html)
    return path
