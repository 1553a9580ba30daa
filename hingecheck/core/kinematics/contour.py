"""The dorsal outline (the skin line of the back) from a soft segmentation mask.

Everything works on the soft mask (float 0..1) with bilinear sampling, and edges are the sub-pixel
0.5 crossings, so the outline is not quantised to whole pixels (the mask limits accuracy more than
the landmarks, DESIGN §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGE_LEVEL = 0.5  # the mask's person/background decision level


def sample_bilinear(mask: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Mask values at pixel positions ``xy`` (..., 2), bilinear; 0 outside the image.

    Pixel centres sit at integer coordinates (MediaPipe landmark pixels are x·W, so they are off by ≤ 0.5 px,
    the same for every frame and hence cancelled by the standing baseline).
    """
    h, w = mask.shape
    x = xy[..., 0]
    y = xy[..., 1]
    inside = (x >= 0) & (y >= 0) & (x <= w - 1) & (y <= h - 1)
    xc = np.clip(x, 0, w - 1.000001)
    yc = np.clip(y, 0, h - 1.000001)
    x0 = xc.astype(np.intp)
    y0 = yc.astype(np.intp)
    fx = xc - x0
    fy = yc - y0
    v00 = mask[y0, x0]
    v01 = mask[y0, x0 + 1]
    v10 = mask[y0 + 1, x0]
    v11 = mask[y0 + 1, x0 + 1]
    top = v00 + (v01 - v00) * fx
    bottom = v10 + (v11 - v10) * fx
    return np.where(inside, top + (bottom - top) * fy, 0.0)


def march_to_edge(
    mask: np.ndarray, origins: np.ndarray, direction: np.ndarray, max_len_px: float, step_px: float = 0.5
) -> np.ndarray:
    """Distance from each origin (K, 2) along ``direction`` (2,) or (K, 2) to the first 0.5 crossing.

    The crossing is interpolated linearly between the two samples around it (sub-pixel). NaN where the
    origin is not inside the person or no edge is met within ``max_len_px``.
    """
    n_steps = max(int(np.ceil(max_len_px / step_px)) + 1, 2)
    dist = np.arange(n_steps) * step_px  # (S,)
    direction = np.broadcast_to(direction, origins.shape)
    pts = origins[:, None, :] + dist[None, :, None] * direction[:, None, :]  # (K, S, 2)
    vals = sample_bilinear(mask, pts)  # (K, S)
    outside = vals < EDGE_LEVEL
    first = np.argmax(outside, axis=1)  # first outside sample (0 if none or origin outside)
    ok = outside.any(axis=1) & (first > 0)
    k = np.arange(len(origins))
    i1 = np.where(ok, first, 1)
    v_in = vals[k, i1 - 1]
    v_out = vals[k, i1]
    frac = np.clip((v_in - EDGE_LEVEL) / np.maximum(v_in - v_out, 1e-6), 0.0, 1.0)
    out = (i1 - 1 + frac) * step_px
    return np.where(ok, out, np.nan)


@dataclass
class LineFit:
    """A straight line fitted to outline points (total least squares)."""

    centre: np.ndarray  # (2,) pixels
    direction: np.ndarray  # (2,) unit vector, oriented like the reference direction given to the fit
    rms_residual_px: float
    n_points: int


def fit_line(points: np.ndarray, reference: np.ndarray) -> LineFit | None:
    """Principal direction of ``points`` (N, 2), NaN rows ignored, oriented so it agrees with ``reference``."""
    pts = points[np.isfinite(points).all(axis=1)]
    if len(pts) < 3:
        return None
    centre = pts.mean(axis=0)
    d = pts - centre
    cov = d.T @ d
    evals, evecs = np.linalg.eigh(cov)
    direction = evecs[:, 1]
    if direction @ reference < 0:
        direction = -direction
    rms = float(np.sqrt(max(evals[0], 0.0) / len(pts)))
    return LineFit(centre, direction, rms, len(pts))


def dorsal_points(
    mask: np.ndarray,
    origin: np.ndarray,
    axis_unit: np.ndarray,
    dorsal_unit: np.ndarray,
    stations_px: np.ndarray,
    max_len_px: float,
    step_px: float = 0.5,
) -> np.ndarray:
    """Outline points (K, 2) met by marching towards the back from stations along an axis; NaN rows where none."""
    origins = origin[None, :] + stations_px[:, None] * axis_unit[None, :]
    dist = march_to_edge(mask, origins, dorsal_unit, max_len_px, step_px)
    return origins + dist[:, None] * dorsal_unit[None, :]
