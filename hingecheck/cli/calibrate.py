"""``hingecheck calibrate VIDEO --client NAME``: a client's range test, remembered in the results store.

The clip: stand still side-on for 2 s, bend forward as far as is comfortable, stand up, arch back, stand. The
range (lumbar and whole-back flexion at the full bend, lumbar extension at the arch) is stored per client;
``hingecheck analyze --client NAME`` and ``hingecheck batch`` then judge that client's takeovers as a share of
it and report each rep's lumbar flexion as a share of the range.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hingecheck.cli.options import add_analysis_options, analysis_option_values


def add_subcommand(sub: argparse._SubParsersAction) -> None:
    """Register ``hingecheck calibrate``."""
    p = sub.add_parser(
        "calibrate",
        help="a client's range test (stand, full forward bend, back arch): judged against their own range",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("video", help="the range-test clip")
    p.add_argument("--client", required=True, metavar="NAME", help="whose range it is")
    p.add_argument("--db", default="results.sqlite", metavar="PATH", help="results database (default ./results.sqlite)")
    add_analysis_options(p)
    p.set_defaults(func=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    """Measure the range in the clip and store it for the client; exit 2 with one line if it shows none."""
    from hingecheck.api import analyze
    from hingecheck.batch.store import ResultStore
    from hingecheck.core.movement.rom import measure_range
    from hingecheck.io.sinks import writable_dir

    options = {k: v for k, v in analysis_option_values(args).items() if k not in ("config_path", "write_video")}
    writable_dir(Path(args.db).parent, "database folder")  # before the analysis: a database needs a home
    result = analyze(args.video, config=args.config, **{**options, "write_video": False})
    if not result.ok or result.frames is None:
        print(f"hingecheck: the range test could not be analysed: {result.message or result.status}", file=sys.stderr)
        return 2
    back_range = measure_range(result.frames)
    with ResultStore(Path(args.db)) as store:
        store.save_range(args.client, back_range.to_dict(), str(Path(args.video).resolve()))
    r = back_range.to_dict()
    arch = "no arch" if r["lumbar_extension_deg"] is None else f"arch {r['lumbar_extension_deg']:.0f}°"
    print(
        f"{args.client}: lumbar flexion {r['lumbar_flexion_deg']:.0f}°, whole back {r['spine_flexion_deg']:.0f}°, "
        f"{arch}, hips {r['hip_flexion_deg']:.0f}° at the full bend; stored in {args.db}"
    )
    return 0
