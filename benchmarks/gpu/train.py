#!/usr/bin/env python3
"""Measure whole training steps (forward, backward, optimizer) on a GPU, for fitting and checking
hwsim's training-step model (``phase="train"``, :mod:`hwsim.workload.training`).

    python benchmarks/gpu/train.py --out DIR [--only llm|vision] [--budget-s 500]

Every step (forward, loss, backward, optimizer update) is captured as ONE CUDA graph and replayed;
the reported time is the median of ``TRIALS`` trials (each a few replays timed with CUDA events)
after warm-up. Models are built here, random weights, no download:

- Llama-style decoders shaped as Llama-2-7B (MHA), Llama-3-8B (GQA 8 KV heads, 128k vocabulary)
  and TinyLlama-1.1B (GQA 4 KV heads), 1..4 layers, with the HF eager layer (fused QKV and
  gate|up projections as hwsim's graph has them, HF RMSNorm in fp32, rotate-half RoPE, SDPA causal
  (FlashAttention), residual adds), final norm, LM head over every token, fp32 cross-entropy;
  AdamW (``fused=True``, ``capturable=True``); bf16 parameters (``mode=bf16``) or fp32 master
  parameters under bf16 autocast (``mode=amp``).
- torchvision ResNet-18/34/50/101, MobileNetV2, ViT-B/16, ViT-L/16 in train mode (batch-norm
  batch statistics), channels-last, cuDNN autotuned, cross-entropy, SGD (no momentum,
  ``fused=True`` where available); bf16 parameters or amp as above.

Writes ``train.csv`` (model, family, layers, batch, seq, mode, optimizer, fwd_s (forward only, no
grad, train mode, same graph method), step_s, step_min_s, energy_j_per_step, mean_power_w,
sm_clock_mhz, version), ``kernels_train.csv`` (every kernel of one eager step of one config per
model: model, config, kernel, us), ``device.json``, ``errors.csv``.
Nothing here needs hwsim.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure as M  # noqa: E402  (NVML energy helper)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SCRIPT_VERSION = "gpu-train 1.0"
TRIALS = 9

# name: hidden, intermediate, heads, kv_heads, vocab (HF config.json values)
LLMS = {"llama-2-7b": (4096, 11008, 32, 32, 32000),
        "llama-3-8b": (4096, 14336, 32, 8, 128256),
        "tinyllama-1.1b": (2048, 5632, 32, 4, 32000)}
# (model, layers, batch, seq, mode)
LLM_CASES = [("llama-2-7b", 2, 1, 2048, "bf16"), ("llama-2-7b", 2, 1, 4096, "bf16"),
             ("llama-2-7b", 2, 1, 8192, "bf16"), ("llama-2-7b", 2, 4, 2048, "bf16"),
             ("llama-2-7b", 1, 2, 4096, "amp"),
             ("llama-3-8b", 1, 1, 2048, "bf16"), ("llama-3-8b", 1, 1, 4096, "bf16"),
             ("llama-3-8b", 1, 1, 8192, "bf16"), ("llama-3-8b", 2, 2, 2048, "bf16"),
             ("llama-3-8b", 2, 1, 4096, "amp"),
             ("tinyllama-1.1b", 2, 1, 2048, "bf16"), ("tinyllama-1.1b", 2, 1, 8192, "bf16"),
             ("tinyllama-1.1b", 4, 2, 4096, "bf16"), ("tinyllama-1.1b", 4, 4, 2048, "bf16"),
             ("tinyllama-1.1b", 4, 1, 4096, "amp")]
VISION_CASES = [("resnet18", 32, "bf16"), ("resnet18", 128, "bf16"), ("resnet18", 256, "bf16"),
                ("resnet34", 64, "bf16"), ("resnet34", 128, "bf16"),
                ("resnet50", 32, "bf16"), ("resnet50", 64, "bf16"), ("resnet50", 128, "bf16"),
                ("resnet50", 64, "amp"),
                ("resnet101", 64, "bf16"),
                ("mobilenetv2", 32, "bf16"), ("mobilenetv2", 64, "bf16"),
                ("mobilenetv2", 128, "bf16"), ("mobilenetv2", 256, "bf16"),
                ("mobilenetv2", 64, "amp"),
                ("vit-b16", 32, "bf16"), ("vit-b16", 64, "bf16"), ("vit-b16", 128, "bf16"),
                ("vit-l16", 32, "bf16")]
PROFILE = {("llama-2-7b", 2, 1, 4096, "bf16"), ("llama-3-8b", 1, 1, 4096, "bf16"),
           ("tinyllama-1.1b", 2, 1, 2048, "bf16"), ("resnet50", 64, "bf16"),
           ("mobilenetv2", 64, "bf16"), ("vit-b16", 64, "bf16"), ("resnet18", 128, "bf16")}


# ----------------------------------------------------------------------------- Llama block

class RMSNorm(nn.Module):
    """HF LlamaRMSNorm: fp32 variance, cast back, scale."""

    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        dt = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-5)
        return self.weight * h.to(dt)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self, d, ff, h, kvh):
        super().__init__()
        self.h, self.kvh, self.hd = h, kvh, d // h
        self.attn_norm, self.mlp_norm = RMSNorm(d), RMSNorm(d)
        self.qkv = nn.Linear(d, (h + 2 * kvh) * self.hd, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate_up = nn.Linear(d, 2 * ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin):
        B, T, d = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).split(
            [self.h * self.hd, self.kvh * self.hd, self.kvh * self.hd], dim=-1)
        q = q.view(B, T, self.h, self.hd).transpose(1, 2)
        k = k.view(B, T, self.kvh, self.hd).transpose(1, 2)
        v = v.view(B, T, self.kvh, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           enable_gqa=self.kvh != self.h)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, d))
        g, u = self.gate_up(self.mlp_norm(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(g) * u)


class Decoder(nn.Module):
    def __init__(self, d, ff, h, kvh, vocab, layers, seq):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, ff, h, kvh) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        hd = d // h
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(seq).float(), inv)
        emb = torch.cat((f, f), dim=-1)
        self.register_buffer("cos", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin", emb.sin()[None, None], persistent=False)

    def forward(self, ids):
        x = self.embed(ids)
        cos, sin = self.cos.to(x.dtype), self.sin.to(x.dtype)
        for blk in self.layers:
            x = blk(x, cos, sin)
        return self.lm_head(self.norm(x))


# ----------------------------------------------------------------------------- timing

def graph_of(fn):
    """Warm ``fn`` up on a side stream, then capture it as one CUDA graph."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return g


def time_graph(g):
    """(median, min) seconds per replay; each trial replays enough for ~20 ms."""
    for _ in range(2):
        g.replay()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    g.replay()
    torch.cuda.synchronize()
    inner = max(1, min(20, int(0.02 / max(time.perf_counter() - t0, 1e-6))))
    ts = []
    for _ in range(TRIALS):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(inner):
            g.replay()
        e1.record()
        e1.synchronize()
        ts.append(e0.elapsed_time(e1) / 1e3 / inner)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


# ----------------------------------------------------------------------------- steps

def make_llm(name, layers, batch, seq, mode):
    d, ff, h, kvh, vocab = LLMS[name]
    pdt = torch.bfloat16 if mode == "bf16" else torch.float32
    m = Decoder(d, ff, h, kvh, vocab, layers, seq).cuda().to(pdt)
    for p in m.parameters():
        nn.init.normal_(p, std=0.02) if p.dim() > 1 else None
    ids = torch.randint(0, vocab, (batch, seq), device="cuda")
    tgt = torch.randint(0, vocab, (batch, seq), device="cuda")
    opt = torch.optim.AdamW(m.parameters(), lr=1e-5, fused=True, capturable=True)

    def loss_fn():
        with torch.autocast("cuda", torch.bfloat16, enabled=mode == "amp", cache_enabled=False):
            logits = m(ids)
        return F.cross_entropy(logits.float().view(-1, vocab), tgt.view(-1))
    return m, loss_fn, opt, "adamw"


def make_vision(name, batch, mode, fused=True):
    import torchvision.models as tvm
    ctor = {"resnet18": tvm.resnet18, "resnet34": tvm.resnet34, "resnet50": tvm.resnet50,
            "resnet101": tvm.resnet101, "mobilenetv2": tvm.mobilenet_v2,
            "vit-b16": tvm.vit_b_16, "vit-l16": tvm.vit_l_16}[name]
    pdt = torch.bfloat16 if mode == "bf16" else torch.float32
    m = ctor().cuda().to(pdt).to(memory_format=torch.channels_last).train()
    x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=pdt).to(
        memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device="cuda")
    if fused:
        opt, oname = torch.optim.SGD(m.parameters(), lr=1e-3, fused=True), "sgd_fused"
    else:
        opt, oname = torch.optim.SGD(m.parameters(), lr=1e-3, foreach=True), "sgd_foreach"

    def loss_fn():
        with torch.autocast("cuda", torch.bfloat16, enabled=mode == "amp", cache_enabled=False):
            out = m(x)
        return F.cross_entropy(out.float(), y)
    return m, loss_fn, opt, oname


def measure(make, nvml, profile_to=None, label=""):
    m, loss_fn, opt, oname = make()

    def step():
        # set_to_none: during capture backward allocates the gradients from the graph's pool and
        # every replay overwrites them (no accumulation kernels), as PyTorch's whole-network
        # capture recipe does
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()

    def fwd():
        with torch.no_grad():
            loss_fn()
    gf = graph_of(fwd)
    fwd_s, _ = time_graph(gf)
    del gf
    g = graph_of(step)
    step_s, step_min = time_graph(g)
    ej, pw, clk = M.energy_of(g.replay, step_s, nvml)
    if profile_to is not None:
        from torch.profiler import ProfilerActivity, profile
        step()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            step()
            torch.cuda.synchronize()
        for ev in prof.events():
            if ev.device_type.name == "CUDA" and ev.device_time > 0:
                profile_to.writerow([label, ev.name[:150], f"{ev.device_time:.3f}"])
    del g, m, opt
    torch.cuda.empty_cache()
    return oname, fwd_s, step_s, step_min, ej, pw, clk


def device_info():
    p = torch.cuda.get_device_properties(0)
    info = {"name": p.name, "sm_count": p.multi_processor_count, "total_mem": p.total_memory,
            "l2": getattr(p, "L2_cache_size", None), "cc": f"{p.major}.{p.minor}",
            "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "script": SCRIPT_VERSION,
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        info.update({"driver": pynvml.nvmlSystemGetDriverVersion(),
                     "clocks.max.sm_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_SM),
                     "clocks.max.mem_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_MEM),
                     "power.limit_w": pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1e3})
        return info, (pynvml, h)
    except Exception as e:
        info["nvml_error"] = repr(e)
        return info, None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", choices=["llm", "vision"], default=None)
    ap.add_argument("--budget-s", type=float, default=520)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    deadline = time.time() + a.budget_s
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    info, nvml = device_info()
    json.dump(info, open(os.path.join(a.out, "device.json"), "w"), indent=1)
    cases = []
    if a.only != "vision":
        cases += [("llm", c) for c in LLM_CASES]
    if a.only != "llm":
        cases += [("vision", c) for c in VISION_CASES]
    cols = ["model", "family", "layers", "batch", "seq", "mode", "optimizer", "fwd_s", "step_s",
            "step_min_s", "energy_j_per_step", "mean_power_w", "sm_clock_mhz", "version"]
    with open(os.path.join(a.out, "train.csv"), "w", newline="") as f, \
            open(os.path.join(a.out, "kernels_train.csv"), "w", newline="") as kf, \
            open(os.path.join(a.out, "errors.csv"), "w", newline="") as ef:
        w, kw, ew = csv.writer(f), csv.writer(kf), csv.writer(ef)
        w.writerow(cols)
        kw.writerow(["config", "kernel", "us"])
        ew.writerow(["config", "error"])
        for fam, c in cases:
            if time.time() > deadline:
                ew.writerow([str(c), "out of time"])
                continue
            if fam == "llm":
                name, layers, batch, seq, mode = c
                make = lambda c=c: make_llm(*c)
            else:
                (name, batch, mode), layers, seq = c, "", ""
                make = lambda c=c: make_vision(*c)
            key = c
            label = "/".join(str(x) for x in c)
            try:
                try:
                    oname, fwd_s, step_s, step_min, ej, pw, clk = measure(
                        make, nvml, kw if key in PROFILE else None, label)
                except Exception as e:
                    if fam != "vision":
                        raise
                    ew.writerow([label, "fused SGD: " + repr(e)[:300]])
                    torch.cuda.empty_cache()
                    oname, fwd_s, step_s, step_min, ej, pw, clk = measure(
                        lambda c=c: make_vision(*c, fused=False), nvml,
                        kw if key in PROFILE else None, label)
                w.writerow([name, fam, layers, batch, seq, mode, oname, f"{fwd_s:.6e}",
                            f"{step_s:.6e}", f"{step_min:.6e}", ej, pw, clk, SCRIPT_VERSION])
                f.flush()
                kf.flush()
                print(f"{label:32s} fwd {fwd_s * 1e3:8.3f} ms  step {step_s * 1e3:8.3f} ms  "
                      f"x{step_s / fwd_s:4.2f}  {pw} W {clk} MHz", flush=True)
            except Exception as e:
                ew.writerow([label, repr(e)[:400]])
                ef.flush()
                print(f"{label}: FAILED {e!r}"[:300], flush=True)
                traceback.print_exc()
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
