"""Dictionary files read entry by entry: memory bounded by one line, whatever the file size.

    for e in iter_entries(Path("big.txt"), "libime"):   # FormatEntry by FormatEntry
        ...

`lexicon.formats` reads every format this way (`read_entries` is the list of these
entries); this module names the streaming entry point for the importer:

    tsv      one pass, line by line
    libime   one pass, line by line
    rime     two passes over the file: the first checks every line and sums the counts
             (each count is normalised by the file's total), the second yields the entries
    scel     read whole (a binary format; cell files are small)
"""

from __future__ import annotations

from lexicon.formats import iter_entries

__all__ = ["iter_entries", "STREAMED_FORMATS"]

STREAMED_FORMATS = ("tsv", "libime", "rime")
