"""Movement analysis: reps, phases, faults and cues (provisional placeholder; the movement work replaces it)."""

from __future__ import annotations

from ..config import Settings
from ..types import AngleSeries, Rep


def analyse_reps(series: AngleSeries, settings: Settings) -> list[Rep]:
    """Offline entry point: stream the whole series through the rep tracker."""
    return []
