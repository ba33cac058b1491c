"""The IBus engine's logic without a bus: key translation, the component file, and Sessions on
one Service driven as ibus-daemon would drive them (a fake client records what IBus would be
told). The real daemon and real applications: tests/ui/test_ibus_e2e.py."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ime.config import load_config
from ime.keys import KeyEvent, Mod
from ui.ibus import component
from ui.ibus.keymap import KEYVAL, RELEASE_MASK, key_event, keyval_of
from ui.ibus.session import PRIVATE_HINT, Service, Session, Toggle

# ---- keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyval, state, expected", [
    (ord("n"), 0, KeyEvent("n", "n")),
    (ord("N"), 1, KeyEvent("N", "N", Mod.SHIFT)),
    (ord(" "), 0, KeyEvent("space", " ")),
    (ord(","), 0, KeyEvent("comma", ",")),
    (ord("2"), 0, KeyEvent("2", "2")),
    (KEYVAL["BackSpace"], 0, KeyEvent("BackSpace")),
    (KEYVAL["Escape"], 0, KeyEvent("Escape")),
    (KEYVAL["Shift_L"], 0, KeyEvent("Shift_L")),
    (KEYVAL["Shift_L"], 1 | RELEASE_MASK, KeyEvent("Shift_L", "", Mod.SHIFT, release=True)),
    (ord("c"), 1 << 2, KeyEvent("c", "c", Mod.CTRL)),
    (ord("x"), 1 << 3, KeyEvent("x", "x", Mod.ALT)),
    (KEYVAL["Delete"], 1 << 2, KeyEvent("Delete", "", Mod.CTRL)),
    (KEYVAL["KP_3"], 0, KeyEvent("KP_3", "3")),
    (KEYVAL["Page_Down"], 0, KeyEvent("Page_Down")),
    (0x1008FF13, 0, KeyEvent("0x1008ff13")),
], ids=["letter", "shifted", "space", "comma", "digit", "backspace", "escape", "shift",
        "shift-release", "ctrl", "alt", "ctrl-delete", "keypad-digit", "page-down", "unnamed"])
def test_ibus_key_events_translate_to_key_events(keyval: int, state: int,
                                                 expected: KeyEvent) -> None:
    assert key_event(keyval, state) == expected


def test_keysym_names_and_values_round_trip() -> None:
    for name in ("a", "Z", "space", "apostrophe", "BackSpace", "Return", "KP_7", "F12"):
        assert key_event(keyval_of(name), 0).keysym == name
    with pytest.raises(ValueError):
        keyval_of("NoSuchKey")


# ---- the component file ---------------------------------------------------------------------------


def test_the_component_file_names_the_engine_and_its_command(tmp_path: Path) -> None:
    cmd = ["/opt/py env/bin/python", "/src/main.py", "ibus", "--ibus", "--cache-dir", "/c & d"]
    root = ET.fromstring(component.component_xml(cmd))
    assert root.findtext("name") == component.BUS_NAME
    assert root.findtext("exec") == "'/opt/py env/bin/python' /src/main.py ibus --ibus " \
                                    "--cache-dir '/c & d'"
    engine = root.find("engines/engine")
    assert engine is not None and engine.findtext("name") == component.ENGINE_NAME
    assert engine.findtext("language") == "zh_CN" and engine.findtext("layout") == "us"


def test_user_install_and_uninstall(tmp_path: Path) -> None:
    done = component.install(["/bin/python", "/x/main.py", "ibus", "--ibus"])
    path = tmp_path / "data" / "ibus" / "component" / component.COMPONENT_FILE  # XDG is tmp
    assert done.path == path and path.is_file() and not done.system
    assert done.env_line == f"IBUS_COMPONENT_PATH=/usr/share/ibus/component:{path.parent}"
    assert "--cache=refresh" in done.restart
    assert (path.stat().st_mode & 0o777) == 0o644
    assert component.uninstall() is not None and not path.exists()
    assert component.uninstall() is None


def test_system_install_refreshes_the_cache(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)

        class Done:
            returncode, stdout, stderr = 0, "", ""
        return Done()

    monkeypatch.setattr(component.subprocess, "run", fake_run)
    done = component.install(["/bin/true"], system=True, directory=tmp_path / "sys")
    assert done.system and done.env_line == "" and (tmp_path / "sys" / "delta-pinyin.xml").exists()
    assert calls == [["ibus", "write-cache", "--system"]] and "refreshed" in done.cache
    component.uninstall(system=True, directory=tmp_path / "sys")
    assert len(calls) == 2 and not (tmp_path / "sys" / "delta-pinyin.xml").exists()


def test_the_install_command_prints_one_component_path_line(tmp_path: Path, capsys) -> None:
    from cli.main import main

    assert main(["ibus", "install", "--cache-dir", str(tmp_path / "lex"),
                 "--user-db", "u.db"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "IBUS_COMPONENT_PATH" in ln]
    assert len(lines) == 1 and lines[0].startswith("IBUS_COMPONENT_PATH=/usr/share/ibus/")
    assert "ibus-daemon --xim --replace --daemonize --cache=refresh" in out
    xml = (tmp_path / "data" / "ibus" / "component" / "delta-pinyin.xml").read_text()
    exec_line = ET.fromstring(xml).findtext("exec")
    assert exec_line is not None and "main.py ibus --ibus" in exec_line
    assert f"--cache-dir {tmp_path / 'lex'}" in exec_line
    assert f"--user-db {Path('u.db').resolve()}" in exec_line  # absolute: the daemon's cwd
    assert main(["ibus", "uninstall"]) == 0
    assert "removed" in capsys.readouterr().out


# ---- sessions on a service ------------------------------------------------------------------------


class FakeClient:
    """What IBus would be told: commits, preedits, property menus."""

    def __init__(self) -> None:
        self.committed: list[str] = []
        self.preedits: list[tuple[str, int, bool]] = []
        self.props: list[list[Toggle]] = []

    def commit(self, text: str) -> None:
        self.committed.append(text)

    def show_preedit(self, text: str, cursor: int, commit_on_focus_out: bool) -> None:
        self.preedits.append((text, cursor, commit_on_focus_out))

    def show_properties(self, toggles: list[Toggle]) -> None:
        self.props.append(toggles)

    @property
    def preedit(self) -> str:
        return self.preedits[-1][0] if self.preedits else ""

    def toggle(self, key: str) -> bool:
        return next(t.on for t in self.props[-1] if t.key == key)


class FakeView:
    def __init__(self) -> None:
        self.shown: list[tuple[object, tuple | None]] = []  # (state, cursor)
        self.visible = False

    def show(self, owner, state, cursor) -> None:
        self.shown.append((state, cursor))
        self.visible = True

    def hide(self, owner) -> None:
        self.visible = False


class Rig:
    def __init__(self, engine, tmp_path: Path, fault_key: str | None = None) -> None:
        self.view = FakeView()
        self.traced: list[tuple[str, dict]] = []
        self.service = Service(lambda client: self.view, tmp_path / "config.toml",
                               tmp_path / "log.jsonl",
                               trace=lambda ev, **kw: self.traced.append((ev, kw)),
                               fault_key=fault_key)
        if engine is not None:
            self.service.set_engine(engine)
        self.client = FakeClient()
        self.session = Session(self.service, self.client)
        self.session.focus_in()
        self.session.set_cursor_location(100, 200, 0, 20)

    def press(self, keysym: str, state: int = 0) -> bool:
        kv = keyval_of(keysym)
        handled = self.session.process_key(kv, 0, state)
        self.session.process_key(kv, 0, state | RELEASE_MASK)
        return handled

    def type(self, text: str) -> list[bool]:
        return [self.press(KeyEvent.of(ch).keysym) for ch in text]


@pytest.fixture
def rig(make_engine, tmp_path: Path) -> Rig:
    return Rig(make_engine(), tmp_path)


def test_keys_pass_through_while_the_engine_loads(make_engine, tmp_path: Path) -> None:
    r = Rig(None, tmp_path)
    assert r.type("nihao") == [False] * 5 and r.client.preedits == []
    assert [kw["loading"] for ev, kw in r.traced if ev == "key"] == [True] * 5
    r.service.set_engine(make_engine())
    assert r.type("nihao") == [True] * 5 and r.client.preedit == "nihao"
    assert r.client.toggle("mode")  # the menu was redrawn when the engine came


def test_nihao_space_commits_and_the_window_stays_where_composing_began(rig: Rig) -> None:
    rig.type("ni")
    rig.session.set_cursor_location(130, 200, 0, 20)  # the client moved its caret
    rig.type("hao")
    assert rig.client.preedit == "nihao" and rig.client.preedits[-1][1] == len("nihao")
    assert rig.view.shown[-1][0].preedit == "ni'hao"  # the split: in the candidate window
    assert rig.view.visible and {c for _, c in rig.view.shown} == {(100, 200, 0, 20)}
    assert rig.view.shown[-1][0].candidates[0].text == "你好"
    assert rig.press("space")
    assert rig.client.committed == ["你好"] and rig.client.preedit == ""
    assert not rig.view.visible


def test_a_digit_commits_that_candidate(rig: Rig) -> None:
    rig.type("woshizhongguoren")
    first, second = rig.view.shown[-1][0].candidates[:2]
    assert rig.press("2")
    if second.end < len("woshizhongguoren"):  # a word: picked, the rest still composing
        assert rig.client.committed == [] and rig.client.preedit.startswith(second.text)
        rig.press("space")
    (text,) = rig.client.committed
    assert text.startswith(second.text) and text != first.text


def test_backspace_edits_escape_cancels_reset_cancels(rig: Rig) -> None:
    rig.type("nihaoo")
    assert rig.press("BackSpace") and rig.client.preedit == "nihao"
    assert rig.press("Escape") and rig.client.preedit == "" and rig.client.committed == []
    rig.type("nihao")
    rig.session.reset()
    assert rig.client.preedit == "" and rig.client.committed == [] and not rig.view.visible
    assert not rig.press("BackSpace")  # nothing composed: the application's BackSpace


def test_shift_alone_toggles_and_chords_pass(rig: Rig) -> None:
    assert not rig.press("Shift_L")
    assert not rig.session.chinese and not rig.client.toggle("mode")
    assert rig.type("hi") == [False, False]
    rig.press("Shift_L")
    assert rig.session.chinese
    rig.type("ni")
    assert not rig.press("c", state=1 << 2)  # Ctrl+C goes to the application
    assert not rig.press("Tab", state=1 << 3)  # Alt+Tab too
    assert rig.client.preedit == "ni"


@pytest.mark.parametrize("mode", ["commit", "keep", "cancel"])
def test_focus_out_commits_keeps_or_cancels_per_config(make_engine, tmp_path: Path,
                                                       mode: str) -> None:
    r = Rig(make_engine(focus_out=mode), tmp_path)
    r.type("nihaozhongguo")
    page = r.view.shown[-1][0].candidates
    piece = next(i for i, c in enumerate(page) if c.end == len("nihao"))
    r.session.select(piece)  # a piece picked: the preedit shows it, then the letters as typed
    picked = page[piece].text
    assert r.client.preedit == picked + "zhongguo"
    assert r.view.shown[-1][0].preedit == picked + "zhong'guo"  # the split, in the window
    # "commit": IBus commits the preedit itself on focus out (the engine cannot by then)
    assert r.client.preedits[-1][2] == (mode == "commit")
    r.session.focus_out()
    assert r.client.committed == [] and r.client.preedit == "" and not r.view.visible
    assert r.session.processor.context.context.endswith(picked + "zhongguo") == (mode ==
                                                                               "commit")
    r.session.focus_in()
    kept = mode == "keep"
    assert r.session.composing == kept
    assert (r.client.preedit == picked + "zhongguo") == kept and r.view.visible == kept


def test_a_password_field_gets_plain_letters_and_nothing_is_learned(make_engine,
                                                                    tmp_path: Path) -> None:
    r = Rig(make_engine(learn=True), tmp_path)
    store = r.service.engine.learner.store
    before = store.entries(include_deleted=True)
    r.type("ni")
    r.session.set_content_type(8, 0)  # IBus.InputPurpose.PASSWORD: what was typed is kept
    assert r.client.committed == ["ni"]
    assert r.type("woshizhongguoren") == [False] * 16 and not r.press("2")
    assert r.client.committed == ["ni"] and r.client.preedit == ""
    keys = [kw for ev, kw in r.traced if ev == "key" and kw.get("private")]
    assert keys and all(kw["keysym"] is None and kw["preedit"] is None for kw in keys)
    assert store.entries(include_deleted=True) == before
    r.session.set_content_type(0, 0)  # a normal field again: the same keys are learned from
    assert r.type("woshizhongguoren") == [True] * 16 and r.press("2")
    if r.session.composing:  # the second candidate was a word: Space takes the rest
        r.press("space")
    assert store.entries(include_deleted=True) != before


def test_a_field_with_the_private_hint_composes_and_nothing_is_learned(make_engine,
                                                                     tmp_path: Path) -> None:
    r = Rig(make_engine(learn=True), tmp_path)
    store = r.service.engine.learner.store
    before = store.entries(include_deleted=True)

    def pick_second(keys: str) -> None:
        assert r.type(keys) == [True] * len(keys) and r.press("2")
        while r.session.composing:
            r.press("space")

    r.session.set_content_type(0, PRIVATE_HINT)  # "keep no typing history of this field"
    pick_second("xianzai")
    assert r.client.committed and store.entries(include_deleted=True) == before
    keys = [kw for ev, kw in r.traced if ev == "key"]
    assert keys and all(kw["keysym"] is None and kw["preedit"] is None for kw in keys)
    r.session.set_content_type(0, 0)
    pick_second("xianzai")
    assert store.entries(include_deleted=True) != before


def test_an_engine_error_is_logged_and_the_next_key_works(make_engine, tmp_path: Path,
                                                          capsys) -> None:
    r = Rig(make_engine(), tmp_path, fault_key="F9")
    r.type("nihao")
    assert r.press("F9")
    assert "engine error, composition reset: injected fault" in capsys.readouterr().err
    assert [kw["error"] for ev, kw in r.traced if ev == "error"] == [
        "RuntimeError: injected fault on F9 (DELTA_PINYIN_IBUS_FAULT)"]
    assert r.client.preedit == "" and not r.view.visible and not r.session.composing
    r.type("nihao")
    r.press("space")
    assert r.client.committed == ["你好"]


def test_clicks_select_and_a_right_click_forgets(rig: Rig, monkeypatch) -> None:
    forgotten = []
    engine = rig.service.engine
    monkeypatch.setattr(engine, "forget", lambda text, syl=None: forgotten.append(text) or 1)
    rig.type("nihao")
    second = rig.view.shown[-1][0].candidates[1].text
    rig.session.clicked(1, 3)
    assert forgotten == [second] and rig.session.composing
    rig.session.clicked(0, 1)
    assert rig.client.committed == [rig.view.shown[-2][0].candidates[0].text]


def test_paging_and_the_highlight_from_the_panel(rig: Rig) -> None:
    rig.type("shi")
    first_page = rig.view.shown[-1][0].candidates
    rig.session.page(+1)
    st = rig.view.shown[-1][0]
    assert st.page == 1 and st.candidates != first_page
    rig.session.move(+1)
    assert rig.view.shown[-1][0].highlighted == 1


def test_the_menu_saves_settings_to_config_toml(make_engine, tmp_path: Path) -> None:
    r = Rig(make_engine(learn=True), tmp_path)
    assert [t.key for t in r.client.props[-1]] == ["mode", "learning", "lm", "recording",
                                                   "punctuation"]
    assert r.client.toggle("learning") and r.client.toggle("punctuation")
    r.session.property_activate("learning", False)
    r.session.property_activate("punctuation", False)
    cfg = load_config(tmp_path / "config.toml")
    assert not cfg.learning and not cfg.chinese_punctuation
    assert not r.service.engine.config.learning and not r.client.toggle("learning")
    assert not r.press("comma")  # no Chinese punctuation now: the application's ","
    r.session.property_activate("mode", False)
    assert not r.session.chinese and not r.client.toggle("mode")
    assert "recording" not in (tmp_path / "config.toml").read_text()


def test_recording_from_the_menu_records_commits_but_not_private_fields(
        make_engine, tmp_path: Path) -> None:
    from evaluation.typing_log import load_log

    r = Rig(make_engine(), tmp_path)
    r.session.property_activate("recording", True)
    assert r.client.toggle("recording") and r.session.processor.recorder is not None
    r.type("nihao")
    r.press("space")
    r.session.set_content_type(9, 0)  # IBus.InputPurpose.PIN
    r.type("nihao")
    r.press("space")
    records, bad = load_log(tmp_path / "log.jsonl")
    assert [(x.keys, x.text) for x in records] == [("nihao", "你好")] and not bad
    r.session.property_activate("recording", False)
    assert r.session.processor.recorder is None
    assert "recording" not in (tmp_path / "config.toml").read_text() \
        if (tmp_path / "config.toml").exists() else True


def test_the_engine_loads_in_the_background(make_engine, ui_engine: Path,
                                            tmp_path: Path) -> None:
    import threading

    done = threading.Event()
    r = Rig(None, tmp_path)
    calls = []

    def call_soon(fn, *args):
        calls.append(fn.__name__)
        fn(*args)
        done.set()

    r.service.load_in_background(lambda: make_engine(), call_soon, cache_dir=ui_engine)
    assert done.wait(60)
    assert calls == ["set_engine"] and r.service.engine is not None
    assert [ev for ev, _ in r.traced].count("ready") == 1

    done.clear()
    r2 = Rig(None, tmp_path)
    r2.service.load_in_background(lambda: 1 / 0, call_soon, cache_dir=ui_engine)
    assert done.wait(60)
    assert r2.service.engine is None and "ZeroDivisionError" in r2.service.load_error
    assert not r2.press("a")  # keys still pass


class FakeReranker:
    """The Reranker protocol with no model: every text equally likely."""

    lam, top = 0.5, 10

    def start(self, text: str = "") -> object:
        return ("h", text)

    def advance(self, handle: object, text: str) -> object:
        return ("h", handle, text)

    def logp(self, handle: object, texts) -> list[float]:
        self.calls = getattr(self, "calls", 0) + 1
        return [0.0] * len(texts)


def test_the_neural_lm_loads_after_the_engine_and_takes_over(make_engine, ui_engine: Path,
                                                             tmp_path: Path) -> None:
    import threading

    r = Rig(None, tmp_path)
    order = []
    done = threading.Event()

    def call_soon(fn, *args):
        order.append(fn.__name__)
        fn(*args)
        if fn.__name__ == "set_reranker":
            done.set()

    reranker = FakeReranker()
    r.service.load_in_background(lambda: make_engine(), call_soon, ui_engine,
                                 load_lm=lambda: reranker)
    assert done.wait(60)
    engine = r.service.engine
    assert order == ["set_engine", "set_reranker"] and engine.reranking
    assert [kw["lm"] for ev, kw in r.traced if ev == "lm_ready"] == [True]
    r.session.focus_in()
    assert r.client.toggle("lm")
    r.type("nihao")
    assert reranker.calls > 0  # the keys were reranked


def test_gi_stays_in_the_ibus_glue() -> None:
    """The engine, the command line and the gi-free ibus modules import neither gi nor Qt
    (torch neither): only ui.ibus.engine (gi) and ui.ibus.qt_view (Qt) do."""
    import json
    import subprocess
    import sys

    probe = ("import json, sys\n"
             "import ime.engine, ime.keys, ui.ibus.keymap, ui.ibus.component, ui.ibus.session\n"
             "import cli.main, cli.ibus\n"
             "cli.main.build_parser()\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
             " & {'gi', 'PyQt6', 'torch'})))\n")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_a_missing_lexicon_is_built_in_a_child_process(tmp_path: Path, ui_engine: Path,
                                                       monkeypatch) -> None:
    """The build holds the interpreter for seconds: it runs apart, so keys keep passing."""
    from ui.ibus import session

    runs = []
    monkeypatch.setattr(session.subprocess, "run", lambda cmd, **kw: runs.append((cmd, kw)))
    session.build_lexicon_apart(ui_engine)  # built: nothing to do
    assert runs == []
    session.build_lexicon_apart(tmp_path / "none")
    (cmd, kw), = runs
    assert cmd[0] == sys.executable and "ensure_built" in cmd[2] and cmd[3] == str(
        tmp_path / "none")
    assert str(Path(session.__file__).resolve().parents[2]) in kw["env"]["PYTHONPATH"]
