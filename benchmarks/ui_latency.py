"""UI keystroke latency: key press → candidate window repainted, through the real bridge.

Run:  python benchmarks/ui_latency.py [--out benchmarks/ui_results.md] [--rounds 1]

The typing pad (editor + ImeBridge + CandidateWindow) types the pinyin of a few sentences
letter by letter (keys from `evaluation.typing_log.make_log`), committing each clause with Space.
For every letter it times, with `time.perf_counter`:

* engine: `InputContext.last_latency_ms`, the engine's decoding time for that key;
* bridge: key event → engine → window state set and placed (`ImeBridge.last_latency_ms`);
* end-to-end: key event sent → Qt events processed until the window's paintEvent has run
  for the new state (the editor's inline preedit is updated in the same event loop).

No neural LM and no learner; Qt runs offscreen unless QT_QPA_PLATFORM says otherwise.
Writes a Markdown snippet (command, machine, date, p50/p95/p99) for RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QEvent, QEventLoop, Qt  # noqa: E402
from PyQt6.QtCore import qVersion as qt_version  # noqa: E402
from PyQt6.QtGui import QKeyEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from benchmarks.machine import cpu_model  # noqa: E402
from evaluation.typing_log import make_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402
from ui.app import TypingPad  # noqa: E402

TEXT = (
    "今天天气很好，我们一起去公园散步吧。中国人民大学的学生正在准备期末考试。"
    "这个输入法可以根据上下文预测用户想要输入的句子。我们希望每一次按键之后都能立刻看到候选词。"
    "北京是中华人民共和国的首都，也是全国的政治和文化中心。"
    "随着科学技术的发展，人们的生活方式发生了很大的变化。"
)
PAINT_TIMEOUT_S = 1.0
GOAL_P95_MS = 16.0


def key_event(kind: QEvent.Type, ch: str) -> QKeyEvent:
    if ch == " ":
        return QKeyEvent(kind, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ")
    if ch == "'":
        return QKeyEvent(kind, Qt.Key.Key_Apostrophe, Qt.KeyboardModifier.NoModifier, "'")
    return QKeyEvent(kind, Qt.Key(ord(ch.upper())), Qt.KeyboardModifier.NoModifier, ch)


def press(app: QApplication, pad: TypingPad, ch: str) -> float:
    """Send one key; return ms until the window repainted (or events settled if hidden)."""
    window = pad.candidate_window
    before = window.paint_count
    t0 = time.perf_counter()
    app.sendEvent(pad.editor, key_event(QEvent.Type.KeyPress, ch))
    app.sendEvent(pad.editor, key_event(QEvent.Type.KeyRelease, ch))
    if window.isVisible():
        while window.paint_count == before:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
            if time.perf_counter() - t0 > PAINT_TIMEOUT_S:
                raise RuntimeError(f"no repaint within {PAINT_TIMEOUT_S} s after {ch!r}")
    else:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
    return (time.perf_counter() - t0) * 1000


def pct(xs: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.asarray(xs), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(Path(__file__).with_name("ui_results.md")),
                   help="Markdown snippet to write")
    p.add_argument("--rounds", type=int, default=1, help="times the text is typed")
    p.add_argument("--cache-dir", help="built system lexicon (default: as Engine.load)")
    args = p.parse_args(argv)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = Engine.load(Config(lm=False, learning=False),
                         Path(args.cache_dir) if args.cache_dir else None, progress=False)
    pad = TypingPad(engine)
    pad.resize(900, 600)
    pad.show()
    app.processEvents()
    records = list(make_log(TEXT))
    ctx = pad.bridge.context

    for ch in "nihao ":  # warm-up: first paint, font caches
        press(app, pad, ch)

    engine_ms: list[float] = []
    bridge_ms: list[float] = []
    e2e_ms: list[float] = []
    commit_ms: list[float] = []
    longest = 0
    for _ in range(args.rounds):
        for r in records:
            longest = max(longest, len(r.keys))
            for ch in r.keys:
                e2e_ms.append(press(app, pad, ch))
                engine_ms.append(ctx.last_latency_ms)
                bridge_ms.append(pad.bridge.last_latency_ms)
            for _ in range(len(r.text) + 1):  # Space until the clause is committed
                if not pad.bridge.composing:
                    break
                commit_ms.append(press(app, pad, " "))
    assert not pad.bridge.composing
    typed = pad.editor.toPlainText()

    rows = [("engine (ctx.last_latency_ms)", engine_ms),
            ("bridge (key → window state set)", bridge_ms),
            ("end-to-end (key → window repainted)", e2e_ms),
            ("Space commit (key → events settled)", commit_ms)]
    p95_e2e = pct(e2e_ms)[1]
    cmd = "python benchmarks/ui_latency.py" + (f" --rounds {args.rounds}"
                                                if args.rounds != 1 else "")
    lines = [
        "### UI keystroke latency (typing pad, no neural LM)",
        "",
        f"`{cmd}` — {dt.date.today().isoformat()}, {cpu_model()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}, Qt {qt_version()}, "
        f"platform `{app.platformName()}`.",
        "",
        f"{len(records)} clauses ({sum(len(r.text) for r in records)} characters, longest "
        f"{longest} keys) typed {args.rounds}× letter by letter: {len(e2e_ms)} letter "
        f"keystrokes, {len(commit_ms)} Space commits.",
        "",
        "| measure | keys | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, xs in rows:
        p50, p95, p99 = pct(xs)
        lines.append(f"| {name} | {len(xs)} | {p50:.2f} | {p95:.2f} | {p99:.2f} |")
    verdict = "meets" if p95_e2e <= GOAL_P95_MS else "misses"
    lines += ["", f"End-to-end p95 {p95_e2e:.2f} ms {verdict} the {GOAL_P95_MS:.0f} ms goal "
              "(one frame at 60 Hz).", ""]
    text = "\n".join(lines)
    print(text)
    print(f"typed: {typed[:60]}…", file=sys.stderr)
    Path(args.out).write_text(text, encoding="utf-8")
    pad.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
