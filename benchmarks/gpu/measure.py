#!/usr/bin/env python3
"""Measure GPU kernels with PyTorch to calibrate and validate hwsim's GPU model.

Run on your own GPU (needs PyTorch with CUDA; NVML via nvidia-ml-py for energy):

    python benchmarks/gpu/measure.py --out data/my-gpu [--budget-s 540] [--quick]

Writes CSVs (each row flushed as measured, so a crash keeps what was done):
  gemm.csv       GEMMs: bf16/fp16/tf32/fp32 torch.matmul, fp8 E4M3 torch._scaled_mm (bf16 out),
                 int8 torch._int_mm (int32 out); square, LLM-layer (7B/70B QKV/O/up/down at
                 M = 1..8192), odd and N-sweep shapes
  attention.csv  F.scaled_dot_product_attention bf16: causal prefill and decode over a KV cache
  w4a16.csv      torch._weight_int4pack_mm (tinygemm W4A16, group 128) at decode shapes
  memops.csv     add, SiLU*mul, GELU, LayerNorm, RMSNorm, softmax, embedding lookup (bf16)
  bandwidth.csv  device copy and read-only reduction, 1 MiB .. 4 GiB
  energy.csv     sustained runs (~2 s) with NVML energy counter, mean power and SM clock
  device.json    device properties, software versions, this script's version
  errors.csv     shapes that failed (unsupported sizes etc.) with the error text

Method (as shared/calibration/README.md): each trial replays a CUDA graph of `reps` back-to-back
calls timed with CUDA events; operands rotate over enough copies that their working set is >= 3x L2,
so each call reads from HBM; the reported time is the median of 7 trials. The GPU is not
clock-locked. Shapes that fp8/int8 kernels reject are retried with M rounded up to 16/32 and the
row records the M that ran (`M`) and the one asked for (`M_req`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import threading
import time
import traceback

SCRIPT_VERSION = "gpu-measure 1.3"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEV = "cuda"
TRIALS = 7
L2 = 50 * 2 ** 20
DEADLINE = [float("inf")]
DTYPES = [None]  # --dtypes filter, shared by the GEMM and energy parts


class OutOfTime(Exception):
    pass


# ----------------------------------------------------------------------------- writers


class Writer:
    def __init__(self, path, cols):
        self.f = open(path, "w", newline="")
        self.w = csv.DictWriter(self.f, fieldnames=cols, extrasaction="ignore")
        self.w.writeheader()
        self.n = 0

    def row(self, **kw):
        self.w.writerow(kw)
        self.f.flush()
        self.n += 1


# ----------------------------------------------------------------------------- timing core


def capture(calls, reps):
    """A CUDA graph of ``reps`` calls round-robin over ``calls``, replayed once (warm)."""
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for i in range(reps):
            calls[i % len(calls)]()
    g.replay()
    torch.cuda.synchronize()
    return g


def time_graph(calls, target_s=0.004, max_reps=2000):
    """Median/min seconds per call of replaying `calls` (a list of zero-arg closures, one per
    operand copy) round-robin inside a CUDA graph."""
    if time.time() > DEADLINE[0]:
        raise OutOfTime()
    # warm up (also triggers cuBLAS heuristics / workspace allocation before capture)
    for c in calls[: min(3, len(calls))]:
        c()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for c in calls[: min(3, len(calls))]:
        c()
    torch.cuda.synchronize()
    est = (time.perf_counter() - t0) / min(3, len(calls))
    reps = max(len(calls), min(max_reps, math.ceil(target_s / max(est, 1e-7))))
    reps = math.ceil(reps / len(calls)) * len(calls)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for c in calls[: min(2, len(calls))]:
            c()
    torch.cuda.current_stream().wait_stream(s)
    g = capture(calls, reps)
    times = []
    for _ in range(TRIALS):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3 / reps)
    del g
    times.sort()
    return times[len(times) // 2], times[0], reps


def n_copies(bytes_per_call, cap=400):
    return max(1, min(cap, math.ceil(3 * L2 / max(bytes_per_call, 1))))


# ----------------------------------------------------------------------------- GEMMs

ELT = {"bf16": 2, "fp16": 2, "tf32": 4, "fp32": 4, "fp8": 1, "int8": 1}
OUT_ELT = {"bf16": 2, "fp16": 2, "tf32": 4, "fp32": 4, "fp8": 2, "int8": 4}


def gemm_closures(dtype, M, N, K, copies):
    calls = []
    if dtype in ("bf16", "fp16", "tf32", "fp32"):
        dt = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype, torch.float32)
        for _ in range(copies):
            a = torch.randn(M, K, device=DEV, dtype=dt)
            b = torch.randn(K, N, device=DEV, dtype=dt)
            calls.append(lambda a=a, b=b: torch.matmul(a, b))
    elif dtype == "fp8":
        one = torch.tensor(1.0, device=DEV)
        for _ in range(copies):
            a = torch.randn(M, K, device=DEV).to(torch.float8_e4m3fn)
            bt = torch.randn(N, K, device=DEV).to(torch.float8_e4m3fn)  # column-major B
            calls.append(lambda a=a, bt=bt: torch._scaled_mm(a, bt.t(), scale_a=one, scale_b=one,
                                                             out_dtype=torch.bfloat16))
    elif dtype == "int8":
        # B column-major ("TN"), the layout cuBLASLt's IMMA tensor-core kernels need and inference
        # engines use; a row-major B falls to a path ~7x slower on H100 (gpu-measure 1.0 measured
        # that by mistake: data/h100/gemm_int8_nn.csv).
        for _ in range(copies):
            a = torch.randint(-128, 127, (M, K), device=DEV, dtype=torch.int8)
            bt = torch.randint(-128, 127, (N, K), device=DEV, dtype=torch.int8)
            calls.append(lambda a=a, bt=bt: torch._int_mm(a, bt.t()))
    return calls


def est_seconds(dtype, M, N, K):
    peak = {"bf16": 8e14, "fp16": 8e14, "tf32": 4e14, "fp32": 5e13, "fp8": 1.4e15, "int8": 1.4e15}
    return 2 * M * N * K / peak[dtype]


def measure_gemm(w, err, dtype, tag, M, N, K):
    bytes_call = (M * K + K * N) * ELT[dtype] + M * N * OUT_ELT[dtype]
    if est_seconds(dtype, M, N, K) > 0.08:
        err.row(kind="gemm", what=f"{dtype} {tag} {M}x{N}x{K}", error="skipped: too slow for budget")
        return
    tried = [M]
    if dtype == "fp8" and M % 16:
        tried.append(16 * math.ceil(M / 16))
    if dtype == "int8":
        m2 = max(32, 8 * math.ceil(M / 8))
        if m2 != M:
            tried.append(m2)
    last = None
    for m in tried:
        try:
            calls = gemm_closures(dtype, m, N, K, n_copies(bytes_call))
            med, mn, reps = time_graph(calls)
            del calls
            w.row(dtype=dtype, tag=tag, M=m, N=N, K=K, M_req=M, s_median=f"{med:.6e}",
                  s_min=f"{mn:.6e}", reps=reps, TFLOPs=f"{2 * m * N * K / med / 1e12:.4g}",
                  GBps=f"{bytes_call * m / M / med / 1e9:.4g}", version=SCRIPT_VERSION)
            return
        except OutOfTime:
            raise
        except Exception as e:  # unsupported shape for this kernel: try the padded M
            last = e
            torch.cuda.synchronize()
    err.row(kind="gemm", what=f"{dtype} {tag} {M}x{N}x{K}", error=repr(last)[:300])


LLM_LAYERS = {  # (N, K) of each linear layer; fused QKV and gate+up as inference engines run them
    "7b": {"qkv": (12288, 4096), "o": (4096, 4096), "up": (22016, 4096), "down": (4096, 11008)},
    "70b": {"qkv": (10240, 8192), "o": (8192, 8192), "up": (57344, 8192), "down": (8192, 28672)},
}


def gemm_shapes(quick, dtypes=None):
    sq = [256, 512, 1024, 2048, 4096, 8192, 16384]
    ms = [1, 16, 64, 256, 1024, 4096, 8192]
    odd = [(1000, 1000, 1000), (4095, 4095, 4095), (4112, 4112, 4112), (4176, 4176, 4176),
           (3000, 5000, 2000), (8192, 1000, 8192), (777, 9999, 4096), (4096, 4096, 4104),
           (2048, 8192, 1552), (100, 4096, 4096)]
    nsweep = [(4096, n, 4096) for n in range(256, 8193, 256)]
    if quick:
        sq, ms, odd, nsweep = [1024, 4096], [1, 256], odd[:2], nsweep[::8]
    out = []
    for d in ["bf16", "fp8", "int8", "fp16", "tf32", "fp32"]:
        out += [(d, "square", s, s, s) for s in sq]
    for d in ["bf16", "fp8", "int8", "fp16", "tf32", "fp32"]:
        for model, layers in LLM_LAYERS.items():
            for lname, (n, k) in layers.items():
                out += [(d, f"llm{model}.{lname}", m, n, k) for m in ms]
    for d in ["bf16", "fp8", "int8", "fp16", "tf32", "fp32"]:
        out += [(d, "odd", *s) for s in odd]
    for d in ["bf16", "fp8"]:
        out += [(d, "nsweep", *s) for s in nsweep]
    return [x for x in out if dtypes is None or x[0] in dtypes]


# ----------------------------------------------------------------------------- attention, W4A16


def measure_attention(w, err, quick):
    bf = torch.bfloat16
    cases = []
    for kvh in (32, 8):
        for L in ([1024, 4096] if quick else [512, 1024, 2048, 4096, 8192, 16384]):
            cases.append(("prefill", 1, 32, kvh, L, L, 128))
        for B in ([1, 16] if quick else [1, 8, 32, 64]):
            for L in ([4096] if quick else [1024, 4096, 16384, 32768]):
                cases.append(("decode", B, 32, kvh, 1, L, 128))
    for phase, B, H, KVH, Lq, Lk, D in cases:
        what = f"{phase} B={B} H={H} KVH={KVH} Lq={Lq} Lk={Lk} D={D}"
        try:
            bytes_call = 2 * (B * H * Lq * D * 2) + 2 * (B * KVH * Lk * D * 2)
            if B * KVH * Lk * D * 2 * 2 * n_copies(bytes_call, 64) > 30e9:
                raise RuntimeError("too large")
            calls = []
            for _ in range(n_copies(bytes_call, 64)):
                q = torch.randn(B, H, Lq, D, device=DEV, dtype=bf)
                k = torch.randn(B, KVH, Lk, D, device=DEV, dtype=bf)
                v = torch.randn(B, KVH, Lk, D, device=DEV, dtype=bf)
                calls.append(lambda q=q, k=k, v=v: F.scaled_dot_product_attention(
                    q, k, v, is_causal=(phase == "prefill"), enable_gqa=(KVH != H)))
            med, mn, reps = time_graph(calls)
            del calls
            pairs = Lq * Lk - (Lq * (Lq - 1) // 2 if phase == "prefill" else 0)
            w.row(phase=phase, batch=B, heads=H, kv_heads=KVH, q_len=Lq, kv_len=Lk, head_dim=D,
                  dtype="bf16", s_median=f"{med:.6e}", s_min=f"{mn:.6e}", reps=reps,
                  TFLOPs=f"{4 * B * H * D * pairs / med / 1e12:.4g}",
                  GBps=f"{bytes_call / med / 1e9:.4g}", version=SCRIPT_VERSION)
        except OutOfTime:
            raise
        except Exception as e:
            err.row(kind="attention", what=what, error=repr(e)[:300])
            torch.cuda.synchronize()


def measure_w4a16(w, err, quick):
    ms = [1, 4, 16] if quick else [1, 2, 4, 8, 16, 32, 64]
    g = 128
    for model, layers in LLM_LAYERS.items():
        for lname, (N, K) in layers.items():
            for M in ms:
                what = f"w4a16 {model}.{lname} M={M} N={N} K={K}"
                try:
                    wbytes = N * K // 2 + (K // g) * N * 4
                    calls = []
                    for _ in range(n_copies(wbytes, 32)):
                        wq = torch.randint(0, 255, (N, K // 2), device=DEV, dtype=torch.uint8)
                        wp = torch._convert_weight_to_int4pack(wq, 8)
                        sz = torch.rand(K // g, N, 2, device=DEV, dtype=torch.bfloat16)
                        x = torch.randn(M, K, device=DEV, dtype=torch.bfloat16)
                        calls.append(lambda x=x, wp=wp, sz=sz: torch._weight_int4pack_mm(x, wp, g, sz))
                    med, mn, reps = time_graph(calls)
                    del calls
                    w.row(model=model, layer=lname, M=M, N=N, K=K, group=g, s_median=f"{med:.6e}",
                          s_min=f"{mn:.6e}", reps=reps, GBps=f"{wbytes / med / 1e9:.4g}",
                          version=SCRIPT_VERSION)
                except OutOfTime:
                    raise
                except Exception as e:
                    err.row(kind="w4a16", what=what, error=repr(e)[:300])
                    torch.cuda.synchronize()


def measure_bandwidth(w, err, quick):
    sizes = [2 ** i for i in range(0, 13)]  # MiB
    if quick:
        sizes = [1, 64, 1024]
    for mib in sizes:
        n = mib * 2 ** 20 // 4
        try:
            copies = n_copies(2 * mib * 2 ** 20, 64)
            src = [torch.empty(n, device=DEV, dtype=torch.float32).fill_(1.0) for _ in range(copies)]
            dst = [torch.empty_like(x) for x in src]
            med, mn, reps = time_graph([lambda s=s, d=d: d.copy_(s) for s, d in zip(src, dst)])
            w.row(op="copy", MiB=mib, s_median=f"{med:.6e}", s_min=f"{mn:.6e}",
                  GBps=f"{2 * mib * 2 ** 20 / med / 1e9:.4g}", version=SCRIPT_VERSION)
            med, mn, reps = time_graph([lambda s=s: s.sum() for s in src])
            w.row(op="read_sum", MiB=mib, s_median=f"{med:.6e}", s_min=f"{mn:.6e}",
                  GBps=f"{mib * 2 ** 20 / med / 1e9:.4g}", version=SCRIPT_VERSION)
            del src, dst
        except OutOfTime:
            raise
        except Exception as e:
            err.row(kind="bandwidth", what=f"{mib} MiB", error=repr(e)[:300])


# ----------------------------------------------------------------------------- memory-bound ops


def measure_memops(w, err, quick):
    """Elementwise, norm, softmax and embedding kernels (bf16) at LLM sizes."""
    bf = torch.bfloat16
    rows_list = [1, 16, 512, 4096] if quick else [1, 16, 128, 1024, 4096, 8192]
    cases = []
    for rows in rows_list:
        for cols in (4096, 11008):
            cases += [("add", rows, cols), ("silu_mul", rows, cols), ("gelu", rows, cols)]
        cases += [("layer_norm", rows, 4096), ("rms_norm", rows, 4096), ("embedding", rows, 4096)]
        cases.append(("softmax", rows * 32, 2048))
    for op, rows, cols in cases:
        try:
            n_in = {"add": 2, "silu_mul": 2}.get(op, 1)
            bytes_call = (n_in + 1) * rows * cols * 2
            calls = []
            for _ in range(n_copies(bytes_call, 128)):
                if op == "embedding":
                    table = torch.randn(32000, cols, device=DEV, dtype=bf)
                    idx = torch.randint(0, 32000, (rows,), device=DEV)
                    calls.append(lambda t=table, i=idx: F.embedding(i, t))
                    continue
                a = torch.randn(rows, cols, device=DEV, dtype=bf)
                b = torch.randn(rows, cols, device=DEV, dtype=bf)
                g = torch.ones(cols, device=DEV, dtype=bf)
                fn = {"add": lambda a=a, b=b: a + b,
                      "silu_mul": lambda a=a, b=b: F.silu(a) * b,
                      "gelu": lambda a=a: F.gelu(a),
                      "layer_norm": lambda a=a, g=g: F.layer_norm(a, (cols,), g, g),
                      "rms_norm": lambda a=a, g=g: F.rms_norm(a, (cols,), g),
                      "softmax": lambda a=a: torch.softmax(a, dim=-1)}[op]
                calls.append(fn)
            med, mn, reps = time_graph(calls)
            w.row(op=op, rows=rows, cols=cols, dtype="bf16", s_median=f"{med:.6e}",
                  s_min=f"{mn:.6e}", reps=reps, GBps=f"{bytes_call / med / 1e9:.4g}",
                  version=SCRIPT_VERSION)
            del calls
        except OutOfTime:
            raise
        except Exception as e:
            err.row(kind="memops", what=f"{op} {rows}x{cols}", error=repr(e)[:300])
            torch.cuda.synchronize()


# ----------------------------------------------------------------------------- energy (NVML)


def sustained_energy(w, h, label, calls, flops_per_call, bytes_per_call, seconds=2.0,
                     version=None):
    """One energy.csv row: ``calls`` replayed round-robin from a CUDA graph for ~``seconds``,
    energy from NVML's counter (handle ``h``), power and SM clock sampled every 20 ms."""
    import pynvml
    med, _, reps = time_graph(calls, target_s=0.02)
    g = capture(calls, reps)
    n_replays = max(1, int(seconds / (med * reps)))
    samples, stop = [], threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                samples.append((pynvml.nvmlDeviceGetPowerUsage(h) / 1e3,
                                pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM)))
            except Exception:
                pass
            time.sleep(0.02)

    th = threading.Thread(target=sampler)
    e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
    t0 = time.perf_counter()
    th.start()
    for _ in range(n_replays):
        g.replay()
    torch.cuda.synchronize()
    t = time.perf_counter() - t0
    e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
    stop.set()
    th.join()
    ncalls = n_replays * reps
    tail = samples[len(samples) // 4:] or samples  # after the first quarter: steady state
    w.row(label=label, calls=ncalls, seconds=f"{t:.4f}", s_per_call=f"{t / ncalls:.6e}",
          energy_j=f"{(e1 - e0) / 1e3:.4f}", j_per_call=f"{(e1 - e0) / 1e3 / ncalls:.6e}",
          mean_power_w=f"{(e1 - e0) / 1e3 / t:.2f}",
          sm_clock_mhz=f"{sum(c for _, c in tail) / max(1, len(tail)):.0f}",
          sampled_power_w=f"{sum(p for p, _ in tail) / max(1, len(tail)):.1f}",
          flops_per_call=flops_per_call, bytes_per_call=bytes_per_call,
          version=version or SCRIPT_VERSION)
    del g


def energy_of(run, step_s, nvml, seconds=0.6):
    """(J per call, mean W, SM MHz) as strings over ~``seconds`` of back-to-back ``run()`` calls
    (NVML energy counter; ``nvml`` = (pynvml, handle)); empty strings without NVML."""
    if nvml is None:
        return "", "", ""
    pynvml, h = nvml
    n = max(3, int(seconds / step_s))
    torch.cuda.synchronize()
    e0, t0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter()
    for _ in range(n):
        run()
    torch.cuda.synchronize()
    clk = pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM)
    e1, t = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter() - t0
    ej = (e1 - e0) / 1e3
    return f"{ej / n:.5e}", f"{ej / t:.1f}", clk


def measure_energy(w, err, quick):
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
    except Exception as e:
        err.row(kind="energy", what="nvml", error=repr(e)[:300])
        return

    def sustained(label, calls, flops_per_call, bytes_per_call, seconds=2.0):
        sustained_energy(w, h, label, calls, flops_per_call, bytes_per_call, seconds)

    # idle
    time.sleep(1.0)
    e0, t0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter()
    time.sleep(2.0)
    e1, t = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter() - t0
    w.row(label="idle", calls=0, seconds=f"{t:.4f}", energy_j=f"{(e1 - e0) / 1e3:.4f}",
          mean_power_w=f"{(e1 - e0) / 1e3 / t:.2f}",
          sm_clock_mhz=pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM), version=SCRIPT_VERSION)
    cases = [("bf16", 8192, 8192, 8192), ("fp8", 8192, 8192, 8192), ("int8", 8192, 8192, 8192),
             ("tf32", 8192, 8192, 8192), ("fp16", 4096, 4096, 4096), ("bf16", 16384, 16384, 16384),
             ("fp32", 4096, 4096, 4096), ("bf16", 16, 57344, 8192), ("bf16", 2048, 8192, 8192)]
    if quick:
        cases = cases[:2]
    cases = [c for c in cases if DTYPES[0] is None or c[0] in DTYPES[0]]
    for d, M, N, K in cases:
        try:
            bytes_call = (M * K + K * N) * ELT[d] + M * N * OUT_ELT[d]
            torch.backends.cuda.matmul.allow_tf32 = d == "tf32"  # (1.1 and earlier forgot this)
            calls = gemm_closures(d, M, N, K, n_copies(bytes_call, 16))
            sustained(f"gemm {d} {M}x{N}x{K}", calls, 2 * M * N * K, bytes_call)
            del calls
        except OutOfTime:
            raise
        except Exception as e:
            err.row(kind="energy", what=f"{d} {M}x{N}x{K}", error=repr(e)[:300])
    try:
        n = 2 ** 30 // 4
        src = [torch.ones(n, device=DEV) for _ in range(2)]
        dst = [torch.empty_like(x) for x in src]
        sustained("copy 1GiB", [lambda s=s, d=d: d.copy_(s) for s, d in zip(src, dst)], 0, 2 ** 31)
    except OutOfTime:
        raise
    except Exception as e:
        err.row(kind="energy", what="copy", error=repr(e)[:300])


# ----------------------------------------------------------------------------- main


def device_info():
    p = torch.cuda.get_device_properties(0)
    info = {"name": p.name, "sm_count": p.multi_processor_count, "total_mem": p.total_memory,
            "l2": getattr(p, "L2_cache_size", None), "cc": f"{p.major}.{p.minor}",
            "torch": torch.__version__, "cuda": torch.version.cuda, "script": SCRIPT_VERSION,
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        info.update({"driver": pynvml.nvmlSystemGetDriverVersion(),
                     "clocks.max.sm_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_SM),
                     "clocks.max.mem_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_MEM),
                     "power.limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1e3})
    except Exception as e:
        info["nvml_error"] = repr(e)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=540)
    ap.add_argument("--quick", action="store_true", help="a few shapes of each kind (smoke test)")
    ap.add_argument("--only", default="bandwidth,gemm,attention,w4a16,memops,energy",
                    help="comma-separated parts, in the order to run them")
    ap.add_argument("--dtypes", help="comma-separated GEMM dtypes to measure (default: all)")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("measure.py needs a CUDA GPU and PyTorch built with CUDA")
    global L2
    os.makedirs(a.out, exist_ok=True)
    info = device_info()
    L2 = info.get("l2") or L2
    json.dump(info, open(os.path.join(a.out, "device.json"), "w"), indent=1)
    torch.backends.cuda.matmul.allow_tf32 = False
    DEADLINE[0] = time.time() + a.budget_s
    DTYPES[0] = a.dtypes.split(",") if a.dtypes else None
    err = Writer(os.path.join(a.out, "errors.csv"), ["kind", "what", "error"])
    cols = {
        "bandwidth": ["op", "MiB", "s_median", "s_min", "GBps", "version"],
        "gemm": ["dtype", "tag", "M", "N", "K", "M_req", "s_median", "s_min", "reps", "TFLOPs",
                 "GBps", "version"],
        "attention": ["phase", "batch", "heads", "kv_heads", "q_len", "kv_len", "head_dim", "dtype",
                      "s_median", "s_min", "reps", "TFLOPs", "GBps", "version"],
        "w4a16": ["model", "layer", "M", "N", "K", "group", "s_median", "s_min", "reps", "GBps",
                  "version"],
        "memops": ["op", "rows", "cols", "dtype", "s_median", "s_min", "reps", "GBps", "version"],
        "energy": ["label", "calls", "seconds", "s_per_call", "energy_j", "j_per_call",
                   "mean_power_w", "sampled_power_w", "sm_clock_mhz", "flops_per_call",
                   "bytes_per_call", "version"],
    }
    t_start = time.time()
    for part in a.only.split(","):
        w = Writer(os.path.join(a.out, f"{part}.csv"), cols[part])
        t0 = time.time()
        try:
            if part == "gemm":
                for d, tag, M, N, K in gemm_shapes(a.quick, DTYPES[0]):
                    torch.backends.cuda.matmul.allow_tf32 = d == "tf32"
                    measure_gemm(w, err, d, tag, M, N, K)
                    torch.cuda.empty_cache()
                torch.backends.cuda.matmul.allow_tf32 = False
            else:
                {"attention": measure_attention, "w4a16": measure_w4a16, "memops": measure_memops,
                 "bandwidth": measure_bandwidth, "energy": measure_energy}[part](w, err, a.quick)
        except OutOfTime:
            err.row(kind=part, what="budget", error=f"stopped: --budget-s {a.budget_s} reached")
            print(f"{part}: out of time budget", flush=True)
        except Exception:
            err.row(kind=part, what="crash", error=traceback.format_exc()[-500:])
        torch.cuda.empty_cache()
        print(f"{part}: {w.n} rows in {time.time() - t0:.1f} s", flush=True)
    print(f"total {time.time() - t_start:.1f} s; errors: {err.n}", flush=True)


if __name__ == "__main__":
    main()
