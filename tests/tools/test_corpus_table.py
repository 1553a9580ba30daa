"""The committed training table (data/corpus/, tools/extract_corpus.py) reads back as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.corpus_table import SHARD_DIR, load_table

pytestmark = pytest.mark.skipif(not (SHARD_DIR / "devset.npz").exists(), reason="no devset shard")


@pytest.fixture(scope="module")
def devset():
    return load_table("devset", shards=["devset"])


def test_shapes_and_columns(devset) -> None:
    n = len(devset["frame"])
    assert len(devset.clips) == 8 and n > 1000
    assert devset["gt_angles"].shape == (n, len(devset.columns["gt_angles"]))
    assert devset["gt_points"].shape == (n, 23, 2) and devset["landmarks_px"].shape == (n, 33, 2)
    assert devset["crop"].shape == (n, 64, 64) and devset["crop"].dtype == np.uint8
    assert devset["contour"].shape == (n, 53) and devset["pelvis_window"].shape == (n, 11, 2)
    assert set(devset["clip_index"]) == set(range(8))


def test_crop_transform_maps_the_trunk_axis_upright(devset) -> None:
    """Hip-mid lands 0.5 trunk lengths below the crop centre and shoulder-mid 0.5 above it, on the centre column;
    the trunk's middle is inside the body and the back is on the left."""
    det = devset["detected"]
    px = devset["landmarks_px"][det]
    xf = devset["crop_xform"][det]
    hip = 0.5 * (px[:, 23] + px[:, 24])
    sho = 0.5 * (px[:, 11] + px[:, 12])
    c, cell, ang, facing = xf[:, :2], xf[:, 2], np.radians(xf[:, 3]), xf[:, 4]
    up = np.stack([np.sin(ang), -np.cos(ang)], 1)  # angle from image-up, clockwise +
    ventral = facing[:, None] * np.stack([-up[:, 1], up[:, 0]], 1)
    for p, row in ((hip, 47.5), (sho, 15.5)):
        rel = (p - c) / cell[:, None]
        x = 31.5 + np.einsum("nc,nc->n", rel, ventral)
        y = 31.5 - np.einsum("nc,nc->n", rel, up)
        assert np.allclose(x, 31.5, atol=0.05) and np.allclose(y, row, atol=0.05)
    crops = devset["crop"][det].astype(float)
    assert np.median(crops[:, 30:34, 30:34].mean(axis=(1, 2))) > 200  # the trunk's middle is body
    # the back is on the left: the contour station at 0.5 L (its back edge, d trunk lengths behind the axis) sits at
    # column 31.5 - 32 d of crop row 31.5, with body to its right and background to its left
    d = devset["contour"][det][:, 32]
    ok = np.isfinite(d)
    col = np.round(31.5 - 32 * d[ok]).astype(int)
    row = 0.5 * (crops[ok, 31] + crops[ok, 32])
    k = np.arange(len(col))
    inside = row[k, np.clip(col + 2, 0, 63)]
    outside = row[k, np.clip(col - 2, 0, 63)]
    assert np.mean((inside > 160) & (outside < 100)) > 0.95


def test_hand_made_baseline_matches_analyze(devset) -> None:
    """hm_smooth is what `hingecheck analyze` reports: devset RMSE near the README's 3.9° hip / 3.8° lumbar."""
    g, h = devset["gt_angles"], devset["hm_smooth"]
    for name in ("hip_flexion_deg", "lumbar_flexion_deg"):
        e = h[:, devset.col("hm_smooth", name)] - g[:, devset.col("gt_angles", name)]
        assert np.sqrt(np.nanmean(e**2)) < 5.0


def test_every_shard_is_split_by_body() -> None:
    shards = sorted(Path(SHARD_DIR).glob("c[0-9][0-9][0-9].npz"))
    if not shards:
        pytest.skip("no corpus shards")
    t = load_table(crops=False)
    split_of: dict[str, set[str]] = {}
    for c in t.clips:
        split_of.setdefault(c["body_id"], set()).add(c["split"])
    assert all(len(s) == 1 for s in split_of.values())
