"""MediaPipe's and TFLite's native log lines (glog / absl / LiteRT, written to fd 2 from C++) never reach the user."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NATIVE_LINE = re.compile(r"^(INFO:|WARNING:|W0000|I0000|E0000|[IWE]\d{4} )")


def test_analyze_writes_no_native_log_lines_to_stderr(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL")}
    proc = subprocess.run(
        [sys.executable, "-m", "hingecheck", "analyze", str(REPO / "samples" / "hinge_good_stoop.mp4")]
        + ["--no-video", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    native = [line for line in proc.stderr.splitlines() if NATIVE_LINE.match(line.strip())]
    assert native == [], "\n".join(native)
    assert "Traceback" not in proc.stderr
