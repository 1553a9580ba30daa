"""Do live and offline agree? Reps matched in order: same count, same fault codes, times within a tolerance."""

from __future__ import annotations

from dataclasses import dataclass, field

from hingecheck.core.types import Rep

REP_TIMES = ("start_s", "bottom_s", "return_start_s", "end_s")


@dataclass
class RepComparison:
    """How a live session's reps compare with analyze's on the same clip."""

    n_offline: int
    n_live: int
    max_time_diff_s: float = 0.0  # largest difference of any matched rep time or fault time
    worst: str = ""  # which time that was ("rep 2 bottom_s")
    problems: list[str] = field(default_factory=list)

    @property
    def same_reps(self) -> bool:
        """Both found the same number of reps."""
        return self.n_offline == self.n_live

    def ok(self, tolerance_s: float) -> bool:
        """No count or fault difference, and every matched time within ``tolerance_s``."""
        return not self.problems and self.max_time_diff_s <= tolerance_s + 1e-9


def compare_reps(offline: list[Rep], live: list[Rep]) -> RepComparison:
    """Compare two rep lists rep by rep (in order); problems name every count or fault-code difference."""
    out = RepComparison(len(offline), len(live))
    if len(offline) != len(live):
        out.problems.append(f"{len(offline)} reps offline, {len(live)} live")
    for a, b in zip(offline, live, strict=False):
        if a.partial != b.partial:
            out.problems.append(f"rep {a.index}: partial {a.partial} offline, {b.partial} live")
        codes_a, codes_b = sorted(a.fault_codes), sorted(b.fault_codes)
        if codes_a != codes_b:
            out.problems.append(f"rep {a.index}: faults {codes_a or 'none'} offline, {codes_b or 'none'} live")
        pairs = [(name, getattr(a, name), getattr(b, name)) for name in REP_TIMES]
        fb = {f.code: f for f in b.faults}
        pairs += [(f"fault {f.code}", f.time_s, fb[f.code].time_s) for f in a.faults if f.code in fb]
        for name, ta, tb in pairs:
            if ta is None or tb is None:
                if (ta is None) != (tb is None):
                    out.problems.append(f"rep {a.index}: {name} only {'live' if ta is None else 'offline'}")
                continue
            diff = abs(ta - tb)
            if diff > out.max_time_diff_s:
                out.max_time_diff_s, out.worst = diff, f"rep {a.index} {name}"
    return out
