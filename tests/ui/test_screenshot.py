"""A real screen: the typing pad under Xvfb with the candidate window open.

A subprocess (`python -m ui.screenshot`) runs on its own Xvfb display with the xcb platform,
types `zhongguoren` through the bridge and grabs the whole screen. The test checks the PNG
and, with UPDATE_SCREENSHOT=1, copies it to docs/typing-pad.png. Without Xvfb the test is
skipped locally; in CI (CI=true) a missing Xvfb is a failure (`make system-deps`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PyQt6.QtCore import QRect
from PyQt6.QtGui import QImage

pytestmark = [pytest.mark.qt, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1024, 768)


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """Start Xvfb on a free display (it picks one and tells us through -displayfd)."""
    if shutil.which("Xvfb") is None:
        reason = "Xvfb is not installed (Debian: apt-get install xvfb fonts-noto-cjk)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must run the screenshot test: run `make system-deps`")
        pytest.skip(reason)
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
         "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()  # written once the server is ready
        if not number:
            proc.kill()
            err = proc.communicate(timeout=10)[1].decode(errors="replace")
            pytest.fail(f"Xvfb did not start: {err.strip()[-500:]}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def distinct_colours(image: QImage, rect: QRect, step: int = 2) -> int:
    seen = set()
    for y in range(rect.top(), rect.bottom() + 1, step):
        for x in range(rect.left(), rect.right() + 1, step):
            seen.add(image.pixel(x, y))
    return len(seen)


def test_typing_pad_screenshot(xvfb_display: str, ui_engine: Path, tmp_path: Path) -> None:
    out = tmp_path / "typing-pad.png"
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb",
           "DELTA_PINYIN_CACHE": str(ui_engine), "QT_SCALE_FACTOR": "1"}
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "ui.screenshot", str(out),
                           "--keys", "zhongguoren"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["platform"] == "xcb"
    assert info["window_visible"] and "1. 中国人" in info["candidates"]
    assert info["preedit"] == "zhong'guo ren"

    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == SCREEN
    assert distinct_colours(image, image.rect(), step=4) >= 8  # not blank
    # the candidate window is on screen and drawn: antialiased CJK glyphs give many shades
    x, y, w, h = info["window"]
    window = QRect(x, y, w, h)
    assert image.rect().contains(window)
    assert distinct_colours(image, window, step=1) >= 20

    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        dest = ROOT / "docs" / "typing-pad.png"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(out, dest)
