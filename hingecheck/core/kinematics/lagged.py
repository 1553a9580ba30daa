"""The learned reading's view of the recent past: each frame's features minus the same features a moment earlier.

One frame's silhouette cannot always tell whether the pelvis or the low back turned: it shares the motion
between them (issue 13: at the start of a low-back return the reading's hip fell 13° while the true hip moved
1.4°). The change since a fraction of a second ago can: the body's own shape, which one frame confuses with
posture, cancels in a difference. So the trees also read, for a few lags, the difference of the posture
features (the hand-made angles, the outline relative to standing, the CNN's readings) from the frame measured
that long before, and the model reads how far lumbar and hip flexion changed over the last ``change_window_s``
(the low-back rule's timing, rules.ExtensionFromLowBack).

The same function serves a whole clip (offline) and a live stream (``FeatureHistory`` keeps just the frames the
longest lag needs), so both read the same numbers. Only frames before each frame are used.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# the posture features whose recent change the trees read (prefixes of lumbopelvic.feature_names)
LAGGED_PREFIXES = ("rel_", "abs_rel_", "contour_rel_", "cnn_")
# the frame "that long before" is the measured frame nearest to t - lag, if within this share of the lag: live, a
# dropped frame's neighbour stands in for it; a clip's first frames have no difference (NaN: the trees know it)
LAG_TOLERANCE_SHARE = 0.2


def lagged_names(names: Sequence[str], lags_s: Sequence[float]) -> list[str]:
    """The difference columns' names, lag by lag: ``d<ms>_<feature>`` for every feature of ``names`` with a
    LAGGED_PREFIXES prefix."""
    chosen = [n for n in names if n.startswith(LAGGED_PREFIXES)]
    return [f"d{round(lag * 1000)}_{n}" for lag in lags_s for n in chosen]


def lagged_columns(names: Sequence[str]) -> np.ndarray:
    """Positions in ``names`` of the features whose change is read."""
    return np.array([i for i, n in enumerate(names) if n.startswith(LAGGED_PREFIXES)], np.intp)


def earlier_rows(time_s: np.ndarray, lag_s: float) -> np.ndarray:
    """Per row, the row whose time is nearest to its own minus ``lag_s`` (times ascending), or -1 when none lies
    within LAG_TOLERANCE_SHARE of the lag."""
    t = np.asarray(time_s, float)
    if len(t) == 0:
        return np.zeros(0, np.intp)
    want = t - lag_s
    hi = np.clip(np.searchsorted(t, want), 0, len(t) - 1)
    lo = np.clip(hi - 1, 0, len(t) - 1)
    pick = np.where(np.abs(t[lo] - want) <= np.abs(t[hi] - want), lo, hi)
    ok = (np.abs(t[pick] - want) <= LAG_TOLERANCE_SHARE * lag_s) & (t[pick] < t)
    return np.where(ok, pick, -1)


def lagged_differences(x: np.ndarray, time_s: np.ndarray, lags_s: Sequence[float], columns: np.ndarray) -> np.ndarray:
    """(n, len(lags_s)·len(columns)): each row's ``columns`` minus those of the row ``lag`` earlier (NaN where
    there is none), lag by lag. ``x`` holds the measured frames only, in time order."""
    parts = []
    for lag in lags_s:
        j = earlier_rows(time_s, lag)
        d = x[:, columns] - x[np.maximum(j, 0)][:, columns]
        d[j < 0] = np.nan
        parts.append(d)
    return np.concatenate(parts, 1) if parts else np.zeros((len(x), 0))


@dataclass
class FeatureHistory:
    """Live: the measured frames' feature rows of the last ``keep_s`` seconds, to take a new row's differences
    from exactly as ``lagged_differences`` takes them from a whole clip."""

    keep_s: float
    _rows: deque[tuple[float, np.ndarray]] = field(default_factory=deque)

    def with_row(self, time_s: float, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add a frame's row; the (times, rows) to difference it against, itself last."""
        self._rows.append((time_s, row))
        # keep one frame beyond the longest lag's tolerance, so the nearest one can still be chosen
        while len(self._rows) > 2 and self._rows[1][0] < time_s - self.keep_s:
            self._rows.popleft()
        return np.array([t for t, _ in self._rows]), np.stack([r for _, r in self._rows])
