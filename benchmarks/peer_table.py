"""The peers' rows of `python main.py compare LOG --peers …` alone, for many logs at once.

    python benchmarks/peer_table.py LOG [LOG ...] [--peers rime,libime,libpinyin,sunpinyin]
        [--limit N] [--json F]

`compare` replays our engine too (twice per record: timed from scratch, then the simulated
user); a peer's summary does not depend on ours, so this runs the peers only, through the
same `evaluation.peers.compare._peer_results` and `summarize`, and our row comes from
`replay --no-learn --no-lm` (the same simulated user). Learning off.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.metrics import summarize  # noqa: E402
from evaluation.peers.compare import _peer_results  # noqa: E402
from evaluation.typing_log import load_log  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--peers", default="rime,libime,libpinyin,sunpinyin")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    out: dict[str, dict[str, dict]] = {}
    for log in args.logs:
        records = load_log(log, limit=args.limit)[0]
        out[log.stem] = {}
        for name in args.peers.split(","):
            s = summarize(_peer_results(name, records, False, lambda: None), learn=False)
            out[log.stem][name] = {k: s[k] for k in ("p_at_1", "p_at_5", "p_at_10",
                                                     "char_accuracy", "ms_per_record")}
            print(f"{log.stem} {name}: P@1 {s['p_at_1']:.3f} P@5 {s['p_at_5']:.3f} "
                  f"char acc {s['char_accuracy']:.3f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
