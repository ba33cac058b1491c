"""The IBus engine in a real GTK3 application: keystroke latency, memory and start-up.

    python benchmarks/ibus_latency.py [--keys 300] [--json benchmarks/ibus_latency.json]
        [--skip-cold]

On a headless desktop of its own (ui.ibus.harness: D-Bus, Xvfb, ibus-daemon, our component
installed by `main.py ibus install`), with xdotool sending each key to a GTK3 text field:

- latency: from the key press reaching the GTK client (its key-press-event) to both the
  client's preedit changed and our candidate window repainted (the engine's trace; both
  stamped with CLOCK_MONOTONIC, one clock for every process), one key at a time, for the
  letters of the pinyin of benchmarks/data/sample.txt (Space commits after each clause and
  is not counted); neural LM off and on, each with one core kept busy by a second process
  (an input method shares the CPU with the application) and without;
- the engine process's resident memory after each run (VmRSS, VmHWM);
- start-up: from running `ibus engine delta-pinyin` to the first key the engine composes,
  with the built lexicon (LM off and on), and with no lexicon (the engine builds it in a
  child process while every key passes to the application; the daemon must not give up
  on it: no "Set global engine failed").
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import busy_core, cpu_model  # noqa: E402
from evaluation.typing_log import make_log  # noqa: E402
from lexicon.build import default_cache_dir, ensure_built  # noqa: E402
from ui.ibus.harness import Client, Desktop, missing  # noqa: E402
from ui.ibus.keymap import keyval_of  # noqa: E402


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def keystrokes(n: int) -> list[str]:
    """Clauses of pinyin (full spelling) from the sample text, at least `n` letters in all."""
    text = (ROOT / "benchmarks" / "data" / "sample.txt").read_text(encoding="utf-8")
    out, total = [], 0
    while total < n:
        for rec in make_log(text, mode="full", seed=len(out)):
            keys = rec.keys.replace("'", "")
            if 4 <= len(keys) <= 40:
                out.append(keys)
                total += len(keys)
            if total >= n:
                break
    return out


def rss_kib(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0])
    return out


def desktop(tmp: Path, cache: Path, lm: bool) -> Desktop:
    cfg = tmp / "config.toml"
    cfg.write_text(f"lm = {'true' if lm else 'false'}\nthreads = 1\nlearning = false\n",
                   encoding="utf-8")
    return Desktop(tmp, cache_dir=cache, config=cfg)


def measure_keys(desk: Desktop, app: Client, clauses: list[str]) -> list[float]:
    """Milliseconds from each letter's key press in the client to preedit and window
    updated; one key at a time."""
    lat: list[float] = []
    for keys in clauses:
        for i, ch in enumerate(keys):
            nk, npre = len(app.keys), len(app.preedits)
            npaint = len(desk.trace_events("paint"))
            desk.key(ch, delay_ms=0)
            want = keys[: i + 1]
            kv = keyval_of(ch)
            press = desk.wait(lambda kv=kv, nk=nk: next(
                (k for k in app.keys[nk:] if k["keyval"] == kv), None), 10, "the key press")
            pre = desk.wait(lambda want=want, npre=npre: next(
                (p for p in app.preedits[npre:] if p["preedit"] == want), None), 10,
                f"preedit {want!r}")
            paint = desk.wait(lambda want=want, npaint=npaint: next(
                (p for p in desk.trace_events("paint")[npaint:] if p["keys"] == want), None),
                10, f"a paint for {want!r}")
            lat.append((max(pre["t"], paint["t"]) - press["t"]) * 1000)
        desk.key("space", delay_ms=0)
        desk.wait(lambda: app.state()["preedit"] == "", 10, "the commit")
    return lat


def latency_run(cache: Path, lm: bool, busy: bool, clauses: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="ibus-bench-") as tmp, \
            desktop(Path(tmp), cache, lm) as desk:
        app = desk.start_client("gtk")
        desk.select_engine()
        desk.activate(app)
        app.focus("text")
        desk.wait(lambda: desk.trace_events("ready"), 60, "the engine to load")
        if lm:  # the reranker loads after the engine
            desk.wait(lambda: desk.trace_events("lm_ready"), 120, "the neural LM to load")
        lm_loaded = any(e["lm"] for e in desk.trace_events("lm_ready"))
        measure_keys(desk, app, clauses[:2])  # warm-up: first decodes, first LM runs
        with busy_core(busy):
            lat = measure_keys(desk, app, clauses)
        pid = desk.engine_pid()
        assert pid is not None
        mem = rss_kib(pid)
    return {"lm": lm, "lm_loaded": lm_loaded, "busy_core": busy, "keystrokes": len(lat),
            "p50_ms": round(percentile(lat, 0.5), 2), "p95_ms": round(percentile(lat, 0.95), 2),
            "p99_ms": round(percentile(lat, 0.99), 2), "max_ms": round(max(lat), 2),
            "mean_ms": round(statistics.fmean(lat), 2), "rss_mib": round(mem["VmRSS"] / 1024, 1),
            "peak_rss_mib": round(mem["VmHWM"] / 1024, 1)}


def startup_run(cache: Path, lm: bool, interval: float = 0.05, timeout: float = 120) -> dict:
    """`ibus engine` → the first key the engine composes; keys are pressed every `interval`
    s meanwhile (each must reach the application until then)."""
    with tempfile.TemporaryDirectory(prefix="ibus-start-") as tmp, \
            desktop(Path(tmp), cache, lm) as desk:
        app = desk.start_client("gtk")
        desk.activate(app)
        app.focus("text")
        nchanges = len(app.changes)
        t0 = time.monotonic()
        subprocess.Popen(["ibus", "engine", "delta-pinyin"], env=desk.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        presses: list[float] = []
        first = None
        while time.monotonic() - t0 < timeout:
            nk = len(app.keys)
            desk.key("n", delay_ms=0)
            desk.wait(lambda nk=nk: len(app.keys) > nk, 10, "the key press")
            presses.append(app.keys[-1]["t"])
            handled = [e for e in desk.trace_events("key") if e["handled"]]
            if handled:
                first = handled[0]["t"]
                break
            time.sleep(interval)
        desk.key("Escape")
        if lm:
            desk.wait(lambda: desk.trace_events("lm_ready"), 120, "the neural LM to load")
        regs, ready = desk.trace_events("registered"), desk.trace_events("ready")
        lm_ready = desk.trace_events("lm_ready")
        passed = [e for e in desk.trace_events("key") if not e["handled"]]
        # a key passed to the application: its press → the field's text changed
        changes = app.changes[nchanges:]
        pass_ms = []
        for t in presses:
            after = [c["t"] for c in changes if c["t"] >= t]
            if after and (first is None or t < first):
                pass_ms.append((after[0] - t) * 1000)
        log = desk.daemon_output()
        return {
            "lm": lm, "built": True,
            "registered_s": round(regs[0]["t"] - t0, 3) if regs else None,
            "ready_s": round(ready[0]["t"] - t0, 3) if ready else None,
            "first_key_handled_s": round(first - t0, 3) if first is not None else None,
            "lm_ready_s": round(lm_ready[0]["t"] - t0, 3) if lm_ready else None,
            "lm_loaded": any(e["lm"] for e in lm_ready),
            "keys_passed_while_loading": len(passed),
            "pass_through_p50_ms": round(percentile(pass_ms, 0.5), 1) if pass_ms else None,
            "pass_through_p95_ms": round(percentile(pass_ms, 0.95), 1) if pass_ms else None,
            "text_typed_meanwhile": app.text()[:40],
            "set_global_engine_failed": "Set global engine failed" in log,
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=300, help="letters measured per run")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "ibus_latency.json"))
    ap.add_argument("--cache-dir")
    ap.add_argument("--skip-cold", action="store_true", help="no start-up without a lexicon")
    args = ap.parse_args()
    absent = missing()
    if absent:
        print(f"error: needs {', '.join(absent)} (make ibus-deps)", file=sys.stderr)
        return 2
    cache = ensure_built(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    clauses = keystrokes(args.keys)
    out: dict = {"machine": {"cpu": cpu_model(), "python": platform.python_version()},
                 "date": time.strftime("%Y-%m-%d"), "latency": [], "startup": []}
    for lm in (False, True):
        for busy in (True, False):
            r = latency_run(cache, lm, busy, clauses)
            print(json.dumps(r), flush=True)
            out["latency"].append(r)
    for lm in (False, True):
        r = startup_run(cache, lm)
        print(json.dumps(r), flush=True)
        out["startup"].append(r)
    if not args.skip_cold:
        with tempfile.TemporaryDirectory(prefix="ibus-cold-") as empty:
            r = startup_run(Path(empty) / "lexicon", False, interval=0.2, timeout=300)
            r["built"] = False
            print(json.dumps(r), flush=True)
            out["startup"].append(r)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
