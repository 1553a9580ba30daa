"""The portal under load: concurrent phone uploads against a real ``hingecheck serve`` on loopback.

    python bench/serve.py [--clip samples/hinge_good_stoop.mp4] [--uploads 20] [--workers 2] [--no-video]

Starts ``hingecheck serve`` on a free loopback port with a temporary data folder, one clinician and one
upload link, sends ``--uploads`` uploads of the clip at once, and meanwhile polls the dashboard with a
logged-in session (the response time clinicians feel while the workers are busy) and the server's memory.
Waits until every upload is analysed, then prints: uploads accepted, analysed, lost (accepted but never
analysed), doubled (more than one recording for an upload), time from upload to analysed (p50/p95/max),
dashboard p95 while busy, and the server process's peak RSS (and with its workers).
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hingecheck.serve import accounts  # noqa: E402
from hingecheck.serve.db import db_path, open_data_dir  # noqa: E402
from tests.serve.serverproc import ServerProcess, free_port  # noqa: E402

FINAL = {"ok", "no_person", "not_a_video", "corrupt", "timeout", "error"}


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=REPO / "samples" / "hinge_good_stoop.mp4")
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-video", action="store_true", help="analyse without the annotated video")
    ap.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hingecheck-bench-serve-"))
    data = tmp / "data"
    conn = open_data_dir(data)
    user = accounts.add_user(conn, "bench", "bench-password")
    _, link = accounts.add_client(conn, user, "Bench client")
    token = accounts.new_api_token(conn, "bench")
    conn.close()
    extra = ["--workers", str(args.workers)] + (["--no-video"] if args.no_video else [])
    server = ServerProcess(data, free_port(), *extra, log=tmp / "server.log").start()
    console = Console()
    console.print(
        f"server {server.url} (pid {server.proc.pid}), data {data}, {args.uploads} uploads of "
        f"{args.clip.name}, {args.workers} workers"
    )
    done_at: dict[int, float] = {}
    sent_at: dict[int, float] = {}
    dash_busy: list[float] = []
    rss_peak = {"server": 0, "total": 0}
    stop = threading.Event()

    def watch_memory() -> None:
        while not stop.wait(0.25):
            pid = server.proc.pid
            own = rss_kb(pid)
            total = own + sum(rss_kb(c) for c in descendants(pid))
            rss_peak["server"] = max(rss_peak["server"], own)
            rss_peak["total"] = max(rss_peak["total"], total)

    def watch_dashboard() -> None:
        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as http:
            page = http.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            r = http.post("/login", data={"csrf": csrf, "name": "bench", "password": "bench-password"})
            assert r.status_code == 303, r.text
            while not stop.is_set():
                t0 = time.perf_counter()
                r = http.get("/dashboard")
                elapsed = time.perf_counter() - t0
                assert r.status_code == 200
                if http.get("/healthz").json()["busy_workers"] > 0:
                    dash_busy.append(elapsed)
                time.sleep(0.25)

    def upload(i: int) -> tuple[int, float] | None:
        with open(args.clip, "rb") as fh:
            r = httpx.post(f"{server.url}/u/{link}", files={"video": (f"set-{i}.mp4", fh, "video/mp4")}, timeout=120)
        return (int(r.json()["id"]), time.monotonic()) if r.status_code == 201 else None

    threads = [
        threading.Thread(target=watch_memory, daemon=True),
        threading.Thread(target=watch_dashboard, daemon=True),
    ]
    for t in threads:
        t.start()
    t_start = time.monotonic()
    try:
        with ThreadPoolExecutor(args.uploads) as pool:
            results = list(pool.map(upload, range(args.uploads)))
        accepted = [r for r in results if r is not None]
        sent_at = dict(accepted)
        console.print(f"{len(accepted)} uploads accepted in {time.monotonic() - t_start:.1f} s; waiting for analyses")
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + args.timeout
        while len(done_at) < len(sent_at) and time.monotonic() < deadline:
            recs = httpx.get(f"{server.url}/api/recordings", headers=auth, timeout=60).json()["recordings"]
            now = time.monotonic()
            for rec in recs:
                if rec["status"] in FINAL and rec["id"] not in done_at:
                    done_at[rec["id"]] = now
            time.sleep(0.5)
        final_statuses = {
            r["id"]: r["status"]
            for r in httpx.get(f"{server.url}/api/recordings", headers=auth, timeout=60).json()["recordings"]
        }
    finally:
        stop.set()
        server.stop()
    db = sqlite3.connect(db_path(data))
    per_job = db.execute(
        "SELECT j.id, COUNT(r.id) FROM jobs j LEFT JOIN recordings r ON r.id = j.recording_id GROUP BY j.id"
    ).fetchall()
    n_recordings = db.execute("SELECT COUNT(*) FROM recordings").fetchone()[0]
    db.close()
    analysed = [i for i in sent_at if final_statuses.get(i) == "ok"]
    lost = [i for i in sent_at if i not in done_at or dict(per_job).get(i, 0) == 0]
    doubled = max(0, n_recordings - len(per_job)) + sum(1 for _, n in per_job if n > 1)
    waits = [done_at[i] - sent_at[i] for i in done_at if i in sent_at]
    table = Table(
        title=f"hingecheck serve: {args.uploads} concurrent uploads, {args.workers} workers, "
        f"{'no video' if args.no_video else 'annotated video with face blur'}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("uploads accepted", f"{len(sent_at)} / {args.uploads}")
    table.add_row("analysed (status ok)", str(len(analysed)))
    table.add_row("lost", str(len(lost)))
    table.add_row("doubled", str(doubled))
    table.add_row(
        "upload → analysed p50 / p95 / max",
        f"{pct(waits, 0.5):.1f} / {pct(waits, 0.95):.1f} / {max(waits, default=float('nan')):.1f} s",
    )
    table.add_row("all analysed after", f"{max(done_at.values(), default=t_start) - t_start:.1f} s")
    table.add_row(
        "dashboard while busy: p50 / p95 (n)",
        f"{1000 * pct(dash_busy, 0.5):.0f} / {1000 * pct(dash_busy, 0.95):.0f} ms ({len(dash_busy)})",
    )
    table.add_row(
        "server RSS peak (server alone / with workers)",
        f"{rss_peak['server'] / 1024:.0f} / {rss_peak['total'] / 1024:.0f} MB",
    )
    console.print(table)
    if lost or doubled or len(sent_at) < args.uploads:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
