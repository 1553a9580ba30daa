#!/usr/bin/env python3
"""Plan and render the training corpus for the learned lumbopelvic estimator (issue 13), resumably.

Every clip of the corpus is planned up front from ``--seed`` (clip *i*'s knobs come from
``SeedSequence([seed, i])``): one new body per clip, its clothing, arms/prop, camera, scene, degradation and
two reps. The plan is the committed manifest (``tools/corpus/manifest.csv``: one row per clip with its knobs,
its ``split`` (train|val, by body) and the exact ``render_clips.py`` flags that render it). Rendering runs in
chunks of ``--chunk-size`` clips under ``--out`` (default /work/corpus, not in git):
``<out>/c000/hc0000.mp4 …``. A clip is finished when its ``_reps.json`` exists (written last), so a stopped
session loses at most the clip it was rendering; rerunning the same command skips finished clips.

Runs in the render environment (tools/README.md)::

    nice -n 10 env LP_NUM_THREADS=2 /work/renderenv/bin/python tools/build_corpus.py --plan-only
    nice -n 10 env LP_NUM_THREADS=2 /work/renderenv/bin/python tools/build_corpus.py --chunks 0-3

One process at a time (llvmpipe uses LP_NUM_THREADS cores). Features: tools/extract_corpus.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "corpus" / "manifest.csv"
DEFAULT_OUT = Path("/work/corpus")
SEED = 13013
N_CLIPS = 1000
CHUNK = 20
FPS = 15

# From clip 16 on (the machine is shared and llvmpipe's cost grows with the pixels): one rep per clip, <= 7 s, and
# fewer of the largest frames, so more bodies fit in the same render time. Clips 0-15 keep their first plan.
LEAN_FROM = 16
# From clip 620 on, two of every three training bodies hold a bar (hands hanging, plates of 0-0.225 m), one of those
# two with the camera turned 20-35°: the training bodies' out-of-fold readings were worst there (hip RMSE 9.4° for a
# bar side-on, 6.7° turned, against 3.4-5.2° for every other prop), and a plate seen behind the hips is part of
# the silhouette. Validation clips keep the plan's draws.
BAR_FROM = 620
RESOLUTIONS_LEAN = [(640, 480, 0.4), (960, 540, 0.16), (1280, 720, 0.14), (1920, 1080, 0.05), (480, 640, 0.12),
                    (720, 1280, 0.08), (1080, 1920, 0.05)]  # fmt: skip
RESOLUTIONS = [  # (w, h, weight): 640x480 to 1080p, portrait too
    (640, 480, 0.32),
    (960, 540, 0.14),
    (1280, 720, 0.18),
    (1920, 1080, 0.08),
    (480, 640, 0.08),
    (720, 1280, 0.12),
    (1080, 1920, 0.08),
]
REP_CHOICES = ["G", "SF", "SF*", "LB", "B", "B*", "LO", "K"]
REP_WEIGHTS = [0.26, 0.12, 0.10, 0.14, 0.07, 0.06, 0.12, 0.13]
ARMS = [
    ("hanging", "none", 0.28),
    ("crossed", "none", 0.2),
    ("hanging", "bar", 0.2),
    ("hanging", "kettlebell", 0.16),
    ("hanging", "dumbbells", 0.16),
]


def is_val(i: int) -> bool:
    """Body-level split (one body per clip): 40 % of the first 240 clips (95 bodies; a quarter of the first 16, as
    first planned and rendered), so that ≥ 40 validation bodies exist after ~100 clips; then one in ten."""
    if i < 16:
        return i % 4 == 1
    return i % 5 in (1, 3) if i < 240 else i % 10 == 1


def plan_clip(seed: int, i: int) -> dict:
    rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
    val = is_val(i)
    body = {
        "gender": rng.uniform(0, 1),
        "age": rng.uniform(0.6, 1.0),
        "weight": rng.uniform(0, 1),
        "muscle": rng.uniform(0, 1),
        "height": rng.uniform(0, 1),
        "proportions": rng.uniform(0.2, 0.8),
    }
    top = str(rng.choice(["fitted", "loose", "hoodie"], p=[0.45, 0.3, 0.25]))
    lower_fit = "baggy" if rng.uniform() < 0.25 else "fitted"
    lower = str(rng.choice(["shorts", "long_pants"]))
    k = int(rng.choice(len(ARMS), p=[a[2] for a in ARMS]))
    arms, prop = ARMS[k][0], ARMS[k][1]
    yaw = rng.uniform(-35, 35)
    roll = rng.normal(0, 3.0) if rng.uniform() < 0.5 else 0.0
    cam_h = rng.uniform(0.4, 1.8)
    dist = rng.uniform(2.2, 5.5)
    clutter = int(rng.integers(0, 9))
    scene_colours = "random" if rng.uniform() < 0.6 else "default"
    light = "wide" if rng.uniform() < 0.7 else "default"
    noise = rng.uniform(0, 4.0)
    blur = rng.uniform(0.4, 2.0) if rng.uniform() < 0.35 else 0.0
    jpeg = int(rng.integers(30, 86)) if rng.uniform() < 0.25 else None
    crf = int(rng.integers(18, 32))
    dark = rng.uniform() < 0.08
    fast = rng.uniform() < 0.2
    lean = i >= LEAN_FROM
    res = RESOLUTIONS_LEAN if lean else RESOLUTIONS
    r = int(rng.choice(len(res), p=[x[2] for x in res]))
    w, h = res[r][:2]
    reps = [str(rng.choice(REP_CHOICES, p=REP_WEIGHTS)) for _ in range(2)]
    if lean:
        reps = reps[:1]
    if val:  # every validation stratum the issue names, in turn (on top of the random draws)
        vk = sum(is_val(j) for j in range(i)) % 5
        if vk == 0:
            body["weight"], body["muscle"] = rng.uniform(0.8, 1.0), rng.uniform(0.0, 0.5)  # heavy
        elif vk == 1:
            top = str(rng.choice(["loose", "hoodie"]))
        elif vk == 2:
            yaw = float(rng.choice([-1, 1])) * rng.uniform(22, 30)
        elif vk == 3:
            lower_fit, prop, arms = "baggy", str(rng.choice(["bar", "kettlebell", "dumbbells"])), "hanging"
        else:
            body["weight"] = rng.uniform(0.0, 0.2)  # slim
    elif i >= BAR_FROM and i % 3 != 2:
        arms, prop = "hanging", "bar"
        if i % 3 == 1:
            yaw = float(rng.choice([-1, 1])) * rng.uniform(20, 35)
    name = f"hc{i:04d}"
    flags = [
        "--seed", str(seed), "--start-index", str(i), "--name", name, "--n", "1", "--no-manifest",
        "--profile", "corpus", "--fps", str(FPS), "--preset", "veryfast", "--duration-cap", "7" if lean else "9",
        "--body", ",".join(f"{k}={v:.4f}" for k, v in body.items()),
        "--reps", ",".join(reps), "--width", str(w), "--height", str(h),
        "--arms", arms, "--prop", prop, "--top", top, "--lower-fit", lower_fit, "--lower", lower,
        "--yaw", f"{yaw:.2f}", "--roll", f"{roll:.2f}", "--cam-height", f"{cam_h:.3f}", "--distance", f"{dist:.3f}",
        "--clutter", str(clutter), "--scene-colours", scene_colours, "--light", light,
        "--noise", f"{noise:.2f}", "--blur", f"{blur:.2f}", "--crf", str(crf),
    ]  # fmt: skip
    if jpeg:
        flags += ["--jpeg", str(jpeg)]
    flags += ["--dark"] if dark else ["--no-dark"]
    if fast:
        flags += ["--fast"]
    return {
        "clip": name,
        "index": i,
        "body_id": f"body{i:04d}",
        "split": "val" if val else "train",
        "chunk": f"c{i // CHUNK:03d}",
        **{("height_pheno" if k == "height" else k): round(float(v), 4) for k, v in body.items()},
        "top": top,
        "lower": "long_pants" if lower_fit == "baggy" else lower,
        "lower_fit": lower_fit,
        "arms": arms,
        "prop": prop,
        "yaw_deg": round(float(yaw), 2),
        "roll_deg": round(float(roll), 2),
        "cam_height_m": round(float(cam_h), 3),
        "distance_m": round(float(dist), 3),
        "width": w,
        "height": h,
        "fps": FPS,
        "clutter": clutter,
        "scene_colours": scene_colours,
        "light": light,
        "noise_sigma": round(float(noise), 2),
        "blur_sigma": round(float(blur), 2),
        "jpeg_quality": jpeg or "",
        "crf": crf,
        "dark": bool(dark),
        "fast": bool(fast),
        "reps": " ".join(reps),
        "flags": shlex.join(flags),
    }


def plan(seed: int, n: int) -> list[dict]:
    return [plan_clip(seed, i) for i in range(n)]


def write_manifest(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def read_manifest(path: Path = MANIFEST) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def parse_range(text: str | None, n: int) -> list[int]:
    if not text:
        return list(range(n))
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def clip_done(out: Path, row: dict) -> bool:
    return (out / row["chunk"] / f"{row['clip']}_reps.json").exists()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="rendered clips (not in git); default /work/corpus")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--n", type=int, default=N_CLIPS, help="clips planned (the manifest)")
    ap.add_argument("--plan-only", action="store_true", help="(re)write the manifest and stop")
    ap.add_argument("--chunks", default=None, help="chunk numbers to render, e.g. '0-3,7' (default: all, in order)")
    ap.add_argument("--max-clips", type=int, default=None, help="stop after rendering this many clips")
    ap.add_argument("--until", default=None, help="stop starting new clips after this wall-clock time (HH:MM)")
    ap.add_argument(
        "--val-first",
        type=int,
        default=0,
        metavar="N",
        help="render order: alternate validation and training clips until N validation clips exist, then by index",
    )
    args = ap.parse_args(argv)

    rows = plan(args.seed, args.n)
    if not MANIFEST.exists() or read_manifest() != [{k: str(v) for k, v in r.items()} for r in rows]:
        write_manifest(rows, MANIFEST)
        print(f"manifest: {MANIFEST} ({len(rows)} clips)", file=sys.stderr)
    if args.plan_only:
        return 0
    os.environ.setdefault("LP_NUM_THREADS", "2")
    sys.path.insert(0, str(HERE))
    import render_clips as rc

    chunks = set(parse_range(args.chunks, (args.n + CHUNK - 1) // CHUNK))
    todo = [r for r in rows if int(r["chunk"][1:]) in chunks and not clip_done(args.out, r)]
    if args.val_first:
        have = sum(1 for r in rows if r["split"] == "val" and clip_done(args.out, r))
        val = [r for r in todo if r["split"] == "val"][: max(0, args.val_first - have)]
        train = [r for r in todo if r["split"] == "train"]
        first = [x for pair in zip(val, train[: len(val)], strict=False) for x in pair]
        taken = {r["clip"] for r in first}
        todo = first + [r for r in todo if r["clip"] not in taken]
    print(f"{len(todo)} clips to render", file=sys.stderr)
    if not todo:
        return 3  # nothing left in these chunks
    rc.set_fps(FPS)
    model = rc.load_model()
    renderers: dict[tuple[int, int], rc.Renderer] = {}
    done = 0
    try:
        for r in todo:
            if args.max_clips is not None and done >= args.max_clips:
                break
            if args.until and time.strftime("%H:%M") >= args.until:
                print(f"stopping at {args.until}", file=sys.stderr)
                break
            a = rc.build_parser().parse_args(["--out", str(args.out / r["chunk"]), *shlex.split(r["flags"])])
            key = (a.width, a.height)
            if key not in renderers:
                for old in renderers.values():  # one GL context at a time
                    old.close()
                renderers = {key: rc.Renderer(a.width, a.height)}
            specs = rc.parse_reps(a.reps)
            t0 = time.time()
            try:
                meta = rc.render_clip(model, a, a.start_index, a.name, specs, a.out, renderers[key])
            except RuntimeError as exc:  # e.g. no motion met the label definitions within the duration cap
                print(f"{r['clip']}: FAILED {exc}", file=sys.stderr, flush=True)
                continue
            done += 1
            print(
                f"{r['clip']} ({r['split']}, {a.width}x{a.height}): {meta['n_frames']} frames, "
                f"{meta['_render_s_per_frame']:.3f} s/frame render, {time.time() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        for old in renderers.values():
            old.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
