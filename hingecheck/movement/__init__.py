"""Movement analysis: reps, phases, faults and cues.

``RepTracker`` is a streaming state machine (one FrameAngles at a time) used by live mode; ``analyse_reps``
is the offline entry point and simply streams every frame of a clip through the same tracker, so live and
offline give the same reps and faults for the same angles.
"""

from __future__ import annotations

from ..config import Settings
from ..types import AngleSeries, Rep
from .cues import CUES, cue_for
from .faults import FAULT_CODES, FaultConfig
from .reps import Event, FaultFound, RepBottom, RepCompleted, RepConfig, RepStarted, RepTracker

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


def analyse_reps(series: AngleSeries, settings: Settings) -> list[Rep]:
    """Offline entry point: stream the whole series through the rep tracker."""
    return track(series, RepTracker.from_settings(settings))
