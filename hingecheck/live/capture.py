"""Live capture: a camera or a video file played at its real pace, feeding a one-slot "latest frame" mailbox.

The capture runs in its own thread and never queues: when the processing thread is still busy with a frame,
a newer one replaces the waiting one and the stale one is counted as dropped. That keeps the cue latency
bounded by one frame of processing, whatever the load.
"""

from __future__ import annotations

import glob
import os
import platform
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hingecheck.core.errors import HingecheckError
from hingecheck.core.types import VideoInfo
from hingecheck.io.pose import quiet_native_stderr
from hingecheck.io.video import VideoReader


class CameraError(HingecheckError):
    """No camera could be opened, or it stopped delivering: one line."""

    status = "no_camera"


@dataclass
class CapturedFrame:
    """A frame as the capture thread handed it over."""

    capture_index: int  # 0-based count of frames the source delivered (gaps = dropped frames)
    time_s: float  # media time: container timestamp for a file, seconds since the session start for a camera
    captured_at: float  # time.perf_counter() when a camera would have delivered it (latency starts here)
    rgb: np.ndarray  # (H, W, 3) uint8, upright


class LatestFrameSlot:
    """A one-slot mailbox: ``put`` replaces an untaken frame (counted as dropped), ``take`` gets the newest."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: CapturedFrame | None = None
        self._closed = False
        self.frames_put = 0
        self.frames_dropped = 0

    def put(self, frame: CapturedFrame) -> None:
        """Hand over a new frame; an unread older one is dropped (and counted)."""
        with self._cond:
            if self._frame is not None:
                self.frames_dropped += 1
            self._frame = frame
            self.frames_put += 1
            self._cond.notify()

    def take(self, timeout_s: float | None = None) -> CapturedFrame | None:
        """The newest frame, waiting up to ``timeout_s``; None on timeout or when closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout_s)
            frame, self._frame = self._frame, None
            self._cond.notify_all()  # a lock-step source waits for the slot to empty
            return frame

    def wait_taken(self, stop: threading.Event, poll_s: float = 0.05) -> None:
        """Block until the slot is empty (the consumer took the last frame) or ``stop`` is set."""
        with self._cond:
            while self._frame is not None and not stop.is_set():
                self._cond.wait(poll_s)

    def close(self) -> None:
        """The source ended: wake a waiting consumer, which then sees ``finished``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """Closed by the source and nothing left to take."""
        with self._cond:
            return self._closed and self._frame is None


class FrameSource(ABC):
    """Base of the capture sources: ``run(slot, stop, pause)`` delivers frames until the end or ``stop``."""

    info: VideoInfo
    error: str | None = None  # set when the source stopped because of a failure (one line)

    @abstractmethod
    def run(self, slot: LatestFrameSlot, stop: threading.Event, pause: threading.Event) -> None:
        """Deliver frames into ``slot`` until the source ends or ``stop`` is set."""

    def close(self) -> None:  # noqa: B027  (optional hook: most sources hold nothing to release)
        """Release what the source holds (most hold nothing)."""
        return None


class VideoFileSource(FrameSource):
    """Decode a file with PyAV and release each frame at the clip's real pace (by its timestamp).

    Opening happens in the constructor (in the caller's thread) so a bad file fails at once with a clear
    message. ``max_width`` matches ``analyze`` so landmarks are in the same pixel space. ``every_frame``
    releases each frame only once the previous one was taken: nothing is dropped, whatever the machine's
    speed (the coach then sees exactly analyze's frames), and the pace is the consumer's, not the clip's.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_width: int | None = 1280,
        realtime: bool = True,
        every_frame: bool = False,
    ) -> None:
        self.reader = VideoReader(path, max_width=max_width)
        self.info = self.reader.info
        self.realtime = realtime and not every_frame
        self.every_frame = every_frame
        self.path = Path(path)

    def run(self, slot: LatestFrameSlot, stop: threading.Event, pause: threading.Event) -> None:
        """Decode the clip and put its frames into the slot at its real pace (or as asked)."""
        start = time.perf_counter()
        try:
            for i, frame in enumerate(self.reader):
                due = start + frame.time_s
                while pause.is_set() and not stop.is_set():  # pausing a file pauses its clock too
                    t_pause = time.perf_counter()
                    time.sleep(0.02)
                    start += time.perf_counter() - t_pause
                    due = start + frame.time_s
                if stop.is_set():
                    break
                if self.every_frame:
                    slot.wait_taken(stop)
                if self.realtime:
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                else:
                    due = time.perf_counter()
                slot.put(CapturedFrame(i, frame.time_s, due, frame.rgb))
            if self.reader.report.errors:
                self.error = self.reader.report.errors[0]
        finally:
            slot.close()

    def close(self) -> None:
        """Close the video file."""
        self.reader.close()


def _camera_backends() -> list[tuple[str, int]]:
    import cv2

    system = platform.system()
    if system == "Linux":
        names = ["CAP_V4L2", "CAP_GSTREAMER", "CAP_ANY"]
    elif system == "Darwin":
        names = ["CAP_AVFOUNDATION", "CAP_ANY"]
    elif system == "Windows":
        names = ["CAP_DSHOW", "CAP_MSMF", "CAP_ANY"]
    else:
        names = ["CAP_ANY"]
    return [(n.removeprefix("CAP_"), getattr(cv2, n)) for n in names if hasattr(cv2, n)]


def camera_devices() -> list[str]:
    """Video device nodes the OS shows (Linux); empty elsewhere or when there is none."""
    return sorted(glob.glob("/dev/video*"))


def open_camera(index: int, max_width: int | None = 1280) -> CameraSource:
    """Open camera ``index`` with the first backend that delivers a frame; else CameraError saying what was tried."""
    import cv2

    tried: list[str] = []
    for name, backend in _camera_backends():
        cap = cv2.VideoCapture()
        # each failing backend logs several lines (some straight from native code): our one line says it all
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            with quiet_native_stderr():
                try:
                    ok = cap.open(index, backend)
                except cv2.error:
                    ok = False
                got, bgr = False, None
                if ok:
                    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep the driver from queueing stale frames
                    got, bgr = cap.read()
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if got and bgr is not None:
            return CameraSource(cap, index, name, bgr, max_width)
        cap.release()
        tried.append(name)
    devices = camera_devices()
    if devices:
        where = "devices: " + ", ".join(devices)
    else:
        where = "no /dev/video* device" if platform.system() == "Linux" else "no device listed"
    raise CameraError(
        f"no camera could be opened: tried camera {index} with {', '.join(tried) or 'no backend'} ({where}); "
        "plug a camera in, pick another with --camera N, or play a clip with --source VIDEO"
    )


class CameraSource(FrameSource):
    """cv2.VideoCapture in the capture thread; frames are stamped with the time they were read."""

    def __init__(self, cap, index: int, backend: str, first_bgr: np.ndarray, max_width: int | None) -> None:
        import cv2

        self._cv2 = cv2
        self.cap = cap
        self.backend = backend
        h, w = first_bgr.shape[:2]
        self._size: tuple[int, int] | None = None
        if max_width and w > max_width:  # same scaling rule as the file reader
            h = int(round(h * max_width / w / 2) * 2)
            w = max_width
            self._size = (w, h)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        self.info = VideoInfo(f"camera {index}", w, h, fps, 0, 0.0, f"camera ({backend})", 0)

    def run(self, slot: LatestFrameSlot, stop: threading.Event, pause: threading.Event) -> None:
        """Read camera frames into the slot until stopped."""
        cv2 = self._cv2
        start = time.perf_counter()
        i = 0
        failures = 0
        try:
            while not stop.is_set():
                got, bgr = self.cap.read()  # blocks until the camera delivers; keeps the driver queue empty
                now = time.perf_counter()
                if not got or bgr is None:
                    failures += 1
                    if failures > 30:  # ~1 s of nothing: the camera went away
                        self.error = "the camera stopped delivering frames"
                        break
                    time.sleep(0.03)
                    continue
                failures = 0
                if self._size is not None:
                    bgr = cv2.resize(bgr, self._size, interpolation=cv2.INTER_AREA)
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                slot.put(CapturedFrame(i, now - start, now, rgb))
                i += 1
        finally:
            slot.close()

    def close(self) -> None:
        """Release the camera."""
        self.cap.release()


class CaptureThread:
    """Runs a FrameSource in a daemon thread; ``stop`` ends it, ``pause`` holds a file's playback."""

    def __init__(self, source: FrameSource, slot: LatestFrameSlot) -> None:
        self.source = source
        self.slot = slot
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hingecheck-capture", daemon=True)
        self.exception: BaseException | None = None

    def _run(self) -> None:
        try:
            self.source.run(self.slot, self.stop_event, self.pause_event)
        except BaseException as exc:  # reported by the session, never silently lost
            self.exception = exc
            self.slot.close()

    def start(self) -> None:
        """Start capturing in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop capturing, wait briefly for the thread and close the source."""
        self.stop_event.set()
        self._thread.join(timeout=2.0)
        self.source.close()
