"""Video input and output with PyAV: upright frames with real timestamps in, browser-playable H.264 out."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from hingecheck.core.errors import CorruptVideoError, NotAVideoError, VideoError
from hingecheck.core.types import VideoFrame, VideoInfo

av.logging.set_level(av.logging.PANIC)  # decoder chatter on damaged files is reported by us, once
logging.getLogger("libav").setLevel(logging.CRITICAL)


def _rotation_of(stream: av.video.stream.VideoStream, first_frame: av.VideoFrame | None) -> int:
    """Clockwise rotation (0/90/180/270) needed to show the frames upright."""
    rot = 0
    if first_frame is not None and getattr(first_frame, "rotation", None):
        rot = int(first_frame.rotation)  # display matrix side data (counter-clockwise degrees)
    else:
        tag = (stream.metadata or {}).get("rotate")
        if tag:
            try:
                rot = -int(tag)
            except ValueError:
                rot = 0
    return (-rot) % 360  # convert counter-clockwise display rotation into a clockwise turn


def _upright(rgb: np.ndarray, clockwise_deg: int) -> np.ndarray:
    if clockwise_deg == 90:
        return np.ascontiguousarray(np.rot90(rgb, k=-1))
    if clockwise_deg == 180:
        return np.ascontiguousarray(rgb[::-1, ::-1])
    if clockwise_deg == 270:
        return np.ascontiguousarray(np.rot90(rgb, k=1))
    return rgb


@dataclass
class DecodeReport:
    """What happened while decoding: filled in as frames are read."""

    frames_decoded: int = 0
    errors: list[str] = field(default_factory=list)
    last_time_s: float = 0.0

    @property
    def damaged(self) -> bool:
        """Whether decoding hit errors (the clip is analysed as far as it decodes)."""
        return bool(self.errors)


class VideoReader:
    """Iterate a video file as upright RGB frames with container timestamps.

    Decoding stops cleanly at the first unrecoverable error: frames decoded so far are kept and the
    problem is recorded in ``report`` (a truncated phone clip is analysed up to where it breaks).
    """

    def __init__(self, path: str | os.PathLike[str], max_width: int | None = None) -> None:
        self.path = Path(path)
        self.max_width = max_width
        self.report = DecodeReport()
        if not self.path.exists():
            raise VideoError(f"{self.path}: file not found")
        if self.path.is_dir():
            raise NotAVideoError(f"{self.path}: is a folder, not a video file")
        if self.path.stat().st_size == 0:
            raise NotAVideoError(f"{self.path}: empty file (0 bytes), not a video")
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, UnicodeDecodeError) as exc:
            if _looks_like_video_container(self.path):
                raise CorruptVideoError(
                    f"{self.path}: a damaged or truncated video file that cannot be opened ({_short(exc)})"
                ) from None
            raise NotAVideoError(f"{self.path}: not a video file ({_short(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise NotAVideoError(f"{self.path}: has no video stream (audio only or data file)")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._first: av.VideoFrame | None = None
        self._decoded = self._decode_frames()
        try:
            self._first = next(self._decoded)
        except StopIteration:
            self._container.close()
            detail = f" ({self.report.errors[0]})" if self.report.errors else ""
            raise CorruptVideoError(f"{self.path}: the video stream holds no decodable frame{detail}") from None
        self.rotation_deg = _rotation_of(self._stream, self._first)
        w, h = self._first.width, self._first.height
        if self.rotation_deg in (90, 270):
            w, h = h, w
        self._scale = 1.0
        if max_width and w > max_width:
            self._scale = max_width / w
            w, h = max_width, int(round(h * self._scale / 2) * 2)
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(30)
        duration = 0.0
        if self._stream.duration and self._stream.time_base:
            duration = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration:
            duration = self._container.duration / 1e6
        created = (self._container.metadata or {}).get("creation_time") or (self._stream.metadata or {}).get(
            "creation_time"
        )
        self.info = VideoInfo(
            path=str(self.path),
            width=w,
            height=h,
            fps=float(rate),
            n_frames_hint=int(self._stream.frames or 0),
            duration_s=duration,
            codec=self._stream.codec_context.name,
            rotation_deg=self.rotation_deg,
            creation_time=created,
        )
        self._start_time = self._first.time or 0.0 if self._first.time is not None else 0.0

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the container."""
        self._container.close()

    def _decode_frames(self) -> Iterator[av.VideoFrame]:
        """Decode packet by packet so one damaged packet costs a frame, not the rest of the clip."""
        bad_in_a_row = 0
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:  # the container itself breaks off (truncated file)
                self.report.errors.append(f"reading stopped after {self.report.frames_decoded} frames: {_short(exc)}")
                return
            try:
                decoded = packet.decode()
                bad_in_a_row = 0
            except av.error.FFmpegError as exc:
                bad_in_a_row += 1
                if bad_in_a_row == 1:
                    self.report.errors.append(f"damaged data after frame {self.report.frames_decoded}: {_short(exc)}")
                if bad_in_a_row > 50:
                    self.report.errors.append("too many damaged packets in a row; decoding stopped")
                    return
                continue
            yield from decoded

    def _to_frame(self, index: int, frame: av.VideoFrame, previous_time: float) -> VideoFrame:
        if frame.time is not None:
            t = float(frame.time) - self._start_time
        else:  # no timestamp: assume the nominal rate after the previous frame
            t = previous_time + 1.0 / (self.info.fps or 30.0)
        if self._scale != 1.0:
            fw = int(round(frame.width * self._scale / 2) * 2)
            fh = int(round(frame.height * self._scale / 2) * 2)
            rgb = frame.to_ndarray(format="rgb24", width=fw, height=fh)
        else:
            rgb = frame.to_ndarray(format="rgb24")
        return VideoFrame(index=index, time_s=t, rgb=_upright(rgb, self.rotation_deg))

    def __iter__(self) -> Iterator[VideoFrame]:
        index = 0
        t_prev = -1.0 / (self.info.fps or 30.0)
        if self._first is not None:
            first = self._to_frame(0, self._first, t_prev)
            self._first = None
            t_prev = first.time_s
            index = 1
            self.report.frames_decoded = 1
            yield first
        for raw in self._decoded:
            frame = self._to_frame(index, raw, t_prev)
            if frame.time_s <= t_prev:  # broken or repeated timestamps: keep time strictly increasing
                frame.time_s = t_prev + 1e-3
            t_prev = frame.time_s
            self.report.frames_decoded = index + 1
            self.report.last_time_s = frame.time_s
            index += 1
            yield frame
        self._check_truncation()

    def _check_truncation(self) -> None:
        """A file cut short decodes without an exception; compare with what the container promised."""
        expected = self.info.duration_s
        got = self.report.last_time_s
        if expected > 1.0 and got < expected - max(1.0, 0.1 * expected):
            self.report.errors.append(
                f"the file looks truncated: frames stop at {got:.1f} s of a declared {expected:.1f} s"
            )


# Magic bytes of common video containers: a file that starts like one but won't open is damaged, not alien.
_CONTAINER_SIGNATURES = (
    (4, b"ftyp"),  # MP4 / MOV / M4V / 3GP
    (4, b"moov"),
    (4, b"mdat"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (8, b"AVI "),  # RIFF AVI
)


def _looks_like_video_container(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(16)
    return any(head[off : off + len(sig)] == sig for off, sig in _CONTAINER_SIGNATURES)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Open a video just to read its facts (raises the same clear errors as reading)."""
    with VideoReader(path) as reader:
        return reader.info


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(": '", 1)[0][:160]


class VideoWriter:
    """H.264 (yuv420p) MP4 with the moov atom up front (faststart) so browsers can play it at once."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: float = 30.0,
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self.width, self.height = width - width % 2, height - height % 2  # yuv420p needs even sizes
        self._container = av.open(str(self.path), mode="w", options={"movflags": "+faststart"})
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.width, self.height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._time_base = Fraction(1, 1000)
        self._stream.codec_context.time_base = self._time_base
        self._last_pts = -1

    def write(self, rgb: np.ndarray, time_s: float | None = None) -> None:
        """Encode one RGB frame (cropped to the writer's size), at ``time_s`` when given."""
        if rgb.shape[0] != self.height or rgb.shape[1] != self.width:
            rgb = rgb[: self.height, : self.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if time_s is not None:
            pts = int(round(time_s * 1000))
            if pts <= self._last_pts:
                pts = self._last_pts + 1
            frame.pts, frame.time_base = pts, self._time_base
            self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and close the file."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def copy_packets(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], metadata: dict[str, str] | None = None
) -> Path:
    """Remux the video stream of ``src`` into ``dst`` without re-encoding (same frames, new container tags).

    The index (moov) lands at the end, as most cameras write it. Used to make distinct-but-identical clips.
    """
    out_path = Path(dst)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(out_path), "w") as out:
        for key, value in (metadata or {}).items():
            out.metadata[key] = value
        stream_in = inp.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        for packet in inp.demux(stream_in):
            if packet.dts is None:  # the demuxer's final flush packet
                continue
            packet.stream = stream_out
            out.mux(packet)
    return out_path
