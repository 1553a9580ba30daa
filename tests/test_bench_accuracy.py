"""The accuracy bench's table: pooled RMSE over frames, and the in-scope row (cameras within 30° of side-on)."""

from __future__ import annotations

import numpy as np

from bench.accuracy import IN_SCOPE_YAW_DEG, METHODS, SCORED, STATED, ClipResult, _table_rows


def clip(name: str, yaw_deg: float, error_deg: float, n: int = 10, uncertainty_deg: float = 5.0) -> ClipResult:
    """A clip whose every angle is off by ``error_deg`` on every frame (the hand-made reading by twice that)."""
    errors = {m: {c: np.full(n, error_deg * (2 if m == "hand_made" else 1)) for c in SCORED} for m in METHODS}
    return ClipResult(
        clip=name,
        yaw_deg=yaw_deg,
        n_frames=n,
        errors=errors,
        uncertainty={c: np.full(n, uncertainty_deg) for c in STATED},
        baseline_hip_error=np.full(n, 10.0),
        coverage={m: 1.0 for m in METHODS},
        ms_per_frame={m: 0.5 for m in METHODS},
    )


def test_overall_pools_frames_and_in_scope_row_drops_turned_cameras() -> None:
    side_on, turned = clip("a", 10.0, 3.0), clip("b", IN_SCOPE_YAW_DEG + 3, 9.0, uncertainty_deg=2.0)
    header, rows = _table_rows([side_on, turned])
    hip = header.index("hip rmse old → new")
    assert [r[0] for r in rows] == ["a", "b", "overall", "|yaw| ≤ 30° (1)"]
    # pooled over the 20 frames: sqrt((10·9 + 10·81) / 20)
    assert rows[2][hip] == f"{2 * np.sqrt(45):.1f} → {np.sqrt(45):.1f}"
    assert rows[3][hip] == "6.0 → 3.0"
    # the turned clip is above 7° with a stated ±2°: silent, counted in the overall row only
    assert rows[1][-1] == "above 7°, SILENT"
    assert rows[2][-1] == "1 above 7°, 1 silent" and rows[3][-1] == "0 above 7°, 0 silent"


def test_no_in_scope_row_when_every_clip_is_in_scope() -> None:
    _, rows = _table_rows([clip("a", 5.0, 1.0), clip("b", -IN_SCOPE_YAW_DEG, 1.0)])
    assert [r[0] for r in rows] == ["a", "b", "overall"]
