"""KDA kernel benchmark on one GPU: our Triton kernels vs flash-linear-attention (and SDPA).

Run:  python benchmarks/kda.py --out kda_bench.md --json kda_bench.json --plot kda.png
Plot a saved run (no GPU):  python benchmarks/kda.py --from benchmarks/kda_bench.json \
          --plot benchmarks/kda.png

Cases (bf16 inputs, fp32 state; medians of triton.testing.do_bench, CUDA-event timed):
* chunk forward and forward+backward, H=16, K=V=128, B x T in {4x2048, 4x8192, 8x32768};
  causal SDPA (flash) at the same shape as a scale reference.
* decode, one token, H=16, K=V=128, B in {1, 64, 256}, plus H=4, K=V=64, B=64; state
  updated in place; each call captured in a CUDA graph; effective state bandwidth =
  bytes of state read + written / time.
* candidate scoring, H=4, K=V=64, 64 candidates x 16 tokens from one shared state: GPU time
  of one launch (graph replay) and the eager call; fla for scale (state expanded per
  candidate first, which our scorer never does).
Every ratio is ours / theirs measured in the same run. fla is optional (rows say n/a).
`--set NAME=VALUE` (repeatable) overrides a tuning knob of kernels/kda/chunk.py for the run
(e.g. --set INTRA_STAGES=3); the knobs in effect are written to the JSON and the table.
`--sweep NAME=V1,V2,...` (repeatable) instead times the chunk forward (and forward+backward
unless --fwd-only) for every combination of the values, in one process, beside fla:
  python benchmarks/kda.py --sweep INTRA_BK=16,32 --sweep INTRA_WARPS=4,8 --shapes 4x8192
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import math
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
import triton
from triton.testing import do_bench

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kernels.kda.chunk as chunk_module  # noqa: E402
from kernels.kda import chunk_kda, fused_recurrent_kda, score_candidates  # noqa: E402
from kernels.testing import rel_rms  # noqa: E402

try:
    from fla.ops.kda import chunk_kda as fla_chunk_kda
    from fla.ops.kda import fused_recurrent_kda as fla_fused_recurrent_kda
except Exception as exc:  # noqa: BLE001 - any import failure means "not available"
    print(f"fla not available: {exc!r}", file=sys.stderr)
    fla_chunk_kda = fla_fused_recurrent_kda = None

DEV = "cuda"


def bench(fn: Callable[[], object], rep_ms: int = 200) -> float:
    """Median milliseconds of fn (warm-up included in do_bench)."""
    return float(do_bench(fn, warmup=25, rep=rep_ms, return_mode="median"))


def graph_bench(fn: Callable[[], object], rep_ms: int = 200) -> float:
    """Median milliseconds of one replay of a CUDA graph capturing fn."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return bench(graph.replay, rep_ms)


def inputs(B: int, T: int, H: int, K: int, V: int, grad: bool) -> list[torch.Tensor]:
    q = F.normalize(torch.randn(B, T, H, K, device=DEV), dim=-1).bfloat16()  # [B, T, H, K]
    k = F.normalize(torch.randn(B, T, H, K, device=DEV), dim=-1).bfloat16()
    v = torch.randn(B, T, H, V, device=DEV).bfloat16()  # [B, T, H, V]
    g = F.logsigmoid(torch.randn(B, T, H, K, device=DEV)) / 2  # [B, T, H, K] fp32 log decay
    beta = torch.rand(B, T, H, device=DEV).sigmoid().bfloat16()  # [B, T, H]
    out = [q, k, v, g, beta]
    return [x.requires_grad_(grad) for x in out]


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b is not None else "n/a"


def fmt(x: float | None, unit: str = "ms") -> str:
    if x is None:
        return "n/a"
    return f"{x * 1000:.1f} µs" if unit == "us" else f"{x:.3f} ms"


def bench_chunk(rows: list[dict], B: int, T: int, H: int = 16, D: int = 128) -> None:
    """Ours first, each number printed as soon as it is measured (fla's autotuning compile
    can be long; partial results survive a timeout)."""
    scale = D**-0.5
    res: dict = {"case": f"chunk B{B} T{T} H{H} d{D}"}
    rows.append(res)

    def note(key: str, value: float) -> None:
        res[key] = value
        print(f"{res['case']} {key} {value:.3f} ms", flush=True)

    x0 = inputs(B, T, H, D, D, grad=False)
    x = inputs(B, T, H, D, D, grad=True)
    do = torch.randn(B, T, H, D, device=DEV).bfloat16()

    def fb(fn: Callable) -> Callable[[], None]:
        def run() -> None:
            o = fn()[0]
            o.backward(do)

        return run

    note("ours_fwd", bench(lambda: chunk_kda(*x0, scale=scale)))
    note("ours_fwdbwd", bench(fb(lambda: chunk_kda(*x, scale=scale))))
    q0, k0, v0 = (t.transpose(1, 2).contiguous() for t in x0[:3])  # [B, H, T, D]
    note("sdpa_fwd", bench(lambda: F.scaled_dot_product_attention(q0, k0, v0, is_causal=True)))
    qs, ks, vs = (t.detach().transpose(1, 2).contiguous().requires_grad_() for t in x[:3])
    dos = do.transpose(1, 2).contiguous()
    note(
        "sdpa_fwdbwd",
        bench(lambda: F.scaled_dot_product_attention(qs, ks, vs, is_causal=True).backward(dos)),
    )
    if fla_chunk_kda is not None:
        note("fla_fwd", bench(lambda: fla_chunk_kda(*x0, scale=scale)))
        note("fla_fwdbwd", bench(fb(lambda: fla_chunk_kda(*x, scale=scale))))
    x0.clear()
    x.clear()
    torch.cuda.empty_cache()


def bench_decode(rows: list[dict], B: int, H: int, D: int) -> None:
    x = inputs(B, 1, H, D, D, grad=False)
    state = torch.randn(B, H, D, D, device=DEV) * 0.1  # [B, H, K, V] fp32
    out = torch.empty(B, 1, H, D, device=DEV, dtype=torch.bfloat16)
    res: dict = {"case": f"decode B{B} H{H} d{D}"}
    state_bytes = 2 * B * H * D * D * 4  # read + write, fp32

    def ours() -> None:
        fused_recurrent_kda(*x, initial_state=state, inplace_final_state=True, out=out)

    res["ours_graph"] = graph_bench(ours)
    res["ours_eager"] = bench(ours)
    res["ours_tbs"] = state_bytes / (res["ours_graph"] * 1e-3) / 1e12
    if fla_fused_recurrent_kda is not None:
        fstate = state.clone()

        def theirs() -> None:
            fla_fused_recurrent_kda(*x, initial_state=fstate, output_final_state=True)

        res["fla_graph"] = graph_bench(theirs)
        res["fla_tbs"] = state_bytes / (res["fla_graph"] * 1e-3) / 1e12
    rows.append(res)


def bench_scoring(rows: list[dict], N: int = 64, T: int = 16, H: int = 4, D: int = 64) -> None:
    x = inputs(N, T, H, D, D, grad=False)
    state = torch.randn(H, D, D, device=DEV) * 0.1  # [H, K, V] shared cache
    lengths = torch.randint(1, T + 1, (N,), device=DEV, dtype=torch.int32)
    lengths[0] = T
    out = torch.empty(N, T, H, D, device=DEV, dtype=torch.bfloat16)
    res: dict = {"case": f"score N{N} T{T} H{H} d{D}"}

    def ours() -> None:
        score_candidates(*x, state, lengths, out=out)

    res["ours_graph"] = graph_bench(ours)
    res["ours_eager"] = bench(ours)
    if fla_fused_recurrent_kda is not None:

        def theirs() -> None:
            h0 = state.expand(N, -1, -1, -1).contiguous()  # fla needs one state per sequence
            fla_fused_recurrent_kda(*x, initial_state=h0, output_final_state=False)

        res["fla_graph"] = graph_bench(theirs)
        res["fla_eager"] = bench(theirs)
    rows.append(res)


def breakdown(B: int = 4, T: int = 8192, H: int = 16, D: int = 128) -> str:
    """Per-kernel GPU time of one fwd+bwd (torch profiler), ours and fla, as text."""
    x = inputs(B, T, H, D, D, grad=True)
    do = torch.randn(B, T, H, D, device=DEV).bfloat16()
    out = []
    impls = [("ours", chunk_kda)] + ([("fla", fla_chunk_kda)] if fla_chunk_kda else [])
    for name, fn in impls:
        fn(*x, scale=D**-0.5)[0].backward(do)  # warm-up / compile
        torch.cuda.synchronize()
        acts = [torch.profiler.ProfilerActivity.CUDA]
        with torch.profiler.profile(activities=acts) as prof:
            fn(*x, scale=D**-0.5)[0].backward(do)
            torch.cuda.synchronize()
        table = prof.key_averages().table(sort_by="self_device_time_total", row_limit=14)
        out.append(f"### {name}: one fwd+bwd, B{B} T{T} H{H} d{D}\n\n```\n{table}\n```\n")
    return "\n".join(out)


def markdown(chunk: list[dict], decode: list[dict], score: list[dict], env: dict) -> str:
    lines = [
        f"Machine: {env['gpu']}; torch {env['torch']}, triton {env['triton']}, "
        f"fla {env['fla']}; python {env['python']}.",
        "",
        "Kernel knobs: " + ", ".join(f"{n}={v!r}" for n, v in env.get("knobs", {}).items()),
        "",
        "| chunk case | ours fwd | fla fwd | ours/fla | SDPA fwd | ours/SDPA | "
        "ours fwd+bwd | fla fwd+bwd | ours/fla | SDPA fwd+bwd | ours/SDPA |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in chunk:
        lines.append(
            f"| {r['case']} | {fmt(r['ours_fwd'])} | {fmt(r.get('fla_fwd'))} | "
            f"{ratio(r['ours_fwd'], r.get('fla_fwd'))} | {fmt(r['sdpa_fwd'])} | "
            f"{ratio(r['ours_fwd'], r['sdpa_fwd'])} | {fmt(r['ours_fwdbwd'])} | "
            f"{fmt(r.get('fla_fwdbwd'))} | {ratio(r['ours_fwdbwd'], r.get('fla_fwdbwd'))} | "
            f"{fmt(r['sdpa_fwdbwd'])} | {ratio(r['ours_fwdbwd'], r['sdpa_fwdbwd'])} |"
        )
    lines += [
        "",
        "| decode case (CUDA graph) | ours | ours TB/s | fla | fla TB/s | ours/fla | ours eager |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in decode:
        fla_tbs = f"{r['fla_tbs']:.2f}" if "fla_tbs" in r else "n/a"
        lines.append(
            f"| {r['case']} | {fmt(r['ours_graph'], 'us')} | {r['ours_tbs']:.2f} | "
            f"{fmt(r.get('fla_graph'), 'us')} | {fla_tbs} | "
            f"{ratio(r['ours_graph'], r.get('fla_graph'))} | {fmt(r['ours_eager'], 'us')} |"
        )
    lines += [
        "",
        "| scoring case | ours (graph, 1 launch) | ours eager | fla (graph) | fla eager | "
        "ours/fla (graph) |",
        "|---|---|---|---|---|---|",
    ]
    for r in score:
        lines.append(
            f"| {r['case']} | {fmt(r['ours_graph'], 'us')} | {fmt(r['ours_eager'], 'us')} | "
            f"{fmt(r.get('fla_graph'), 'us')} | {fmt(r.get('fla_eager'), 'us')} | "
            f"{ratio(r['ours_graph'], r.get('fla_graph'))} |"
        )
    return "\n".join(lines) + "\n"


def plot(data: dict, path: Path) -> None:
    """Bar chart of ours / fla per case (below 1 = ours faster), from a --json file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values = [], []
    for r in data.get("chunk", []):
        shape = r["case"].split()[1:3]  # B4 T8192
        for key, what in (("fwd", "fwd"), ("fwdbwd", "fwd+bwd")):
            if r.get(f"fla_{key}"):
                labels.append(f"chunk {what}\n{' '.join(shape)}")
                values.append(r[f"ours_{key}"] / r[f"fla_{key}"])
    for r in data.get("decode", []):
        if r.get("fla_graph"):
            labels.append("decode\n" + " ".join(r["case"].split()[1:3]))
            values.append(r["ours_graph"] / r["fla_graph"])
    for r in data.get("score", []):
        if r.get("fla_graph"):
            labels.append("score 64x16\n(fla: 64 copies)")
            values.append(r["ours_graph"] / r["fla_graph"])
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels)), 4))
    colors = ["tab:green" if x <= 1.0 else "tab:red" for x in values]
    bars = ax.bar(range(len(values)), values, color=colors)
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("time ours / fla (lower is faster)")
    env = data.get("env", {})
    fig.suptitle(f"KDA kernels vs fla {env.get('fla', '?')} on {env.get('gpu', '?')} (same run)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")  # atomic: temp file, then rename
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


FIXED = {"CHUNK", "SUB", "GRID_LIMIT"}  # shapes and limits the kernels are written for


def knobs() -> dict:
    """The tuning knobs of the chunk kernels (upper-case module settings) and their values."""
    return {
        n: v
        for n, v in vars(chunk_module).items()
        if n.isupper() and n not in FIXED and isinstance(v, (bool, int, float, str))
    }


def parse_knobs(items: list[str]) -> dict:
    """NAME=VALUE overrides, checked against the knobs' names and types (ValueError if not)."""
    known = knobs()
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in known:
            raise ValueError(f"{item!r}: expected NAME=VALUE with NAME one of {sorted(known)}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare string, e.g. SOLVE_PRECISION=ieee
        want = type(known[name])
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not want:
            raise ValueError(f"{name} takes a {want.__name__}, got {text!r}")
        out[name] = value
    return out


def parse_sweeps(items: list[str]) -> list[dict]:
    """NAME=V1,V2,... per item -> every combination as a dict (ValueError if malformed)."""
    axes = []
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not values:
            raise ValueError(f"{item!r}: expected NAME=V1,V2,...")
        axes.append([parse_knobs([f"{name}={v}"]) for v in values.split(",")])
    return [{k: v for d in combo for k, v in d.items()} for combo in itertools.product(*axes)]


def parse_shapes(text: str) -> list[tuple[int, int]]:
    """'4x8192,8x32768' -> [(4, 8192), (8, 32768)] (ValueError if malformed)."""
    shapes = []
    for part in text.split(","):
        b, sep, t = part.partition("x")
        if not sep or not b.isdigit() or not t.isdigit() or int(b) < 1 or int(t) < 1:
            raise ValueError(f"{part!r}: expected BxT, e.g. 4x8192")
        shapes.append((int(b), int(t)))
    return shapes


def run_sweep(
    combos: list[dict], shapes: list[tuple[int, int]], fwd_only: bool, H: int = 16, D: int = 128
) -> list[dict]:
    """Time every knob combination per shape in this process (fla once per shape)."""
    base = knobs()
    rows: list[dict] = []
    try:
        for B, T in shapes:
            rows += _sweep_shape(combos, base, B, T, H, D, fwd_only)
            torch.cuda.empty_cache()
    finally:
        for name, value in base.items():
            setattr(chunk_module, name, value)
    return rows


def _sweep_shape(
    combos: list[dict], base: dict, B: int, T: int, H: int, D: int, fwd_only: bool
) -> list[dict]:
    x0 = inputs(B, T, H, D, D, grad=False)
    x = inputs(B, T, H, D, D, grad=True)
    do = torch.randn(B, T, H, D, device=DEV).bfloat16()
    scale = D**-0.5
    ref: dict = {}
    want = None  # the output every combination is checked against: fla's, else the first's
    if fla_chunk_kda is not None:
        ref["fwd"] = bench(lambda: fla_chunk_kda(*x0, scale=scale))
        if not fwd_only:
            ref["fwdbwd"] = bench(lambda: fla_chunk_kda(*x, scale=scale)[0].backward(do))
        with torch.no_grad():
            want = fla_chunk_kda(*x0, scale=scale)[0].float()
    rows = []
    for combo in combos:
        for name, value in {**base, **combo}.items():
            setattr(chunk_module, name, value)
        row: dict = {"case": f"B{B} T{T} H{H} d{D}", "knobs": combo, "fla": ref}
        try:
            with torch.no_grad():
                got = chunk_kda(*x0, scale=scale)[0].float()
            if want is None:
                want = got
            row["rel_rms"] = rel_rms(got, want)
            row["fwd"] = bench(lambda: chunk_kda(*x0, scale=scale))
            if not fwd_only:
                row["fwdbwd"] = bench(lambda: chunk_kda(*x, scale=scale)[0].backward(do))
        except Exception as exc:  # noqa: BLE001 - a combination that fails is reported
            row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        for key in ("fwd", "fwdbwd"):
            if key in row and key in ref:
                row[f"{key}_ratio"] = row[key] / ref[key]
        rows.append(row)
        print(row, flush=True)
    return rows


def sweep_markdown(rows: list[dict], env: dict) -> str:
    lines = [
        f"Machine: {env['gpu']}; torch {env['torch']}, triton {env['triton']}, "
        f"fla {env['fla']}; python {env['python']}.",
        "",
        "| case | knobs | ours fwd | ours/fla | ours fwd+bwd | ours/fla | output rel. RMS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        knob_text = ", ".join(f"{k}={v!r}" for k, v in r["knobs"].items())
        if "error" in r:
            lines.append(f"| {r['case']} | {knob_text} | {r['error']} | | | | |")
            continue
        lines.append(
            f"| {r['case']} | {knob_text} | {fmt(r.get('fwd'))} | "
            f"{ratio(r.get('fwd'), r['fla'].get('fwd'))} | {fmt(r.get('fwdbwd'))} | "
            f"{ratio(r.get('fwdbwd'), r['fla'].get('fwdbwd'))} | {r.get('rel_rms', float('nan')):.1e} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="markdown table file")
    ap.add_argument("--json", type=Path, default=None, help="raw numbers (JSON)")
    ap.add_argument("--quick", action="store_true", help="skip the 8x32768 chunk case")
    ap.add_argument("--breakdown", type=Path, default=None, help="per-kernel profile (text)")
    ap.add_argument(
        "--shapes", default=None, help="chunk cases as BxT, comma-separated (e.g. 4x8192)"
    )
    ap.add_argument("--chunk-only", action="store_true", help="skip decode and scoring")
    ap.add_argument(
        "--plot", type=Path, default=None, help="PNG of ours/fla (with --from: no GPU needed)"
    )
    ap.add_argument("--from", dest="from_json", type=Path, default=None, help="--json to plot")
    ap.add_argument(
        "--set", dest="knobs", action="append", default=[], metavar="NAME=VALUE",
        help="override a knob of kernels/kda/chunk.py for this run (repeatable)",
    )  # fmt: skip
    ap.add_argument(
        "--sweep", dest="sweeps", action="append", default=[], metavar="NAME=V1,V2",
        help="time the chunk kernels for every combination of these knob values",
    )  # fmt: skip
    ap.add_argument("--fwd-only", action="store_true", help="with --sweep: forward only")
    args = ap.parse_args()
    try:
        overrides = parse_knobs(args.knobs)
    except ValueError as exc:
        ap.error(f"--set {exc}")
    try:
        combos = parse_sweeps(args.sweeps)
    except ValueError as exc:
        ap.error(f"--sweep {exc}")
    try:
        shapes = parse_shapes(args.shapes) if args.shapes else None
    except ValueError as exc:
        ap.error(f"--shapes {exc}")
    if args.from_json:
        if not args.plot:
            ap.error("--from needs --plot")
        try:
            data = json.loads(args.from_json.read_text())
        except (OSError, ValueError) as exc:
            ap.error(f"cannot read {args.from_json}: {exc}")
        plot(data, args.plot)
        print(f"wrote {args.plot}")
        return
    if not torch.cuda.is_available():
        ap.error("needs a CUDA device (without one: --from JSON --plot PNG)")
    for name, value in overrides.items():
        setattr(chunk_module, name, value)
    torch.manual_seed(0)
    try:
        import fla

        fla_version = fla.__version__
    except Exception:  # noqa: BLE001
        fla_version = "n/a"
    env = dict(
        gpu=torch.cuda.get_device_name(),
        torch=torch.__version__,
        triton=triton.__version__,
        fla=fla_version,
        python=platform.python_version(),
        knobs=knobs(),
    )
    if args.sweeps:
        rows = run_sweep(combos, shapes or [(4, 8192)], args.fwd_only)
        table = sweep_markdown(rows, env)
        print(table)
        if args.out:
            args.out.write_text(table)
        if args.json:
            args.json.write_text(json.dumps(dict(env=env, sweep=rows), indent=1))
        return
    chunk: list[dict] = []
    decode: list[dict] = []
    score: list[dict] = []
    if shapes is None:
        shapes = [(4, 2048), (4, 8192)] + ([] if args.quick else [(8, 32768)])
    for B, T in shapes:
        bench_chunk(chunk, B, T)
        print(chunk[-1], flush=True)
        if args.json:  # after every case, so that a timeout keeps what was measured
            args.json.write_text(json.dumps(dict(env=env, chunk=chunk), indent=1))
    if not args.chunk_only:
        for B, H, D in [(1, 16, 128), (64, 16, 128), (256, 16, 128), (64, 4, 64)]:
            bench_decode(decode, B, H, D)
            print(decode[-1], flush=True)
        bench_scoring(score)
        print(score[-1], flush=True)
    if args.breakdown:
        text = breakdown()
        print(text)
        args.breakdown.write_text(text)
    table = markdown(chunk, decode, score, env)
    print(table)
    if args.out:
        args.out.write_text(table)
    data = dict(env=env, chunk=chunk, decode=decode, score=score)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1, default=lambda v: None))
    if args.plot:
        plot(data, args.plot)
    assert all(math.isfinite(r["ours_fwd"]) for r in chunk)


if __name__ == "__main__":
    main()
