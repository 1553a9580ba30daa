"""``hingecheck batch`` planning and bookkeeping: what to analyse, where outputs go, what became of each video.

A plan skips what is already done (content sha256 + settings hash + model sha256); outputs move into place
atomically; one results database is written by this (parent) process only; ``batch.json`` after every
finished video. Discovery is ``batch.discovery``, the run loop ``batch.runner``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hingecheck.batch.discovery import (
    BatchError,
    Item,
    client_dir_name,
    default_client,
    discover_videos,
    file_mtime_iso,
    inside,
    normalise_time,
    read_manifest,
    safe_component,
    sha256_file,
    short_hash,
)
from hingecheck.batch.store import STORED_STATUSES, RecordingKey, ResultStore
from hingecheck.batch.worker import SOURCE_FILE, Job, JobResult
from hingecheck.core.movement.rom import BackRange
from hingecheck.io.sinks import atomic_open, writable_dir
from hingecheck.pipeline import AnalyzeOptions

BATCH_STATUSES = ("ok", "no_person", "not_a_video", "corrupt", "timeout", "error", "skipped_unchanged")
PARTIAL_PREFIX = ".partial-"
REPLACED_PREFIX = ".replaced-"


# --- the batch ------------------------------------------------------------------------------------


@dataclass
class BatchRequest:
    """What ``hingecheck batch`` was asked to do: folders, workers, timeout, database, analysis options."""

    indir: Path
    outdir: Path
    workers: int
    timeout_s: float
    db_path: Path
    options: AnalyzeOptions
    scheduler: str | None = None
    manifest: Path | None = None
    quiet: bool = False
    force: bool = False  # redo every video even when an identical analysis exists (e.g. after an upgrade)


def run_settings_hash(settings_hash: str, options: AnalyzeOptions) -> str:
    """Everything that changes the outputs besides the video and the model: thresholds, output options, exercise,
    the client's range test, version."""
    from hingecheck import __version__

    blob = json.dumps(
        {
            "hingecheck": __version__,
            "settings": settings_hash,
            "write_video": options.write_video,
            "blur_faces": options.blur_faces,
            "max_width": options.max_width,
            "num_poses": options.num_poses,
            "exercise": options.exercise,
            "back_range": options.back_range.to_dict() if options.back_range is not None else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Batch:
    """One batch run: its items (one per input video), the plan, and the bookkeeping of results."""

    def __init__(self, request: BatchRequest) -> None:
        from hingecheck.io.config import load_settings
        from hingecheck.io.pose import resolve_model

        self.req = request
        self.indir = request.indir.resolve()
        self.outdir = request.outdir.resolve()
        if not self.indir.is_dir():
            raise BatchError(f"input folder not found: {request.indir}")
        if self.indir == self.outdir or self.indir.is_relative_to(self.outdir):
            raise BatchError("OUTDIR must not be the input folder or contain it")
        writable_dir(self.outdir)
        settings = load_settings(request.options.config_path)
        self.model = resolve_model(request.options.model_path)
        self.options = AnalyzeOptions(**{**vars(request.options), "model_path": self.model.path})
        self.settings_hash = run_settings_hash(settings.hash, self.options)
        self._settings_digest = settings.hash
        self._client_options: dict[str, tuple[AnalyzeOptions, str]] = {}
        self.items: list[Item] = []
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.executor_description = ""

    # --- planning

    def plan(self, store: ResultStore) -> list[Job]:
        """Discover the videos and return the jobs to run; items already analysed alike are marked skipped."""
        manifest = read_manifest(self.req.manifest, self.indir) if self.req.manifest else {}
        videos = discover_videos(self.indir, exclude=[self.outdir])
        jobs: list[Job] = []
        claimed: dict[RecordingKey, Item] = {}  # same bytes twice in one batch: analyse once
        for path in videos:
            rel = path.relative_to(self.indir)
            entry = manifest.get(rel.as_posix())
            item = Item(path=path, rel_path=rel.as_posix(), client=entry.client if entry else default_client(rel))
            if entry and entry.recorded_at:
                item.recorded_at, item.recorded_at_source = entry.recorded_at, "manifest"
            self.items.append(item)
            try:
                item.content_sha256 = sha256_file(path)
            except OSError as exc:
                item.status, item.message = "error", f"cannot read the file: {exc.strerror or exc}"
                continue
            try:
                item.output_dir = self.output_dir_for(item)
            except BatchError as exc:
                item.status, item.message = "error", str(exc)
                continue
            options, settings_hash = self.options_for(store, item.client)
            key = RecordingKey(item.content_sha256, settings_hash, self.model.sha256)
            if key in claimed:
                first = claimed[key]
                item.status = "skipped_unchanged"
                item.message = f"same content as {first.rel_path}: analysed once, see its results"
                item.output_dir = first.output_dir
                continue
            claimed[key] = item
            if not self.req.force and self._already_done(store, item, key):
                continue
            jobs.append(self._job(len(self.items) - 1, item, options, settings_hash))
        return jobs

    def options_for(self, store: ResultStore, client: str) -> tuple[AnalyzeOptions, str]:
        """A client's analysis options (with their newest range test, if any) and the settings hash they give."""
        if client not in self._client_options:
            stored = store.latest_range(client)
            if stored is None:
                self._client_options[client] = (self.options, self.settings_hash)
            else:
                options = replace(self.options, back_range=BackRange.from_dict(stored))
                self._client_options[client] = (options, run_settings_hash(self._settings_digest, options))
        return self._client_options[client]

    def output_dir_for(self, item: Item) -> Path:
        """OUTDIR/<client>/<safe-stem>-<hash of the relative path>; refuses anything outside OUTDIR."""
        stem = safe_component(Path(item.rel_path).stem, 48)
        out = self.outdir / client_dir_name(item.client) / f"{stem}-{short_hash(item.rel_path)}"
        if not inside(out.parent, self.outdir) or out.parent == self.outdir:
            raise BatchError(f"refusing an output folder outside {self.outdir} for {item.rel_path!r}")
        return out

    def _already_done(self, store: ResultStore, item: Item, key: RecordingKey) -> bool:
        row = store.find(key)
        out = item.output_dir
        assert out is not None
        if row is not None and row["output_dir"] and (Path(row["output_dir"]) / "summary.json").is_file():
            item.status, item.previous_status = "skipped_unchanged", row["status"]
            item.message = "already analysed with these settings and this model"
            item.output_dir = Path(row["output_dir"])
            if not inside(item.output_dir, self.outdir):
                item.message += f" (results in {item.output_dir})"
            item.summary = _read_json(item.output_dir / "summary.json")
            if item.recorded_at_source != "manifest":
                item.recorded_at, item.recorded_at_source = row["recorded_at"], row["recorded_at_source"]
            moved = (row["client"], row["path"], row["recorded_at"]) != (item.client, item.rel_path, item.recorded_at)
            if moved and item.summary:  # renamed, re-filed under another client or re-dated: update, do not redo
                self._ingest(store, item, key, item.summary)
            return True
        # a finished folder the database does not know yet (the last run was killed between the two)
        source = _read_json(out / SOURCE_FILE)
        summary = _read_json(out / "summary.json")
        if (
            source
            and summary
            and RecordingKey(
                source.get("content_sha256", ""), source.get("settings_hash", ""), source.get("model_sha256", "")
            )
            == key
        ):
            status = summary.get("batch_status") or summary.get("status", "error")
            if status not in STORED_STATUSES:
                return False  # an error is worth another try
            item.status, item.previous_status = "skipped_unchanged", status
            item.message = "already analysed (recovered from its output folder)"
            item.summary = summary
            self._set_recorded_at(item, summary)
            self._ingest(store, item, key, summary)
            return True
        return False

    @staticmethod
    def _set_recorded_at(item: Item, summary: dict[str, Any] | None) -> None:
        """Manifest date, else the container's creation time, else the file's modification time."""
        if item.recorded_at_source == "manifest":
            return
        created = normalise_time(((summary or {}).get("video") or {}).get("creation_time"))
        if created:
            item.recorded_at, item.recorded_at_source = created, "metadata"
        else:
            item.recorded_at, item.recorded_at_source = file_mtime_iso(item.path), "mtime"

    def _job(self, index: int, item: Item, options: AnalyzeOptions, settings_hash: str) -> Job:
        assert item.output_dir is not None and item.content_sha256 is not None
        partial = item.output_dir.parent / f"{PARTIAL_PREFIX}{item.output_dir.name}-{uuid.uuid4().hex[:8]}"
        return Job(
            index=index,
            video=str(item.path),
            rel_path=item.rel_path,
            client=item.client,
            final_dir=str(item.output_dir),
            partial_dir=str(partial),
            options=options,
            content_sha256=item.content_sha256,
            settings_hash=settings_hash,
            model_sha256=self.model.sha256,
        )

    # --- outcomes (parent process only)

    def finish(self, store: ResultStore, job: Job, result: JobResult) -> Item:
        """Take one job's result: move its outputs into place, record it in the store, update its item."""
        item = self.items[job.index]
        item.status, item.message = result.status, strip_path(result.message, item.path)
        item.elapsed_s, item.frames, item.summary = round(result.elapsed_s, 2), result.frames, result.summary
        partial, final = Path(job.partial_dir), Path(job.final_dir)
        if result.summary is None or not (partial / "summary.json").is_file():
            shutil.rmtree(partial, ignore_errors=True)  # timed out or died: nothing trustworthy in there
            item.output_dir = None
        else:
            move_into_place(partial, final)
            item.output_dir = final
        self._set_recorded_at(item, result.summary)
        if item.status in STORED_STATUSES and result.summary is not None:
            key = RecordingKey(job.content_sha256, job.settings_hash, job.model_sha256)
            self._ingest(store, item, key, result.summary)
        return item

    def _ingest(self, store: ResultStore, item: Item, key: RecordingKey, summary: dict[str, Any]) -> None:
        summary = {
            **summary,
            "status": summary.get("batch_status") or summary.get("status"),
            "message": strip_path(str(summary.get("message") or ""), item.path),
        }
        store.upsert_recording(
            key,
            client=item.client,
            path=item.rel_path,
            source_root=str(self.indir),
            summary=summary,
            output_dir=str(item.output_dir) if item.output_dir else None,
            recorded_at=item.recorded_at,
            recorded_at_source=item.recorded_at_source,
        )

    # --- batch.json

    def item_dict(self, item: Item) -> dict[str, Any]:
        """The batch.json entry of one item (paths relative to OUTDIR, rep and fault counts)."""
        summary = item.summary or {}
        reps = [r for r in summary.get("reps") or [] if not r.get("partial")]
        out_rel = None
        report = None
        if item.output_dir is not None and inside(item.output_dir, self.outdir):
            out_rel = item.output_dir.relative_to(self.outdir).as_posix()
            name = (summary.get("outputs") or {}).get("report")
            if name and (item.output_dir / name).is_file():
                report = f"{out_rel}/{name}"
        return {
            "path": item.rel_path,
            "client": item.client,
            "status": item.status,
            "message": item.message,
            "previous_status": item.previous_status,
            "result_message": strip_path(str(summary.get("message") or ""), item.path),
            "output_dir": out_rel,
            "report": report,
            "recorded_at": item.recorded_at,
            "recorded_at_source": item.recorded_at_source,
            "n_reps": len(reps),
            "n_reps_with_faults": sum(1 for r in reps if r.get("faults")),
            "fault_counts": summary.get("fault_counts") or {},
            "warnings": [w.get("code") for w in summary.get("warnings") or []],
            "withheld": summary.get("verdicts_withheld") or {},
            "content_sha256": item.content_sha256,
            "frames": item.frames or summary.get("frames") or 0,
            "elapsed_s": item.elapsed_s,
        }

    def write_batch_json(self, finished: bool) -> Path:
        """Write batch.json (atomically): counts by status and every item so far."""
        counts = Counter(i.status for i in self.items)
        doc = {
            "input_dir": str(self.indir),
            "output_dir": str(self.outdir),
            "database": str(self.req.db_path.resolve()),
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds") if finished else None,
            "complete": finished,
            "executor": self.executor_description,
            "settings_hash": self.settings_hash,
            "model": {"name": self.model.name, "sha256": self.model.sha256},
            "counts": dict(sorted(counts.items())),
            "items": [self.item_dict(i) for i in self.items],
        }
        path = self.outdir / "batch.json"
        with atomic_open(path) as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        return path


def move_into_place(partial: Path, final: Path) -> None:
    """Rename a finished temporary folder to its final name, replacing an older analysis (never half of one)."""
    old: Path | None = None
    if final.exists():
        old = final.with_name(f"{REPLACED_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    partial.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(outdir: Path) -> int:
    """Remove temporary folders that a killed run left behind (one level below each client folder)."""
    removed = 0
    for client_dir in outdir.iterdir() if outdir.is_dir() else []:
        if not client_dir.is_dir() or client_dir.is_symlink():
            continue
        for child in client_dir.iterdir():
            if child.is_dir() and child.name.startswith((PARTIAL_PREFIX, REPLACED_PREFIX)):
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
    return removed


def strip_path(message: str, video: Path) -> str:
    """Messages name the file; batch.json already does (relative to INDIR), so drop the absolute path."""
    prefix = f"{video}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
