"""Sound for live cues: a short tone (sounddevice) and a spoken cue (espeak-ng), never blocking the loop.

Both are optional: without an audio device or without espeak-ng the cues stay on screen, and one note says
why (once per session, not once per rep).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from collections.abc import Callable

import numpy as np

SAMPLE_RATE_HZ = 22050

log = logging.getLogger(__name__)


def tone(freq_hz: float, duration_s: float, beeps: int = 1) -> np.ndarray:
    """A soft-edged sine beep (or a few, separated by silence), float32 in [-0.3, 0.3]."""
    n = max(int(duration_s * SAMPLE_RATE_HZ), 1)
    t = np.arange(n) / SAMPLE_RATE_HZ
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fade in/out: no clicks
    beep = (0.3 * np.sin(2 * np.pi * freq_hz * t) * ramp).astype(np.float32)
    gap = np.zeros(n // 2, np.float32)
    parts: list[np.ndarray] = []
    for i in range(beeps):
        parts += [beep] if i == 0 else [gap, beep]
    return np.concatenate(parts)


class CuePlayer:
    """Plays a tone and speaks a sentence per cue; ``quiet`` mutes both. ``notes`` collects what is unavailable."""

    def __init__(
        self, quiet: bool = False, note: Callable[[str], None] | None = None, speak: bool = True, tones: bool = True
    ) -> None:
        self.quiet = quiet
        self.notes: list[str] = []
        self._note = note or log.warning
        self._sd = None
        self._speech: subprocess.Popen[bytes] | None = None
        self._espeak = shutil.which("espeak-ng") if (speak and not quiet) else None
        if quiet:
            return
        missing = []
        if tones:
            try:
                import sounddevice

                sounddevice.query_devices(kind="output")
                self._sd = sounddevice
            except Exception as exc:  # OSError (no PortAudio), PortAudioError / ValueError (no output device)
                missing.append(f"no tones ({str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__})")
        if speak and self._espeak is None:
            missing.append("no spoken cues (espeak-ng is not installed)")
        if missing:
            self._add_note("sound: " + "; ".join(missing) + " — cues are shown on screen")

    def _add_note(self, text: str) -> None:
        self.notes.append(text)
        self._note(text)

    @property
    def can_play(self) -> bool:
        """Whether any sound (tone or speech) can be played."""
        return not self.quiet and (self._sd is not None or self._espeak is not None)

    def beep(self, freq_hz: float, duration_s: float, beeps: int = 1) -> None:
        """Play a tone without waiting for it (nothing when quiet or without a device)."""
        if self.quiet or self._sd is None:
            return
        try:
            self._sd.play(tone(freq_hz, duration_s, beeps), SAMPLE_RATE_HZ, blocking=False)
        except Exception as exc:  # the device vanished mid-session: stop trying, say it once
            self._sd = None
            self._add_note(f"sound: tones stopped ({str(exc).splitlines()[0][:80] if str(exc) else exc!r})")

    def say(self, text: str) -> None:
        """Speak in the background; a newer cue cuts an unfinished older one (stale advice is worse than none)."""
        if self.quiet or self._espeak is None or not text:
            return
        if self._speech is not None and self._speech.poll() is None:
            self._speech.terminate()
        try:
            self._speech = subprocess.Popen(
                [self._espeak, "-s", "170", text], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError as exc:
            self._espeak = None
            self._add_note(f"sound: spoken cues stopped ({exc})")

    def close(self) -> None:
        """Let the last spoken cue finish (up to 3 s) and stop the tones."""
        if self._speech is not None and self._speech.poll() is None:
            try:
                self._speech.wait(timeout=3.0)  # let the last cue finish
            except subprocess.TimeoutExpired:
                self._speech.terminate()
        if self._sd is not None:
            with contextlib.suppress(Exception):
                self._sd.stop()
