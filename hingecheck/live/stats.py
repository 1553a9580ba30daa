"""Latency bookkeeping of a live session (capture → verdict) and the stats written to live_stats.json."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LiveStats:
    """Latency accounting of one session (capture → verdict), written to live_stats.json."""

    frames_captured: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_paused: int = 0
    fps: float = 0.0
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0
    latency_ms_max: float = 0.0
    pose_ms_p50: float = 0.0
    pose_ms_p95: float = 0.0
    rest_ms_p50: float = 0.0  # kinematics + smoothing + tracker per frame
    rest_ms_p95: float = 0.0
    duration_s: float = 0.0
    record_stalls: int = 0
    load_avg_start: list[float] = field(default_factory=list)
    load_avg_end: list[float] = field(default_factory=list)
    source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def dropped_share(self) -> float:
        """Share of the captured frames dropped because a newer one arrived first."""
        return self.frames_dropped / self.frames_captured if self.frames_captured else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (floats rounded to 3 places, plus ``dropped_share``)."""
        d = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        d["dropped_share"] = round(self.dropped_share, 4)
        return d


def percentile_ms(values_s: list[float], q: float) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (0 for none)."""
    return float(np.percentile(values_s, q) * 1000.0) if values_s else 0.0


def load_avg() -> list[float]:
    """The machine's 1/5/15-minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


class LatencyBook:
    """Per-frame timings of a session: capture → verdict latency, pose time and the rest, first and last frame."""

    def __init__(self) -> None:
        self.t_start = time.perf_counter()
        self.t_first: float | None = None  # capture time of the first processed frame
        self.t_last = self.t_start  # when the last processed frame was done
        self.latencies_s: list[float] = []
        self.pose_s: list[float] = []
        self.rest_s: list[float] = []

    def elapsed_s(self) -> float:
        """Seconds since the session's loop began."""
        return time.perf_counter() - self.t_start

    def frame_done(self, captured_at: float, pose_start: float, pose_end: float, done: float) -> None:
        """Book one processed frame: captured, pose inference from ``pose_start`` to ``pose_end``, done at ``done``."""
        self.latencies_s.append(done - captured_at)
        self.pose_s.append(pose_end - pose_start)
        self.rest_s.append(done - pose_end)
        self.t_first = captured_at if self.t_first is None else self.t_first
        self.t_last = done

    def perf_text(self) -> str:
        """The HUD's corner line: processed frames per second and the last frame's latency."""
        n = len(self.latencies_s)
        span = self.t_last - (self.t_first or self.t_last)
        last_ms = self.latencies_s[-1] * 1e3 if self.latencies_s else 0.0
        return f"{n / max(span, 1e-6):.0f} fps  {last_ms:.0f} ms"

    def fill(self, stats: LiveStats, frames_processed: int) -> None:
        """Write the timing fields of ``stats`` from what was booked."""
        stats.duration_s = self.t_last - self.t_start
        span = self.t_last - (self.t_first if self.t_first is not None else self.t_start)
        stats.fps = (frames_processed - 1) / span if frames_processed > 1 and span > 0 else 0.0
        stats.latency_ms_p50 = percentile_ms(self.latencies_s, 50)
        stats.latency_ms_p95 = percentile_ms(self.latencies_s, 95)
        stats.latency_ms_max = percentile_ms(self.latencies_s, 100)
        stats.pose_ms_p50, stats.pose_ms_p95 = percentile_ms(self.pose_s, 50), percentile_ms(self.pose_s, 95)
        stats.rest_ms_p50, stats.rest_ms_p95 = percentile_ms(self.rest_s, 50), percentile_ms(self.rest_s, 95)
        stats.load_avg_end = load_avg()
