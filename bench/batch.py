"""Batch throughput: the same clips through ``hingecheck batch`` with 1 worker and with N workers, in one run.

    python bench/batch.py [CLIP ...] [--workers N] [--copies K] [--video]

Default clips: samples/*.mp4. Each clip is copied K times (re-muxed with a distinct metadata tag, so every
copy has its own content hash and is really analysed). Prints videos/min and frames/s per worker count and
the speed-up. Outputs go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hingecheck.batch.plan import BatchRequest  # noqa: E402
from hingecheck.batch.runner import run  # noqa: E402
from hingecheck.io.video import copy_packets  # noqa: E402
from hingecheck.pipeline import AnalyzeOptions  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def tagged_copy(src: Path, dst: Path, tag: str) -> Path:
    """Copy the packets of ``src`` into ``dst`` with a metadata tag: same frames, different bytes."""
    return copy_packets(src, dst, {"comment": tag})


def one_run(indir: Path, root: Path, workers: int, video: bool) -> dict[str, float]:
    outdir = root / f"out-{workers}"
    t0 = time.perf_counter()
    batch = run(
        BatchRequest(
            indir=indir,
            outdir=outdir,
            workers=workers,
            timeout_s=3600,
            db_path=outdir / "results.sqlite",
            options=AnalyzeOptions(write_video=video),
            quiet=True,
        )
    )
    wall = time.perf_counter() - t0
    bad = [i for i in batch.items if i.status != "ok"]
    if bad:
        raise SystemExit(f"benchmark clips must analyse cleanly: {[(i.rel_path, i.status, i.message) for i in bad]}")
    frames = sum(i.frames for i in batch.items)
    return {"videos": len(batch.items), "frames": frames, "wall_s": wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="the N of the comparison")
    ap.add_argument("--copies", type=int, default=2, help="copies of each clip (more videos than workers)")
    ap.add_argument("--video", action="store_true", help="also write annotated.mp4 (default: numbers and report)")
    args = ap.parse_args()
    clips = args.clips or sorted((REPO / "samples").glob("*.mp4"))
    if not clips:
        raise SystemExit("no clips: pass some, or add samples/*.mp4")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="hingecheck-bench-batch-") as tmp:
        root = Path(tmp)
        indir = root / "in"
        for clip in clips:
            for k in range(args.copies):
                tagged_copy(clip, indir / f"client{k}" / clip.name, f"bench copy {k}")
        counts = sorted({1, args.workers})
        results = {n: one_run(indir, root, n, args.video) for n in counts}
    base = results[1]["wall_s"]
    table = Table(
        title=f"hingecheck batch throughput ({len(clips)} clips × {args.copies}, {os.cpu_count()} CPU cores)",
        show_edge=False,
    )
    for col in ("workers", "videos", "frames", "wall s", "videos/min", "frames/s", "speed-up"):
        table.add_column(col, justify="right")
    for n, r in results.items():
        table.add_row(
            str(n),
            str(r["videos"]),
            str(r["frames"]),
            f"{r['wall_s']:.1f}",
            f"{r['videos'] / r['wall_s'] * 60:.1f}",
            f"{r['frames'] / r['wall_s']:.1f}",
            f"{base / r['wall_s']:.2f}×",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
