"""Why the top sentence is wrong: the misses of a dev log sorted into kinds.

    python benchmarks/misses.py LOG [LOG ...] [--cache-dir DIR] [--limit N] [--json F]
        [--examples K] [--prefix N] [--word-penalty X]

Each record's whole key string is composed after its context (learning and the neural LM
off, as `replay --no-learn --no-lm`); a record whose top sentence is not its text is

- `outranked`: some lattice path spells the text over the same syllables as the top
  sentence: the ranking (the language model) chose other words;
- `segmentation`: a lattice path spells the text, but over other syllables than the top
  sentence's (xi'an against xian, an initial read as another syllable);
- `not in lattice`: no path of lexicon words spells the text;

and `in n-best` counts the misses whose text is among the decoder's 10 best. It also gives
P@1, P@5 and char accuracy of the whole key string: what `replay --no-learn --no-lm` reports
(typing key by key and composing all keys at once give the same sentences:
tests/ime/test_engine.py), at a fraction of its cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.metrics import char_accuracy, hits_at  # noqa: E402
from evaluation.typing_log import load_log  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.engine import Engine  # noqa: E402


def spellings(lattice, text: str) -> set[tuple[str, ...]]:
    """The syllable sequences of the lattice paths from node 0 to the end that spell
    `text` (at most a few hundred)."""
    n = len(lattice.graph.keys)
    out: set[tuple[str, ...]] = set()
    stack = [(0, 0, ())]
    seen = 0
    while stack and seen < 20000:
        node, off, sylls = stack.pop()
        seen += 1
        if node == n:
            if off == len(text):
                out.add(sylls)
            continue
        for w in lattice.words_from(node):
            if w.word_id >= 0 and text.startswith(w.text, off):
                stack.append((w.end, off + len(w.text), sylls + w.syllables))
    return out


def classify(engine: Engine, records, prefix: int = 0) -> dict:
    kinds = {"outranked": 0, "segmentation": 0, "not in lattice": 0}
    in_nbest, misses, examples = 0, 0, {k: [] for k in kinds}
    p1 = p5 = acc = 0.0
    first: dict = {}
    for k, rec in enumerate(records):
        if prefix and k == prefix:
            first = {"p_at_1": round(p1 / k, 4), "p_at_5": round(p5 / k, 4),
                     "char_accuracy": round(acc / k, 4)}
        comp = engine.compose(rec.keys, engine.word_lm.start(rec.context))
        sents = comp.sentences
        hits = hits_at([s.text for s in sents], rec.text)
        p1 += hits[1]
        p5 += hits[5]
        acc += char_accuracy(sents[0].text if sents else "", rec.text)
        if sents and sents[0].text == rec.text:
            continue
        misses += 1
        if any(s.text == rec.text for s in sents):
            in_nbest += 1
        paths = spellings(comp.lattice, rec.text)
        top = sents[0] if sents else None
        if not paths:
            kind = "not in lattice"
        elif top is not None and top.syllables in paths:
            kind = "outranked"
        else:
            kind = "segmentation"
        kinds[kind] += 1
        examples[kind].append((rec.keys, rec.text, top.text if top else ""))
    n = max(len(records), 1)
    return {"records": len(records), "p_at_1": round(p1 / n, 4), "p_at_5": round(p5 / n, 4),
            "char_accuracy": round(acc / n, 4), "misses": misses, "in_nbest": in_nbest,
            **kinds, "first": {"records": prefix, **first} if first else {},
            "examples": examples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--examples", type=int, default=5)
    ap.add_argument("--prefix", type=int, default=0,
                    help="also P@1, P@5 and char accuracy of the first N records")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--word-penalty", type=float, default=None,
                    help="the decoder's per-word penalty in nats (default: the engine's)")
    args = ap.parse_args()
    engine = Engine.load(Config(lm=False, learning=False), cache_dir=args.cache_dir,
                         progress=False)
    if args.word_penalty is not None:
        engine.decoder.word_penalty = args.word_penalty
    out = {}
    for log in args.logs:
        records = load_log(log, limit=args.limit)[0]
        r = classify(engine, records, args.prefix)
        r["examples"] = {k: v[: args.examples] for k, v in r["examples"].items()}
        out[log.stem] = r
        print(f"{log.stem}: P@1 {r['p_at_1']:.3f} P@5 {r['p_at_5']:.3f} char accuracy "
              f"{r['char_accuracy']:.3f}; {r['misses']} misses of {r['records']}: outranked "
              f"{r['outranked']}, segmentation {r['segmentation']}, not in lattice "
              f"{r['not in lattice']}; in the 10-best {r['in_nbest']}; first {r['first']}")
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
