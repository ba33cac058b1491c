"""Screenshot of the typing pad with the candidate window open (docs/typing-pad.png).

    python -m ui.screenshot OUT.png [--keys zhongguoren] [--text "大家好，我是"]

Run it on a display (under Xvfb in the tests: `QT_QPA_PLATFORM=xcb`). It opens the pad,
types `--keys` through the bridge, grabs the whole screen and saves it; the last line of
stdout is JSON describing what was shown, for the test to check against the image.
The engine runs without a learner, so no user file is read or written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]

DEFAULT_TEXT = "今天天气很好，我们一起去公园散步吧。\n大家好，我是"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ui.screenshot", description=__doc__.split("\n")[0])
    p.add_argument("out", help="PNG to write")
    p.add_argument("--keys", default="zhongguoren", help="pinyin typed through the bridge")
    p.add_argument("--text", default=DEFAULT_TEXT, help="text already in the editor")
    p.add_argument("--cache-dir", help="built system lexicon (default: as Engine.load)")
    p.add_argument("--wait-ms", type=int, default=400, help="settle time before the grab")
    args = p.parse_args(argv)

    from PyQt6.QtGui import QGuiApplication, QTextCursor
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    from ime.config import Config
    from ime.engine import Engine
    from ui.app import TypingPad

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Delta Pinyin")
    engine = Engine.load(Config(), Path(args.cache_dir) if args.cache_dir else None,
                         progress=False)
    pad = TypingPad(engine)
    screen = QGuiApplication.primaryScreen()
    avail = screen.availableGeometry()
    w, h = avail.width(), avail.height()
    pad.setGeometry(avail.x() + w // 16, avail.y() + h // 12, w * 7 // 8, h * 3 // 4)
    pad.show()
    pad.activateWindow()
    QTest.qWaitForWindowExposed(pad, 5000)
    pad.editor.setPlainText(args.text)
    pad.editor.moveCursor(QTextCursor.MoveOperation.End)
    pad.editor.setFocus()
    QTest.keyClicks(pad.editor, args.keys)
    QTest.qWait(args.wait_ms)  # let both windows paint
    shot = screen.grabWindow(0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not shot.save(str(out), "PNG"):
        print(f"error: could not write {out}", file=sys.stderr)
        return 1
    win = pad.candidate_window
    g = win.frameGeometry()
    print(json.dumps({
        "path": str(out), "width": shot.width(), "height": shot.height(),
        "screen": [screen.geometry().width(), screen.geometry().height()],
        "dpr": shot.devicePixelRatio(), "platform": QGuiApplication.platformName(),
        "window_visible": win.isVisible(), "window": [g.x(), g.y(), g.width(), g.height()],
        "preedit": pad.editor.preedit(), "candidates": win.labels(),
    }, ensure_ascii=False))
    pad.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
