from __future__ import annotations

import av
import numpy as np
import pytest

from hingecheck.core.errors import CorruptVideoError, NotAVideoError, VideoError
from hingecheck.io.video import VideoReader, VideoWriter, probe
from tests.media import gradient_frame, set_mp4_rotation, truncate_copy, write_audio_only, write_clip


@pytest.fixture(scope="module")
def clip_30fps(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "cfr.mp4"
    return write_clip(path, [i / 30 for i in range(60)])


def test_reads_every_frame_with_container_timestamps(clip_30fps):
    with VideoReader(clip_30fps) as reader:
        frames = list(reader)
        info = reader.info
    assert len(frames) == 60
    assert [f.index for f in frames] == list(range(60))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(60) / 30, atol=1.5e-3)
    assert frames[0].rgb.shape == (96, 160, 3) and frames[0].rgb.dtype == np.uint8
    assert info.width == 160 and info.height == 96 and info.codec == "h264"
    assert not reader.report.damaged


def test_variable_frame_rate_timestamps_are_kept(tmp_path):
    # a phone clip that slows down: 30 fps, then 15 fps, then a stall
    times = [i / 30 for i in range(20)] + [20 / 30 + i / 15 for i in range(1, 10)] + [2.0, 2.5]
    path = write_clip(tmp_path / "vfr.mp4", times)
    with VideoReader(path) as reader:
        got = [f.time_s for f in reader]
    np.testing.assert_allclose(got, times, atol=1.5e-3)


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_rotation_metadata_gives_upright_frames(clip_30fps, tmp_path, turn):
    rotated = set_mp4_rotation(clip_30fps, tmp_path / f"rot{turn}.mp4", turn)
    with VideoReader(rotated) as reader:
        frame = next(iter(reader))
        assert reader.info.rotation_deg == turn
    original = gradient_frame(0)
    expected = np.rot90(original, k={90: -1, 180: 2, 270: 1}[turn])
    assert frame.rgb.shape == expected.shape
    assert reader.info.width == expected.shape[1] and reader.info.height == expected.shape[0]
    # the bright half must land where the turn puts it (codec noise aside)
    assert np.abs(frame.rgb.astype(int)[..., 0] - expected[..., 0]).mean() < 12


def test_max_width_scales_down(clip_30fps):
    with VideoReader(clip_30fps, max_width=80) as reader:
        frame = next(iter(reader))
    assert frame.rgb.shape[1] == 80 and reader.info.width == 80


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        VideoReader(tmp_path / "nope.mp4")


def test_text_file_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are not the frames you are looking for\n" * 20)
    with pytest.raises(NotAVideoError, match="not a video") as err:
        VideoReader(fake)
    assert "\n" not in str(err.value)


def test_empty_file_and_folder(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(NotAVideoError, match="empty"):
        VideoReader(empty)
    with pytest.raises(NotAVideoError, match="folder"):
        VideoReader(tmp_path)


def test_audio_only_file_has_no_video_stream(tmp_path):
    audio = write_audio_only(tmp_path / "voice.m4a")
    with pytest.raises(NotAVideoError, match="no video stream"):
        probe(audio)


def test_truncated_file_keeps_what_decodes(tmp_path):
    whole = write_clip(tmp_path / "whole.mp4", [i / 30 for i in range(60)], noisy=True)
    cut = truncate_copy(whole, tmp_path / "cut.mp4", 0.55)
    with VideoReader(cut) as reader:
        frames = list(reader)
    assert 5 < len(frames) < 60
    assert reader.report.damaged
    assert any("truncated" in e for e in reader.report.errors)


def test_truncated_without_index_is_reported_corrupt(tmp_path):
    # without faststart the index (moov) sits at the end: a cut file keeps only the header
    path = tmp_path / "slow.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(30):
            for packet in stream.encode(av.VideoFrame.from_ndarray(gradient_frame(i), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    cut = truncate_copy(path, tmp_path / "slow_cut.mp4", 0.5)
    with pytest.raises(CorruptVideoError, match="damaged or truncated"):
        VideoReader(cut)


def test_writer_makes_browser_playable_h264(tmp_path):
    out = tmp_path / "out.mp4"
    with VideoWriter(out, 161, 97, 30) as writer:  # odd sizes are trimmed to even for yuv420p
        for i in range(15):
            writer.write(gradient_frame(i, 161, 97), i / 30)
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "moov must come first (faststart) for streaming playback"
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (160, 96)
        assert sum(1 for _ in container.decode(stream)) == 15
