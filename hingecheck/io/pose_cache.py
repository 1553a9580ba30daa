"""A file cache of MediaPipe results (landmarks + masks quantised to uint8), for iterating on kinematics.

MediaPipe is most of the cost of a run; with its results cached, the kinematics, filters and rep/fault logic
can be re-scored on a whole clip set in seconds (``bench/accuracy.py --pose-cache``, ``tools/pose_cache.py``,
``tools/frames_from_cache.py``). One ``.npz`` per clip.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from hingecheck.core.types import PoseFrame

_ARRAYS = {  # per-frame array → shape per frame and the value of a frame without a person
    "landmarks_px": ((33, 2), np.nan),
    "landmarks_norm": ((33, 3), np.nan),
    "visibility": ((33,), 0.0),
    "presence": ((33,), 0.0),
    "world": ((33, 3), np.nan),
}


def quantised_mask(mask: np.ndarray | None) -> np.ndarray | None:
    """A 0..1 float mask as uint8 (what the cache stores: a quarter of float32's memory)."""
    return None if mask is None else np.clip(np.round(mask * 255), 0, 255).astype(np.uint8)


def save_pose_cache(path: Path, frames: list[PoseFrame], masks_u8: list[np.ndarray | None] | None = None) -> None:
    """Write the frames to ``path`` (.npz, compressed), with ``masks_u8`` or else each frame's own mask."""
    n = len(frames)
    h, w = frames[0].height, frames[0].width
    arrays: dict[str, Any] = {key: np.full((n, *shape), empty) for key, (shape, empty) in _ARRAYS.items()}
    masks = np.zeros((n, h, w), np.uint8)
    for i, f in enumerate(frames):
        if not f.detected:
            continue
        for key in arrays:
            value = getattr(f, key)
            if value is not None:
                arrays[key][i] = value
        mask = masks_u8[i] if masks_u8 is not None else quantised_mask(f.mask)
        if mask is not None:
            masks[i] = mask
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        index=np.array([f.index for f in frames]),
        time_s=np.array([f.time_s for f in frames]),
        detected=np.array([f.detected for f in frames]),
        n_people=np.array([f.n_people for f in frames]),
        masks=masks,
        width=w,
        height=h,
        **arrays,
    )


def iter_pose_cache(path: Path) -> Iterator[PoseFrame]:
    """The cached frames in order, one mask de-quantised at a time (a clip of float masks is GBs)."""
    d = dict(np.load(path))  # read each array once: NpzFile re-decompresses on every access
    w, h = int(d["width"]), int(d["height"])
    for i in range(len(d["index"])):
        det = bool(d["detected"][i])
        yield PoseFrame(
            index=int(d["index"][i]),
            time_s=float(d["time_s"][i]),
            width=w,
            height=h,
            detected=det,
            landmarks_px=d["landmarks_px"][i] if det else None,
            landmarks_norm=d["landmarks_norm"][i] if det else None,
            visibility=d["visibility"][i] if det else None,
            presence=d["presence"][i] if det else None,
            world=d["world"][i] if det and np.isfinite(d["world"][i]).all() else None,
            mask=(d["masks"][i].astype(np.float32) / 255.0) if det else None,
            n_people=int(d["n_people"][i]),
        )


def caching(frames: Iterable[PoseFrame], path: Path) -> Iterator[PoseFrame]:
    """Pass the frames through and write them to ``path`` once all have gone by."""
    kept: list[PoseFrame] = []
    masks: list[np.ndarray | None] = []
    for frame in frames:
        kept.append(frame.without_mask())
        masks.append(quantised_mask(frame.mask))
        yield frame
    if kept:
        save_pose_cache(path, kept, masks)
