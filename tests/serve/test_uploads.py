"""File names, and the content probe that decides what is a video."""

from __future__ import annotations

import pytest

from hingecheck.serve.uploads import probe_video, safe_filename
from tests.conftest import SAMPLE_GOOD_STOOP


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("clip.mp4", "clip.mp4"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\My Clip.MOV", "My Clip.MOV"),
        ("..", "video"),
        ("", "video"),
        (None, "video"),
        ("a\x00b\nc.mp4", "abc.mp4"),
        ("<script>.mp4", "_script_.mp4"),
        ("...hidden..mp4", "hidden.mp4"),
        ("é clip.mp4", "é clip.mp4"),
    ],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_long_names_keep_their_extension():
    name = safe_filename("x" * 300 + ".mp4")
    assert len(name) <= 80 and name.endswith(".mp4")


def test_probe_reads_content_not_names(tmp_path):
    assert probe_video(SAMPLE_GOOD_STOOP) is None
    text = tmp_path / "clip.mp4"
    text.write_text("hello\n" * 50)
    assert "not a video" in probe_video(text)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(SAMPLE_GOOD_STOOP.read_bytes()[:2000])
    assert probe_video(truncated) is not None
