"""The command line, the top layer: `delta-pinyin COMMAND` (or `python main.py COMMAND`).

One function builds config and engine from arguments (`cli.common`); each command family
has its module: `main` (convert, console, lexicon build, make-log, replay), `lexicon`
(forget, info, export, import), `compare`, `lm`, `ui`.
"""
