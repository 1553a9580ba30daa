"""The flat-array tree walk (hingecheck/core/kinematics/trees.py)."""

from __future__ import annotations

import numpy as np

from hingecheck.core.kinematics.trees import TreeEnsemble


def stump(threshold: float, missing_left: bool) -> TreeEnsemble:
    """One tree: x0 <= threshold → 1.0, else 5.0 (base 10)."""
    return TreeEnsemble(
        feature=np.array([0, 0, 0]),
        threshold=np.array([threshold, 0.0, 0.0]),
        missing_left=np.array([missing_left, False, False]),
        left=np.array([1, 1, 2]),
        right=np.array([2, 1, 2]),
        value=np.array([0.0, 1.0, 5.0]),
        roots=np.array([0]),
        depth=1,
        base=10.0,
    )


def test_tree_walk_follows_thresholds_and_sends_nan_to_its_side():
    x = np.array([[0.5], [2.0], [np.nan]])
    assert stump(1.0, True).predict(x).tolist() == [11.0, 15.0, 11.0]
    assert stump(1.0, False).predict(x).tolist() == [11.0, 15.0, 15.0]
    # two trees sum (a second root at node 3)
    two = stump(1.0, True)
    both = TreeEnsemble(
        *(np.concatenate([getattr(two, k), getattr(two, k) + (3 if k in ("left", "right") else 0)])
          for k in ("feature", "threshold", "missing_left", "left", "right", "value")),
        roots=np.array([0, 3]), depth=1, base=0.0,
    )  # fmt: skip
    assert both.predict(np.array([[2.0]])).tolist() == [10.0]
