"""The corpus plan (tools/build_corpus.py) is the committed manifest, split by body, with its training emphasis."""

from __future__ import annotations

from collections import Counter

from tools.build_corpus import BAR_FROM, N_CLIPS, SEED, plan, read_manifest


def test_the_committed_manifest_is_the_plan() -> None:
    """A retrain on a new machine re-renders exactly the committed clips: the manifest is the seed's plan."""
    rows = read_manifest()
    planned = plan(SEED, N_CLIPS)
    assert len(rows) == N_CLIPS
    for got, want in zip(rows, planned, strict=True):
        assert got["clip"] == want["clip"] and got["split"] == want["split"] and got["flags"] == want["flags"]


def test_bodies_are_split_and_validation_keeps_its_own_draws() -> None:
    rows = plan(SEED, N_CLIPS)
    assert len({r["body_id"] for r in rows}) == N_CLIPS  # one body per clip: no body in both splits
    split = Counter(r["split"] for r in rows)
    assert split["val"] >= 40 and split["train"] > 3 * split["val"]
    late_val = [r for r in rows if r["index"] >= BAR_FROM and r["split"] == "val"]
    assert Counter(r["prop"] for r in late_val)["bar"] < len(late_val) / 2  # the bar emphasis is training-only


def test_two_of_three_late_training_bodies_hold_a_bar_one_of_them_turned() -> None:
    late = [r for r in plan(SEED, N_CLIPS) if r["index"] >= BAR_FROM and r["split"] == "train"]
    steered = [r for r in late if r["index"] % 3 != 2]
    assert all(r["prop"] == "bar" and r["arms"] == "hanging" for r in steered)
    turned = [r for r in steered if r["index"] % 3 == 1]
    assert turned and all(20 <= abs(r["yaw_deg"]) <= 35 for r in turned)
