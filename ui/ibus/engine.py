"""The IBus engine process (`python main.py ibus`, started by ibus-daemon through the component
file): the `gi` glue between IBus and `ui.ibus.session`.

    run()  connect to the bus ─► factory + bus name at once (the daemon gives up on an engine
           that takes ~15 s to appear) ─► the Engine loads on a thread (keys pass meanwhile)
           ─► one main loop: Qt's (its GLib dispatcher serves gi's D-Bus traffic too) when
              our candidate window draws, else GLib's

`DeltaPinyinEngine` is what the factory makes for each input context: it forwards IBus's
calls to its `Session` and implements the session's `Client` (commit, preedit, properties);
`LookupTableView` is the second renderer, IBus's own candidate list (drawn by the panel or,
on GNOME, by the shell). Only this module imports `gi`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import gi

gi.require_version("IBus", "1.0")
from gi.repository import GLib, GObject, IBus  # noqa: E402

from ime.candidates import EngineState  # noqa: E402
from ui.ibus.component import BUS_NAME, ENGINE_NAME, component_xml  # noqa: E402
from ui.ibus.session import CandidateView, Rect, Service, Session, Toggle, Trace  # noqa: E402

if TYPE_CHECKING:
    from ime.config import Config
    from ime.engine import Engine

__all__ = ["DeltaPinyinEngine", "LookupTableView", "run"]


class DeltaPinyinEngine(IBus.Engine):
    """One input context's engine object; everything it does is its Session's."""

    __gtype_name__ = "DeltaPinyinEngine"
    service: Service | None = None  # set by run() before the factory makes any

    def __init__(self) -> None:
        super().__init__()
        assert self.service is not None
        self.session = Session(self.service, self)
        self._props: dict[str, IBus.Property] = {}
        self._prop_list: IBus.PropList | None = None

    # ---- IBus → session --------------------------------------------------------------------

    def do_process_key_event(self, keyval: int, keycode: int, state: int) -> bool:
        return self.session.process_key(keyval, keycode, state)

    def do_focus_in(self) -> None:
        self.session.focus_in()

    def do_focus_out(self) -> None:
        self.session.focus_out()

    def do_reset(self) -> None:
        self.session.reset()

    def do_enable(self) -> None:
        self.get_surrounding_text()  # tells the daemon we want it (IBus asks clients then)

    def do_disable(self) -> None:
        self.session.reset()

    def do_set_cursor_location(self, x: int, y: int, w: int, h: int) -> None:
        self.session.set_cursor_location(x, y, w, h)

    def do_set_content_type(self, purpose: int, hints: int) -> None:
        self.session.set_content_type(int(purpose), int(hints))

    def do_set_surrounding_text(self, text: IBus.Text, cursor_pos: int, anchor_pos: int) -> None:
        self.session.set_surrounding_text(text.get_text(), cursor_pos)

    def do_candidate_clicked(self, index: int, button: int, state: int) -> None:
        self.session.clicked(index, button)

    def do_page_up(self) -> None:
        self.session.page(-1)

    def do_page_down(self) -> None:
        self.session.page(+1)

    def do_cursor_up(self) -> None:
        self.session.move(-1)

    def do_cursor_down(self) -> None:
        self.session.move(+1)

    def do_property_activate(self, name: str, state: int) -> None:
        prop = self._props.get(name)
        if prop is None:
            return
        on = state == IBus.PropState.CHECKED
        self.session.property_activate(name, on)

    def do_destroy(self) -> None:
        self.session.view.hide(self.session)
        self.service.sessions.discard(self.session)  # type: ignore[union-attr]
        IBus.Engine.do_destroy(self)

    # ---- session → IBus (the Client protocol) ------------------------------------------------

    def commit(self, text: str) -> None:
        self.commit_text(IBus.Text.new_from_string(text))

    def show_preedit(self, text: str, cursor: int, commit_on_focus_out: bool) -> None:
        t = IBus.Text.new_from_string(text)
        if text:
            t.append_attribute(IBus.AttrType.UNDERLINE, IBus.AttrUnderline.SINGLE, 0, len(text))
        mode = IBus.PreeditFocusMode.COMMIT if commit_on_focus_out else \
            IBus.PreeditFocusMode.CLEAR
        self.update_preedit_text_with_mode(t, cursor, bool(text), mode)

    def show_properties(self, toggles: list[Toggle]) -> None:
        if self._prop_list is None:
            self._prop_list = IBus.PropList()
            for tg in toggles:
                prop = IBus.Property.new(tg.key, IBus.PropType.TOGGLE,
                                         IBus.Text.new_from_string(tg.label), "",
                                         IBus.Text.new_from_string(tg.label), tg.sensitive,
                                         True, IBus.PropState.UNCHECKED, None)
                prop.set_symbol(IBus.Text.new_from_string(""))
                self._props[tg.key] = prop
                self._prop_list.append(prop)
        # registered again each time: IBus drops an engine's properties on every focus out
        self._set_props(toggles)
        self.register_properties(self._prop_list)

    def _set_props(self, toggles: list[Toggle]) -> None:
        for tg in toggles:
            prop = self._props[tg.key]
            prop.set_state(IBus.PropState.CHECKED if tg.on else IBus.PropState.UNCHECKED)
            prop.set_sensitive(tg.sensitive)
            if tg.key == "mode":
                prop.set_symbol(IBus.Text.new_from_string("中" if tg.on else "英"))


class LookupTableView:
    """IBus's own lookup table as the candidate view (config `candidate_window = "ibus"`):
    the whole candidate list with our page size, so the panel's page and highlight are ours;
    the syllable split goes in the auxiliary text."""

    def __init__(self, engine: DeltaPinyinEngine) -> None:
        self.engine = engine

    def show(self, owner: Session, state: EngineState, cursor: Rect | None) -> None:
        proc = owner.processor
        assert proc is not None
        cands = proc.context.candidates
        size = state.page_size
        table = IBus.LookupTable.new(size, 0, True, False)
        table.set_orientation(IBus.Orientation.VERTICAL if owner.service.engine is not None
                              and owner.service.engine.config.layout == "vertical"
                              else IBus.Orientation.HORIZONTAL)
        for i, c in enumerate(cands):
            table.append_candidate(IBus.Text.new_from_string(c.text))
            if i < size:
                table.set_label(i, IBus.Text.new_from_string(f"{i + 1}."))
        if cands:
            table.set_cursor_pos(state.page * size + state.highlighted)
        self.engine.update_auxiliary_text(IBus.Text.new_from_string(state.preedit), True)
        self.engine.update_lookup_table(table, bool(cands))

    def hide(self, owner: Session) -> None:
        self.engine.hide_lookup_table()
        self.engine.hide_auxiliary_text()


def _qt_usable(config: Config) -> str | None:
    """Why our Qt window cannot be the view here (None: it can)."""
    if config.candidate_window != "qt":
        return "candidate_window = \"ibus\""
    if os.environ.get("XDG_SESSION_TYPE") == "wayland" or not os.environ.get("DISPLAY"):
        return "no X11 display (on Wayland the desktop draws IBus's lookup table)"
    try:
        import PyQt6.QtWidgets  # noqa: F401
    except ImportError:
        return "PyQt6 is not installed"
    return None


def run(load: Callable[[], Engine], config: Config, config_path: Path | None = None,
        cache_dir: Path | None = None, exec_by_daemon: bool = True,
        command: list[str] | None = None,
        load_lm: Callable[[], object | None] | None = None) -> int:
    """Serve the engine until the bus goes away. `load` builds the Engine (on a thread),
    `load_lm` then the neural reranker; `config` is read up front for the view and the
    thread count. `exec_by_daemon`: the
    daemon started us (`--ibus`): own the component's bus name; else register the component
    ourselves (a run by hand), and select it with `ibus engine delta-pinyin`."""
    # torch, if the LM loads, takes its thread count from these when it is first imported
    os.environ.setdefault("OMP_NUM_THREADS", str(config.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(config.threads))
    trace = Trace.from_env()
    IBus.init()
    bus = IBus.Bus()
    if not bus.is_connected():
        print("error: cannot connect to ibus-daemon (is it running? IBUS_ADDRESS?)",
              file=sys.stderr)
        return 2

    why_not_qt = _qt_usable(config)
    qt_view = None  # made below, after the bus name: no session exists before the loop runs

    def view_for(client: object) -> CandidateView:
        return qt_view if qt_view is not None else LookupTableView(client)  # type: ignore[arg-type]

    service = Service(view_for, config_path, trace=trace,
                      fault_key=os.environ.get("DELTA_PINYIN_IBUS_FAULT") or None)
    DeltaPinyinEngine.service = service
    factory = IBus.Factory.new(bus.get_connection())
    factory.add_engine(ENGINE_NAME, GObject.type_from_name(DeltaPinyinEngine.__gtype_name__))
    if exec_by_daemon:
        bus.request_name(BUS_NAME, 0)
    else:  # run by hand: tell the daemon about us ourselves (not listed by `ibus list-engine`)
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".xml", encoding="utf-8") as f:
            f.write(component_xml(command or [sys.executable, "-m", "cli.main", "ibus",
                                              "--ibus"]))
            f.flush()
            bus.register_component(IBus.Component.new_from_file(f.name))
    if trace is not None:
        trace("registered", pid=os.getpid())

    app = None
    if why_not_qt is None:
        from PyQt6.QtWidgets import QApplication

        from ui.ibus.qt_view import QtCandidateView

        app = QApplication.instance() or QApplication(["delta-pinyin-ibus"])
        app.setQuitOnLastWindowClosed(False)
        qt_view = QtCandidateView(config.layout, trace)
    else:
        print(f"delta-pinyin: candidates in IBus's lookup table ({why_not_qt})", file=sys.stderr)

    def call_soon(fn: Callable[..., object], *args: object) -> None:
        GLib.idle_add(fn, *args)

    service.load_in_background(load, call_soon, cache_dir, load_lm)

    if app is not None:
        bus.connect("disconnected", lambda _bus: app.quit())
        return app.exec()
    loop = GLib.MainLoop()
    bus.connect("disconnected", lambda _bus: loop.quit())
    loop.run()
    return 0
