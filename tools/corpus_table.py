"""Load the lumbopelvic training table (data/corpus/*.npz, written by tools/extract_corpus.py).

    from tools.corpus_table import load_table
    t = load_table(split="train")          # every shard's frames of training bodies
    t["gt_angles"][:, t.col("gt_angles", "pelvic_tilt_deg")]
    t.clips[t["clip_index"][i]]["weight"]  # per-clip knobs of frame i

Arrays and columns: data/corpus/README.md. Pixel arrays stored as int16 1/8 px come back as float32 pixels
(NaN where missing); visibility/presence as float32 0..1; the crop stays uint8.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SHARD_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"
PX_UNIT = 8
INT16_NAN = -32768
PX_ARRAYS = ("gt_points", "landmarks_px")


class Table(dict):
    """Per-frame arrays (a dict) plus ``clips`` (per-clip dicts; ``clip_index`` points into it) and ``columns``."""

    clips: list[dict]
    columns: dict

    def col(self, array: str, name: str) -> int:
        return self.columns[array].index(name)


def _decode(key: str, v: np.ndarray) -> np.ndarray:
    if key in PX_ARRAYS:
        out = v.astype(np.float32) / PX_UNIT
        out[v == INT16_NAN] = np.nan
        return out
    if key == "landmarks_vis":
        return v.astype(np.float32) / 255.0
    if key in ("contour", "pelvis_window", "landmarks_z"):
        return v.astype(np.float32)
    return v


def load_table(
    split: str | None = None, shards: list[str] | None = None, shard_dir: Path = SHARD_DIR, crops: bool = True
) -> Table:
    """Concatenate shards (default: every ``c*.npz``; pass ``shards=['devset']`` for the devset) and keep the frames
    of clips in ``split`` (train | val | devset; None = all)."""
    paths = [shard_dir / f"{s}.npz" for s in shards] if shards else sorted(shard_dir.glob("c[0-9][0-9][0-9].npz"))
    parts: dict[str, list[np.ndarray]] = {}
    clips: list[dict] = []
    columns: dict = {}
    for p in paths:
        with np.load(p, allow_pickle=False) as z:
            cm = json.loads(str(z["clips_json"]))
            columns = json.loads(str(z["columns_json"]))
            ci = z["clip_index"].astype(np.int32)
            keep_clip = np.array([split is None or c["split"] == split for c in cm])
            keep = keep_clip[ci]
            remap = np.cumsum(keep_clip) - 1 + len(clips)
            clips += [c for c, k in zip(cm, keep_clip, strict=True) if k]
            for key in z.files:
                if key in ("clips_json", "columns_json") or (key == "crop" and not crops):
                    continue
                v = z[key][keep]
                if key == "clip_index":
                    v = remap[ci[keep]]
                parts.setdefault(key, []).append(_decode(key, v))
    t = Table({k: np.concatenate(v) for k, v in parts.items()})
    t.clips = clips
    t.columns = columns
    return t


if __name__ == "__main__":
    import sys

    for sp in ("train", "val", "devset") if len(sys.argv) < 2 else sys.argv[1:]:
        try:
            t = load_table(sp, shards=["devset"] if sp == "devset" else None, crops=False)
        except (FileNotFoundError, ValueError):
            print(f"{sp}: none")
            continue
        bodies = {c["body_id"] for c in t.clips}
        print(f"{sp}: {len(t.clips)} clips, {len(bodies)} bodies, {len(t['frame'])} frames")
