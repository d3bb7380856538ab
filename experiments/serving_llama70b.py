"""Llama-2-70B on 1, 2, 4 and 8 H100 SXM (DGX H100): memory fit, static-batch generation and a
serving latency-throughput sweep on the simpy simulator.

    python experiments/serving_llama70b.py [--out experiments/results/serving] [--requests 300]

Writes generate.csv (one row per device count and format), sweep.csv, sweep.png and
timeline.png (memory, batch and latency CDFs of one serving run).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from hwsim.systems import ParallelModel, generate, load_system, sweep

OUT = Path(__file__).resolve().parent / "results" / "serving"
FORMATS = {"fp16": dict(weights="fp16", activations="fp16", kv="fp16"),
           "fp8": dict(weights="fp8_e4m3", activations="fp8_e4m3", kv="fp8_e4m3")}


def run_generate(out: Path | None = None) -> list[dict]:
    """llama-2-70b on 1, 2, 4, 8 H100 of a DGX H100 (tp = GPUs), fp16 and fp8: per-GPU memory,
    the largest batch at 2048 tokens of context, and a static batch (min(64, that), 1024 in /
    1024 out) -- throughput, TTFT, TPOT, energy and cost per token ($2.5 per GPU-hour, an input).
    Writes generate.csv under ``out`` when given."""
    dgx = load_system("dgx-h100")
    rows = []
    for fname, fm in FORMATS.items():
        for n in (1, 2, 4, 8):
            pm = ParallelModel("llama-2-70b", dgx, tp=n, **fm)
            one = pm.memory(1, 2048)
            maxb = pm.max_batch(2048, step_tokens=8192)
            b = min(64, maxb) or 1  # batch 1 where nothing fits: the row shows fits=False
            g = generate("llama-2-70b", dgx, batch=b, input_len=1024, output_len=1024, tp=n,
                         parallel=pm, price_per_device_hour=2.5)
            rows.append(dict(formats=fname, gpus=n, tp=n,
                             weights_gb_per_gpu=round(one.weights_bytes / 1e9, 3),
                             fits_batch1_ctx2048=bool(one.fits), max_batch_ctx2048=maxb,
                             batch=b, fits=bool(g.fits), ttft_s=round(g.ttft_s, 5),
                             tpot_ms=round(g.tpot_s * 1e3, 4),
                             output_tokens_per_s=round(g.output_tokens_per_s, 2),
                             tokens_per_s_per_gpu=round(g.output_tokens_per_s_per_device, 2),
                             joules_per_token=round(g.energy_per_token_j, 4),
                             usd_per_million_tokens=round(g.cost_per_million_tokens, 4)))
            r = rows[-1]
            print(f"{fname} {n} GPUs: fits b1={r['fits_batch1_ctx2048']}, max batch {maxb}, "
                  f"batch {b}: {r['output_tokens_per_s']:.0f} tok/s, TTFT {r['ttft_s']:.2f} s, "
                  f"TPOT {r['tpot_ms']:.1f} ms, fits={r['fits']}")
    if out is not None:
        with open(Path(out) / "generate.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return rows


def run_sweep(out: Path, requests: int = 300) -> list:
    """Serving sweep: llama-2-70b fp8 on 4 H100 (tp=4), Poisson arrivals, prompts 256-2048 and
    outputs 64-512 tokens (uniform), vLLM-like continuous batching; sweep.csv, sweep.png and the
    timeline of the middle rate."""
    dgx = load_system("dgx-h100")
    rates = [1, 4, 8, 16, 24, 32]
    reps = sweep("llama-2-70b", dgx, rates, plot=out / "sweep.png", tp=4, n_requests=requests,
                 input_len=(256, 2048), output_len=(64, 512), seed=1, **FORMATS["fp8"])
    with open(out / "sweep.csv", "w", newline="") as f:
        d = [r.as_dict() for r in reps]
        for x in d:
            x.pop("sim_wall_s")  # machine-dependent
        w = csv.DictWriter(f, fieldnames=list(d[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(d)
    for r in reps:
        print(r)
    reps[len(reps) // 2].plot(out / "timeline.png")
    return reps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--requests", type=int, default=300)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    run_generate(out)
    run_sweep(out, a.requests)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
