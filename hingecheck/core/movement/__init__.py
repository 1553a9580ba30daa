"""Movement analysis: reps, phases, faults and cues.

``RepTracker`` is a streaming state machine (one FrameAngles at a time) used by live mode; ``analyse_reps``
is the offline entry point and simply streams every frame of a clip through the same tracker, so live and
offline give the same reps and faults for the same angles.
"""

from __future__ import annotations

from hingecheck.core.movement.cues import CUES, cue_for
from hingecheck.core.movement.events import Event, FaultFound, RepBottom, RepCompleted, RepStarted
from hingecheck.core.movement.faults import FAULT_CODES
from hingecheck.core.movement.reps import RepTracker
from hingecheck.core.settings import FaultConfig, RepConfig, Settings
from hingecheck.core.types import AngleSeries, Rep

__all__ = [
    "CUES",
    "FAULT_CODES",
    "Event",
    "FaultConfig",
    "FaultFound",
    "RepBottom",
    "RepCompleted",
    "RepConfig",
    "RepStarted",
    "RepTracker",
    "analyse_reps",
    "cue_for",
    "track",
]


def track(series: AngleSeries, tracker: RepTracker) -> list[Rep]:
    """Stream a whole series through ``tracker`` and return the reps it completed (partial ones included)."""
    for frame in series:
        tracker.update(frame)
    tracker.finish()
    return list(tracker.reps)


def analyse_reps(
    series: AngleSeries,
    settings: Settings,
    start_at_bottom: bool | None = None,
    exercise: str = "hinge",
    back_measure: str = "lumbar",
    reference_trunk_deg: float | None = None,
) -> list[Rep]:
    """Offline entry point: stream the whole series through the rep tracker (``RepTracker`` for the options)."""
    tracker = RepTracker.from_settings(settings, start_at_bottom, exercise, back_measure, reference_trunk_deg)
    return track(series, tracker)
