"""Gradient-boosted regression trees as flat node arrays, walked in numpy (the learned reading's trees).

sklearn fits them (tools/train_lumbopelvic.py turns each fitted model into one ``TreeEnsemble``); the package reads
them without it: a frame is read by walking every tree at once, one level per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TreeEnsemble:
    """Regression trees as flat node arrays (a leaf points to itself), summed over trees plus a base value."""

    feature: np.ndarray  # (nodes,) int
    threshold: np.ndarray  # (nodes,) go left when x <= threshold
    missing_left: np.ndarray  # (nodes,) bool: where NaN goes
    left: np.ndarray  # (nodes,) int
    right: np.ndarray  # (nodes,) int
    value: np.ndarray  # (nodes,) leaf values (0 inside)
    roots: np.ndarray  # (trees,) int
    depth: int
    base: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaves for each row of ``x`` (n, features)."""
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            v = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(v), self.missing_left[node], v <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return self.base + self.value[node].sum(axis=1)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Its arrays under ``prefix`` (for np.savez)."""
        return {
            f"{prefix}feature": self.feature.astype(np.int16),
            f"{prefix}threshold": self.threshold.astype(np.float64),
            f"{prefix}missing_left": self.missing_left.astype(bool),
            f"{prefix}left": self.left.astype(np.int32),
            f"{prefix}right": self.right.astype(np.int32),
            f"{prefix}value": self.value.astype(np.float64),
            f"{prefix}roots": self.roots.astype(np.int32),
            f"{prefix}meta": np.array([self.depth, self.base], float),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> TreeEnsemble:
        """The ensemble stored by ``arrays``."""
        depth, base = arrays[f"{prefix}meta"]
        return cls(
            arrays[f"{prefix}feature"].astype(np.intp),
            arrays[f"{prefix}threshold"],
            arrays[f"{prefix}missing_left"],
            arrays[f"{prefix}left"].astype(np.intp),
            arrays[f"{prefix}right"].astype(np.intp),
            arrays[f"{prefix}value"],
            arrays[f"{prefix}roots"].astype(np.intp),
            int(depth),
            float(base),
        )
