"""What the IBus engine process does, without `gi`: one `Session` per input context, all on one
`Service` that holds the shared `Engine`.

    ibus-daemon ──D-Bus──► DeltaPinyinEngine (ui.ibus.engine, gi) ── one per input context
                                 │ keyval, state / focus / cursor / purpose / clicks
                                 ▼
    Service (shared) ◄──────── Session ──KeyEvent──► KeyProcessor ──► InputContext ──► Engine
      Engine (None while         │  ▲ KeyResult
      it loads), menu toggles,   │  └─────────────────────────────────────────────────┘
      recorder, trace            ├─► Client: commit, preedit (underlined, cursor), properties
                                 └─► CandidateView: our Qt window at the cursor rectangle,
                                     or IBus's own lookup table (config `candidate_window`)

The gi glue (`ui.ibus.engine`) forwards IBus's calls here and implements `Client`; a test
drives a Session with a fake client and no bus. Until the Engine has loaded every key passes
to the application (the daemon must never wait on us). An error inside the engine is logged,
the composition dropped, and the next key works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from evaluation.typing_log import TypingLogRecorder
from ime.candidates import EngineState
from ime.config import ConfigError, data_dir, update_config_file
from ime.engine import lm_available
from ime.keys import KeyEvent, KeyProcessor, KeyResult
from ui.fault import EngineFault, run_guarded
from ui.ibus.keymap import key_event

if TYPE_CHECKING:
    from ime.engine import Engine

__all__ = ["Rect", "Client", "CandidateView", "Toggle", "Trace", "Service", "Session",
           "PRIVATE_PURPOSES", "PRIVATE_HINT", "TOGGLES", "build_lexicon_apart"]

Rect = tuple[int, int, int, int]  # x, y, width, height in root-window coordinates (X11)

# IBus.InputPurpose: PASSWORD = 8, PIN = 9 (what GTK and Qt report for such fields)
PRIVATE_PURPOSES = frozenset({8, 9})
# IBus.InputHints.PRIVATE (IBus 1.5.26, as GTK's GTK_INPUT_HINT_PRIVATE): the application
# asks the input method not to update personalized data: composed, nothing learned or recorded
PRIVATE_HINT = 1 << 11
BUTTON_RIGHT = 3  # IBus's candidate_clicked button for a right-click: forget

# the property menu: key → (label, config field; None: not a config field)
TOGGLES: dict[str, tuple[str, str | None]] = {
    "mode": ("Chinese mode (Shift)", None),
    "learning": ("Learning", "learning"),
    "lm": ("Neural LM reranking", "lm"),
    "recording": ("Record typing log", None),
    "punctuation": ("Chinese punctuation", "chinese_punctuation"),
}


class Client(Protocol):
    """One IBus engine object (one input context) as a Session uses it."""

    def commit(self, text: str) -> None:
        """Insert `text` into the application."""
        ...

    def show_preedit(self, text: str, cursor: int, commit_on_focus_out: bool) -> None:
        """Show `text` inline, underlined, the caret at `cursor` ("" hides it).
        `commit_on_focus_out`: the client commits it if it loses the focus (IBus's
        PreeditFocusMode.COMMIT: after a focus out the engine can no longer commit)."""
        ...

    def show_properties(self, toggles: list[Toggle]) -> None:
        """Draw the property menu (IBus's panel or the desktop shows it)."""
        ...


class CandidateView(Protocol):
    """Where candidates are drawn: our Qt window (shared) or the client's IBus lookup table."""

    def show(self, owner: Session, state: EngineState, cursor: Rect | None) -> None: ...

    def hide(self, owner: Session) -> None: ...


@dataclass(frozen=True, slots=True)
class Toggle:
    """One entry of the property menu."""

    key: str
    label: str
    on: bool
    sensitive: bool = True


class Trace:
    """JSON lines of what the engine did, with `time.monotonic()` stamps (one clock for every
    process on the machine), for the end-to-end test and the latency benchmark: set
    `DELTA_PINYIN_IBUS_TRACE` to a file. Off by default. In a private field no key is named."""

    def __init__(self, path: Path) -> None:
        # readable by the user alone: it names the keys typed
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._f = open(fd, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 — whole run
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Trace | None:
        path = os.environ.get("DELTA_PINYIN_IBUS_TRACE")
        return cls(Path(path)) if path else None

    def __call__(self, event: str, **fields: object) -> None:
        line = json.dumps({"t": time.monotonic(), "event": event, **fields}, ensure_ascii=False)
        with self._lock:
            self._f.write(line + "\n")


def _no_trace(event: str, **fields: object) -> None:
    pass


def build_lexicon_apart(cache_dir: Path | None) -> None:
    """Build the system lexicon in a child process if it is missing: the build is CPU-bound
    Python and C that would hold this process's GIL for seconds, and keys must keep passing
    through meanwhile."""
    from lexicon.build import default_cache_dir, is_built

    directory = cache_dir or default_cache_dir()
    if is_built(directory):
        return
    root = str(Path(__file__).resolve().parents[2])  # the project, for the child's imports
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    code = ("import sys; from pathlib import Path; from lexicon.build import ensure_built; "
            "ensure_built(Path(sys.argv[1]), progress=False)")
    subprocess.run([sys.executable, "-c", code, str(directory)], env=env, check=True,
                   stdout=subprocess.DEVNULL)


class Service:
    """What every input context shares: the Engine (None until loaded), the property menu's
    settings (saved to config.toml as the typing pad's menus are), the recorder, the views.

    `view_for(client)`: the CandidateView for a new session (the shared Qt window, or the
    client's own lookup table). `call_soon(fn)`: run fn on the main loop (GLib.idle_add);
    the loader thread hands the Engine over through it. `fault_key`: a keysym that raises
    inside the engine (`DELTA_PINYIN_IBUS_FAULT`), for the test that errors are survived."""

    def __init__(self, view_for: Callable[[Client], CandidateView],
                 config_path: Path | None = None, log_path: Path | None = None,
                 trace: Callable[..., None] | None = None, fault_key: str | None = None) -> None:
        self.view_for = view_for
        self.config_path = config_path
        self.log_path = log_path
        self.trace = trace or _no_trace
        self.fault_key = fault_key
        self.engine: Engine | None = None
        self.load_error: str | None = None
        self.recorder: TypingLogRecorder | None = None
        self.sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self.focused: Session | None = None

    # ---- the engine, loaded in the background ------------------------------------------------

    def load_in_background(self, load: Callable[[], Engine], call_soon: Callable[..., object],
                           cache_dir: Path | None = None,
                           load_lm: Callable[[], object | None] | None = None
                           ) -> threading.Thread:
        """Load the engine on a thread (building the lexicon apart first when it is missing);
        `set_engine` runs on the main loop when it is there. `load_lm`: the neural reranker,
        loaded after the engine (torch takes seconds to import: keys are composed by the
        n-gram model meanwhile), switched on by `set_reranker` when it is there."""

        def work() -> None:
            t0 = time.monotonic()
            try:
                build_lexicon_apart(cache_dir)
                engine = load()
            except BaseException as e:  # noqa: BLE001 — reported; keys keep passing through
                msg = f"{type(e).__name__}: {e}"
                print(f"delta-pinyin: engine not loaded ({msg}); keys pass through",
                      file=sys.stderr)
                call_soon(self._failed, msg)
                return
            call_soon(self.set_engine, engine, time.monotonic() - t0)
            if load_lm is not None:
                try:
                    reranker = load_lm()
                except Exception as e:  # noqa: BLE001 — the n-gram model ranks alone
                    print(f"delta-pinyin: neural LM not loaded ({e})", file=sys.stderr)
                    reranker = None
                call_soon(self.set_reranker, reranker, time.monotonic() - t0)

        thread = threading.Thread(target=work, name="delta-pinyin-load", daemon=True)
        thread.start()
        return thread

    def set_reranker(self, reranker: object | None, seconds: float = 0.0) -> bool:
        """The neural LM has loaded (None: it could not be): rerank from the next key on."""
        engine = self.engine
        if engine is not None and reranker is not None:
            engine.reranker = reranker  # type: ignore[assignment]
            engine.set_config(engine.config.with_(lm=True))
        self.trace("lm_ready", seconds=round(seconds, 3),
                   lm=engine is not None and engine.reranking)
        for s in list(self.sessions):
            s.refresh()
            s.refresh_properties()
        return False  # GLib.idle_add: run once

    def _failed(self, message: str) -> bool:
        self.load_error = message
        self.trace("load_failed", error=message)
        return False  # GLib.idle_add: run once

    def set_engine(self, engine: Engine, seconds: float = 0.0) -> bool:
        self.engine = engine
        if engine.config.recording:
            self.recorder = TypingLogRecorder(self.log_path or data_dir() / "typing-log.jsonl")
        self.trace("ready", seconds=round(seconds, 3), lm=engine.reranking)
        for s in list(self.sessions):
            s._ensure_processor()
            s.refresh_properties()
        return False  # GLib.idle_add: run once

    # ---- the property menu ----------------------------------------------------------------------

    def toggles(self, session: Session) -> list[Toggle]:
        engine = self.engine
        cfg = engine.config if engine is not None else None
        ready = engine is not None
        out = [Toggle("mode", TOGGLES["mode"][0], session.chinese, ready)]
        for key in ("learning", "lm", "punctuation"):
            label, field = TOGGLES[key]
            on = bool(getattr(cfg, field)) if cfg is not None else False
            sensitive = ready
            if key == "learning":
                sensitive = ready and engine.learner is not None
            if key == "lm":  # on only where the model is loaded; off where it cannot be
                on = on and engine.reranker is not None
                sensitive = ready and (engine.reranker is not None or lm_available())
            out.append(Toggle(key, label, on, sensitive))
        out.insert(3, Toggle("recording", TOGGLES["recording"][0], self.recorder is not None,
                             ready))
        return out

    def activate(self, session: Session, key: str, on: bool) -> None:
        """A menu entry was toggled."""
        engine = self.engine
        if engine is None or key not in TOGGLES:
            return
        if key == "mode":
            session.set_chinese(on)
        elif key == "recording":
            self.set_recording(on)
        elif key == "lm":
            self._set(lm=on)  # switching it on loads the model the first time
            if on and engine.reranker is None:
                self._set(lm=False)
            session.refresh()
        else:
            self._set(**{TOGGLES[key][1]: on})  # type: ignore[misc]
            session.refresh()
        for s in list(self.sessions):
            s.refresh_properties()

    def set_recording(self, on: bool) -> None:
        """Recording is chosen per session of the engine, not saved (as in the typing pad)."""
        engine = self.engine
        if engine is None:
            return
        if engine.config.recording != on:
            engine.set_config(engine.config.with_(recording=on))
        self.recorder = (TypingLogRecorder(self.log_path or data_dir() / "typing-log.jsonl")
                         if on else None)
        for s in list(self.sessions):
            if s.processor is not None:
                s.processor.recorder = self.recorder

    def _set(self, **changes: object) -> None:
        """Apply settings and keep them in config.toml; a file that cannot be written is
        logged, not fatal."""
        engine = self.engine
        assert engine is not None
        if all(getattr(engine.config, k) == v for k, v in changes.items()):
            return
        engine.set_config(engine.config.with_(**changes))
        try:
            update_config_file(changes, self.config_path)
        except ConfigError as e:
            print(f"delta-pinyin: settings not saved: {e}", file=sys.stderr)


class Session:
    """One input context: the key processor over its own InputContext, the focus, the
    client's cursor rectangle and input purpose, and what is shown."""

    def __init__(self, service: Service, client: Client) -> None:
        self.service = service
        self.client = client
        self.view = service.view_for(client)
        self.processor: KeyProcessor | None = None
        self.private = False  # a password or PIN field has the focus
        self.incognito = False  # a field with the PRIVATE hint: nothing learned from it
        self.focused = False
        self.cursor: Rect | None = None  # the client's last cursor rectangle
        self._anchor: Rect | None = None  # the cursor rectangle where the composition began
        self._surrounding: str | None = None  # the application's text left of the cursor
        self._preedit = ""
        service.sessions.add(self)

    # ---- state ------------------------------------------------------------------------------

    @property
    def chinese(self) -> bool:
        return self.processor.chinese if self.processor is not None else True

    @property
    def composing(self) -> bool:
        return self.processor is not None and self.processor.composing

    def _ensure_processor(self) -> KeyProcessor | None:
        engine = self.service.engine
        if self.processor is None and engine is not None:
            self.processor = KeyProcessor(engine.new_context(), self.service.recorder,
                                          self._left_of_cursor)
            if self.private:
                self.processor.set_private(True)
            self.processor.set_incognito(self.incognito)
        return self.processor

    def _left_of_cursor(self) -> str | None:
        return self._surrounding

    # ---- what IBus tells the engine ---------------------------------------------------------

    def process_key(self, keyval: int, keycode: int, state: int) -> bool:
        """One key press or release; True when the input method took it."""
        ev = key_event(keyval, state)
        proc = self._ensure_processor()
        if proc is None:  # still loading: the application has every key
            if not ev.release:
                self.service.trace("key", handled=False, loading=True,
                                   keysym=None if self.private else ev.keysym)
            return False
        handled = self._run(lambda: self._process(proc, ev))
        if not ev.release:
            hidden = self.private or self.incognito  # what the field asks to keep
            self.service.trace("key", handled=handled, private=self.private,
                               keysym=None if hidden else ev.keysym,
                               preedit=None if hidden else self._preedit,
                               ms=round(proc.last_latency_ms, 3))
        return handled

    def _process(self, proc: KeyProcessor, ev: KeyEvent) -> KeyResult:
        if self.service.fault_key is not None and ev.keysym == self.service.fault_key \
                and not ev.release and proc.composing:
            raise RuntimeError(f"injected fault on {ev.keysym} (DELTA_PINYIN_IBUS_FAULT)")
        return proc.process(ev)

    def focus_in(self) -> None:
        self.focused = True
        self.service.focused = self
        self._anchor = None  # the window may have moved while it was away
        if self._ensure_processor() is not None:
            self.processor.interrupt()
        self.refresh_properties()
        if self.composing:  # a composition kept over a focus out ("keep")
            self._render(self.processor.state)  # type: ignore[union-attr]

    def focus_out(self) -> None:
        """Per `focus_out` in the config: commit the letters as typed (the default), keep
        the composition for when the focus comes back, or cancel it.

        By the time IBus tells the engine, the context is no longer the engine's, so a
        commit from here would be lost: the letters as typed are what the preedit shows, and
        it was sent with PreeditFocusMode.COMMIT, so IBus commits it to the application
        itself. Here the session only drops the composition after them."""
        self.focused = False
        if self.service.focused is self:
            self.service.focused = None
        proc = self.processor
        if proc is not None:
            proc.interrupt()
            if proc.composing:
                mode = self.service.engine.config.focus_out  # type: ignore[union-attr]
                if mode == "commit":
                    self._run(proc.commit_preedit, commit=False)
                elif mode == "cancel":
                    self._run(proc.cancel)
        self._hide()

    def reset(self) -> None:
        """The application reset the context (a click moved the cursor, the text changed):
        the composition is dropped."""
        if self.processor is not None:
            self.processor.interrupt()
            if self.processor.composing:
                self._run(self.processor.cancel)
        self._hide()

    def set_cursor_location(self, x: int, y: int, w: int, h: int) -> None:
        self.cursor = (x, y, w, h)
        self.service.trace("cursor", rect=[x, y, w, h])
        if self.composing and self._anchor is None:  # a Qt client tells only after a key
            self._render(self.processor.state)  # type: ignore[union-attr]

    def set_content_type(self, purpose: int, hints: int) -> None:
        private = purpose in PRIVATE_PURPOSES
        incognito = bool(hints & PRIVATE_HINT)
        self.service.trace("content_type", purpose=purpose, private=private,
                           incognito=incognito)
        if incognito != self.incognito:
            self.incognito = incognito
            if self.processor is not None:
                self.processor.set_incognito(incognito)
        if private == self.private:
            return
        self.private = private
        if self.processor is not None:
            self._run(lambda: self.processor.set_private(private))  # type: ignore[union-attr]

    def set_surrounding_text(self, text: str, cursor: int) -> None:
        self._surrounding = None if self.private else text[:cursor]

    # ---- intents from the candidate view and the menu ---------------------------------------

    def select(self, index: int) -> None:
        if self.processor is not None:
            self._run(lambda: self.processor.select(index))  # type: ignore[union-attr]

    def forget(self, index: int) -> None:
        if self.processor is None:
            return

        def forget() -> KeyResult:
            r = self.processor.forget(index)  # type: ignore[union-attr]
            if r.forgotten is not None:
                self.service.trace("forgotten", word=r.forgotten[0], entries=r.forgotten[1])
            return r

        self._run(forget)

    def clicked(self, index: int, button: int) -> None:
        """A click on candidate `index` of the page: select; a right-click forgets."""
        if button == BUTTON_RIGHT:
            self.forget(index)
        else:
            self.select(index)

    def page(self, delta: int) -> None:
        if self.processor is not None:
            self._run(lambda: self.processor.page(delta))  # type: ignore[union-attr]

    def move(self, delta: int) -> None:
        if self.processor is not None:
            self._run(lambda: self.processor.move(delta))  # type: ignore[union-attr]

    def set_chinese(self, on: bool) -> None:
        if self._ensure_processor() is not None:
            self._run(lambda: self.processor.set_chinese(on))  # type: ignore[union-attr]

    def refresh(self) -> None:
        """Decode again after a settings change."""
        if self.composing:
            self._run(self.processor.refresh)  # type: ignore[union-attr]

    def property_activate(self, key: str, on: bool) -> None:
        self.service.activate(self, key, on)

    def refresh_properties(self) -> None:
        if self.focused:
            self.client.show_properties(self.service.toggles(self))

    # ---- rendering --------------------------------------------------------------------------

    def _run(self, action: Callable[[], KeyResult], commit: bool = True) -> bool:
        """Run a processor call and show what it did (`commit`: send what it committed to
        the client). An engine error is logged on stderr (the daemon's log), the composition
        reset, and the key taken: the application keeps its text and the next key works."""
        proc = self.processor
        assert proc is not None
        chinese = proc.chinese
        r = run_guarded(proc, action)
        if isinstance(r, EngineFault):
            self.service.trace("error", error=r.summary)
            if not r.reset:
                self.processor = None  # a fresh context on the next key
            self._hide()
            return True
        if r.committed and commit:
            self.client.commit(r.committed)
        if r.handled or r.committed:
            self._render(r.state)
        if r.state.chinese != chinese:
            self.refresh_properties()
        return r.handled

    def _render(self, st: EngineState) -> None:
        # inline: the pieces picked, then the letters as typed (what Enter or a focus out
        # commits); the candidate view shows the syllable split
        preedit = self._typed(st) if st.composing else ""
        if preedit != self._preedit:
            self._preedit = preedit
            engine = self.service.engine
            self.client.show_preedit(preedit, len(preedit), engine is not None
                                     and engine.config.focus_out == "commit")
        if not st.composing:
            self._anchor = None
            self.view.hide(self)
            return
        if self._anchor is None and self.cursor is not None:
            # where the composition began, before the preedit moved the caret: the window
            # stays put while typing instead of sliding right with every letter
            self._anchor = self.cursor
            self.service.trace("anchor", rect=list(self._anchor))
        self.view.show(self, replace(st, committed=""), self._anchor)

    def _typed(self, st: EngineState) -> str:
        """The picked pieces and the remaining keys as typed: the state's preedit with the
        syllable split of the remaining keys (the apostrophes and spaces the engine added)
        replaced by the keys themselves."""
        proc = self.processor
        assert proc is not None
        rest = proc.context.remaining
        letters = rest.replace("'", "")
        i = len(st.preedit)
        j = len(letters)
        while j > 0 and i > 0:  # walk back over the split until every remaining letter is met
            i -= 1
            if st.preedit[i] == letters[j - 1]:
                j -= 1
        return st.preedit[:i] + rest if j == 0 else rest

    def _hide(self) -> None:
        self._anchor = None
        if self._preedit:
            self._preedit = ""
            self.client.show_preedit("", 0, False)
        self.view.hide(self)
