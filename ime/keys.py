"""Key processing: what a key means, for every front end (typing pad, console, IBus).

    processor = KeyProcessor(engine.new_context())
    r = processor.process(KeyEvent.of("n"))       # r.handled: the application must not see it
    ...
    r = processor.process(KeyEvent("space", " "))
    r.committed                                   # "你好": text for the application

Front ends translate their toolkit's events into `KeyEvent`s (X keysym names, which is what
IBus delivers; Qt keys map onto them in ui/bridge.py) and render the `EngineState` of each
`KeyResult`; they hold no key bindings of their own.

Chinese mode, while composing, every key belongs to the input method:

    a–z '               type                 BackSpace       delete the last key / pick
    space               take the highlighted 1–9             take that one of the page
    minus equal Page_Up Page_Down  page      Left Up Right Down  move the highlight
    Return KP_Enter     commit the letters   Escape          cancel
    Ctrl+Delete         forget the highlighted word (a learned one goes; a system word sinks)
    , . ? " \\ …        take the highlighted, then type the Chinese punctuation
    anything else       swallowed, so the composition stays

With no composition a lowercase letter starts one, a punctuation key types its Chinese form
(`chinese_punctuation` in the config; ime/punctuation.py) and every other key passes to the
application. Shift pressed and released with no key between toggles Chinese/English (a
composition in progress is committed as typed, as other pinyin IMEs do). Ctrl, Alt and Super
chords pass. In English mode every key passes. A purpose that asks for privacy (a password
or PIN field: `private=True`) gets plain letters: nothing is composed, learned or recorded;
a field whose application asks for no typing history (`incognito=True`: IBus's PRIVATE
hint) composes as usual, and nothing is learned or recorded.

What is learned (ime/context.py): commits from candidates; never letters committed as typed
(Enter, the RAW candidate). A BackSpace right after a commit, with no key composed between,
deletes it in the application and reverts what learning it wrote (`InputContext.undo_learning`):
a word picked by mistake and deleted at once is not learned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntFlag
from typing import TYPE_CHECKING, Protocol

from ime.candidates import EngineState
from ime.punctuation import Punctuator

if TYPE_CHECKING:
    from ime.context import InputContext

__all__ = ["Mod", "NO_MODS", "KeyEvent", "KeyResult", "KeyProcessor", "CommitRecorder", "COMPOSING_KEYS",
           "KEYSYM_OF_CHAR"]


class Mod(IntFlag):
    """Modifier state, with X11's (and IBus's) mask bits."""

    SHIFT = 1 << 0
    CTRL = 1 << 2
    ALT = 1 << 3  # Mod1
    SUPER = 1 << 6  # Mod4


CHORD = Mod.CTRL | Mod.ALT | Mod.SUPER
NO_MODS = Mod(0)

# the keysym name of each character a key types (X11 keysymdef.h, without the XK_ prefix)
KEYSYM_OF_CHAR: dict[str, str] = {
    " ": "space", "!": "exclam", '"': "quotedbl", "#": "numbersign", "$": "dollar",
    "%": "percent", "&": "ampersand", "'": "apostrophe", "(": "parenleft", ")": "parenright",
    "*": "asterisk", "+": "plus", ",": "comma", "-": "minus", ".": "period", "/": "slash",
    ":": "colon", ";": "semicolon", "<": "less", "=": "equal", ">": "greater", "?": "question",
    "@": "at", "[": "bracketleft", "\\": "backslash", "]": "bracketright",
    "^": "asciicircum", "_": "underscore", "`": "grave", "{": "braceleft", "|": "bar",
    "}": "braceright", "~": "asciitilde",
    **{c: c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
}  # fmt: skip

SHIFT_KEYS = frozenset({"Shift_L", "Shift_R"})

# what a key does while composing in Chinese mode (besides letters, digits and punctuation)
COMPOSING_KEYS: dict[str, tuple[str, int]] = {
    "BackSpace": ("backspace", 0),
    "space": ("commit", 0),
    "minus": ("page", -1), "equal": ("page", +1),
    "Page_Up": ("page", -1), "Page_Down": ("page", +1),
    "KP_Page_Up": ("page", -1), "KP_Page_Down": ("page", +1),
    "Left": ("move", -1), "Up": ("move", -1), "Right": ("move", +1), "Down": ("move", +1),
    "KP_Left": ("move", -1), "KP_Up": ("move", -1),
    "KP_Right": ("move", +1), "KP_Down": ("move", +1),
    "Return": ("commit_raw", 0), "KP_Enter": ("commit_raw", 0),
    "Escape": ("cancel", 0),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """One key press or release, toolkit-neutral."""

    keysym: str  # X keysym name: "a", "apostrophe", "space", "BackSpace", "Shift_L", …
    text: str = ""  # the character the key types ("" for none: arrows, Shift, …)
    mods: Mod = NO_MODS
    release: bool = False
    repeat: bool = False  # an auto-repeated press

    @classmethod
    def of(cls, ch: str, mods: Mod = NO_MODS) -> KeyEvent:
        """The press of the key that types character `ch` (`a`, `,`, ` `, `1`)."""
        try:
            return cls(KEYSYM_OF_CHAR[ch], ch, mods)
        except KeyError:
            raise ValueError(f"no key types {ch!r}") from None

    @property
    def chord(self) -> bool:
        return bool(self.mods & CHORD)


@dataclass(frozen=True, slots=True)
class KeyResult:
    handled: bool  # consumed by the input method: the application must not see the key
    state: EngineState  # what to draw now
    committed: str = ""  # text for the application to insert
    forgotten: tuple[str, int] | None = None  # (word, lexicon entries affected) of a forget


class CommitRecorder(Protocol):
    """Where committed units go when recording is on (evaluation.typing_log's recorder)."""

    def record(self, keys: str, text: str, left: str, ts: float | None = None) -> None: ...


class KeyProcessor:
    """The key bindings, the Chinese/English mode and punctuation over one InputContext.

    `recorder`: when set, every unit committed from candidates goes to it with its keys and
    left context (docs/TYPING_LOG.md); letters committed as typed (Enter) are not recorded.
    `surrounding`: gives the application's text left of the cursor, read when a composition
    starts so the left context follows the cursor (None where the front end cannot tell).
    """

    def __init__(self, context: InputContext, recorder: CommitRecorder | None = None,
                 surrounding: Callable[[], str | None] | None = None) -> None:
        self.context = context
        self.recorder = recorder
        self.surrounding = surrounding
        self.punctuator = Punctuator()
        self.private = False  # a password or PIN field: plain letters, nothing learned
        self._undoable = False  # the last key committed learned text, and nothing came since
        self._chinese = True
        self._shift_alone = False
        self.last_latency_ms = 0.0  # process() time of the last key, engine included
        self.record_error: str | None = None  # why recording paused (None: it did not)

    # ---- state ---------------------------------------------------------------------------

    @property
    def chinese(self) -> bool:
        return self._chinese

    @property
    def composing(self) -> bool:
        return bool(self.context.keys)

    @property
    def state(self) -> EngineState:
        return replace(self.context.state, chinese=self._chinese)

    @property
    def engine(self):
        return self.context.engine

    def notices(self) -> list[str]:
        """Why learning or recording is paused, for the front end to show (empty: all well)."""
        out = []
        learner = self.engine.learner
        paused = getattr(learner, "paused", None) if learner is not None else None
        if paused:
            out.append(f"learning paused: {paused}")
        rec = self.record_error or (getattr(self.recorder, "paused", None)
                                    if self.recorder is not None else None)
        if rec:
            out.append(f"recording paused: {rec}")
        return out

    # ---- keys ----------------------------------------------------------------------------

    def wants(self, event: KeyEvent) -> bool:
        """Would `process` consume this press? (Without doing anything: Qt asks first, so
        that keys the IME uses never trigger the application's shortcuts.)"""
        if event.release or not self._chinese or self.private:
            return False
        if event.chord:
            return self.composing and event.keysym == "Delete" and bool(event.mods & Mod.CTRL)
        if event.keysym in SHIFT_KEYS:
            return False
        if not self.composing:
            return self._starts(event) or self._punctuation(event.text)
        return True

    def process(self, event: KeyEvent) -> KeyResult:
        """Handle one key event; `handled` False lets the application have it."""
        t0 = time.perf_counter()
        try:
            return self._process(event)
        finally:
            self.last_latency_ms = (time.perf_counter() - t0) * 1000

    def _process(self, event: KeyEvent) -> KeyResult:
        if event.keysym in SHIFT_KEYS:
            if event.release:
                alone, self._shift_alone = self._shift_alone, False
                if alone and not event.repeat:
                    return self.toggle_mode()
            elif not event.repeat:
                # platforms differ on whether Shift's own press carries the Shift bit
                self._shift_alone = not event.chord
            return self._pass()
        if event.release:
            return self._pass()
        self._shift_alone = False
        undoable, self._undoable = self._undoable, False
        if undoable and event.keysym == "BackSpace" and not event.chord and not self.composing:
            # the commit is being deleted at once: it was not meant (the key still deletes)
            self.context.undo_learning()
        if not self._chinese or self.private:
            return self._pass()
        ctx = self.context
        if event.chord:
            if self.composing and event.keysym == "Delete" and event.mods & Mod.CTRL:
                return self.forget(self.state.highlighted)
            return self._pass()
        text = event.text
        if not self.composing:
            if self._starts(event):
                self._sync_context()
                return self._apply(lambda: ctx.type(text))
            if self._punctuation(text):
                self._sync_context()
                return self._type_punctuation(text)
            return self._pass()
        # composing: every key below belongs to the IME
        if len(text) == 1 and ("a" <= text <= "z" or text == "'"):
            return self._apply(lambda: ctx.type(text))
        if len(text) == 1 and "1" <= text <= "9":
            i = int(text) - 1
            if i < len(ctx.state.candidates):
                return self._apply(lambda: ctx.select(i))
            return self._swallow()
        action = COMPOSING_KEYS.get(event.keysym)
        if action is not None:
            name, arg = action
            if name == "backspace":
                return self._apply(ctx.backspace)
            if name == "commit":
                return self._apply(ctx.commit)
            if name == "page":
                return self._apply(lambda: ctx.page(arg))
            if name == "move":
                return self._apply(lambda: ctx.move(arg))
            if name == "commit_raw":
                return self._apply(ctx.commit_raw, raw=True)
            if name == "cancel":
                return self._apply(ctx.cancel)
        if self._punctuation(text):
            r = self._apply(ctx.commit)  # the highlighted candidate, as Space does
            if self.composing:  # a partial pick keeps composing: no punctuation yet
                return r
            p = self._type_punctuation(text)
            return KeyResult(True, p.state, r.committed + p.committed)
        return self._swallow()

    # ---- intents (mouse, menus, the framework) -------------------------------------------

    def interrupt(self) -> None:
        """Something other than a key happened (focus moved, a click): a Shift released
        next is no longer alone, a BackSpace next deletes something else than the commit."""
        self._shift_alone = False
        self._undoable = False

    def select(self, index: int) -> KeyResult:
        """Take candidate `index` of the current page (a click on it)."""
        if self.composing and 0 <= index < len(self.context.state.candidates):
            return self._apply(lambda: self.context.select(index))
        return self._swallow()

    def page(self, delta: int) -> KeyResult:
        return self._apply(lambda: self.context.page(delta)) if self.composing else self._pass()

    def move(self, delta: int) -> KeyResult:
        return self._apply(lambda: self.context.move(delta)) if self.composing else self._pass()

    def cancel(self) -> KeyResult:
        """Drop the composition (Esc; a framework's reset)."""
        return self._apply(self.context.cancel)

    def commit_preedit(self) -> KeyResult:
        """Commit the composition as typed (a click in the editor, focus out)."""
        if not self.composing:
            return self._pass()
        return self._apply(self.context.commit_raw, raw=True)

    def forget(self, index: int) -> KeyResult:
        """Forget candidate `index` of the current page, then decode again without it."""
        cands = self.context.state.candidates
        if not 0 <= index < len(cands):
            return self._swallow()
        c = cands[index]
        n = self.engine.forget(c.text, c.syllables or None)
        r = self._apply(self.context.refresh)
        return replace(r, forgotten=(c.text, n))

    def refresh(self) -> KeyResult:
        """Decode again (after a config or lexicon change), keeping the picks."""
        return self._apply(self.context.refresh)

    def set_chinese(self, on: bool) -> KeyResult:
        committed = ""
        if on != self._chinese and self.composing:  # keep what was typed, as letters
            committed = self.commit_preedit().committed
        self._chinese = on
        return KeyResult(True, self.state, committed)

    def toggle_mode(self) -> KeyResult:
        return self.set_chinese(not self._chinese)

    def set_private(self, private: bool) -> KeyResult:
        """A field that asks for privacy (password, PIN) takes focus, or gives it up."""
        committed = self.commit_preedit().committed if private and self.composing else ""
        self.private = private
        self._undoable = False
        return KeyResult(bool(committed), self.state, committed)

    @property
    def incognito(self) -> bool:
        return not self.context.learns

    def set_incognito(self, on: bool) -> None:
        """A field that asks not to be learned from (IBus's PRIVATE hint) takes focus, or
        gives it up: composing works as usual; nothing is learned or recorded."""
        self.context.learns = not on
        self._undoable = False

    # ---- internals -----------------------------------------------------------------------

    @staticmethod
    def _starts(event: KeyEvent) -> bool:
        """A lowercase letter starts a composition."""
        return len(event.text) == 1 and "a" <= event.text <= "z"

    def _punctuation(self, text: str) -> bool:
        """Is `text` a punctuation key that Chinese punctuation handles, and is that on?"""
        return (self.engine.config.chinese_punctuation and len(text) == 1
                and Punctuator.handles(text))

    def _type_punctuation(self, key: str) -> KeyResult:
        self._undoable = False  # a BackSpace now deletes the punctuation, not the commit
        out = self.punctuator.convert(key, self.context.context)
        if out is None:  # after a digit: the key itself (3.14)
            return self._pass()
        self.context.append_context(out)
        return KeyResult(True, self.state, out)

    def _sync_context(self) -> None:
        """At the start of a composition, take the left context from the application."""
        if self.surrounding is None:
            return
        text = self.surrounding()
        if isinstance(text, str):
            self.context.set_context(text)

    def _pass(self) -> KeyResult:
        return KeyResult(False, self.state)

    def _swallow(self) -> KeyResult:
        return KeyResult(True, self.state)

    def _apply(self, action: Callable[[], EngineState], raw: bool = False) -> KeyResult:
        """Run a context intent; record what it committed (not raw letters, not in private
        or incognito fields)."""
        ctx = self.context
        keys, left, learned = ctx.keys, ctx.context, ctx.last_learned
        st = replace(action(), chinese=self._chinese)
        if st.committed:
            self._undoable = ctx.last_learned is not None and ctx.last_learned is not learned
        if st.committed and self.recorder is not None and not raw and not self.private \
                and ctx.learns:
            try:
                self.recorder.record(keys, st.committed, left, ts=time.time())
                self.record_error = None
            except OSError as e:  # the commit goes through; recording waits for the disk
                self.record_error = e.strerror or str(e)
        return KeyResult(True, st, st.committed)
