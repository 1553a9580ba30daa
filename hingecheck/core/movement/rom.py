"""A person's own back range (the range test): one full forward bend and one back arch, standing.

With a range, a takeover is judged as a share of that person's own flexion (``[faults] range_share_tolerance``)
rather than against the population default, and each rep reports its lumbar flexion as a share of the range.
The range comes from ``hingecheck calibrate`` (a short clip: stand still, bend fully forward, stand, arch back)
and is remembered per client in the results store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from hingecheck.core.errors import HingecheckError
from hingecheck.core.settings import FaultConfig
from hingecheck.core.types import AngleSeries, Rep

# The bend must be a real forward bend: the trunk goes this far past standing (a full bend reaches 90–120°;
# a hinge to the knees ~60°). Percentiles, not extremes, so a glitching frame cannot set a range.
MIN_BEND_TRUNK_DEG = 60.0
FLEXION_PERCENTILE = 98.0
EXTENSION_PERCENTILE = 2.0
MIN_MEASURED_FRAMES = 10
# ... and the back must round in it: a full bend rounds the lumbar spine 40–60° (Esola 1996, Tafazzol 2014);
# a hinge with a flat back is not a range test, and a range taken from it would flag every rep afterwards.
MIN_BEND_LUMBAR_DEG = 20.0


class RangeTestError(HingecheckError):
    """The range-test clip shows no usable full bend (or no measurable back)."""

    status = "range_test_failed"


@dataclass(frozen=True)
class BackRange:
    """A person's measured range, degrees from their own standing posture (flexion and extension positive)."""

    lumbar_flexion_deg: float  # the outline's lumbar window at the full forward bend
    spine_flexion_deg: float  # the whole back (hip→shoulder line minus the pelvis) at the full bend
    lumbar_extension_deg: float | None  # arching past standing at the back bend (None: no arch in the clip)
    hip_flexion_deg: float  # hip flexion at the full bend

    def to_dict(self) -> dict[str, float | None]:
        """The range as stored and reported (degrees, one decimal)."""
        return {k: None if v is None else round(float(v), 1) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, float | None]) -> BackRange:
        """A range as stored (``to_dict``)."""
        return cls(
            float(values["lumbar_flexion_deg"] or math.nan),
            float(values["spine_flexion_deg"] or math.nan),
            None if values.get("lumbar_extension_deg") is None else float(values["lumbar_extension_deg"] or 0.0),
            float(values["hip_flexion_deg"] or math.nan),
        )


def measure_range(series: AngleSeries) -> BackRange:
    """The range shown by a range-test clip's angles (relative to its standing reference)."""
    trunk = np.asarray(series.trunk_inclination_deg, float)
    lumbar = np.asarray(series.lumbar_flexion_deg, float)
    spine = trunk - np.asarray(series.pelvic_tilt_deg, float)
    if not np.isfinite(trunk).any() or float(np.nanmax(trunk)) < MIN_BEND_TRUNK_DEG:
        raise RangeTestError(
            f"no full forward bend in the range test (the trunk must go at least {MIN_BEND_TRUNK_DEG:.0f}° "
            "past standing): stand side-on, bend down as far as you comfortably can, come back up, then arch back"
        )
    if np.isfinite(lumbar).sum() < MIN_MEASURED_FRAMES or np.isfinite(spine).sum() < MIN_MEASURED_FRAMES:
        raise RangeTestError("the back's outline could not be measured in the range test (film side-on, fitted top)")
    flexion = float(np.nanpercentile(lumbar, FLEXION_PERCENTILE))
    if flexion < MIN_BEND_LUMBAR_DEG:
        raise RangeTestError(
            f"no full forward bend in the range test (the low back rounded only {flexion:.0f}°; let it round as far "
            "as is comfortable, hands towards the floor)"
        )
    arch = float(np.nanpercentile(lumbar, EXTENSION_PERCENTILE))
    return BackRange(
        lumbar_flexion_deg=flexion,
        spine_flexion_deg=float(np.nanpercentile(spine, FLEXION_PERCENTILE)),
        lumbar_extension_deg=-arch if arch < 0 else None,
        hip_flexion_deg=float(np.nanpercentile(series.hip_flexion_deg, FLEXION_PERCENTILE)),
    )


def faults_for_range(faults: FaultConfig, back_range: BackRange | None) -> FaultConfig:
    """The takeover tolerances as a share of the person's own flexion, when their range is known."""
    if back_range is None:
        return faults
    share = faults.range_share_tolerance
    return replace(
        faults,
        lumbar_tolerance_deg=share * back_range.lumbar_flexion_deg,
        spine_tolerance_deg=share * back_range.spine_flexion_deg,
    )


def add_range_shares(reps: Sequence[Rep], back_range: BackRange | None) -> None:
    """Each rep's peak lumbar flexion as a share of the person's range (left empty without a range)."""
    for rep in reps:
        if back_range is None or rep.peak_lumbar_flexion_deg is None or back_range.lumbar_flexion_deg <= 0:
            rep.lumbar_range_share = None
        else:
            rep.lumbar_range_share = rep.peak_lumbar_flexion_deg / back_range.lumbar_flexion_deg
