"""README blocks of the serving section, from committed result files (for benchmarks/readme.py:
``from systems_readme import serving_example, serving_sweep, systems_compare, systems_speed``
and a ``<!-- begin:NAME -->`` block per function).

    python benchmarks/systems_readme.py      # print the four blocks
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVING = ROOT / "experiments" / "results" / "serving"


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def serving_example() -> str:
    rows = _csv(SERVING / "generate.csv")
    out = ["| formats | H100s (tp) | weights/GPU | fits (batch 1, 2k ctx) | max batch at 2k | "
           "batch | output tok/s | per GPU | TTFT | TPOT | J/token | $/M tokens |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fits = r["fits"] == "True"
        out.append(f"| {r['formats']} | {r['gpus']} | {float(r['weights_gb_per_gpu']):.1f} GB | "
                   f"{'yes' if r['fits_batch1_ctx2048'] == 'True' else '**no**'} | "
                   f"{r['max_batch_ctx2048']} | {r['batch']} | "
                   + (f"{float(r['output_tokens_per_s']):.0f} | "
                      f"{float(r['tokens_per_s_per_gpu']):.0f} | {float(r['ttft_s']):.2f} s | "
                      f"{float(r['tpot_ms']):.1f} ms | {float(r['joules_per_token']):.2f} | "
                      f"{float(r['usd_per_million_tokens']):.2f} |" if fits else
                      "does not fit | | | | | |"))
    return ("llama-2-70b, 1024 prompt + 1024 output tokens, static batch of min(64, largest "
            "that fits), DGX H100 (NVLink 4 + NVSwitch), $2.5 per GPU-hour "
            "(`python experiments/serving_llama70b.py` → "
            "`experiments/results/serving/generate.csv`):\n\n" + "\n".join(out))


def serving_sweep() -> str:
    rows = _csv(SERVING / "sweep.csv")
    out = ["| req/s | output tok/s | TTFT p50 | TTFT p99 | TPOT p50 | TPOT p99 | E2E p50 | "
           "peak KV blocks | preemptions |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = {k: float(v) for k, v in r.items() if k not in ("model", "system")}
        out.append(f"| {f['rate_per_s']:g} | {f['output_tokens_per_s']:.0f} | "
                   f"{1e3 * f['ttft_s_p50']:.0f} ms | {1e3 * f['ttft_s_p99']:.0f} ms | "
                   f"{1e3 * f['tpot_s_p50']:.1f} ms | {1e3 * f['tpot_s_p99']:.1f} ms | "
                   f"{f['e2e_s_p50']:.1f} s | {f['peak_kv_blocks_used']:.0f} of "
                   f"{f['kv_blocks']:.0f} | {f['preemptions']:.0f} |")
    # the command reproduces sweep.csv exactly (experiments/serving_llama70b.py: run_sweep)
    return ("`hwsim serve llama-2-70b --arch dgx-h100 --tp 4 --weights fp8_e4m3 --activations "
            "fp8_e4m3 --kv fp8_e4m3 --rates 1,4,8,16,24,32 --requests 300 --input-len 256:2048 "
            "--output-len 64:512 --seed 1 --csv sweep.csv` (Poisson arrivals; "
            "`experiments/results/serving/sweep.csv`, `sweep.png`, `timeline.png`):\n\n"
            + "\n".join(out))


def systems_compare() -> str:
    rows = _csv(ROOT / "benchmarks" / "results" / "systems_compare.csv")
    out = []
    for key, name in (("hwsim", "hwsim"), ("hwsim_gqa_unaware",
                                           "hwsim, GQA-unaware decode attention (counterfactual)"),
                      ("genz", "GenZ (genz-llm 0.0.16, system_eff 1)")):
        errs = [abs(float(r[key + "_err"])) for r in rows if r.get(key + "_err")]
        secs = sorted(float(r[key + "_s"]) for r in rows if r.get(key + "_s"))
        if errs:
            within = sum(e <= 0.25 for e in errs)
            out.append(f"| {name} | {100 * sum(errs) / len(errs):.1f}% | {within} of {len(errs)} "
                       f"| " + (f"{1e3 * secs[len(secs) // 2]:.0f} ms |" if secs else "— |"))
    return ("Against TensorRT-LLM's published static-batch tables (v0.5 / v0.6.1, H100 FP8 and "
            "A100 FP16; `python benchmarks/systems_compare.py --genz-python ...` → "
            "`benchmarks/results/systems_compare.csv`):\n\n"
            "| tool | mean abs. error | within 25% | median run time per case |\n"
            "|---|---|---|---|\n" + "\n".join(out))


def systems_speed() -> str:
    rows = {r["case"]: r for r in _csv(ROOT / "benchmarks" / "results" / "systems_speed.csv")}
    out = ["| case | best | median | target |", "|---|---|---|---|"]
    for case, r in rows.items():
        tgt = f"≤ {float(r['target_s']) * 1e3:g} ms" if r["target_s"] else "—"
        out.append(f"| {case} | {float(r['best_s']) * 1e3:.1f} ms | "
                   f"{float(r['median_s']) * 1e3:.1f} ms | {tgt} |")
    machine = next(iter(rows.values()))["machine"]
    return (f"`python benchmarks/systems_speed.py` on {machine} "
            "(`benchmarks/results/systems_speed.csv`):\n\n" + "\n".join(out))


if __name__ == "__main__":
    for fn in (serving_example, serving_sweep, systems_compare, systems_speed):
        print(f"<!-- {fn.__name__} -->\n{fn()}\n")
