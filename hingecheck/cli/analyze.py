"""``hingecheck analyze VIDEO -o OUTDIR`` and ``hingecheck models``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hingecheck.cli.options import add_analysis_options, analysis_option_values, parse_window

if TYPE_CHECKING:
    from hingecheck.core.movement.rom import BackRange


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
    p.add_argument(
        "--client",
        metavar="NAME",
        help="judge takeovers against this client's own range (their newest `hingecheck calibrate` in --db)",
    )
    p.add_argument("--db", default="results.sqlite", metavar="PATH", help="results database for --client")
    add_analysis_options(p)
    p.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse one video into OUTDIR and print the summary; exit code 0 when the analysis is ok."""
    from hingecheck.api import analyze_to_dir
    from hingecheck.cli.progress import video_progress
    from hingecheck.pipeline import AnalyzeOptions

    options = AnalyzeOptions(
        calibration_s=args.calibration, back_range=client_range(args.client, args.db), **analysis_option_values(args)
    )
    out = Path(args.out)
    with video_progress(args.video) as progress:
        result = analyze_to_dir(args.video, out, options, progress=progress)
    from hingecheck.cli.progress import print_summary

    print_summary(result, out)
    return 0 if result.ok else 2


def client_range(client: str | None, db: str) -> BackRange | None:
    """The client's newest range test from the results database (None without --client); says which is used."""
    from hingecheck.batch.store import ResultStore
    from hingecheck.core.movement.rom import BackRange

    if client is None:
        return None
    path = Path(db)
    stored = None
    if path.is_file():
        with ResultStore(path) as store:
            stored = store.latest_range(client)
    if stored is None:
        print(f"no range test for {client} in {db}: the population tolerances are used (see hingecheck calibrate)")
        return None
    print(f"{client}'s range test of {stored['measured_at']} is used")
    return BackRange.from_dict(stored)


def add_models_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck models``."""
    p = sub.add_parser("models", help="show the pose and lumbopelvic models in use and check their integrity")
    p.add_argument("--model", metavar="PATH")
    p.set_defaults(func=run_models)


def run_models(args: argparse.Namespace) -> int:
    """Print which pose model is used and whether its checksum matches the published one."""
    from hingecheck.io.lumbopelvic_model import SHIPPED, load_model
    from hingecheck.io.pose import resolve_model

    info = resolve_model(args.model)
    state = "checksum verified" if info.verified else "no published checksum (structure checked)"
    print(f"{info.name}  sha256 {info.sha256}  {state}  ({info.path})")
    prov = load_model().provenance
    all_scores = prov.get("scores", {})
    scores = all_scores.get("val", {}) if isinstance(all_scores, dict) else {}
    val = ", ".join(f"{k.split('_')[0]} {v['learned_rmse']:.1f}°" for k, v in scores.items() if isinstance(v, dict))
    print(
        f"{SHIPPED.name}  trained {prov.get('trained')} on {prov.get('bodies')} rendered bodies "
        f"({prov.get('frames')} frames, commit {str(prov.get('hingecheck_commit'))[:10]}); "
        f"unseen bodies RMSE: {val or 'n/a'}  ({SHIPPED})"
    )
    return 0
