"""The SQLite results store: migrations, upserts that never duplicate, aggregates, transactions."""

from __future__ import annotations

import json
import sqlite3

import pytest

from hingecheck.batch.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    RecordingKey,
    ResultStore,
    StoreError,
    recording_aggregates,
)
from hingecheck.batch.trends import arrow, attention_score, is_worse, sessions_of, worsening


def rep(index: int, share: float | None, capacity: float | None, faults: list[str] = (), partial: bool = False):
    return {
        "index": index,
        "partial": partial,
        "start_s": index * 3.0,
        "bottom_s": index * 3.0 + 1,
        "end_s": index * 3.0 + 2,
        "peak_hip_flexion_deg": 60.0,
        "peak_lumbar_flexion_deg": 20.0,
        "lumbar_share": share,
        "hinge_capacity_deg": capacity,
        "faults": [
            {"code": c, "time_s": index * 3.0 + 0.5, "message": f"{c} here", "cue": "hips back"} for c in faults
        ],
    }


def summary(reps: list[dict], status: str = "ok") -> dict:
    return {"status": status, "message": "", "warnings": [], "reps": reps, "frames": 300, "detection_rate": 1.0}


KEY = RecordingKey("c" * 64, "settings1", "m" * 64)


def upsert(store: ResultStore, key: RecordingKey, summ: dict, client="anna", path="anna/s1.mp4", when=None, out=None):
    return store.upsert_recording(
        key,
        client=client,
        path=path,
        source_root="/in",
        summary=summ,
        output_dir=out or f"/out/{path}",
        recorded_at=when,
        recorded_at_source="manifest",
    )


def test_new_store_is_migrated_and_in_wal_mode(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"recordings", "reps", "faults"} <= tables
        assert store.migrate() == 0  # idempotent


def test_old_schema_is_migrated_in_place_keeping_its_rows(tmp_path):
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO recordings (client, path, content_sha256, settings_hash, model_sha256, analysed_at, status) "
        "VALUES ('anna', 'a.mp4', 'c', 's', 'm', '2024-01-01', 'ok')"
    )
    conn.commit()
    conn.close()
    with ResultStore(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        row = store.recordings()[0]
        assert row["client"] == "anna" and row["fault_counts_json"] == "{}"


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path):
    db = tmp_path / "future.sqlite"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this hingecheck"):
        ResultStore(db)


def test_not_a_database_is_a_clear_error(tmp_path):
    db = tmp_path / "junk.sqlite"
    db.write_text("this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot be used"):
        ResultStore(db)


def test_same_key_upserts_one_row_and_replaces_reps_and_faults(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        first = upsert(store, KEY, summary([rep(1, 0.2, 40, ["spinal_flexion_takeover"]), rep(2, 0.4, None)]))
        again = upsert(store, KEY, summary([rep(1, 0.1, 50)]), when="2024-02-01T00:00:00")
        assert first == again
        assert store.count("recordings") == 1 and store.count("reps") == 1 and store.count("faults") == 0
        row = store.find(KEY)
        assert row["recorded_at"] == "2024-02-01T00:00:00" and row["mean_lumbar_share"] == pytest.approx(0.1)


def test_new_analysis_in_the_same_folder_replaces_the_old_row(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        upsert(store, KEY, summary([rep(1, 0.2, 40)]))
        changed = RecordingKey("d" * 64, KEY.settings_hash, KEY.model_sha256)  # the file at that path changed
        upsert(store, changed, summary([rep(1, 0.3, 30)]))
        assert store.count("recordings") == 1 and store.find(KEY) is None and store.find(changed) is not None
        upsert(store, KEY, summary([rep(1, 0.2, 40)]), path="anna/copy.mp4", out="/out/elsewhere")
        assert store.count("recordings") == 2


def test_failed_write_leaves_nothing_behind(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        bad = summary([rep(1, 0.2, 40), {"partial": False}])  # second rep lacks its index
        with pytest.raises(KeyError):
            upsert(store, KEY, bad)
        assert store.count("recordings") == 0 and store.count("reps") == 0


def test_aggregates_use_complete_reps_only():
    agg = recording_aggregates(
        summary(
            [
                rep(1, 0.2, 40.0, ["spinal_flexion_takeover"]),
                rep(2, 0.4, None),
                rep(3, 0.6, 20.0, ["extension_from_low_back", "spinal_flexion_takeover"]),
                rep(4, 0.9, 10.0, ["knee_dominant"], partial=True),
            ]
        )
    )
    assert agg["n_reps"] == 3 and agg["n_reps_with_faults"] == 2
    assert agg["fault_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert agg["mean_lumbar_share"] == pytest.approx(0.4)
    assert agg["mean_hinge_capacity_deg"] == pytest.approx(30.0)
    assert agg["fault_counts"] == {"spinal_flexion_takeover": 2, "extension_from_low_back": 1, "knee_dominant": 1}
    empty = recording_aggregates(summary([], status="no_person"))
    assert empty["n_reps"] == 0 and empty["fault_rate"] is None and empty["mean_lumbar_share"] is None


def test_trend_over_sessions_flags_a_worsening_client(tmp_path):
    # oldest → newest: good, better, then the low back takes over (inserted newest first, sorted by date)
    plan = [("2024-03-01", 0.45, ["spinal_flexion_takeover"]), ("2024-02-01", 0.15, []), ("2024-01-01", 0.2, [])]
    with ResultStore(tmp_path / "r.sqlite") as store:
        for i, (when, share, faults) in enumerate(plan):
            reps = [rep(1, share, 50.0, faults), rep(2, share, 50.0)]
            upsert(store, RecordingKey(f"{i}" * 64, "s", "m"), summary(reps), path=f"anna/{when}.mp4", when=when)
        upsert(store, RecordingKey("x" * 64, "s", "m"), summary([], "no_person"), path="anna/bad.mp4", when="2024")
        sessions = sessions_of(store.recordings("anna"))
    assert [s.recorded_at for s in sessions] == ["2024-01-01", "2024-02-01", "2024-03-01"]  # ok ones, by date
    assert sessions[0].change == {"fault_rate": None, "mean_lumbar_share": None, "mean_hinge_capacity_deg": None}
    assert sessions[1].change["mean_lumbar_share"] == pytest.approx(-0.05)
    assert arrow("mean_lumbar_share", sessions[1].change["mean_lumbar_share"]) == "↓"
    assert arrow("mean_hinge_capacity_deg", sessions[1].change["mean_hinge_capacity_deg"]) == "→"
    assert sessions[2].change["fault_rate"] == pytest.approx(0.5)
    assert arrow("fault_rate", 0.5) == "↑" and is_worse("fault_rate", 0.5)
    assert is_worse("mean_hinge_capacity_deg", -10.0) and not is_worse("mean_hinge_capacity_deg", 10.0)
    assert worsening(sessions) and not worsening(sessions[:2])
    assert attention_score(sessions, 0) > attention_score(sessions[:2], 0)
    assert attention_score(sessions[:2], 1) > attention_score(sessions[:2], 0)  # files to re-record count too


def test_every_declared_rep_and_fault_field_is_stored(tmp_path):
    """A rep's fields are declared once (core.types.Rep): the table has each, filled from summary.json."""
    from hingecheck.core.types import Fault, Rep

    full = Rep(1, 1.0, 2.0, 3.5, 30, 60, 105, return_start_s=2.4, peak_trunk_inclination_deg=71.0)
    full.faults.append(Fault("spinal_flexion_takeover", 1.8, 54, "rounded", "hips back", {"lumbar_deg": 21.5}))
    with ResultStore(tmp_path / "r.sqlite") as store:
        rec = upsert(store, KEY, summary([full.to_dict()]))
        stored = dict(store.reps(rec)[0])
        fault = dict(store.faults(rec)[0])
    assert stored["return_start_s"] == 2.4 and stored["peak_trunk_inclination_deg"] == 71.0
    assert stored["end_frame"] == 105 and stored["rep_index"] == 1
    assert fault["frame"] == 54 and fault["details_json"] == '{"lumbar_deg": 21.5}'


def test_a_store_missing_declared_columns_gains_them_on_open(tmp_path):
    """A results file written before these fields were declared (no return_start_s): opening it adds them."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.commit()
    conn.close()
    with ResultStore(path) as store:
        columns = {row[1] for row in store.conn.execute("PRAGMA table_info(reps)")}
        assert {"return_start_s", "peak_trunk_inclination_deg", "start_frame"} <= columns
        assert store.add_declared_columns() == []  # idempotent


def test_withheld_verdicts_are_stored_with_their_reasons(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        s = summary([rep(1, 0.2, 40)])
        s["verdicts_withheld"] = {"extension_from_low_back": "the back's outline is clothing"}
        upsert(store, KEY, s)
        stored = json.loads(store.find(KEY)["withheld_json"])
        assert stored == {"extension_from_low_back": "the back's outline is clothing"}
        upsert(store, KEY, summary([rep(1, 0.2, 40)]))  # analysed again without: nothing withheld
        assert json.loads(store.find(KEY)["withheld_json"]) == {}
