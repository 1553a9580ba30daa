"""Batch discovery: the videos of an input folder (any depth), their clients (first folder or a manifest),
recording dates, and the safe names of their output folders."""

from __future__ import annotations

import csv
import hashlib
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hingecheck.core.errors import HingecheckError
from hingecheck.io.pose import sha256_of

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp", ".3g2", ".wmv", ".flv", ".mts", ".ts"}
)
UNASSIGNED_CLIENT = "unassigned"  # videos directly in INDIR, outside any client folder


class BatchError(HingecheckError):
    """The batch cannot run as asked (missing folder, bad manifest, unusable options): one line."""

    status = "error"


# --- names and paths ------------------------------------------------------------------------------


def safe_component(text: str, max_len: int = 60) -> str:
    """A single, harmless path component from any text: no separators, no ``..``, no leading dot."""
    norm = unicodedata.normalize("NFKC", text)
    out = "".join(ch if (ch.isalnum() and ch.isascii()) or ch in "-_." else "_" for ch in norm)
    out = "_".join(part for part in out.split("_") if part)  # collapse runs of _
    out = out.lstrip(".-_").replace("..", "_")[:max_len].rstrip(".")
    return out or "unnamed"


def short_hash(text: str, n: int = 8) -> str:
    """The first ``n`` hex digits of the text's SHA-256 (stable, for unique folder names)."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:n]


def client_dir_name(client: str) -> str:
    """Folder name of a client: readable, and unique even when two names sanitize alike."""
    safe = safe_component(client, 48)
    return safe if safe == client else f"{safe}-{short_hash(client, 6)}"


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (symlinks resolved) lies inside ``root``: no output may land elsewhere."""
    return path.resolve().is_relative_to(root.resolve())


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex): the content part of a recording's identity."""
    return sha256_of(path)


# --- discovery and manifest -----------------------------------------------------------------------


@dataclass
class Item:
    """One input file and what became of it (one entry of batch.json ``items``)."""

    path: Path  # absolute
    rel_path: str  # relative to INDIR, POSIX separators
    client: str
    recorded_at: str | None = None
    recorded_at_source: str | None = None
    status: str = "pending"
    message: str = ""
    content_sha256: str | None = None
    output_dir: Path | None = None
    summary: dict[str, Any] | None = None
    previous_status: str | None = None
    elapsed_s: float | None = None
    frames: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def discover_videos(indir: Path, exclude: list[Path]) -> list[Path]:
    """Regular files with a video extension at any depth, sorted; symlinked folders are not followed."""
    found: list[Path] = []
    excluded = {p.resolve() for p in exclude}
    for root, dirs, files in os.walk(indir, followlinks=False):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() not in excluded)
        for name in sorted(files):
            p = root_path / name
            if name.startswith(".") or p.suffix.lower() not in VIDEO_EXTENSIONS:
                continue
            if p.is_symlink() and not inside(p, indir):
                continue  # a link pointing outside the input folder is not an upload
            if p.is_file():  # regular files only: a FIFO named .mp4 would block the hashing
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(indir).as_posix())


@dataclass(frozen=True)
class ManifestRow:
    """One manifest line: the client of a video and, when given, its recording date (ISO 8601)."""

    client: str
    recorded_at: str | None


def read_manifest(path: Path, indir: Path) -> dict[str, ManifestRow]:
    """CSV with columns path,client[,date]: path relative to INDIR (or absolute inside it)."""
    if not path.is_file():
        raise BatchError(f"manifest not found: {path}")
    rows: dict[str, ManifestRow] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower() for c in reader.fieldnames or []}
        if not {"path", "client"} <= cols:
            raise BatchError(f"manifest {path} needs the columns path,client[,date] (found {sorted(cols)})")
        for line_no, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            p = Path(row["path"])
            if p.is_absolute():
                if not p.resolve().is_relative_to(indir.resolve()):
                    raise BatchError(f"manifest line {line_no}: {p} is outside {indir}")
                p = p.resolve().relative_to(indir.resolve())
            date = row.get("date") or None
            if date:
                try:
                    date = datetime.fromisoformat(date).isoformat()
                except ValueError:
                    raise BatchError(f"manifest line {line_no}: date {date!r} is not ISO 8601 (YYYY-MM-DD)") from None
            rows[p.as_posix()] = ManifestRow(row["client"] or UNASSIGNED_CLIENT, date)
    return rows


def default_client(rel: Path) -> str:
    """The client of a video without a manifest entry: its first folder under INDIR, else 'unassigned'."""
    return rel.parts[0] if len(rel.parts) > 1 else UNASSIGNED_CLIENT


def file_mtime_iso(path: Path) -> str:
    """The file's modification time as ISO 8601 UTC (the recording date of last resort)."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")


def normalise_time(text: str | None) -> str | None:
    """Container creation_time (e.g. 2024-05-01T10:00:00.000000Z) → ISO 8601; junk and the 1904/1970 epoch → None."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.year < 1990:  # cameras without a clock write the MP4/Unix epoch
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat(timespec="seconds")
