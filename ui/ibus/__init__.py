"""Delta Pinyin as the system input method, through IBus (`python main.py ibus`).

- `keymap`: IBus keyvals and modifier states as `ime.keys.KeyEvent`s (no gi)
- `component`: the component file, user and system install (no gi)
- `session`: one Session per input context on one shared Service and Engine (no gi)
- `qt_view`: our PyQt6 candidate window as the candidate view
- `engine`: the gi glue: the IBus.Engine subclass, IBus's lookup table as the second
  view, and `run()`, the process (the only module that imports gi)
"""
