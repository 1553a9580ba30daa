"""Options shared by analyze, live and batch, and their mapping onto the option dataclasses."""

from __future__ import annotations

import argparse
from typing import Any

from hingecheck.core.settings import EXERCISES


def parse_window(text: str) -> tuple[float, float]:
    """Parse ``START:END`` (seconds) for ``--calibration``."""
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
    p.add_argument(
        "--config", metavar="FILE", help="TOML file overriding any default (see hingecheck/core/defaults.toml)"
    )
    p.add_argument("--no-video", action="store_true", help="skip video outputs (annotated.mp4, video in report)")
    p.add_argument("--blur-faces", action="store_true", help="blur the head in every video output")
    p.add_argument(
        "--exercise",
        choices=("auto", *EXERCISES),
        help="the lift (default: [exercise] name in the settings, auto = detected from the start posture, the "
        "hands and the knee bend); it sets the normal knee range and the squat rule",
    )


def analysis_option_values(args: argparse.Namespace) -> dict[str, Any]:
    """The values of ``add_analysis_options`` as keyword arguments of AnalyzeOptions / LiveOptions."""
    return {
        "model_path": args.model,
        "config_path": args.config,
        "write_video": not args.no_video,
        "blur_faces": args.blur_faces,
        "exercise": args.exercise,
    }
