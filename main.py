"""Delta Pinyin: `python main.py COMMAND` (the installed `delta-pinyin` runs the same `cli.main`)."""

import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())
