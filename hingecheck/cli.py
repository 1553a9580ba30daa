"""Command line: ``hingecheck analyze | live | batch | history | models``.

Each subcommand's options live beside its code (``add_arguments``/``run``) so the modules stay separable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# OpenCV must load its window libraries before PyAV loads its own copies under the same names, or
# cv2.namedWindow hangs (live mode); importing it first here makes every entry point safe.
import cv2  # noqa: F401, I001

from . import __version__
from .errors import HingecheckError


def _parse_window(text: str) -> tuple[float, float]:
    try:
        start, end = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected START:END in seconds, e.g. 0:2") from None
    if end <= start:
        raise argparse.ArgumentTypeError("END must be after START")
    return start, end


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Options shared by analyze, batch and live --record."""
    p.add_argument("--model", metavar="PATH", help="pose model .task (lite/full/heavy); default: bundled full model")
    p.add_argument("--config", metavar="FILE", help="TOML file overriding thresholds (see hingecheck/defaults.toml)")
    p.add_argument("--no-video", action="store_true", help="skip video outputs (annotated.mp4, video in report)")
    p.add_argument("--blur-faces", action="store_true", help="blur the head in every video output")


def analysis_option_values(args: argparse.Namespace) -> dict[str, object]:
    """The values of ``add_analysis_options`` as keyword arguments of AnalyzeOptions / LiveOptions."""
    return {
        "model_path": args.model,
        "config_path": args.config,
        "write_video": not args.no_video,
        "blur_faces": args.blur_faces,
    }


def add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="analyse one video: annotated video, numbers and a report")
    p.add_argument("video", help="video file (any common container; phone clips are fine)")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for the outputs")
    p.add_argument(
        "--calibration",
        type=_parse_window,
        metavar="START:END",
        help="seconds of still standing to use as the zero posture (default: found automatically)",
    )
    add_analysis_options(p)
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    from .outputs import analyze_to_dir
    from .pipeline import AnalyzeOptions
    from .progress import video_progress

    options = AnalyzeOptions(calibration_s=args.calibration, **analysis_option_values(args))
    out = Path(args.out)
    with video_progress(args.video) as progress:
        result = analyze_to_dir(args.video, out, options, progress=progress)
    from .progress import print_summary

    print_summary(result, out)
    return 0 if result.ok else 2


def add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="show the pose model in use and check its integrity")
    p.add_argument("--model", metavar="PATH")
    p.set_defaults(func=run_models)


def run_models(args: argparse.Namespace) -> int:
    from .pose import resolve_model

    info = resolve_model(args.model)
    state = "checksum verified" if info.verified else "no published checksum (structure checked)"
    print(f"{info.name}  sha256 {info.sha256}  {state}  ({info.path})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hingecheck", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hingecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_analyze(sub)
    for module_name in ("live", "batch", "history"):
        try:
            module = __import__(f"hingecheck.{module_name}", fromlist=["add_subcommand"])
        except ImportError:
            continue
        if hasattr(module, "add_subcommand"):
            module.add_subcommand(sub)
    add_models(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HingecheckError as exc:
        print(f"hingecheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hingecheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
