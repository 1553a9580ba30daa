"""Receiving an upload: stream the multipart body to a file on disk, cap its size, probe the content.

The body is parsed as it arrives (python-multipart) and the ``video`` part written in chunks to a temporary
file under ``DIR/uploads/.incoming/``: never whole in memory. A declared Content-Length past the cap is
refused before reading anything, and the running byte count stops a body that lies about its length.
Whether it is a video is decided by opening it with PyAV (a stream and a decodable frame), never by its
name; the client's file name is only kept, sanitised, as a label.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from hingecheck.core.errors import HingecheckError

log = logging.getLogger(__name__)

INCOMING = ".incoming"
FIELD = "video"
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in a multipart body
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


class UploadError(HingecheckError):
    """An upload refused; ``http_status`` is what the client is answered."""

    status = "error"

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass
class ReceivedFile:
    """An upload written to disk, not yet accepted."""

    path: Path
    original_name: str  # sanitised
    size_bytes: int
    sha256: str


def safe_filename(name: str | None, default: str = "video") -> str:
    """A display-safe file name: no directories, no '..', no control or path characters, at most 80 chars."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").split("/")[-1]  # the browser may send a full Windows or Unix path
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")  # control, format, unassigned
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text).strip(" .")
    if len(text) > 80:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: 79 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else text[:80]
    return text or default


async def receive_upload(
    stream: AsyncIterator[bytes], content_type: str, content_length: str | None, data_dir: Path, max_bytes: int
) -> ReceivedFile:
    """Parse a multipart body from ``stream``, writing its ``video`` part to disk; raises UploadError."""
    ctype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadError("send the video as multipart/form-data with a field named 'video'", 415)
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise UploadError("bad Content-Length", 400) from None
        if declared > max_bytes + MULTIPART_SLACK:
            raise UploadError(f"the video is larger than the limit of {max_bytes // (1024 * 1024)} MB", 413)
    incoming = data_dir / "uploads" / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    tmp = incoming / f"{secrets.token_hex(16)}.part"
    state = _PartState(tmp, max_bytes)
    parser = MultipartParser(boundary, state.callbacks())
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > max_bytes + MULTIPART_SLACK:
                raise UploadError(f"the video is larger than the limit of {max_bytes // (1024 * 1024)} MB", 413)
            parser.write(chunk)
            if state.error:
                raise state.error
        parser.finalize()
        if state.error:
            raise state.error
        if not state.seen:
            raise UploadError("no file in the field 'video'", 400)
        if state.size == 0:
            raise UploadError("the file is empty", 400)
    except UploadError:
        state.close()
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # a malformed body
        state.close()
        tmp.unlink(missing_ok=True)
        raise UploadError(f"the upload could not be read ({type(exc).__name__})", 400) from None
    state.close()
    return ReceivedFile(tmp, safe_filename(state.filename), state.size, state.digest.hexdigest())


class _PartState:
    """python-multipart callbacks: headers of each part, the ``video`` part's bytes into a file."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.header_field = b""
        self.header_value = b""
        self.disposition = b""
        self.in_video = False
        self.seen = False
        self.filename: str | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.error: UploadError | None = None
        self._file: BinaryIO | None = None

    def callbacks(self) -> Any:  # python_multipart.multipart.MultipartCallbacks (a TypedDict)
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "header_field", self.header_field + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "header_value", self.header_value + d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self.disposition = b""
        self.in_video = False

    def _header_end(self) -> None:
        if self.header_field.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_field = self.header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self.disposition)
        if params.get(b"name") == FIELD.encode() and not self.seen:
            self.in_video = self.seen = True
            raw = params.get(b"filename", b"")
            self.filename = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            self._file = open(self.path, "wb")  # noqa: SIM115 (closed in _part_end / close)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.in_video or self._file is None or self.error:
            return
        piece = data[start:end]
        self.size += len(piece)
        if self.size > self.max_bytes:
            self.error = UploadError(f"the video is larger than the limit of {self.max_bytes // (1024 * 1024)} MB", 413)
            return
        self.digest.update(piece)
        self._file.write(piece)

    def _part_end(self) -> None:
        if self.in_video:
            self.close()
        self.in_video = False

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def probe_video(path: Path) -> str | None:
    """None when PyAV finds a video stream with a decodable picture; else why not, in one plain line."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return "this file has no video in it (audio only or another kind of file)"
            for _frame in container.decode(video=0):
                return None
            return "no picture could be decoded from this file"
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError):
        return "this file is not a video we can read: record or pick a video from the camera"


def store_upload(received: ReceivedFile, data_dir: Path, upload_id: str) -> Path:
    """Move the received file to ``DIR/uploads/<upload id>/<sanitised name>`` (the id is the server's)."""
    folder = data_dir / "uploads" / upload_id
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / received.original_name
    os.replace(received.path, target)
    return target
