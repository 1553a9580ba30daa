"""The real-footage bench's verdict rule, on hand-made summary.json dicts (no clips: they are not ours to ship)."""

from __future__ import annotations

from typing import Any

from bench.real import (
    KNEE,
    LOCKOUT,
    LOW_BACK_RETURN,
    TAKEOVER,
    ClipLabel,
    ClipRow,
    detected_exercise,
    faults_cell,
    rep_fault_codes,
    summary_line,
    verdict,
    warning_codes,
)
from hingecheck.core.movement.exercise import ExerciseChoice


def summary(*reps: list[str], warnings: tuple[str, ...] = (), status: str = "ok") -> dict[str, Any]:
    return {
        "status": status,
        "message": "",
        "warnings": [{"code": w, "message": "..."} for w in warnings],
        "reps": [
            {"index": i + 1, "partial": False, "faults": [{"code": c, "time_s": 1.0, "message": ""} for c in codes]}
            for i, codes in enumerate(reps)
        ],
    }


def judge(label: str, s: dict[str, Any], view: str = "side", reps: tuple[int, int] = (9, 11)):
    return verdict(label, view, *reps, rep_fault_codes(s), warning_codes(s), s["status"])


def test_good_clip_allows_at_most_a_tenth_of_reps_flagged() -> None:
    assert judge("good", summary(*[[]] * 9, [LOCKOUT])).right  # 1 of 10
    v = judge("good", summary(*[[]] * 8, [LOCKOUT], [KNEE, LOCKOUT]))  # 2 of 10
    assert not v.right and v.unflagged is False and v.reps_in_range
    assert not judge("good", summary(*[[KNEE]] * 10)).right


def test_good_clip_with_few_reps_must_be_clean() -> None:
    assert judge("good", summary([]), reps=(1, 1)).right
    assert not judge("good", summary([LOCKOUT]), reps=(1, 1)).right


def test_rounded_and_squat_need_their_fault_on_80_percent() -> None:
    assert judge("rounded", summary(*[[TAKEOVER]] * 8, [], [])).right
    v = judge("rounded", summary(*[[TAKEOVER]] * 7, [], [], [KNEE]))
    assert not v.right and v.caught is False
    assert judge("squat", summary(*[[KNEE, LOCKOUT]] * 9, [])).right
    assert not judge("squat", summary(*[[TAKEOVER]] * 10)).right


def test_rep_count_out_of_range_is_wrong_whatever_the_faults() -> None:
    v = judge("good", summary(), reps=(1, 1))
    assert not v.right and not v.reps_in_range and "0 reps" in v.why
    assert v.unflagged is False  # no rep found is not "left unflagged"
    v = judge("rounded", summary(), reps=(0, 1))  # nothing to judge when no rep is expected
    assert v.right and v.caught is None
    assert judge("squat", summary(), reps=(1, 2)).caught is False


def test_unscored_labels_are_judged_on_the_count_only() -> None:
    for label in ("hip_first", "mixed", "bad_unspecified", "unknown"):
        assert judge(label, summary(*[[TAKEOVER, KNEE]] * 10)).right
        assert not judge(label, summary(*[[]] * 3)).right


def test_oblique_view_needs_the_warning_and_no_lumbar_verdict() -> None:
    warned = ("not_side_on",)
    assert judge("rounded", summary(*[[]] * 10, warnings=warned), view="oblique45").right
    v = judge("rounded", summary(*[[TAKEOVER]] * 10, warnings=warned), view="oblique45")
    assert not v.right and v.oblique_ok is False and v.caught is None
    assert not judge("rounded", summary(*[[]] * 10), view="oblique45").right  # not warned
    assert not judge("good", summary(*[[LOW_BACK_RETURN]] + [[]] * 9, warnings=warned), view="oblique45").right
    assert not judge("good", summary(*[[KNEE]] * 10, warnings=warned), view="oblique45").right
    assert judge("squat", summary(*[[KNEE]] * 10, warnings=warned), view="oblique45").right


def test_failed_analysis_is_wrong_and_counted_as_not_analysed() -> None:
    v = judge("good", summary(status="error"))
    assert not v.right and v.unflagged is False
    lab = ClipLabel("a.mp4", "rdl", "standing", "side", "good", 1, 1)
    ok = ClipLabel("b.mp4", "rdl", "standing", "side", "rounded", 1, 1)
    rows = [ClipRow(lab, "error", "cannot decode"), ClipRow(ok, "ok", reps=[[TAKEOVER]])]
    line = summary_line(rows)
    assert "verdicts right 1/2" in line and "good clips left unflagged 0/1" in line
    assert "faulty clips caught 1/1" in line and "clips analysed 1/2" in line


def test_compact_fault_cell() -> None:
    assert faults_cell([[KNEE, LOCKOUT], [], [TAKEOVER]]) == "KL · T  (K1 L1 T1)"
    assert faults_cell([]) == "—"


def test_detected_exercise_is_read_when_reported() -> None:
    assert detected_exercise({"exercise": "kb_deadlift"}) == "kb_deadlift"
    # summary.json's own form: ``detected`` says whether it was detected, the name is ``name``
    reported = ExerciseChoice("kb_deadlift", True, "the knees bend 57° at the bottom").to_dict()
    assert detected_exercise({"exercise": reported}) == "kb_deadlift"
    assert detected_exercise({}) == ""
