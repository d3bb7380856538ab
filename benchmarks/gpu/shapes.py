#!/usr/bin/env python3
"""Measure the GPU kernels behind issue #22's items 4 and 5, with measure.py's timing method.

    python benchmarks/gpu/shapes.py --out DIR [--only simt,int8odd,shard,gqa,prefill,decode] [--budget-s 540]

Parts (each writes its CSV row by row, so a crash or the budget keeps what was done):

- ``simt``    fp32 GEMMs (TF32 off: the SIMT path) at small M (1..192) over six (N, K) pairs
              -> ``gemm.csv`` tags ``simt.<N>x<K>``
- ``int8odd`` int8 GEMMs (``torch._int_mm``, TN layout) on shapes whose N or K is not a multiple of
              64 (a seeded log-uniform draw, plus an N sweep around 1000) -> ``gemm.csv`` tags
              ``int8odd.draw`` / ``int8odd.nsweep``
- ``shard``   Llama-2-70B layer GEMMs as one tensor-parallel rank runs them (QKV and gate|up split
              along N, O and down along K) at TP = 1, 2, 4, 8, fp8 (``_scaled_mm``) and bf16, at
              decode and prefill M -> ``gemm.csv`` tags ``tp<T>.<layer>``
- ``gqa``     decode attention of a 70B rank (64/TP query heads, 8/TP KV heads, head_dim 128):
              FlashAttention with native GQA (each KV head read once) against the same attention
              with K/V materialised per query head (each KV head read once per query head: what a
              kernel without GQA support reads) -> ``attention.csv``
- ``prefill`` a whole Llama layer's prefill, eager kernels in one CUDA graph: RMSNorm, fused QKV,
              RoPE-free causal FlashAttention (bf16), O, residual, RMSNorm, gate|up, SiLU*mul, down,
              residual; ``fp8`` quantizes each GEMM input with a static per-tensor scale (one
              multiply + cast kernel, as an FP8 engine with calibrated scales) and runs
              ``_scaled_mm``; ``bf16`` runs ``torch.matmul``. 7B at TP 1 and 70B at TP 2/4/8, one
              sequence of 128..4096 tokens; ``layers`` distinct layers are chained so weights come
              from HBM -> ``prefill.csv`` (seconds per layer)
- ``decode``  the same layers as decode steps: batch 16 / 64 sequences, one token each, over a
              bf16 KV cache of 2048 tokens (FlashAttention with native GQA; the new token's K/V
              is not written) -> ``decode_shapes.csv`` (seconds per layer)

Nothing here needs hwsim. Re-uses ``measure.py`` (same folder) for timing and writers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure as M  # noqa: E402  (timing core, writers, device info)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SCRIPT_VERSION = "gpu-shapes 1.1"  # 1.1: the decode part (other parts unchanged)
DEV = "cuda"
BF = torch.bfloat16
E4M3 = torch.float8_e4m3fn

SIMT_M = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192]
SIMT_NK = [(4096, 4096), (11008, 4096), (4096, 11008), (2048, 2048), (14336, 4096), (6144, 1536)]
SHARD_M = [1, 16, 64, 128, 256, 512, 1024, 2048, 4096]
LAYER_70B = {"qkv": (10240, 8192, "n"), "o": (8192, 8192, "k"), "up": (57344, 8192, "n"),
             "down": (8192, 28672, "k")}
# (hidden, intermediate, heads, kv_heads) from the HF config.json of each model
MODELS = {"7b": (4096, 11008, 32, 32), "70b": (8192, 28672, 64, 8)}


def int8_odd_shapes(n=36, seed=22):
    """Seeded log-uniform (M, N, K), each a multiple of 8 (the kernel's requirement), drawn until
    N or K is not a multiple of 64; plus an N sweep around 1000 at M = K = 8192."""
    g = torch.Generator().manual_seed(seed)
    out = []
    while len(out) < n:
        m, nn, k = (8 * max(4, int(round(2 ** (float(torch.rand(1, generator=g)) * (hi - lo) + lo)
                                          / 8))) for lo, hi in ((5, 13), (8, 14), (8, 14)))
        if nn % 64 or k % 64:
            out.append(("int8odd.draw", m, nn, k))
    out += [("int8odd.nsweep", 8192, n_, 8192) for n_ in (968, 1000, 1024, 1032, 1064, 1536, 2000,
                                                        3000)]
    return out


def shard_shapes():
    out = []
    for tp in (1, 2, 4, 8):
        for lname, (n, k, split) in LAYER_70B.items():
            nn, kk = (n // tp, k) if split == "n" else (n, k // tp)
            out += [(f"tp{tp}.{lname}", m, nn, kk) for m in SHARD_M]
    return out


def run_gemms(w, err, a):
    parts = a.only.split(",")
    todo = []
    if "simt" in parts:
        todo += [("fp32", f"simt.{n}x{k}", m, n, k) for n, k in SIMT_NK for m in SIMT_M]
    if "int8odd" in parts:
        todo += [("int8", tag, m, n, k) for tag, m, n, k in int8_odd_shapes()]
    if "shard" in parts:
        todo += [(d, tag, m, n, k) for d in ("fp8", "bf16") for tag, m, n, k in shard_shapes()]
    torch.backends.cuda.matmul.allow_tf32 = False
    for d, tag, m, n, k in todo:
        M.measure_gemm(w, err, d, tag, m, n, k)
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- decode attention


def measure_gqa(w, err, a):
    for tp in (1, 2, 4, 8):
        h, kvh = 64 // tp, 8 // tp
        for batch in (1, 16, 64, 128):
            for kv_len in (512, 2048, 4096):
                for layout in ("gqa", "per_query_head"):
                    what = f"tp{tp} B={batch} L={kv_len} {layout}"
                    try:
                        kh = kvh if layout == "gqa" else h
                        kv_bytes = 2 * batch * kh * kv_len * 128 * 2
                        copies = M.n_copies(kv_bytes, 16)
                        if kv_bytes * copies > 40e9:
                            raise RuntimeError("too large")
                        calls = []
                        for _ in range(copies):
                            q = torch.randn(batch, h, 1, 128, device=DEV, dtype=BF)
                            k = torch.randn(batch, kh, kv_len, 128, device=DEV, dtype=BF)
                            v = torch.randn(batch, kh, kv_len, 128, device=DEV, dtype=BF)
                            calls.append(lambda q=q, k=k, v=v, g=(kh != h):
                                         F.scaled_dot_product_attention(q, k, v, enable_gqa=g))
                        med, mn, reps = M.time_graph(calls)
                        del calls
                        w.row(tp=tp, batch=batch, heads=h, kv_heads=kvh, kv_len=kv_len,
                              layout=layout, kv_bytes_read=kv_bytes, s_median=f"{med:.6e}",
                              s_min=f"{mn:.6e}", reps=reps, GBps=f"{kv_bytes / med / 1e9:.4g}",
                              version=SCRIPT_VERSION)
                    except M.OutOfTime:
                        raise
                    except Exception as e:
                        err.row(kind="gqa", what=what, error=repr(e)[:300])
                        torch.cuda.synchronize()
                    torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- prefill layer


def rms_norm(x, wt):
    v = x.float().pow(2).mean(-1, keepdim=True)
    return (x.float() * torch.rsqrt(v + 1e-5)).to(x.dtype) * wt


def make_layer(model, tp, dtype):
    hid, inter, h, kvh = MODELS[model]
    hq, hk, it = h // tp, max(1, kvh // tp), inter // tp
    shapes = {"qkv": ((hq + 2 * hk) * 128, hid), "o": (hid, hq * 128), "up": (2 * it, hid),
              "down": (hid, it)}
    wd = E4M3 if dtype == "fp8" else BF
    ws = {n: (torch.randn(nn, kk, device=DEV) * 0.02).to(wd) for n, (nn, kk) in shapes.items()}
    ws["norm1"] = torch.ones(hid, device=DEV, dtype=BF)
    ws["norm2"] = torch.ones(hid, device=DEV, dtype=BF)
    return ws, (hq, hk, it)


def linear(x, wt, dtype, one):
    if dtype == "bf16":
        return x @ wt.t()
    xq = x.mul(0.5).to(E4M3)  # static per-tensor scale: one multiply + cast
    return torch._scaled_mm(xq, wt.t(), scale_a=one, scale_b=one, out_dtype=BF)


def layer_forward(x, ws, dims, dtype, one, cache=None):
    """One decoder layer over the rows of ``x``: a prefill of one sequence (``cache`` None:
    causal attention over its own keys), or one decode token per row attending to that row's
    KV cache ``(k, v)`` of shape (rows, kv_heads, kv_len, 128) (the new token's K/V not written)."""
    hq, hk, it = dims
    t = x.shape[0]
    qkv = linear(rms_norm(x, ws["norm1"]), ws["qkv"], dtype, one)
    q, k, v = qkv.split([hq * 128, hk * 128, hk * 128], dim=-1)
    if cache is None:
        q = q.view(1, t, hq, 128).transpose(1, 2)
        k = k.view(1, t, hk, 128).transpose(1, 2)
        v = v.view(1, t, hk, 128).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=hk != hq)
        o = o.transpose(1, 2).reshape(t, hq * 128)
    else:
        o = F.scaled_dot_product_attention(q.reshape(t, hq, 1, 128), *cache,
                                           enable_gqa=hk != hq).reshape(t, hq * 128)
    x = x + linear(o, ws["o"], dtype, one)
    gu = linear(rms_norm(x, ws["norm2"]), ws["up"], dtype, one)
    g, u = gu.split([it, it], dim=-1)
    return x + linear(F.silu(g) * u, ws["down"], dtype, one)


def measure_decode(w, err, a):
    """Decode steps: ``batch`` sequences, one new token each, over a bf16 KV cache of
    ``kv_len`` tokens; 4 distinct layers (weights and caches) chained in one CUDA graph."""
    one = torch.tensor(1.0, device=DEV)
    for model, tp in [("7b", 1)] + [("70b", t) for t in (2, 4, 8)]:
        for dtype in ("fp8", "bf16"):
            for batch in (16, 64):
                layers = None
                try:
                    kv_len, n_layers = 2048, 4
                    layers = [make_layer(model, tp, dtype) for _ in range(n_layers)]
                    hk = layers[0][1][1]
                    caches = [tuple(torch.randn(batch, hk, kv_len, 128, device=DEV, dtype=BF)
                                    for _ in range(2)) for _ in range(n_layers)]
                    x = torch.randn(batch, MODELS[model][0], device=DEV, dtype=BF) * 0.1

                    def step(x=x, caches=caches):
                        y = x
                        for (ws, dims), c in zip(layers, caches):
                            y = layer_forward(y, ws, dims, dtype, one, c)
                        return y
                    med, mn, reps = M.time_graph([step], target_s=0.01, max_reps=400)
                    w.row(model=model, tp=tp, dtype=dtype, batch=batch, kv_len=kv_len,
                          layers=n_layers, s_per_layer=f"{med / n_layers:.6e}",
                          s_min_per_layer=f"{mn / n_layers:.6e}", reps=reps,
                          version=SCRIPT_VERSION)
                    del caches
                except M.OutOfTime:
                    raise
                except Exception as e:
                    err.row(kind="decode", what=f"{model} tp{tp} {dtype} b{batch}",
                            error=repr(e)[:300])
                    torch.cuda.synchronize()
                del layers
                torch.cuda.empty_cache()


def measure_prefill(w, err, a):
    one = torch.tensor(1.0, device=DEV)
    cases = [("7b", 1)] + [("70b", tp) for tp in (2, 4, 8)]
    for model, tp in cases:
        for dtype in ("fp8", "bf16"):
            layers = None
            try:
                n_layers = 4
                layers = [make_layer(model, tp, dtype) for _ in range(n_layers)]
                for tokens in (128, 512, 2048, 4096):
                    x = torch.randn(tokens, MODELS[model][0], device=DEV, dtype=BF) * 0.1

                    def step(x=x):
                        y = x
                        for ws, dims in layers:
                            y = layer_forward(y, ws, dims, dtype, one)
                        return y
                    med, mn, reps = M.time_graph([step], target_s=0.02, max_reps=200)
                    w.row(model=model, tp=tp, dtype=dtype, tokens=tokens, layers=n_layers,
                          s_per_layer=f"{med / n_layers:.6e}", s_min_per_layer=f"{mn / n_layers:.6e}",
                          reps=reps, version=SCRIPT_VERSION)
            except M.OutOfTime:
                raise
            except Exception as e:
                err.row(kind="prefill", what=f"{model} tp{tp} {dtype}", error=repr(e)[:300])
                torch.cuda.synchronize()
            del layers
            torch.cuda.empty_cache()


COLS = {
    "gemm": ["dtype", "tag", "M", "N", "K", "M_req", "s_median", "s_min", "reps", "TFLOPs", "GBps",
             "version"],
    "attention": ["tp", "batch", "heads", "kv_heads", "kv_len", "layout", "kv_bytes_read",
                  "s_median", "s_min", "reps", "GBps", "version"],
    "prefill": ["model", "tp", "dtype", "tokens", "layers", "s_per_layer", "s_min_per_layer",
                "reps", "version"],
    "decode": ["model", "tp", "dtype", "batch", "kv_len", "layers", "s_per_layer",
               "s_min_per_layer", "reps", "version"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=540)
    ap.add_argument("--only", default="simt,int8odd,shard,gqa,prefill,decode")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("shapes.py needs a CUDA GPU and PyTorch built with CUDA")
    os.makedirs(a.out, exist_ok=True)
    M.SCRIPT_VERSION = SCRIPT_VERSION  # rows written by measure.py helpers carry this version
    info = M.device_info()
    info["script"] = SCRIPT_VERSION
    M.L2 = info.get("l2") or M.L2
    json.dump(info, open(os.path.join(a.out, "device_shapes.json"), "w"), indent=1)
    M.DEADLINE[0] = time.time() + a.budget_s
    err = M.Writer(os.path.join(a.out, "errors_shapes.csv"), ["kind", "what", "error"])
    parts = a.only.split(",")
    jobs = [("gemm", run_gemms, {"simt", "int8odd", "shard"}), ("attention", measure_gqa, {"gqa"}),
            ("prefill", measure_prefill, {"prefill"}), ("decode", measure_decode, {"decode"})]
    for name, fn, keys in jobs:
        if not keys & set(parts):
            continue
        w = M.Writer(os.path.join(a.out, f"{name}_shapes.csv"), COLS[name])
        t0 = time.time()
        try:
            fn(w, err, a)
        except M.OutOfTime:
            err.row(kind=name, what="budget", error=f"stopped: --budget-s {a.budget_s} reached")
        except Exception:
            err.row(kind=name, what="crash", error=traceback.format_exc()[-500:])
        print(f"{name}: {w.n} rows in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
