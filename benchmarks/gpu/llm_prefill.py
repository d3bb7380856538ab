#!/usr/bin/env python3
"""Measure whole Llama-2-7B-shaped prefill passes (random fp16 weights), in a short burst and
sustained, to check how the GPU model's burst-fitted clock holds over long runs of large GEMMs.

    python benchmarks/gpu/llm_prefill.py --out DIR [--contexts 2048,4096,8192] [--sustain-s 4]

One pass is the eager op sequence of ``load_workload("llama-2-7b", phase="prefill", context=T,
fusion="eager")`` at batch 1 (benchmarks/gpu/llm_decode.py's layer with causal SDPA over T
tokens), captured in a CUDA graph. ``burst_s``: median of passes right after a 1 s idle (what
the kernel fit saw: work of a few ms to tens of ms); ``sustained_s``: median over the last half
of ``--sustain-s`` seconds of back-to-back passes, when the power limit's averaging window is
full. Writes llm_prefill.csv with the SM clock (MHz, nvidia-smi) read at the end of each phase.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import time

import torch
import torch.nn.functional as F

from llm_decode import HD, NH, H, I, V, apply, build, rms, rope  # same layer, same weights

SCRIPT_VERSION = "llm-prefill 1.0"
L = 32


def sm_clock_mhz() -> float:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
        return float(out.split()[0])
    except Exception:
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--contexts", default="2048,4096,8192")
    ap.add_argument("--sustain-s", type=float, default=4.0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    dt = torch.float16
    f = open(os.path.join(a.out, "llm_prefill.csv"), "w", newline="")
    w = csv.writer(f)
    w.writerow(["model", "weights", "batch", "context", "burst_s", "sustained_s",
                "burst_clock_mhz", "sustained_clock_mhz", "version"])
    for T in (int(t) for t in a.contexts.split(",")):
        layers, emb, head, _, _ = build("fp16", 1, 1, dt)
        tok = torch.randint(0, V, (T,), device="cuda")
        cos = torch.randn(1, 1, T, HD // 2, device="cuda", dtype=dt)
        sin = torch.randn_like(cos)

        def step():
            x = emb[tok]  # [T, H]
            for ly in layers:
                qkv = apply(ly["qkv"], rms(x, ly["n1"])).view(T, 3, NH, HD)
                q, k, v = (qkv[:, j].transpose(0, 1).unsqueeze(0) for j in range(3))  # [1,NH,T,HD]
                q, k = rope(q, cos, sin), rope(k, cos, sin)
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # [1, NH, T, HD]
                x = x + apply(ly["o"], o.transpose(1, 2).reshape(T, H))
                gu = apply(ly["gu"], rms(x, ly["n2"]))
                x = x + apply(ly["d"], F.silu(gu[:, :I]) * gu[:, I:])
            return apply(head, rms(x[-1:], layers[0]["n1"]))  # logits of the last token

        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(2):
                step()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            step()
        torch.cuda.synchronize()

        def timed(n):
            out = []
            for _ in range(n):
                e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                e0.record()
                g.replay()
                e1.record()
                e1.synchronize()
                out.append(e0.elapsed_time(e1) / 1e3)
            return out

        time.sleep(1.0)
        burst = sorted(timed(3))[1]
        burst_clk = sm_clock_mhz()
        times, t0 = [], time.time()
        while time.time() - t0 < a.sustain_s:
            times += timed(1)
        tail = sorted(times[len(times) // 2:])
        sustained = tail[len(tail) // 2]
        w.writerow(["llama-2-7b", "fp16", 1, T, f"{burst:.6e}", f"{sustained:.6e}",
                    f"{burst_clk:.0f}", f"{sm_clock_mhz():.0f}", SCRIPT_VERSION])
        f.flush()
        print(f"T={T}: burst {burst * 1e3:.2f} ms, sustained {sustained * 1e3:.2f} ms "
              f"({len(times)} passes)", flush=True)
        del layers, emb, head, g
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
