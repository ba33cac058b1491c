"""End to end: our IBus engine in real applications on a headless desktop.

One module fixture starts a D-Bus session bus, Xvfb and ibus-daemon (ui.ibus.harness), installs
the component with the real `main.py ibus install`, selects the engine with `ibus engine`
and opens a real GTK3 window and a real PyQt6 window, each with a text field, a second field
and a password field. Keys are sent with xdotool, as a person's would arrive; what the fields
hold is read back from the applications, what the engine drew from its trace and from X.

Needs the Debian packages of `make ibus-deps` and PyGObject; without them the module is
skipped naming what is missing (in CI, CI=true, that is a failure: `make test` installs them).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ui.ibus.harness import Client, Desktop, missing

pytestmark = [pytest.mark.slow, pytest.mark.qt]

ROOT = Path(__file__).resolve().parents[2]
FAULT_KEY = "F9"  # DELTA_PINYIN_IBUS_FAULT: the engine raises on it while composing
WINDOW = "^Delta Pinyin candidates$"


def _require_desktop() -> None:
    absent = missing()
    if absent:
        reason = "the IBus end-to-end test needs: " + ", ".join(absent) + " (make ibus-deps)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI installs them through `make test`")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
         ) -> Iterator[Desktop]:
    _require_desktop()
    cache = request.getfixturevalue("ui_engine")
    tmp = tmp_path_factory.mktemp("ibus")
    config = tmp / "config.toml"
    config.write_text("lm = false\n", encoding="utf-8")  # the LM's latency: the benchmark
    with Desktop(tmp, cache_dir=cache, config=config,
                 env={"DELTA_PINYIN_IBUS_FAULT": FAULT_KEY}) as d:
        d.gtk = d.start_client("gtk")  # type: ignore[attr-defined]
        d.qt = d.start_client("qt")  # type: ignore[attr-defined]
        d.select_engine()
        d.activate(d.gtk)  # type: ignore[attr-defined]
        d.wait(lambda: d.trace_events("ready"), 30, "the engine to load")
        yield d
        assert "Set global engine failed" not in d.daemon_output()


@pytest.fixture(params=["gtk", "qt"])
def app(request: pytest.FixtureRequest, desk: Desktop) -> Client:
    """A client window with the X focus, its text field focused and empty."""
    c: Client = getattr(desk, request.param)
    desk.activate(c)
    c.focus("text")
    desk.key("Escape")
    c.clear()
    return c


def wait_text(desk: Desktop, app: Client, expected: str, field: str = "text") -> None:
    desk.wait(lambda: app.text(field) == expected, 10,
              f"{app.kind} field {field!r} to hold {expected!r} (has {app.text(field)!r})")


def wait_preedit(desk: Desktop, app: Client, expected: str) -> None:
    desk.wait(lambda: app.state()["preedit"] == expected, 10,
              f"{app.kind} preedit {expected!r} (has {app.state()['preedit']!r})")


def type_and_paint(desk: Desktop, keys: str) -> dict:
    """Type `keys`; the candidate window's first paint for all of them (engine trace)."""
    n = len(desk.trace_events("paint"))
    desk.type(keys)
    return desk.wait(lambda: next((e for e in desk.trace_events("paint")[n:]
                                   if e["keys"] == keys), None), 10, f"a paint for {keys!r}")


def user_words(db: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT * FROM words ORDER BY id").fetchall()


def test_the_install_command_set_up_the_daemon(desk: Desktop) -> None:
    assert desk.engine_listed()  # read from the IBUS_COMPONENT_PATH the command printed
    reg = desk.trace_events("registered")
    assert len(reg) == 1  # one engine process for both applications and all their fields


def test_nihao_space_types_nihao(desk: Desktop, app: Client) -> None:
    desk.type("nihao")
    wait_preedit(desk, app, "nihao")
    assert app.text() == ""  # the composition is inline, not yet in the text
    desk.key("space")
    wait_text(desk, app, "你好")
    wait_preedit(desk, app, "")


def test_a_digit_commits_that_candidate(desk: Desktop, app: Client) -> None:
    paint = type_and_paint(desk, "woshizhongguoren")
    first, second = paint["candidates"][:2]
    assert second != first
    desk.key("2")
    desk.wait(lambda: app.text() == second or app.state()["preedit"].startswith(second), 10,
              f"{second!r} committed or picked")
    if app.text() != second:  # a word: picked, the rest still composing; Space takes it
        assert app.text() == ""
        desk.key("space")
        desk.wait(lambda: app.text().startswith(second) and not app.state()["preedit"], 10,
                  f"a commit starting with {second!r}")


def test_backspace_edits_the_preedit_and_escape_cancels(desk: Desktop, app: Client) -> None:
    desk.type("nihaoo")
    wait_preedit(desk, app, "nihaoo")
    desk.key("BackSpace")
    wait_preedit(desk, app, "nihao")
    desk.key("Escape")
    wait_preedit(desk, app, "")
    assert app.text() == ""
    desk.wait(lambda: desk.window_geometry(WINDOW) is None, 5, "the window to close")
    desk.type("nihao")
    desk.key("space")
    wait_text(desk, app, "你好")


def test_shift_then_letters_types_english(desk: Desktop, app: Client) -> None:
    desk.key("shift")
    desk.type("hello")
    wait_text(desk, app, "hello")
    assert desk.window_geometry(WINDOW) is None
    desk.key("shift")  # back to Chinese
    desk.type("nihao")
    desk.key("space")
    wait_text(desk, app, "hello你好")


def test_a_password_field_gets_plain_letters_and_nothing_is_learned(desk: Desktop,
                                                                    app: Client) -> None:
    before = user_words(desk.user_db)
    app.focus("password")
    desk.type("woshizhongguoren2")
    wait_text(desk, app, "woshizhongguoren2", "password")
    assert desk.window_geometry(WINDOW) is None
    assert user_words(desk.user_db) == before
    app.focus("text")  # the same keys in a normal field are learned from
    desk.type("woshizhongguoren2")
    desk.key("space")  # takes the rest, if the second candidate was a word
    desk.wait(lambda: app.text() and not app.state()["preedit"], 10, "a commit")
    desk.wait(lambda: user_words(desk.user_db) != before, 10, "the user lexicon to learn")


def test_the_candidate_window_sits_at_the_cursor_rectangle(desk: Desktop, app: Client) -> None:
    n = len(desk.trace_events("anchor"))
    paint = type_and_paint(desk, "zhongguo")
    anchor = desk.trace_events("anchor")[n]["rect"]  # the rectangle the client reported
    field = app.state()["entries"]["text"]["rect"]
    fx, fy, fw, fh = field
    ax, ay, aw, ah = anchor
    slack = 4  # Qt's caret rectangle starts a pixel or two left of the field's frame
    assert fx - slack <= ax <= fx + fw and fy - slack <= ay and ay + ah <= fy + fh + slack, \
        (anchor, field)
    geometry = desk.window_geometry(WINDOW)  # X's own idea of where the window is
    assert geometry is not None and list(geometry) == paint["geometry"]
    x, y, _w, _h = geometry
    assert (x, y) == (ax, ay + ah)  # just below the caret, where the composition began
    desk.key("Escape")


def test_focus_out_commits_the_letters_as_typed(desk: Desktop, app: Client) -> None:
    desk.type("nihao")
    wait_preedit(desk, app, "nihao")
    app.focus("other")
    wait_text(desk, app, "nihao")
    desk.type("nihao")
    desk.key("space")
    wait_text(desk, app, "你好", "other")


def test_an_engine_error_is_survived(desk: Desktop, app: Client) -> None:
    pid = desk.engine_pid()
    errors = len(desk.trace_events("error"))
    desk.type("nihao")
    wait_preedit(desk, app, "nihao")
    desk.key(FAULT_KEY)
    desk.wait(lambda: len(desk.trace_events("error")) > errors, 10, "the injected error")
    wait_preedit(desk, app, "")  # the composition was reset
    desk.type("nihao")
    desk.key("space")
    wait_text(desk, app, "你好")
    assert desk.engine_pid() == pid and "injected fault on F9" in desk.daemon_output()


def test_screenshot_of_a_gtk_application_with_the_candidate_window(desk: Desktop,
                                                                   tmp_path: Path) -> None:
    from PyQt6.QtCore import QRect
    from PyQt6.QtGui import QImage

    app: Client = desk.gtk  # type: ignore[attr-defined]
    desk.activate(app)
    app.focus("text")
    app.clear()
    desk.type("wozaixuexi")
    desk.key("space")
    paint = type_and_paint(desk, "zhongguoren")
    out = tmp_path / "ibus-gtk.png"
    grab = ("import sys\nfrom PyQt6.QtWidgets import QApplication\n"
            "app = QApplication(sys.argv[:1])\n"
            "ok = app.primaryScreen().grabWindow(0).save(sys.argv[1], 'PNG')\n"
            "sys.exit(0 if ok else 1)\n")
    env = {**desk.env, "QT_QPA_PLATFORM": "xcb", "QT_IM_MODULE": "none"}
    proc = subprocess.run([sys.executable, "-c", grab, str(out)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    desk.key("Escape")
    image = QImage(str(out))
    x, y, w, h = paint["geometry"]
    window = QRect(x, y, w, h)
    assert image.rect().contains(window)
    shades = {image.pixel(i, j) for i in range(x, x + w) for j in range(y, y + h)}
    assert len(shades) >= 20  # antialiased Han characters, not an empty box
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(out, ROOT / "docs" / "ibus-gtk.png")


def test_a_click_selects_and_a_right_click_forgets(desk: Desktop, app: Client) -> None:
    paint = type_and_paint(desk, "nihao")
    wx, wy, _, _ = paint["geometry"]
    x, y, w, h = paint["cells"][1]
    second = paint["candidates"][1]
    forgotten, painted = len(desk.trace_events("forgotten")), len(desk.trace_events("paint"))
    desk.click(wx + x + w // 2, wy + y + h // 2, 3)
    desk.wait(lambda: len(desk.trace_events("forgotten")) > forgotten, 10, "the forget")
    assert desk.trace_events("forgotten")[-1]["word"] == second
    paint = desk.wait(lambda: next((e for e in reversed(desk.trace_events("paint")[painted:])
                                    if e["keys"] == "nihao"), None), 10, "the repaint")
    assert second not in paint["candidates"][:1]
    x, y, w, h = paint["cells"][0]
    desk.click(wx + x + w // 2, wy + y + h // 2, 1)
    wait_text(desk, app, paint["candidates"][0])
    assert desk.window_geometry(WINDOW) is None


def test_the_property_menu_is_saved_to_config_toml(desk: Desktop) -> None:
    """A gi input context stands in for the panel: it reads the engine's property list and
    toggles Chinese punctuation off, then on again, as a click in the menu does."""
    seen = desk.property_probe("punctuation", "chinese_punctuation")
    assert seen[:5] == ["mode", "learning", "lm", "recording", "punctuation"]
    assert seen[5:] == ["off:false", "on:true"]  # read back from config.toml each time


def test_ibus_lookup_table_as_the_candidate_view(tmp_path: Path, ui_engine: Path) -> None:
    """candidate_window = "ibus" (GNOME on Wayland): no Qt window; IBus's own table gets every
    candidate with our page size, the highlight as its cursor, paging mapped onto it."""
    _require_desktop()
    config = tmp_path / "config.toml"
    config.write_text('lm = false\ncandidate_window = "ibus"\n', encoding="utf-8")
    with Desktop(tmp_path, cache_dir=ui_engine, config=config) as d:
        d.select_engine()
        d.wait(lambda: d.trace_events("registered"), 20, "the engine")
        events = d.table_probe(["n", "i", "h", "a", "o", "Page_Down", "Page_Up", "Right",
                                "space"])
        assert d.window_geometry(WINDOW) is None  # no window of ours
    tables = [e for e in events if e["event"] == "table" and e["visible"]]
    assert len(tables) == 8  # one per key, the commit's Space aside
    full = tables[4]  # after "nihao"
    assert full["candidates"][0] == "你好" and len(full["candidates"]) > 5
    assert full["page_size"] == 5 and full["labels"] == ["1.", "2.", "3.", "4.", "5."]
    # Page_Down, Page_Up, Right: IBus's cursor follows our page and highlight
    assert [t["cursor"] for t in tables[4:]] == [0, 5, 0, 1]
    assert all(t["candidates"] == full["candidates"] for t in tables[4:])
    commits = [e["text"] for e in events if e["event"] == "commit"]
    assert commits == [full["candidates"][1]]
