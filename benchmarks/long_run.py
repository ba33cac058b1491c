"""Learning over long runs: P@1 per window with and without learning, on logs of 3,000 clauses.

    python benchmarks/long_run.py [--logs benchmarks/data/long] [--limit 3000] [--window 200]
        [--json benchmarks/long_run.json] [--plot benchmarks/long_run.png]
        [--off-from benchmarks/long_run.json] [--label after]
    python benchmarks/long_run.py --make-logs [--corpus DIR] [--records 3000]

The logs (`--make-logs`, into benchmarks/data/long/) come from the corpus's dev split of three
domains (technical, everyday, dialogue; never the test split): `corpus.layout.dev_log_text`
with excerpts of up to RUN consecutive clauses of one document, the domain's sources in turn,
typed in full pinyin (`make_log`, seed 0, clauses of two Han characters or more).

Each log is replayed by the simulated user of docs/TYPING_LOG.md twice: learning off, and
learning on (a fresh user lexicon), no neural LM. Each record's keys are typed at once (the
same candidates as letter by letter: typing is incremental), and the picks are those of the
letter-by-letter replay, so the learner sees the same commit events as a typist's. Reported
per window of `--window` records: P@1 on and off, the gain, and the learned entries at the
window's end (new words offered, system words promoted, demoted). `--off-from` reuses the
learning-off runs of an earlier JSON (they do not depend on the learner).

Where learning loses a record the engine got right without it (a "new miss"), the learned
entries responsible are counted: a learned or promoted word in the top sentence where the
text has another word ("intruder", with its commits and age), a word of the right sentence the
learner demoted, or a history-bigram bonus on a wrong pair.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from evaluation.replay import save_figure, simulate_record  # noqa: E402
from evaluation.typing_log import LogRecord, load_log  # noqa: E402
from ime import likelihood as lk  # noqa: E402
from ime.config import Config  # noqa: E402
from ime.context import InputContext  # noqa: E402
from ime.engine import Engine  # noqa: E402
from ime.lattice import USER_WORD  # noqa: E402
from ime.learner import WordLearner, open_learner  # noqa: E402

DOMAINS = ("technical", "everyday", "dialogue")
RUN = 300  # consecutive clauses of one document per excerpt
LOGS = ROOT / "benchmarks" / "data" / "long"


def make_logs(corpus_dir: Path, out: Path, records: int) -> dict[str, int]:
    from corpus.layout import EXCERPT_SEP, dev_log_text
    from evaluation.typing_log import make_log, write_log

    def fresh(rec: LogRecord) -> LogRecord:
        if EXCERPT_SEP in rec.context:
            return dataclasses.replace(rec, context=rec.context.rsplit(EXCERPT_SEP, 1)[1])
        return rec

    written = {}
    for domain in DOMAINS:
        text = dev_log_text(corpus_dir, domain, clauses=records, run=RUN)
        recs = (fresh(r) for r in make_log(text, mode="full", seed=0, min_chars=2,
                                            session=domain))
        written[domain] = write_log(itertools.islice(recs, records), out / f"{domain}.jsonl")
    return written


def _words(ctx: InputContext) -> list[tuple[str, tuple[str, ...], int]]:
    s = ctx.sentences
    return [(w.text, w.syllables, w.word_id) for w in s[0].words] if s else []


def replay_off(engine: Engine, records: list[LogRecord], name: str) -> list[dict]:
    ctx = engine.new_context()
    out = []
    seen: list = []
    for rec in tqdm(records, desc=f"{name}, learning off", unit=" rec", file=sys.stderr):
        r = simulate_record(ctx, rec, at_once=True, inspect=lambda c: seen.append(_words(c)))
        out.append({"hit": r.hits[1], "words": [[t, " ".join(s)] for t, s, _ in seen.pop()]})
    return out


def _counts(learner: WordLearner) -> dict[str, int]:
    """Learned entries now: new words offered (likelihood past the threshold), new words
    below it, system words promoted and demoted, forgotten ones; history pairs."""
    q = learner.store.conn.execute(
        "SELECT sum(source != 'system' AND likelihood >= ?), sum(source != 'system' AND "
        "likelihood < ?), sum(source = 'system' AND likelihood > prior), "
        "sum(source = 'system' AND likelihood < prior) FROM words WHERE deleted = 0",
        (lk.THRESHOLD, lk.THRESHOLD)).fetchone()
    out = dict(zip(("new_offered", "new_below", "promoted", "demoted"), (v or 0 for v in q)))
    out["added_this_session"] = getattr(learner, "session_added", None)
    history = getattr(learner, "history", None)
    if history is not None:
        out["history_pairs"] = len(history)
    return out


def replay_on(engine: Engine, learner: WordLearner, records: list[LogRecord],
              off: list[dict], name: str, window: int) -> tuple[list[bool], list[dict], dict]:
    ctx = engine.new_context()
    hits: list[bool] = []
    counts: list[dict] = []
    blame: dict[str, Counter] = {"intruder": Counter(), "intruder_commits": Counter(),
                                 "intruder_kind": Counter(), "intruder_age": Counter(),
                                 "demoted_right": Counter(), "bigram": Counter(),
                                 "unexplained": Counter()}
    seen: list = []

    def inspect(c: InputContext) -> None:
        top = _words(c)
        wrong = []
        if top:
            words = learner.words
            pos = 0
            text = records[len(hits)].text
            for t, sylls, wid in top:
                adj = words.adjustment(t, sylls)
                if (adj > 0 or wid == USER_WORD) and text[pos:pos + len(t)] != t:
                    e = learner.store.get(t, sylls)
                    wrong.append((t, wid, e))
                pos += len(t)
        seen.append(wrong)

    for i, rec in enumerate(tqdm(records, desc=f"{name}, learning on", unit=" rec",
                                 file=sys.stderr)):
        r = simulate_record(ctx, rec, at_once=True, inspect=inspect)
        hits.append(r.hits[1])
        wrong = seen.pop()
        if off[i]["hit"] and not r.hits[1]:  # a new miss: what learning did
            explained = False
            for t, wid, e in wrong:
                explained = True
                blame["intruder"][t] += 1
                commits = e.commits if e is not None else 0
                blame["intruder_commits"]["0" if commits == 0 else "1" if commits == 1
                                          else "2-3" if commits <= 3 else "4+"] += 1
                blame["intruder_kind"]["new word" if wid == USER_WORD else "promoted"] += 1
                if e is not None:
                    age = learner.store.tick - e.last_tick
                    blame["intruder_age"]["<50" if age < 50 else "50-499" if age < 500
                                          else "500+"] += 1
            for t, p in off[i]["words"]:
                sylls = tuple(p.split())
                if learner.words.adjustment(t, sylls) < 0:
                    blame["demoted_right"][t] += 1
                    explained = True
            history = getattr(learner, "history", None)
            if not explained and history is not None and len(history):
                blame["bigram"][r.top1] += 1
                explained = True
            if not explained:
                blame["unexplained"][rec.text] += 1
        if (i + 1) % window == 0 or i + 1 == len(records):
            counts.append(_counts(learner))
    return hits, counts, blame


def history_cost(engine: Engine, records: list[LogRecord]) -> dict:
    """CPU seconds to compose `records` (keys at once, after their contexts) with the
    learned history bigram and without it, interleaved record by record (the same load on
    both), and the pairs it held."""
    history = engine.decoder.history
    cpu = {"with": 0.0, "without": 0.0}
    for i, rec in enumerate(records):
        order = (("with", history), ("without", None))
        for name, h in order[::-1] if i % 2 else order:  # either may find warm caches
            engine.decoder.history = h
            engine.generation += 1
            t0 = time.process_time()
            engine.convert(rec.keys, rec.context)
            cpu[name] += time.process_time() - t0
    engine.decoder.history = history
    engine.generation += 1
    return {"records": len(records), "pairs": len(history) if history is not None else 0,
            "cpu_s_with": round(cpu["with"], 2), "cpu_s_without": round(cpu["without"], 2),
            "ratio": round(cpu["with"] / max(cpu["without"], 1e-9), 3)}


def windows(hits: list[bool], window: int) -> list[float]:
    return [round(sum(hits[s:s + window]) / len(hits[s:s + window]), 4)
            for s in range(0, len(hits), window)]


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = list(out["logs"])
    fig, axes = plt.subplots(2, len(logs), figsize=(4.2 * len(logs), 6.5), squeeze=False)
    w = out["window"]
    for j, name in enumerate(logs):
        res = out["logs"][name]
        xs = [w * (i + 1) for i in range(len(res["off"]))]
        labels = list(res["on"])
        ends = list(dict.fromkeys([labels[0], labels[-1]]))  # drawn bold; steps between thin
        ax = axes[0][j]
        ax.axhline(8, color="grey", lw=0.8, ls="--", label="goal +8")
        ax.axhline(0, color="black", lw=0.8)
        for label, run in res["on"].items():
            gain = [100 * (a - b) for a, b in zip(run["p_at_1"], res["off"])]
            if label in ends:
                ax.plot(xs, gain, marker="o", lw=2, label=label)
            else:
                ax.plot(xs, gain, lw=0.8, alpha=0.5, label=label)
        ax.set_title(f"{name}: gain in P@1 (points)")
        ax.set_xlabel(f"records (window of {w})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        ax = axes[1][j]
        for label in ends:
            run = res["on"][label]
            ax.plot(xs, [c["new_offered"] for c in run["counts"]], marker=".",
                    label=f"{label}: new words offered")
            ax.plot(xs, [c["promoted"] for c in run["counts"]], ls="--",
                    label=f"{label}: system words promoted")
            if run["counts"][-1].get("history_pairs"):
                ax.plot(xs, [c.get("history_pairs", 0) / 10 for c in run["counts"]], ls=":",
                        label=f"{label}: history pairs / 10")
        ax.set_title(f"{name}: learned entries")
        ax.set_xlabel("records")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, path, "learning over long runs (no neural LM)")


def report(out: dict) -> str:
    """The Markdown tables of a JSON: P@1 per window off and per learning run, the gains,
    and the causes of the new misses."""
    lines = []
    w = out["window"]
    for name, res in out["logs"].items():
        n = len(res["off"])
        lines.append(f"**{name}** ({res['records']} records; windows of {w})\n")
        lines.append("| run | " + " | ".join(str(w * (i + 1)) for i in range(n))
                     + " | all |")
        lines.append("|---|" + "---:|" * (n + 1))
        off_all = sum(r["hit"] for r in res["off_records"]) / len(res["off_records"])
        lines.append("| P@1 off | " + " | ".join(f"{x:.3f}" for x in res["off"])
                     + f" | {off_all:.3f} |")
        labels = list(res["on"])
        for label in dict.fromkeys([labels[0], labels[-1]]):  # the first and the last run
            run = res["on"][label]
            lines.append(f"| P@1 {label} | " + " | ".join(f"{x:.3f}" for x in run["p_at_1"])
                         + f" | {run['p_at_1_all']:.3f} |")
        for label, run in res["on"].items():
            g = run["gain_points"]
            lines.append(f"| gain {label} | " + " | ".join(f"{x:+.1f}" for x in g) + " | "
                         + f"{100 * (run['p_at_1_all'] - off_all):+.1f} |")
        lines.append("")
    lines.append("| log | run | new misses | new hits | intruders (0 / 1 / 2–3 / 4+ commits)"
                 " | demoted right words | history pair | entries at the end (new offered /"
                 " promoted / demoted / history pairs) |")
    lines.append("|---|---|---:|---:|---|---:|---:|---|")
    for name, res in out["logs"].items():
        for label, run in res["on"].items():
            b, t = run["blame"], run["blame_totals"]
            ic = b["intruder_commits"]
            c = run["counts"][-1]
            lines.append(
                f"| {name} | {label} | {run['new_misses']} | {run['new_hits']} | "
                f"{t['intruder']} ({ic.get('0', 0)} / {ic.get('1', 0)} / {ic.get('2-3', 0)} / "
                f"{ic.get('4+', 0)}) | {t['demoted_right']} | {t['bigram']} | "
                f"{c['new_offered']} / {c['promoted']} / {c['demoted']} / "
                f"{c.get('history_pairs', 0)} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=Path, default=LOGS)
    ap.add_argument("--make-logs", action="store_true", help="write the logs from the corpus")
    ap.add_argument("--corpus", type=Path, help="the built corpus (default: the cache's)")
    ap.add_argument("--records", type=int, default=3000, help="records per log (--make-logs)")
    ap.add_argument("--only", nargs="+", help="these logs (names) only")
    ap.add_argument("--limit", type=int, default=3000)
    ap.add_argument("--window", type=int, default=200)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--off-from", type=Path, help="an earlier JSON: its learning-off runs")
    ap.add_argument("--label", default="learning", help="the name of this learning run")
    ap.add_argument("--cost-records", type=int, default=300,
                    help="records composed with and without the history bigram (0: none)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the learning runs already in --json (compare labels)")
    ap.add_argument("--report", action="store_true", help="print --json's tables (Markdown)")
    args = ap.parse_args()
    if args.report:
        print(report(json.loads(args.json.read_text(encoding="utf-8"))))
        if args.plot:
            plot(json.loads(args.json.read_text(encoding="utf-8")), args.plot)
        return 0

    if args.make_logs:
        from corpus.build import default_corpus_dir

        corpus = args.corpus or default_corpus_dir()
        for name, n in make_logs(corpus, args.logs, args.records).items():
            print(f"{args.logs / (name + '.jsonl')}: {n} records")
        return 0

    out: dict = {"window": args.window, "logs": {}}
    if args.keep and args.json and args.json.is_file():
        out = json.loads(args.json.read_text(encoding="utf-8"))
    earlier = (json.loads(args.off_from.read_text(encoding="utf-8"))
               if args.off_from else {"logs": {}})
    base = Engine.load(Config(learning=False, lm=False), progress=False)
    names = args.only or list(DOMAINS)
    for name in names:
        records = load_log(args.logs / f"{name}.jsonl")[0][: args.limit]
        prev = earlier["logs"].get(name)
        t0 = time.process_time()
        if (prev is not None and len(prev.get("off_records", ())) == len(records)
                and "words" in prev["off_records"][0]):
            off = prev["off_records"]
        else:
            off = replay_off(base, records, name)
        t_off = time.process_time() - t0
        learner = open_learner(Path(tempfile.mkdtemp()) / "user.db")
        engine = Engine(base.lexicon, base.bigram, Config(learning=True, lm=False),
                        learner=learner)
        t0 = time.process_time()
        hits, counts, blame = replay_on(engine, learner, records, off, name, args.window)
        t_on = time.process_time() - t0
        cost = history_cost(engine, records[-args.cost_records:]) if args.cost_records else None
        learner.close()
        res = out["logs"].setdefault(name, {"on": {}})
        res["records"] = len(records)
        res["off"] = windows([r["hit"] for r in off], args.window)
        res["off_records"] = off
        on = windows(hits, args.window)
        gains = [round(100 * (a - b), 1) for a, b in zip(on, res["off"])]
        res["on"][args.label] = {
            "p_at_1": on, "gain_points": gains, "counts": counts,
            "p_at_1_all": round(sum(hits) / len(hits), 4),
            "p_at_1_all_off": round(sum(r["hit"] for r in off) / len(off), 4),
            "new_misses": sum(o["hit"] and not h for o, h in zip(off, hits)),
            "new_hits": sum(h and not o["hit"] for o, h in zip(off, hits)),
            "blame": {k: (dict(v.most_common(25)) if k in ("intruder", "demoted_right",
                                                           "bigram", "unexplained")
                          else dict(v)) for k, v in blame.items()},
            "blame_totals": {k: sum(v.values()) for k, v in blame.items()},
            "cpu_s": {"off": round(t_off, 1), "on": round(t_on, 1)},
            "history_cost": cost,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        print(f"{name} [{args.label}]: off {res['off']}\n  on  {on}\n  gain {gains}\n"
              f"  history cost {cost}\n"
              f"  new misses {res['on'][args.label]['new_misses']}, blame "
              f"{res['on'][args.label]['blame_totals']}, last counts {counts[-1]}", flush=True)
        if args.json:
            tmp = args.json.with_name(f".{args.json.name}.tmp")
            tmp.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")
            tmp.replace(args.json)
    if args.plot:
        plot(out, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
