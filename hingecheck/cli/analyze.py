"""``hingecheck analyze VIDEO -o OUTDIR`` and ``hingecheck models``."""

from __future__ import annotations

import argparse
from pathlib import Path

from hingecheck.cli.options import add_analysis_options, analysis_option_values, parse_window


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck analyze``."""
    p = sub.add_parser("analyze", help="analyse one video: annotated video, numbers and a report")
    p.add_argument("video", help="video file (any common container; phone clips are fine)")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for the outputs")
    p.add_argument(
        "--calibration",
        type=parse_window,
        metavar="START:END",
        help="seconds of still standing to use as the zero posture (default: found automatically)",
    )
    add_analysis_options(p)
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse one video into OUTDIR and print the summary; exit code 0 when the analysis is ok."""
    from hingecheck.api import analyze_to_dir
    from hingecheck.cli.progress import video_progress
    from hingecheck.pipeline import AnalyzeOptions

    options = AnalyzeOptions(calibration_s=args.calibration, **analysis_option_values(args))
    out = Path(args.out)
    with video_progress(args.video) as progress:
        result = analyze_to_dir(args.video, out, options, progress=progress)
    from hingecheck.cli.progress import print_summary

    print_summary(result, out)
    return 0 if result.ok else 2


def add_models_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck models``."""
    p = sub.add_parser("models", help="show the pose model in use and check its integrity")
    p.add_argument("--model", metavar="PATH")
    p.set_defaults(func=run_models)


def run_models(args: argparse.Namespace) -> int:
    """Print which pose model is used and whether its checksum matches the published one."""
    from hingecheck.io.pose import resolve_model

    info = resolve_model(args.model)
    state = "checksum verified" if info.verified else "no published checksum (structure checked)"
    print(f"{info.name}  sha256 {info.sha256}  {state}  ({info.path})")
    return 0
