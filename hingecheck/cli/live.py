"""``hingecheck live``: live coaching from a webcam or a clip played at its real pace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hingecheck.cli.options import add_analysis_options, analysis_option_values
from hingecheck.live.session import LiveOptions, LiveSession


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck live``."""
    p = sub.add_parser(
        "live",
        help="live coaching from a webcam (or a clip played in real time): rep counter, verdicts and cues",
        description="Stand side-on to the camera, hold still for ~2 s to calibrate, then hinge. "
        "Keys: q quit, c recalibrate, space pause.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, metavar="N", help="camera index (default 0)")
    src.add_argument("--source", metavar="VIDEO", help="play a video file at its real pace instead of a camera")
    p.add_argument("--record", metavar="OUTDIR", help="save the session: the same outputs as analyze")
    p.add_argument("--no-window", action="store_true", help="headless: no window; writes live_stats.json")
    p.add_argument("--stats-dir", metavar="DIR", help="where live_stats.json goes (default: the --record folder)")
    p.add_argument("--quiet", action="store_true", help="no tones, no spoken cues")
    p.add_argument("--max-seconds", type=float, metavar="S", help="end the session after S seconds")
    p.add_argument(
        "--every-frame",
        action="store_true",
        help="with --source: hand every frame to the coach, none dropped, at the machine's pace rather than the "
        "clip's (to check a recording's cues and verdicts against analyze on any machine)",
    )
    add_analysis_options(p)
    p.set_defaults(func=run_live)


def _say(text: str) -> None:
    print(text, flush=True)


def _note(text: str) -> None:
    print(f"hingecheck: {text}", file=sys.stderr, flush=True)


def run_live(args: argparse.Namespace) -> int:
    """Run ``hingecheck live`` and print its summary; the exit code is 0 when frames were processed."""
    options = LiveOptions(
        camera=args.camera,
        source=args.source,
        window=not args.no_window,
        record_dir=Path(args.record) if args.record else None,
        stats_dir=Path(args.stats_dir) if args.stats_dir else None,
        quiet=args.quiet,
        **analysis_option_values(args),
        max_seconds=args.max_seconds,
        every_frame=args.every_frame,
    )
    if args.every_frame and not args.source:
        print("hingecheck: --every-frame needs --source VIDEO (a camera cannot wait for the coach)", file=sys.stderr)
        return 2
    outcome = LiveSession(options, say=_say, note=_note).run()
    s = outcome.stats
    print(
        f"{s.frames_processed} frames processed of {s.frames_captured} captured "
        f"({s.frames_dropped} dropped, {s.dropped_share:.1%}), {s.fps:.1f} fps, "
        f"latency p50 {s.latency_ms_p50:.0f} ms / p95 {s.latency_ms_p95:.0f} ms"
        + (f"; stats in {outcome.stats_path}" if outcome.stats_path else "")
    )
    if outcome.result is not None:
        from hingecheck.cli.progress import print_summary

        print_summary(outcome.result, Path(options.record_dir))  # type: ignore[arg-type]
        return 0 if outcome.result.ok else 2
    return 0 if s.frames_processed else 2
