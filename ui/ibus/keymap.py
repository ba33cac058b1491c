"""IBus key events (X keyval, modifier state) as toolkit-neutral `ime.keys.KeyEvent`s.

IBus hands an engine `(keyval, keycode, state)`: the keyval is an X keysym value, the state
X's modifier mask plus IBus's own bits (RELEASE_MASK for a release). The keysym names come
from X11's keysymdef.h, which is what `KeyEvent.keysym` holds, so the table below needs no
`gi`: the translation is a pure function, tested without a bus.
"""

from __future__ import annotations

from ime.keys import KEYSYM_OF_CHAR, KeyEvent, Mod

__all__ = ["RELEASE_MASK", "KEYVAL", "key_event", "keyval_of"]

RELEASE_MASK = 1 << 30  # IBus.ModifierType.RELEASE_MASK
_SUPER_MASK = 1 << 26  # IBus.ModifierType.SUPER_MASK (virtual; Mod4 is the real bit)
_META_MASK = 1 << 28  # IBus.ModifierType.META_MASK

# keysyms that type no character (or, on the keypad, a digit), by X keysym value
KEYVAL: dict[str, int] = {
    "BackSpace": 0xFF08, "Tab": 0xFF09, "Return": 0xFF0D, "Escape": 0xFF1B,
    "Home": 0xFF50, "Left": 0xFF51, "Up": 0xFF52, "Right": 0xFF53, "Down": 0xFF54,
    "Page_Up": 0xFF55, "Page_Down": 0xFF56, "End": 0xFF57, "Insert": 0xFF63,
    "Delete": 0xFFFF, "KP_Enter": 0xFF8D, "KP_Home": 0xFF95, "KP_Left": 0xFF96,
    "KP_Up": 0xFF97, "KP_Right": 0xFF98, "KP_Down": 0xFF99, "KP_Page_Up": 0xFF9A,
    "KP_Page_Down": 0xFF9B, "KP_End": 0xFF9C, "KP_Delete": 0xFF9F,
    "Shift_L": 0xFFE1, "Shift_R": 0xFFE2, "Control_L": 0xFFE3, "Control_R": 0xFFE4,
    "Caps_Lock": 0xFFE5, "Meta_L": 0xFFE7, "Meta_R": 0xFFE8, "Alt_L": 0xFFE9,
    "Alt_R": 0xFFEA, "Super_L": 0xFFEB, "Super_R": 0xFFEC,
    **{f"KP_{d}": 0xFFB0 + d for d in range(10)},
    **{f"F{n}": 0xFFBD + n for n in range(1, 13)},
}  # fmt: skip
_NAME_OF = {v: k for k, v in KEYVAL.items()}


def keyval_of(keysym: str) -> int:
    """The X keysym value of a keysym name ("a", "space", "BackSpace", "KP_3")."""
    if keysym in KEYVAL:
        return KEYVAL[keysym]
    for ch, name in KEYSYM_OF_CHAR.items():
        if name == keysym:
            return ord(ch)
    raise ValueError(f"unknown keysym {keysym!r}")


def key_event(keyval: int, state: int) -> KeyEvent:
    """The KeyEvent of one IBus key event. Printable ASCII keyvals are their own character
    (X keysyms 0x20–0x7e equal Latin-1); keypad digits type their digit; a keysym without a
    name here keeps its value as the name ("0x1008ff13"), so no binding can match it."""
    mods = Mod(0)
    if state & 1:
        mods |= Mod.SHIFT
    if state & (1 << 2):
        mods |= Mod.CTRL
    if state & (1 << 3):
        mods |= Mod.ALT
    if state & ((1 << 6) | _SUPER_MASK | _META_MASK):
        mods |= Mod.SUPER
    release = bool(state & RELEASE_MASK)
    if 0x20 <= keyval <= 0x7E:
        ch = chr(keyval)
        return KeyEvent(KEYSYM_OF_CHAR[ch], ch, mods, release)
    name = _NAME_OF.get(keyval)
    if name is None:
        return KeyEvent(f"{keyval:#x}", "", mods, release)
    text = name[3:] if name.startswith("KP_") and name[3:].isdigit() else ""
    return KeyEvent(name, text, mods, release)
