#!/usr/bin/env python3
"""Measure one decode step of a Llama-2-7B-shaped model (random weights) on a GPU.

    python benchmarks/gpu/llm_decode.py --out DIR [--batches 1,8,32] [--context 2048] [--profile]
                                        [--compile]

The step is the op sequence hwsim builds for `load_workload("llama-2-7b", phase="decode")`:
embedding, per layer RMSNorm, fused QKV, rotary embedding, KV-cache write, SDPA over context+1
keys, O projection, residual, RMSNorm, fused gate/up, SiLU*mul, down, residual; final norm and
LM head. It is captured in a CUDA graph and replayed, so the time is kernel time (no Python
overhead), with every weight read from HBM (13.5 GB >> L2). Weights fp16 or, with `int4`, the
linear layers as tinygemm W4A16 (torch._weight_int4pack_mm, group 128, bf16 activations).
Writes llm_decode.csv: weights, batch, context, s_per_step, tokens_per_s. The step is PyTorch
eager mode's kernel sequence (hwsim: ``fusion="eager"``). ``--compile`` (llm_decode_compiled.csv)
runs each layer's norm + QKV + rotary and O-projection + residual + norm + MLP + residual through
``torch.compile`` (Inductor fuses the elementwise work into a few Triton kernels around the
cuBLAS GEMMs: hwsim's ``fusion="fused"``), with the KV-cache writes and SDPA left eager: in 1.1
the whole step was compiled and Inductor turned the in-place cache writes into copies of the
whole cache (0.73 ms each on an H200), which is no fused reference. ``--energy`` also replays
the step for ~1 s under NVML's energy counter and writes ``llm_decode{tag}_energy.csv`` with
energy_j_per_step, mean_power_w and sm_clock_mhz (the timing is unchanged).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure as M  # noqa: E402  (NVML energy helper)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SCRIPT_VERSION = "llm-decode 1.5"  # 1.5: --energy; 1.4: --no-graph; 1.3: --compile per layer region; eager step unchanged since 1.0
H, I, L, NH, V = 4096, 11008, 32, 32, 32000
HD = H // NH


def rms(x, w):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-5).to(x.dtype) * w


def rope(x, cos, sin):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def build(weights, B, ctx, dt):
    dev = "cuda"
    def lin(n, k):
        if weights == "fp16":
            return ("dense", torch.randn(n, k, device=dev, dtype=dt) * 0.02)
        wq = torch.randint(0, 255, (n, k // 2), device=dev, dtype=torch.uint8)
        return ("int4", torch._convert_weight_to_int4pack(wq, 8),
                torch.rand(k // 128, n, 2, device=dev, dtype=dt) * 0.01)
    layers = [dict(n1=torch.ones(H, device=dev, dtype=dt), n2=torch.ones(H, device=dev, dtype=dt),
                   qkv=lin(3 * H, H), o=lin(H, H), gu=lin(2 * I, H), d=lin(H, I)) for _ in range(L)]
    emb = torch.randn(V, H, device=dev, dtype=dt) * 0.02
    head = lin(V, H)
    kc = torch.zeros(L, B, NH, ctx + 1, HD, device=dev, dtype=dt)
    vc = torch.zeros_like(kc)
    return layers, emb, head, kc, vc


def apply(w, x):
    if w[0] == "dense":
        return x @ w[1].t()
    return torch._weight_int4pack_mm(x, w[1], 128, w[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--weights", default="fp16,int4")
    ap.add_argument("--compile", action="store_true",
                    help="torch.compile each layer's two elementwise+GEMM regions; writes "
                         "llm_decode_compiled.csv")
    ap.add_argument("--no-graph", action="store_true",
                    help="launch every kernel from Python instead of replaying a CUDA graph; "
                         "writes llm_decode_nograph.csv")
    ap.add_argument("--energy", action="store_true",
                    help="also NVML energy per step (llm_decode[_tag]_energy.csv)")
    ap.add_argument("--profile", action="store_true",
                    help="also write kernels.csv: every kernel of one eager step (name, us)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tag = ("_compiled" if a.compile else "") + ("_nograph" if a.no_graph else "")
    nvml = None
    if a.energy:
        import pynvml
        pynvml.nvmlInit()
        nvml = (pynvml, pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device()))
        tag += "_energy"
    f = open(os.path.join(a.out, f"llm_decode{tag}.csv"), "w", newline="")
    w = csv.writer(f)
    w.writerow(["model", "weights", "activations", "batch", "context", "s_per_step", "tokens_per_s",
                "version"] + (["energy_j_per_step", "mean_power_w", "sm_clock_mhz"] if nvml else []))
    for weights in a.weights.split(","):
        dt = torch.float16 if weights == "fp16" else torch.bfloat16
        for B in (int(b) for b in a.batches.split(",")):
            try:
                layers, emb, head, kc, vc = build(weights, B, a.context, dt)
                tok = torch.randint(0, V, (B,), device="cuda")
                pos = a.context  # the new token's slot: the cache holds `context` earlier tokens
                cos = torch.randn(1, 1, 1, HD // 2, device="cuda", dtype=dt)
                sin = torch.randn_like(cos)

                def pre(x, n1, wqkv, cos, sin):  # norm, QKV projection, rotary embedding
                    h = rms(x, n1)
                    qkv = apply(wqkv, h).view(B, 3, NH, 1, HD)
                    q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
                    return rope(q, cos, sin), rope(k, cos, sin), v

                def post(x, o, wo, n2, wgu, wd):  # O projection, residual, norm, MLP, residual
                    x = x + apply(wo, o.reshape(B, H))
                    gu = apply(wgu, rms(x, n2))
                    return x + apply(wd, F.silu(gu[:, :I]) * gu[:, I:])

                if a.compile:  # the cache writes and SDPA stay outside the compiled regions
                    pre = torch.compile(pre, dynamic=False)
                    post = torch.compile(post, dynamic=False)

                def step():
                    x = emb[tok]  # [B, H]
                    for li, ly in enumerate(layers):
                        q, k, v = pre(x, ly["n1"], ly["qkv"], cos, sin)
                        kc[li, :, :, pos:pos + 1] = k
                        vc[li, :, :, pos:pos + 1] = v
                        o = F.scaled_dot_product_attention(q, kc[li], vc[li])
                        x = post(x, o, ly["o"], ly["n2"], ly["gu"], ly["d"])
                    return apply(head, rms(x, layers[0]["n1"]))

                if a.profile and B == 1:
                    step()
                    torch.cuda.synchronize()
                    from torch.profiler import ProfilerActivity, profile
                    with profile(activities=[ProfilerActivity.CUDA]) as prof:
                        step()
                        torch.cuda.synchronize()
                    with open(os.path.join(a.out, f"kernels{tag}_{weights}_b1.csv"), "w", newline="") as kf:
                        kw = csv.writer(kf)
                        kw.writerow(["kernel", "us"])
                        for ev in prof.events():
                            if ev.device_type.name == "CUDA" and ev.device_time > 0:
                                kw.writerow([ev.name[:120], f"{ev.device_time:.3f}"])
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        step()
                torch.cuda.current_stream().wait_stream(s)
                if a.no_graph:  # every kernel launched from Python, as eager inference runs
                    run = step
                else:
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        step()
                    run = g.replay
                for _ in range(3):
                    run()
                torch.cuda.synchronize()
                times = []
                for _ in range(10):
                    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    e0.record()
                    for _ in range(5):
                        run()
                    e1.record()
                    e1.synchronize()
                    times.append(e0.elapsed_time(e1) / 1e3 / 5)
                times.sort()
                t = times[len(times) // 2]
                extra = list(M.energy_of(run, t, nvml, seconds=1.0)) if nvml else []
                w.writerow(["llama-2-7b", weights, "fp16" if weights == "fp16" else "bf16", B,
                            a.context, f"{t:.6e}", f"{B / t:.2f}", SCRIPT_VERSION] + extra)
                f.flush()
                print(f"{weights} B={B}: {t * 1e3:.3f} ms/step, {B / t:.1f} tokens/s", flush=True)
                del layers, emb, head, kc, vc, run
                torch.cuda.empty_cache()
            except Exception as e:  # keep the other configurations
                print(f"{weights} B={B}: failed: {e!r}"[:400], flush=True)
                torch.cuda.empty_cache()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
