"""The portal's tables live beside the results store's in one file, with their own version table."""

from __future__ import annotations

from hingecheck.batch.store import SCHEMA_VERSION as STORE_VERSION
from hingecheck.batch.store import ResultStore
from hingecheck.serve import db


def test_migrations_run_once_and_leave_the_stores_version_alone(tmp_path):
    conn = db.open_data_dir(tmp_path)
    assert db.schema_version(conn) == db.SCHEMA_VERSION
    assert db.migrate(conn) == 0  # idempotent
    assert int(conn.execute("PRAGMA user_version").fetchone()[0]) == STORE_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "users",
        "api_tokens",
        "sessions",
        "login_attempts",
        "clients",
        "upload_links",
        "jobs",
        "notes",
        "audit_log",
        "serve_schema",
        "recordings",
        "reps",
        "faults",
    } <= tables
    conn.close()
    with ResultStore(db.db_path(tmp_path)) as store:  # the store opens the shared file as its own
        assert store.schema_version == STORE_VERSION and store.count("recordings") == 0
    conn = db.open_data_dir(tmp_path)
    assert db.schema_version(conn) == db.SCHEMA_VERSION
    conn.close()


def test_a_store_made_by_batch_first_is_migrated_in_place(tmp_path):
    with ResultStore(db.db_path(tmp_path)) as store:
        store.conn.execute("CREATE TABLE marker (x)")
    conn = db.open_data_dir(tmp_path)
    assert db.schema_version(conn) == db.SCHEMA_VERSION
    assert conn.execute("SELECT COUNT(*) FROM marker").fetchone()[0] == 0
    conn.close()
