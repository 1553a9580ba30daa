"""Right verdicts on real footage: run ``hingecheck analyze`` on labelled real clips and score each verdict.

    python bench/real.py CLIPDIR                          # every clip of the labels CSV found in CLIPDIR
    python bench/real.py CLIPDIR --labels my_clips.csv    # another CSV in the same format
    python bench/real.py CLIPDIR --outputs OUT --jobs 2   # keep OUT/<clip>/ (summary.json, frames.csv, ...)
    python bench/real.py CLIPDIR --outputs OUT --reuse    # re-use OUT/<clip>/summary.json where it exists
    python bench/real.py CLIPDIR --config my.toml --exercise auto --only 'idds_*'  --json scores.json

The labels CSV (default: ``../shared/real-footage/clips.csv`` beside the repository, see its README) has one
row per clip: ``clip, exercise, start, view, label, reps_min, reps_max`` (and provenance columns). The clips
themselves carry no licence: they are read from CLIPDIR and never copied into the repository.

Each clip goes through the command line as a subprocess (``python -m hingecheck.cli analyze CLIP -o
OUT/<clip> --no-video``), so the bench does not depend on the package's internal layout; it then reads
``OUT/<clip>/summary.json``. A clip that cannot be analysed gives a row with its one-line error.

The rule (the README of the real footage; :func:`verdict`): the reps counted (complete + partial) lie within
``reps_min..reps_max``; on a ``good`` clip no fault on more than 10 % of the reps (none at all on 1–3 reps);
on ``rounded`` ``spinal_flexion_takeover`` on ≥ 80 % of the reps; on ``squat`` ``knee_dominant`` on ≥ 80 %;
on an ``oblique45`` view a ``not_side_on`` warning and no lumbar verdict (no ``spinal_flexion_takeover`` /
``extension_from_low_back``) instead of the label's fault rule (a ``good`` oblique clip still must not be
flagged otherwise). ``hip_first``, ``mixed``, ``bad_unspecified`` and ``unknown`` clips are judged on the rep
count alone. Fault codes in the table: T takeover, E extension from the low back, L lockout lean, K knee
dominant (other codes by their initials); ``·`` is a rep without fault. A status other than ``ok`` counts as
not analysed (wrong). The exercise column adds the detected exercise when summary.json reports one.

Summary line: verdicts right; good clips left unflagged (good clips with ≥ 1 rep found and within the 10 %
limit); faulty clips caught (side-view ``rounded`` → takeover, ``squat`` → knee_dominant, on ≥ 80 % of reps);
clips with the reps in range; oblique45 clips warned with no lumbar verdict; clips analysed (status ok).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "real-footage" / "clips.csv"

TAKEOVER = "spinal_flexion_takeover"
LOW_BACK_RETURN = "extension_from_low_back"
LOCKOUT = "lockout_hyperextension"
KNEE = "knee_dominant"
LUMBAR_CODES = frozenset({TAKEOVER, LOW_BACK_RETURN})  # verdicts that need the back's outline
SHORT = {TAKEOVER: "T", LOW_BACK_RETURN: "E", LOCKOUT: "L", KNEE: "K"}
CAUGHT_BY = {"rounded": TAKEOVER, "squat": KNEE}  # label → the fault code that must be on ≥ 80 % of reps
CAUGHT_SHARE = 0.8
GOOD_MAX_SHARE = 0.10
GOOD_FEW_REPS = 3  # on 1–3 reps a good clip must have no fault at all
NOT_SIDE_ON = "not_side_on"


@dataclass(frozen=True)
class ClipLabel:
    clip: str
    exercise: str
    start: str
    view: str
    label: str
    reps_min: int
    reps_max: int


@dataclass
class Verdict:
    right: bool
    reps_in_range: bool
    unflagged: bool | None = None  # good clips: fault share within the limit
    caught: bool | None = None  # rounded/squat side-view clips: the label's fault on ≥ 80 % of reps
    oblique_ok: bool | None = None  # oblique45 clips: not_side_on warned and no lumbar verdict
    why: str = ""


@dataclass
class ClipRow:
    label: ClipLabel
    status: str
    message: str = ""
    reps: list[list[str]] = field(default_factory=list)  # fault codes per rep (complete and partial)
    n_partial: int = 0
    warnings: list[str] = field(default_factory=list)
    exercise_found: str = ""  # the exercise summary.json reports (when the analysis detects one)
    verdict: Verdict | None = None
    out_dir: str = ""


def read_labels(path: Path) -> list[ClipLabel]:
    """The clips CSV (README of ../shared/real-footage) as ClipLabels."""
    with open(path, newline="") as fh:
        return [
            ClipLabel(
                r["clip"],
                r.get("exercise", ""),
                r.get("start", ""),
                r.get("view", "side"),
                r.get("label", "unknown"),
                int(r["reps_min"]),
                int(r["reps_max"]),
            )
            for r in csv.DictReader(fh)
        ]


def rep_fault_codes(summary: dict[str, Any]) -> list[list[str]]:
    """Fault codes of every rep in a summary.json dict (partial reps included, codes once each, in order)."""
    out = []
    for rep in summary.get("reps") or []:
        codes: list[str] = []
        for fault in rep.get("faults") or []:
            code = fault.get("code") if isinstance(fault, dict) else str(fault)
            if code and code not in codes:
                codes.append(code)
        out.append(codes)
    return out


def detected_exercise(summary: dict[str, Any]) -> str:
    """The exercise an analysis reports, if any: summary.json's ``exercise`` (ExerciseChoice: ``name``, whether it
    was ``detected`` rather than given, and why), or a plain name."""
    ex = summary.get("exercise")
    if isinstance(ex, dict):
        ex = ex.get("name")
    return str(ex) if ex else ""


def warning_codes(summary: dict[str, Any]) -> list[str]:
    return [w.get("code", "?") if isinstance(w, dict) else str(w) for w in summary.get("warnings") or []]


def share_with(reps: Sequence[Sequence[str]], codes: Iterable[str] | None = None) -> float:
    """Share of reps carrying any of ``codes`` (any fault when None); 0 when there are no reps."""
    wanted = None if codes is None else set(codes)
    if not reps:
        return 0.0
    hit = sum(bool(r) if wanted is None else bool(wanted & set(r)) for r in reps)
    return hit / len(reps)


def verdict(
    label: str,
    view: str,
    reps_min: int,
    reps_max: int,
    reps: Sequence[Sequence[str]] | None,
    warnings: Sequence[str] = (),
    status: str = "ok",
) -> Verdict:
    """Right or wrong for one clip per the real-footage README's rule (see the module docstring).

    ``reps`` holds the fault codes of each rep found (None when the clip could not be analysed).
    """
    oblique = view == "oblique45"
    if reps is None or status != "ok":
        return Verdict(
            False,
            False,
            unflagged=False if label == "good" else None,
            caught=False if label in CAUGHT_BY and not oblique else None,
            oblique_ok=False if oblique else None,
            why=f"not analysed ({status})",
        )
    n = len(reps)
    in_range = reps_min <= n <= reps_max
    why: list[str] = [] if in_range else [f"{n} reps, expected {reps_min}–{reps_max}"]
    v = Verdict(False, in_range)
    if oblique:
        warned = NOT_SIDE_ON in warnings
        lumbar = sum(bool(LUMBAR_CODES & set(r)) for r in reps)
        v.oblique_ok = warned and lumbar == 0
        if not warned:
            why.append("no not_side_on warning")
        if lumbar:
            why.append(f"lumbar verdict on {lumbar} reps")
    nothing_expected = n == 0 and reps_min == 0  # e.g. a clip holding only the end of a lockout
    if label == "good" and not nothing_expected:
        # on an oblique view the lumbar codes count against oblique_ok; every other fault counts here
        flagged = sum(bool(set(r) - LUMBAR_CODES) if oblique else bool(r) for r in reps)
        limit = 0 if n <= GOOD_FEW_REPS else GOOD_MAX_SHARE * n
        v.unflagged = n > 0 and flagged <= limit  # no rep found: nothing was judged, not "unflagged"
        if n and not v.unflagged:
            why.append(f"{flagged}/{n} good reps flagged")
    elif label in CAUGHT_BY and not oblique and not nothing_expected:
        code = CAUGHT_BY[label]
        hit = sum(code in r for r in reps)
        v.caught = n > 0 and hit >= CAUGHT_SHARE * n
        if n and not v.caught:
            why.append(f"{SHORT[code]} on {hit}/{n} reps")
    v.right = in_range and v.unflagged is not False and v.caught is not False and v.oblique_ok is not False
    v.why = "; ".join(why)
    return v


def short_code(code: str) -> str:
    return SHORT.get(code) or "".join(part[:1].upper() for part in code.split("_")) or "?"


def faults_cell(reps: Sequence[Sequence[str]]) -> str:
    """Per rep its compact codes ('KL T · K'), then the counts ('K3 L1 T1')."""
    if not reps:
        return "—"
    per_rep = " ".join("".join(short_code(c) for c in r) or "·" for r in reps)
    counts: dict[str, int] = {}
    for r in reps:
        for c in r:
            counts[short_code(c)] = counts.get(short_code(c), 0) + 1
    tally = " ".join(f"{k}{counts[k]}" for k in sorted(counts))
    return per_rep + (f"  ({tally})" if tally else "")


# ---------------------------------------------------------------- running the CLI


def cli_command(cwd: Path) -> list[str]:
    """How to call ``hingecheck`` with this interpreter: ``-m hingecheck.cli``, ``-m hingecheck`` or the script.

    Run from ``cwd`` (not the repository): ``python -m`` puts the working directory first on sys.path, which
    would shadow a PYTHONPATH pointing at another checkout (e.g. a baseline worktree).
    """
    candidates = [[sys.executable, "-m", "hingecheck.cli"], [sys.executable, "-m", "hingecheck"]]
    script = Path(sys.executable).parent / "hingecheck"
    if script.exists():
        candidates.append([str(script)])
    for cmd in candidates:
        try:
            p = subprocess.run([*cmd, "analyze", "--help"], capture_output=True, text=True, timeout=120, cwd=cwd)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if p.returncode == 0 and "--no-video" in p.stdout:
            return cmd
    raise SystemExit("bench/real.py: cannot run `hingecheck analyze` (tried -m hingecheck.cli, -m hingecheck, script)")


def code_origin(cmd: Sequence[str], cwd: Path) -> str:
    """Where the analysing ``hingecheck`` package lives (shown in the title: which checkout was measured)."""
    python = cmd[0] if "-m" in cmd else sys.executable
    probe = "import os, hingecheck; print(os.path.dirname(os.path.dirname(hingecheck.__file__)))"
    try:
        p = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return last_line(p.stdout) or "?"


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def analyse_clip(
    label: ClipLabel,
    clip_dir: Path,
    out_root: Path,
    cmd: Sequence[str],
    extra: Sequence[str],
    reuse: bool,
    timeout_s: float,
) -> ClipRow:
    """Run (or re-use) one analysis and turn its summary.json into a scored row; never raises."""
    out = out_root / Path(label.clip).stem
    row = ClipRow(label, "error", out_dir=str(out))
    summary_path = out / "summary.json"
    try:
        if not (reuse and summary_path.exists()):
            summary_path.unlink(missing_ok=True)
            argv = [*cmd, "analyze", str(clip_dir / label.clip), "-o", str(out), "--no-video", *extra]
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=out_root)
            if not summary_path.exists():
                row.message = last_line(p.stderr) or last_line(p.stdout) or f"exit status {p.returncode}"
                return row
        summary = json.loads(summary_path.read_text())
    except subprocess.TimeoutExpired:
        row.message = f"timed out after {timeout_s:.0f} s"
        return row
    except (OSError, ValueError) as exc:
        row.message = f"{type(exc).__name__}: {exc}"[:200]
        return row
    row.status = str(summary.get("status", "?"))
    row.message = str(summary.get("message") or "")
    row.warnings = warning_codes(summary)
    row.exercise_found = detected_exercise(summary)
    row.reps = rep_fault_codes(summary)
    row.n_partial = sum(bool(r.get("partial")) for r in summary.get("reps") or [])
    row.verdict = verdict(label.label, label.view, label.reps_min, label.reps_max, row.reps, row.warnings, row.status)
    return row


def score_row(row: ClipRow) -> Verdict:
    """The row's verdict (computed from its reps and warnings when not yet set)."""
    if row.verdict is None:
        lab = row.label
        reps = row.reps if row.status == "ok" else None
        row.verdict = verdict(lab.label, lab.view, lab.reps_min, lab.reps_max, reps, row.warnings, row.status)
    return row.verdict


def summary_line(rows: Sequence[ClipRow]) -> str:
    """verdicts right · good clips left unflagged · faulty clips caught · reps in range · oblique45 · analysed."""
    verdicts = [score_row(r) for r in rows]

    def frac(flags: Iterable[bool | None]) -> str:
        known = [f for f in flags if f is not None]
        return f"{sum(known)}/{len(known)}"

    return (
        f"verdicts right {frac(v.right for v in verdicts)}"
        f" · good clips left unflagged {frac(v.unflagged for v in verdicts)}"
        f" · faulty clips caught {frac(v.caught for v in verdicts)}"
        f" · reps in range {frac(v.reps_in_range for v in verdicts)}"
        f" · oblique45 warned + lumbar withheld {frac(v.oblique_ok for v in verdicts)}"
        f" · clips analysed {sum(r.status == 'ok' for r in rows)}/{len(rows)}"
    )


def make_table(rows: Sequence[ClipRow], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for name, kw in [
        ("clip", {"no_wrap": True}),
        ("exercise", {}),
        ("view", {}),
        ("label", {}),
        ("reps (range)", {"justify": "right", "no_wrap": True}),
        ("faults per rep", {}),
        ("warnings", {}),
        ("status", {}),
        ("verdict", {}),
    ]:
        table.add_column(name, **kw)
    for r in rows:
        v = score_row(r)
        n = len(r.reps)
        reps = "—" if r.status != "ok" else f"{n}" + (f" ({r.n_partial}p)" if r.n_partial else "")
        status = r.status if not r.message or r.status == "ok" else f"{r.status}: {r.message}"
        mark = "[green]right[/]" if v.right else "[red]wrong[/]"
        table.add_row(
            r.label.clip.removesuffix(".mp4"),
            r.label.exercise + (f" (found {r.exercise_found})" if r.exercise_found else ""),
            r.label.view,
            r.label.label,
            f"{reps} ({r.label.reps_min}–{r.label.reps_max})",
            faults_cell(r.reps) if r.status == "ok" else "—",
            ", ".join(r.warnings) or "—",
            status,
            mark + (f" ({v.why})" if v.why else ""),
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("clip_dir", type=Path, help="folder holding the clips named in the labels CSV")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS, help=f"clips CSV (default {DEFAULT_LABELS})")
    ap.add_argument("--outputs", type=Path, help="keep the analyses in OUTPUTS/<clip>/ (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="re-use OUTPUTS/<clip>/summary.json where it exists")
    ap.add_argument("--jobs", type=int, default=1, help="clips analysed at once (default 1)")
    ap.add_argument("--config", type=Path, help="TOML passed to `hingecheck analyze --config`")
    ap.add_argument("--exercise", help="passed to `hingecheck analyze --exercise` (when the CLI has it)")
    ap.add_argument("--only", action="append", metavar="GLOB", help="only clips matching GLOB (repeatable)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per clip before it counts as failed")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the rows and verdicts as JSON")
    args = ap.parse_args(argv)

    labels = [lab for lab in read_labels(args.labels) if (args.clip_dir / lab.clip).is_file()]
    if args.only:
        labels = [lab for lab in labels if any(fnmatch.fnmatch(lab.clip, g) for g in args.only)]
    console = Console(width=None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "220")))
    if not labels:
        console.print(f"no clip of {args.labels} found in {args.clip_dir}")
        return 1
    extra: list[str] = []
    if args.config:
        extra += ["--config", str(args.config)]
    if args.exercise:
        extra += ["--exercise", args.exercise]
    clip_dir = args.clip_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="hingecheck-real-") as tmp:
        out_root = (args.outputs or Path(tmp)).resolve()
        out_root.mkdir(parents=True, exist_ok=True)
        cmd = cli_command(out_root)
        origin = code_origin(cmd, out_root)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            rows = list(
                pool.map(
                    lambda lab: analyse_clip(
                        lab, clip_dir, out_root, cmd, extra, args.reuse and args.outputs is not None, args.timeout
                    ),
                    labels,
                )
            )
    how = " ".join(Path(c).name if k == 0 else c for k, c in enumerate(cmd))
    title = f"hingecheck on real footage: {len(rows)} clips of {args.labels.name}; `{how}` from {origin}"
    console.print(make_table(rows, title))
    line = summary_line(rows)
    console.print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"summary": line, "rows": [asdict(r) for r in rows]}, indent=1, default=str) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
