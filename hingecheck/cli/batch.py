"""``hingecheck batch``: every video in a folder tree, a dashboard and a results database."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from hingecheck.batch.plan import BatchError, BatchRequest
from hingecheck.batch.runner import run
from hingecheck.cli.batch_progress import BatchProgress, print_batch_summary
from hingecheck.cli.options import add_analysis_options, analysis_option_values
from hingecheck.pipeline import AnalyzeOptions


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck batch``."""
    p = sub.add_parser("batch", help="analyse every video in a folder tree; dashboard, results database")
    p.add_argument("indir", metavar="INDIR", help="folder of uploads: INDIR/<client>/.../<video> at any depth")
    p.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for reports, batch.json, index.html")
    p.add_argument("--workers", type=int, metavar="N", help="parallel worker processes (default: one per CPU core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--timeout", type=float, metavar="S", help="seconds allowed per video before it is stopped")
    p.add_argument("--db", metavar="PATH", help="results database (default OUTDIR/results.sqlite; share it freely)")
    p.add_argument("--manifest", metavar="FILE", help="CSV with columns path,client[,date] overriding the folders")
    p.add_argument("--force", action="store_true", help="redo every video, even those already analysed")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_analysis_options(p)
    p.set_defaults(func=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Run a batch over INDIR into OUTDIR with a progress display, then print the summary table."""
    from hingecheck.io.config import load_settings

    cfg = load_settings(args.config).batch
    outdir = Path(args.out)
    workers = args.workers if args.workers is not None else (cfg.workers or os.cpu_count() or 1)
    if workers < 1:
        raise BatchError("--workers must be at least 1")
    timeout_s = args.timeout if args.timeout is not None else cfg.timeout_s
    if timeout_s <= 0:
        raise BatchError("--timeout must be positive")
    req = BatchRequest(
        indir=Path(args.indir),
        outdir=outdir,
        workers=workers,
        timeout_s=timeout_s,
        db_path=Path(args.db) if args.db else outdir / cfg.db_name,
        options=AnalyzeOptions(
            **analysis_option_values(args),
        ),
        scheduler=args.scheduler,
        manifest=Path(args.manifest) if args.manifest else None,
        quiet=args.quiet,
        force=args.force,
    )
    t0 = time.perf_counter()
    with BatchProgress(quiet=req.quiet) as progress:
        batch = run(req, progress)
    if not args.quiet:
        print_batch_summary(batch, time.perf_counter() - t0)
    return 0
