"""Results store: one SQLite file (stdlib sqlite3) holding every analysed recording, its reps and faults.

Written only by the batch parent process (workers return results), every write in one transaction,
WAL mode so the dashboard or ``hingecheck history`` can read while a batch runs. The schema version is
``PRAGMA user_version``; ``MIGRATIONS`` are applied in order, each exactly once.

A recording is identified by (content sha256, settings hash, model sha256): analysing the same bytes with
the same settings and model again updates its row instead of adding one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hingecheck.core.errors import HingecheckError, OutputError
from hingecheck.core.types import Fault, Rep, record_columns
from hingecheck.io.sinks import writable_dir

MIGRATIONS: tuple[str, ...] = (
    # 1: recordings, reps, faults
    """
    CREATE TABLE recordings (
        id INTEGER PRIMARY KEY,
        client TEXT NOT NULL,
        path TEXT NOT NULL,                 -- relative to the batch input folder
        source_root TEXT,                   -- the batch input folder (absolute)
        content_sha256 TEXT NOT NULL,
        settings_hash TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        recorded_at TEXT,                   -- ISO 8601; from the manifest, the container, or the file mtime
        recorded_at_source TEXT,            -- manifest / metadata / mtime
        analysed_at TEXT NOT NULL,
        status TEXT NOT NULL,               -- ok / no_person / not_a_video / corrupt
        message TEXT NOT NULL DEFAULT '',
        n_reps INTEGER NOT NULL DEFAULT 0,
        n_reps_with_faults INTEGER NOT NULL DEFAULT 0,
        fault_rate REAL,                    -- reps with a fault / complete reps; NULL without reps
        mean_lumbar_share REAL,
        mean_hinge_capacity_deg REAL,
        mean_peak_hip_flexion_deg REAL,
        mean_peak_lumbar_flexion_deg REAL,
        duration_s REAL,
        frames INTEGER,
        detection_rate REAL,
        warnings_json TEXT NOT NULL DEFAULT '[]',
        output_dir TEXT,                    -- absolute
        UNIQUE (content_sha256, settings_hash, model_sha256)
    );
    CREATE INDEX recordings_client ON recordings (client, recorded_at);
    CREATE INDEX recordings_output_dir ON recordings (output_dir);
    CREATE TABLE reps (
        recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
        rep_index INTEGER NOT NULL,
        partial INTEGER NOT NULL,
        start_s REAL, bottom_s REAL, end_s REAL,
        peak_hip_flexion_deg REAL, peak_lumbar_flexion_deg REAL, peak_knee_flexion_deg REAL,
        lumbar_share REAL, hinge_capacity_deg REAL, lumbar_lead_s REAL,
        descent_s REAL, hold_s REAL, return_s REAL,
        PRIMARY KEY (recording_id, rep_index)
    );
    CREATE TABLE faults (
        id INTEGER PRIMARY KEY,
        recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
        rep_index INTEGER NOT NULL,
        code TEXT NOT NULL,
        time_s REAL,
        message TEXT NOT NULL DEFAULT '',
        cue TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX faults_recording ON faults (recording_id);
    CREATE INDEX faults_code ON faults (code);
    """,
    # 2: fault counts per recording kept as JSON for quick filtering in the dashboard
    """
    ALTER TABLE recordings ADD COLUMN fault_counts_json TEXT NOT NULL DEFAULT '{}';
    """,
    # 3: each client's back range from their range tests (hingecheck calibrate); the newest one is used
    """
    CREATE TABLE client_ranges (
        id INTEGER PRIMARY KEY,
        client TEXT NOT NULL,
        measured_at TEXT NOT NULL,          -- ISO 8601
        source_path TEXT NOT NULL,          -- the range-test clip
        range_json TEXT NOT NULL            -- core.movement.rom.BackRange.to_dict()
    );
    CREATE INDEX client_ranges_client ON client_ranges (client, measured_at);
    """,
    # 4: the verdicts a recording could not support and why (summary.json verdicts_withheld), for the dashboards
    """
    ALTER TABLE recordings ADD COLUMN withheld_json TEXT NOT NULL DEFAULT '{}';
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

# The reps and faults tables hold the declared fields of core.types.Rep and Fault (a rep's ``index`` is
# ``rep_index``; a fault's ``details`` is JSON). A field declared there and missing here is added by
# ``add_declared_columns`` when the store opens: the declaration is the one home of a record's fields.
_SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER", "float": "REAL", "str": "TEXT"}


def _declared_columns(cls: type, renamed: dict[str, str]) -> dict[str, str]:
    """SQL column name → SQL type of a record's scalar fields."""
    types = {f.name: str(f.type).split(" ", 1)[0].split("|", 1)[0] for f in fields(cls)}
    return {renamed.get(name, name): _SQL_TYPES[types[name]] for name in record_columns(cls)}


REP_SQL_COLUMNS = _declared_columns(Rep, {"index": "rep_index"})
FAULT_SQL_COLUMNS = {**_declared_columns(Fault, {}), "details_json": "TEXT"}

# Outcomes that are a property of the file, so a rerun need not repeat them. timeout and error are
# retried on the next run (the machine may have been busy; the bug may be fixed).
STORED_STATUSES = frozenset({"ok", "no_person", "not_a_video", "corrupt"})


class StoreError(HingecheckError):
    """The results database cannot be used (unreadable, newer schema, …): one line."""

    status = "error"


@dataclass(frozen=True)
class RecordingKey:
    """What makes two analyses the same: the video's bytes, the settings hash and the model's checksum."""

    content_sha256: str
    settings_hash: str
    model_sha256: str


def _mean(values: list[Any]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def recording_aggregates(summary: dict[str, Any]) -> dict[str, Any]:
    """Per-recording numbers for the dashboard and trends, from a summary.json dict (complete reps only)."""
    reps = [r for r in summary.get("reps") or [] if not r.get("partial")]
    with_faults = [r for r in reps if r.get("faults")]
    video = summary.get("video") or {}
    counts: dict[str, int] = {}
    for rep in summary.get("reps") or []:
        for fault in rep.get("faults") or []:
            counts[fault["code"]] = counts.get(fault["code"], 0) + 1
    return {
        "n_reps": len(reps),
        "n_reps_with_faults": len(with_faults),
        "fault_rate": round(len(with_faults) / len(reps), 4) if reps else None,
        "mean_lumbar_share": _mean([r.get("lumbar_share") for r in reps]),
        "mean_hinge_capacity_deg": _mean([r.get("hinge_capacity_deg") for r in reps]),
        "mean_peak_hip_flexion_deg": _mean([r.get("peak_hip_flexion_deg") for r in reps]),
        "mean_peak_lumbar_flexion_deg": _mean([r.get("peak_lumbar_flexion_deg") for r in reps]),
        "duration_s": video.get("duration_s"),
        "frames": summary.get("frames"),
        "detection_rate": summary.get("detection_rate"),
        "fault_counts": counts,
    }


class ResultStore:
    """The SQLite results store. Use as a context manager; ``open`` migrates an old file in place."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            writable_dir(self.path.parent, "database folder")
        except OutputError as exc:
            raise StoreError(f"results database {self.path} cannot be created: {exc}") from None
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so every write is one explicit transaction
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at each checkpoint, fast
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"results database {self.path} cannot be used: {exc}") from None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back if the block raises."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The schema version of the file (``PRAGMA user_version``)."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Apply the migrations this file has not seen yet, each in its own transaction; returns how many."""
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"results database {self.path} has schema {version}, newer than this hingecheck ({SCHEMA_VERSION})"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as conn:
                for statement in migration_statements(MIGRATIONS[number - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")  # PRAGMA takes no parameters
        self.add_declared_columns()
        return SCHEMA_VERSION - version

    def add_declared_columns(self) -> list[str]:
        """Add every declared rep/fault field the tables lack (e.g. a store written by an older hingecheck)."""
        added = []
        with self.transaction() as conn:
            for table, declared in (("reps", REP_SQL_COLUMNS), ("faults", FAULT_SQL_COLUMNS)):
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, sql_type in declared.items():
                    if name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
                        added.append(f"{table}.{name}")
        return added

    # --- writes -------------------------------------------------------------------------------------

    def upsert_recording(
        self,
        key: RecordingKey,
        *,
        client: str,
        path: str,
        source_root: str,
        summary: dict[str, Any],
        output_dir: str | None,
        recorded_at: str | None,
        recorded_at_source: str | None,
        analysed_at: str | None = None,
    ) -> int:
        """Insert or update the recording with this key, replacing its reps and faults; returns its id.

        A row of another key that pointed at the same output folder is removed: that folder now holds this
        analysis (the video at that path changed, or the settings did).
        """
        agg = recording_aggregates(summary)
        status = str(summary.get("status", "error"))
        values = {
            "client": client,
            "path": path,
            "source_root": source_root,
            "content_sha256": key.content_sha256,
            "settings_hash": key.settings_hash,
            "model_sha256": key.model_sha256,
            "recorded_at": recorded_at,
            "recorded_at_source": recorded_at_source,
            "analysed_at": analysed_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "status": status,
            "message": str(summary.get("message") or ""),
            "warnings_json": json.dumps(summary.get("warnings") or []),
            "withheld_json": json.dumps(summary.get("verdicts_withheld") or {}, sort_keys=True),
            "output_dir": output_dir,
            "fault_counts_json": json.dumps(agg.pop("fault_counts"), sort_keys=True),
            **agg,
        }
        columns = list(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in _KEY_COLUMNS)
        sql = (
            f"INSERT INTO recordings ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT (content_sha256, settings_hash, model_sha256) DO UPDATE SET {updates} RETURNING id"
        )
        with self.transaction() as conn:
            rec_id = int(conn.execute(sql, [values[c] for c in columns]).fetchone()[0])
            if output_dir is not None:
                conn.execute("DELETE FROM recordings WHERE output_dir = ? AND id != ?", (output_dir, rec_id))
            conn.execute("DELETE FROM reps WHERE recording_id = ?", (rec_id,))
            conn.execute("DELETE FROM faults WHERE recording_id = ?", (rec_id,))
            for rep in summary.get("reps") or []:
                _insert(conn, "reps", {"recording_id": rec_id, **_rep_row(rep)})
                for fault in rep.get("faults") or []:
                    _insert(
                        conn, "faults", {"recording_id": rec_id, "rep_index": int(rep["index"]), **_fault_row(fault)}
                    )
        return rec_id

    def save_range(
        self, client: str, back_range: dict[str, Any], source_path: str, measured_at: str | None = None
    ) -> int:
        """Remember a client's range test (``BackRange.to_dict()``); returns its row id."""
        when = measured_at or datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO client_ranges (client, measured_at, source_path, range_json) VALUES (?, ?, ?, ?)",
                (client, when, source_path, json.dumps(back_range, sort_keys=True)),
            )
            return int(cur.lastrowid or 0)

    def latest_range(self, client: str) -> dict[str, Any] | None:
        """The client's newest range test (``BackRange.to_dict()`` plus ``measured_at``), or None."""
        row = self.conn.execute(
            "SELECT measured_at, range_json FROM client_ranges WHERE client = ? ORDER BY measured_at DESC, id DESC",
            (client,),
        ).fetchone()
        if row is None:
            return None
        return {**json.loads(row["range_json"]), "measured_at": row["measured_at"]}

    # --- reads --------------------------------------------------------------------------------------

    def find(self, key: RecordingKey) -> sqlite3.Row | None:
        """The recording analysed with exactly this key, or None."""
        return self.conn.execute(
            "SELECT * FROM recordings WHERE content_sha256 = ? AND settings_hash = ? AND model_sha256 = ?",
            (key.content_sha256, key.settings_hash, key.model_sha256),
        ).fetchone()

    def recordings(self, client: str | None = None) -> list[sqlite3.Row]:
        """All recordings (of one client), oldest session first."""
        sql = "SELECT * FROM recordings"
        args: tuple[Any, ...] = ()
        if client is not None:
            sql += " WHERE client = ?"
            args = (client,)
        return self.conn.execute(sql + " ORDER BY client, recorded_at, path", args).fetchall()

    def clients(self) -> list[str]:
        """Every client with a recording, sorted."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT client FROM recordings ORDER BY client")]

    def reps(self, recording_id: int) -> list[sqlite3.Row]:
        """The reps of one recording, in order."""
        return self.conn.execute(
            "SELECT * FROM reps WHERE recording_id = ? ORDER BY rep_index", (recording_id,)
        ).fetchall()

    def faults(self, recording_id: int) -> list[sqlite3.Row]:
        """The faults of one recording, by rep and time."""
        return self.conn.execute(
            "SELECT * FROM faults WHERE recording_id = ? ORDER BY rep_index, time_s", (recording_id,)
        ).fetchall()

    def count(self, table: str) -> int:
        """Number of rows in ``recordings``, ``reps`` or ``faults``."""
        if table not in {"recordings", "reps", "faults"}:
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _rep_row(rep: dict[str, Any]) -> dict[str, Any]:
    """A summary.json rep as a reps row: its declared columns (booleans as 0/1)."""
    row = {"rep_index" if k == "index" else k: rep.get(k) for k in record_columns(Rep)}
    row["rep_index"] = int(rep["index"])  # a rep without its number is malformed: fail, write nothing
    return {k: int(v) if isinstance(v, bool) else v for k, v in row.items()}


def _fault_row(fault: dict[str, Any]) -> dict[str, Any]:
    """A summary.json fault as a faults row: its declared columns, details as JSON."""
    row = {k: fault.get(k) for k in record_columns(Fault)}
    return {**row, "details_json": json.dumps(fault.get("details") or {}, sort_keys=True)}


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    columns = list(row)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [row[c] for c in columns],
    )


def migration_statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3 executes one at a time; executescript would COMMIT early)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


_KEY_COLUMNS = frozenset({"content_sha256", "settings_hash", "model_sha256"})
