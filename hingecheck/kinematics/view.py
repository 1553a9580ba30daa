"""Clip-level view checks: is this a usable side view of one whole person?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import PoseFrame, Warning_
from .sagittal import FrameMeasurement


def assess_view(measurements: Sequence[FrameMeasurement], poses: Sequence[PoseFrame]) -> list[Warning_]:
    warnings: list[Warning_] = []
    if poses:
        multi = np.mean([p.n_people > 1 for p in poses])
        if multi > 0.2:
            warnings.append(
                Warning_(
                    "multiple_people",
                    f"More than one person was in view in {multi:.0%} of the "
                    "frames; the largest, steadiest person was analysed. Film the lifter alone.",
                )
            )
    return warnings
