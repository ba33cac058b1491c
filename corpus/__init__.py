"""The training corpus: every usable running text of the registries (docs/DATA.md), cleaned,
decontaminated, tagged by domain and split by document into train, dev and test.

    from corpus import build_corpus, default_corpus_dir, read_documents
    build_corpus(default_corpus_dir(), progress=True)       # python main.py corpus build
    for source, name, lines in read_documents(default_corpus_dir(), "dev", "everyday"): ...

Layer: beside lexicon; imports only `pinyin` and third-party libraries. Layout of the built
corpus, the document index and the manifest: FORMAT.md.
"""

from corpus.build import (
    BUILD_VERSION,
    CorpusError,
    build_corpus,
    default_corpus_dir,
    default_downloads_dir,
    is_built,
    read_manifest,
    text_path,
)
from corpus.layout import read_documents
from corpus.sources import DOMAINS, SOURCES
from corpus.split import SPLITS

__all__ = [
    "BUILD_VERSION",
    "CorpusError",
    "DOMAINS",
    "SOURCES",
    "SPLITS",
    "build_corpus",
    "default_corpus_dir",
    "default_downloads_dir",
    "is_built",
    "read_documents",
    "read_manifest",
    "text_path",
]
