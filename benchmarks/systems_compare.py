"""hwsim (and GenZ, when installed) against TensorRT-LLM's published static-batch benchmarks.

    python benchmarks/systems_compare.py [--genz-python /path/to/python] [--csv FILE]

Rows: the checks of hwsim/validate/systems.py (TensorRT-LLM v0.5 / v0.6.1 gptSessionBenchmark
tables, H100 FP8 and A100 FP16). For each: the reference, hwsim's value and error, hwsim's value
with the GQA-unaware decode-attention counterfactual (``kv_per_query_head=True``: KV read once per
query head, as before TensorRT-LLM's XQA kernel -- a hypothesis for the 70B misses, not a fit),
and the wall time of each estimate. GenZ (pip ``genz-llm``, not a hwsim dependency) runs in its
own interpreter when ``--genz-python`` names one; GenZ is given the same model, batch, lengths,
tensor parallelism and precision and its own H100/A100 system presets.

Writes benchmarks/results/systems_compare.csv and prints the mean |error| of each tool.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import time
from pathlib import Path

from hwsim.systems import ParallelModel, generate, load_system
from hwsim.validate.systems import THROUGHPUT, TTFT

OUT = Path(__file__).resolve().parent / "results" / "systems_compare.csv"
GENZ_SCRIPT = Path(__file__).resolve().parent / "genz_cases.py"


def _cases():
    for cid, s, m, fm, b, tp, i, o, ref, per_gpu, _ in THROUGHPUT:
        yield dict(id=cid, metric="out_tok_s_per_gpu" if per_gpu else "out_tok_s", system=s,
                   model=m, formats=fm, batch=b, tp=tp, input=i, output=o, reference=ref)
    for cid, s, m, fm, tp, i, ref in TTFT:
        yield dict(id=cid, metric="ttft_ms", system=s, model=m, formats=fm, batch=1, tp=tp,
                   input=i, output=1, reference=ref)


def _hwsim(c, gqa_unaware=False):
    sysm = load_system(c["system"])
    t0 = time.perf_counter()
    pm = ParallelModel(c["model"], sysm, tp=c["tp"], kv_per_query_head=gqa_unaware,
                       **c["formats"])
    g = generate(c["model"], sysm, batch=c["batch"], tp=c["tp"], input_len=c["input"],
                 output_len=c["output"], parallel=pm)
    dt = time.perf_counter() - t0
    v = {"out_tok_s": g.output_tokens_per_s, "out_tok_s_per_gpu":
         g.output_tokens_per_s_per_device, "ttft_ms": 1e3 * g.ttft_s}[c["metric"]]
    return v, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(OUT))
    ap.add_argument("--genz-python", help="interpreter with genz-llm installed")
    a = ap.parse_args()
    cases = list(_cases())
    genz = {}
    if a.genz_python:
        spec = [{k: v for k, v in c.items()} for c in cases]
        res = subprocess.run([a.genz_python, str(GENZ_SCRIPT)], input=json.dumps(spec),
                             capture_output=True, text=True)
        if res.returncode:
            print("GenZ failed:", res.stderr.strip()[-2000:])
        else:
            genz = json.loads(res.stdout.strip().splitlines()[-1])
    rows = []
    for c in cases:
        v, dt = _hwsim(c)
        v2, _ = _hwsim(c, gqa_unaware=True)
        ref = c["reference"]
        row = dict(id=c["id"], metric=c["metric"], reference=ref, hwsim=round(v, 4),
                   hwsim_err=round(v / ref - 1, 4), hwsim_s=round(dt, 5),
                   hwsim_gqa_unaware=round(v2, 4), hwsim_gqa_unaware_err=round(v2 / ref - 1, 4))
        g = genz.get(c["id"])
        if g and g.get("value"):
            row.update(genz=round(g["value"], 4), genz_err=round(g["value"] / ref - 1, 4),
                       genz_s=round(g["seconds"], 5))
        elif g:
            row.update(genz="", genz_err="", genz_s="", genz_note=g.get("error", "")[:120])
        rows.append(row)
        print(f"{c['id']:42s} ref {ref:>8g}  hwsim {v:>9.1f} ({100 * (v / ref - 1):+6.1f}%)"
              f"  gqa-unaware {v2:>9.1f} ({100 * (v2 / ref - 1):+6.1f}%)"
              + (f"  genz {g['value']:>9.1f} ({100 * (g['value'] / ref - 1):+6.1f}%)"
                 if g and g.get("value") else ""))
    fields = sorted({k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k)
                    if k in rows[0] else 99)
    with open(a.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for key in ("hwsim", "hwsim_gqa_unaware", "genz"):
        errs = [abs(r[key + "_err"]) for r in rows if r.get(key + "_err") not in (None, "")]
        secs = [r[key + "_s"] for r in rows if r.get(key + "_s") not in (None, "")]
        if errs:
            print(f"{key:18s} mean |error| {100 * sum(errs) / len(errs):5.1f}% over {len(errs)} "
                  f"rows" + (f", median run time {sorted(secs)[len(secs) // 2] * 1e3:.1f} ms"
                             if secs else ""))
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
