"""The PyQt6 front end: candidate window, the bridge to the engine, the typing pad.

Importing `ui` itself imports no Qt (main.py registers the `ui` command through `cli.ui`);
`ui.candidate_window`, `ui.bridge` and `ui.app` need PyQt6.
"""
