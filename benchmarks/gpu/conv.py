#!/usr/bin/env python3
"""Measure convolutions and whole vision networks (torchvision) on a GPU, for fitting and checking
hwsim's GPU convolution model.

    python benchmarks/gpu/conv.py --out DIR [--batches 1,8,32,128,256] [--dtypes fp16,bf16]

Eval mode, channels-last, cuDNN autotuning on (``torch.backends.cudnn.benchmark``), every timed
thing captured in a CUDA graph and replayed (kernel time, no Python overhead). Writes:

- ``conv.csv``: every distinct convolution of ResNet-18/50, MobileNetV2 and ViT-B/16 at each batch,
  timed alone (one row per shape: N, C, H, W, K, R, S, stride, padding, groups, dtype, s).
- ``networks.csv``: whole forward passes (model, batch, dtype, s_per_pass, images_per_s), the
  torchvision eager graph (conv, batch-norm, ReLU, residual add as separate kernels, as hwsim's
  CNN builders emit them).
- ``kernels_<model>_b<B>.csv``: every kernel of one fp16 forward pass at batch 32 (name, us).

Each row carries the script version. Nothing here needs hwsim; copy the script to your own GPU.
"""

from __future__ import annotations

import argparse
import csv
import os

import torch
import torch.nn as nn
import torchvision.models as tvm

SCRIPT_VERSION = "conv 1.0"
MODELS = {"resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "mobilenetv2": tvm.mobilenet_v2,
          "vit-b16": tvm.vit_b_16}
DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def graph_time(fn, reps: int = 10, inner: int = 10) -> float:
    """Median seconds of one ``fn()`` replayed from a CUDA graph."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    for _ in range(3):
        g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(inner):
            g.replay()
        e1.record()
        e1.synchronize()
        times.append(e0.elapsed_time(e1) / 1e3 / inner)
    times.sort()
    del g
    return times[len(times) // 2]


def conv_shapes(name: str) -> list[tuple]:
    """(C, H, W, K, R, S, stride, padding, groups) of every Conv2d in a torchvision model at batch 1."""
    m = MODELS[name]().eval()
    out = []

    def hook(mod, inp, _):
        _, c, h, w = inp[0].shape
        out.append((c, h, w, mod.out_channels, *mod.kernel_size, mod.stride[0], mod.padding[0],
                    mod.groups))
    hs = [mod.register_forward_hook(hook) for mod in m.modules() if isinstance(mod, nn.Conv2d)]
    with torch.no_grad():
        m(torch.zeros(1, 3, 224, 224))
    for h in hs:
        h.remove()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", default="1,8,32,128,256")
    ap.add_argument("--dtypes", default="fp16,bf16")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--skip-layers", action="store_true", help="whole networks only")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    batches = [int(b) for b in a.batches.split(",")]
    models = a.models.split(",")

    shapes = sorted({s for m in models for s in conv_shapes(m)})
    if not a.skip_layers:
        with open(os.path.join(a.out, "conv.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["N", "C", "H", "W", "K", "R", "S", "stride", "padding", "groups", "dtype",
                        "s", "version"])
            for dname in a.dtypes.split(","):
                dt = DTYPES[dname]
                for B in batches:
                    for (c, h, wd, k, r, s_, st, pad, g) in shapes:
                        try:
                            conv = nn.Conv2d(c, k, (r, s_), st, pad, groups=g, bias=False).cuda()
                            conv = conv.to(dt).to(memory_format=torch.channels_last)
                            x = torch.randn(B, c, h, wd, device="cuda", dtype=dt).to(
                                memory_format=torch.channels_last)
                            with torch.no_grad():
                                t = graph_time(lambda: conv(x))
                            w.writerow([B, c, h, wd, k, r, s_, st, pad, g, dname, f"{t:.6e}",
                                        SCRIPT_VERSION])
                        except Exception as e:  # keep the other shapes
                            print(f"conv {B},{c},{h},{k},{r}x{s_}/{st} g{g} {dname}: {e!r}"[:300])
                        torch.cuda.empty_cache()
                    f.flush()
                    print(f"layers {dname} B={B}: {len(shapes)} shapes", flush=True)

    with open(os.path.join(a.out, "networks.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "batch", "dtype", "s_per_pass", "images_per_s", "version"])
        for dname in a.dtypes.split(","):
            dt = DTYPES[dname]
            for name in models:
                m = MODELS[name]().eval().cuda().to(dt).to(memory_format=torch.channels_last)
                for B in batches:
                    try:
                        x = torch.randn(B, 3, 224, 224, device="cuda", dtype=dt).to(
                            memory_format=torch.channels_last)
                        with torch.no_grad():
                            t = graph_time(lambda: m(x), reps=7, inner=5)
                            if dname == "fp16" and B == 32:
                                from torch.profiler import ProfilerActivity, profile
                                m(x)
                                torch.cuda.synchronize()
                                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                                    m(x)
                                    torch.cuda.synchronize()
                                with open(os.path.join(a.out, f"kernels_{name}_b{B}.csv"), "w",
                                          newline="") as kf:
                                    kw = csv.writer(kf)
                                    kw.writerow(["kernel", "us"])
                                    for ev in prof.events():
                                        if ev.device_type.name == "CUDA" and ev.device_time > 0:
                                            kw.writerow([ev.name[:120], f"{ev.device_time:.3f}"])
                        w.writerow([name, B, dname, f"{t:.6e}", f"{B / t:.1f}", SCRIPT_VERSION])
                        f.flush()
                        print(f"{name} {dname} B={B}: {t * 1e3:.3f} ms", flush=True)
                    except Exception as e:
                        print(f"{name} {dname} B={B}: failed: {e!r}"[:300], flush=True)
                    torch.cuda.empty_cache()
                del m


if __name__ == "__main__":
    main()
