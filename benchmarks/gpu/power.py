#!/usr/bin/env python3
"""Sustained power of the non-GEMM kernel classes of training steps (issue #22 item 1: training
energy), with measure.py's NVML method (~1.5 s of CUDA-graph replays per row).

    python benchmarks/gpu/power.py --out DIR [--budget-s 300]

Rows (bf16 unless named; each call is one kernel or one forward+backward pair, its working set
rotated over copies >= 3x L2 except where the row says L2):

- ``copy_hbm`` / ``add_hbm``: a streaming copy / add over 1 GiB / 3 x 512 MiB (HBM-bound)
- ``add_l2``: the same add over 3 x 4 MiB (L2-resident: SM and L2 work without HBM traffic)
- ``layernorm_fwd_bwd``, ``rmsnorm_fwd_bwd`` (HF fp32 style), ``batchnorm_fwd_bwd``,
  ``relu_fwd_bwd``, ``dwconv_fwd_bwd`` (MobileNetV2 3x3 depthwise), ``xent_fwd_bwd``
  (cross-entropy over a 32000 vocabulary), ``sdpa_fwd_bwd`` (causal FlashAttention),
  ``adamw_fused`` (torch.optim.AdamW fused + capturable over 64M bf16 parameters)
- ``gemm_bf16_4096``: a 4096^3 GEMM for reference (power-capped)

Writes ``power.csv`` (measure.py's energy.csv columns) and ``device_power.json``. Nothing here
needs hwsim.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure as M  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SCRIPT_VERSION = "gpu-power 1.0"
DEV = "cuda"
BF = torch.bfloat16
COLS = ["label", "calls", "seconds", "s_per_call", "energy_j", "j_per_call", "mean_power_w",
        "sampled_power_w", "sm_clock_mhz", "flops_per_call", "bytes_per_call", "version"]


def _copies(nbytes: int, l2_resident: bool = False) -> int:
    return 1 if l2_resident else M.n_copies(nbytes, 16)


def _leaf(*shape, dtype=BF):
    return torch.randn(*shape, device=DEV, dtype=dtype).requires_grad_(True)


def _fwd_bwd(make, nbytes):
    """Closures running forward + backward (torch.autograd.grad) of ``make()``'s graph over
    enough copies of its inputs."""
    calls = []
    for _ in range(_copies(nbytes)):
        inputs, fn = make()
        gy = torch.randn_like(fn(*inputs))

        def call(inputs=inputs, fn=fn, gy=gy):
            y = fn(*inputs)
            torch.autograd.grad(y, inputs, gy)
        calls.append(call)
    return calls


# Each case returns (closures, flops per call, bytes per call).
N_BIG, N_L2 = 256 * 2 ** 20, 2 * 2 ** 20


def copy_hbm():
    n = 2 ** 30 // 4
    src = [torch.ones(n, device=DEV) for _ in range(2)]
    dst = [torch.empty_like(x) for x in src]
    return [lambda s=s, d=d: d.copy_(s) for s, d in zip(src, dst)], 0, 2 ** 31


def _add(n, l2):
    t = [(torch.randn(n, device=DEV, dtype=BF), torch.randn(n, device=DEV, dtype=BF),
          torch.empty(n, device=DEV, dtype=BF)) for _ in range(_copies(3 * 2 * n, l2))]
    return [lambda a=a, b=b, c=c: torch.add(a, b, out=c) for a, b, c in t], n, 6 * n


def add_hbm():
    return _add(N_BIG, False)


def add_l2():
    return _add(N_L2, True)


def layernorm_fwd_bwd():
    R, C = 16384, 4096
    w, b, nbytes = _leaf(C), _leaf(C), 2 * R * C * 2 * 3
    return _fwd_bwd(lambda: ((_leaf(R, C), w, b), lambda x, w, b: F.layer_norm(x, (C,), w, b)),
                    nbytes), 0, nbytes


def _hf_rmsnorm(x, w):
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6)
    return w * h.to(BF)


def rmsnorm_fwd_bwd():
    R, C = 16384, 4096
    w, nbytes = _leaf(C), 2 * R * C * 2 * 6
    return _fwd_bwd(lambda: ((_leaf(R, C), w), _hf_rmsnorm), nbytes), 0, nbytes


def batchnorm_fwd_bwd():
    shape = (128, 64, 56, 56)
    nbytes = 128 * 64 * 56 * 56 * 2 * 5
    w, b = _leaf(64, dtype=torch.float32), _leaf(64, dtype=torch.float32)
    return _fwd_bwd(lambda: ((_leaf(*shape), w, b),
                             lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
                    nbytes), 0, nbytes


def relu_fwd_bwd():
    n = N_BIG // 2
    return _fwd_bwd(lambda: ((_leaf(n),), F.relu), n * 2 * 4), 0, n * 2 * 4


def dwconv_fwd_bwd():
    shape = (128, 144, 56, 56)
    n = 128 * 144 * 56 * 56
    w = _leaf(144, 1, 3, 3)
    calls = []
    for _ in range(_copies(n * 2 * 4)):
        xi = _leaf(*shape).to(memory_format=torch.channels_last).detach().requires_grad_(True)
        gy = torch.randn_like(xi)

        def call(xi=xi, gy=gy):
            torch.autograd.grad(F.conv2d(xi, w, padding=1, groups=144), (xi, w), gy)
        calls.append(call)
    return calls, 2 * 3 * n * 9 * 2, n * 2 * 4


def xent_fwd_bwd():
    R, V = 4096, 32000
    tgt = torch.randint(0, V, (R,), device=DEV)
    xs = [_leaf(R, V) for _ in range(_copies(R * V * 2 * 4))]
    return ([lambda x=x: torch.autograd.grad(F.cross_entropy(x.float(), tgt), (x,)) for x in xs],
            0, R * V * 2 * 4)


def sdpa_fwd_bwd():
    B, H, S, D = 4, 32, 2048, 128
    flops = 4 * B * H * S * S * D // 2 * 3.5  # causal fwd (2 GEMMs) + bwd (5 GEMMs)
    nbytes = B * H * S * D * 2 * 8
    return _fwd_bwd(lambda: ((_leaf(B, H, S, D), _leaf(B, H, S, D), _leaf(B, H, S, D)),
                             lambda q, k, v: F.scaled_dot_product_attention(q, k, v,
                                                                            is_causal=True)),
                    nbytes), int(flops), nbytes


def adamw_fused():
    params = [torch.zeros(4096, 4096, device=DEV, dtype=BF, requires_grad=True)
              for _ in range(4)]
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.AdamW(params, lr=1e-5, fused=True, capturable=True)
    opt.step()
    n = 4 * 4096 * 4096
    return [opt.step], 0, n * 2 * 7  # p, g, m, v read; p, m, v written (bf16 states)


def gemm_bf16_4096():
    return M.gemm_closures("bf16", 4096, 4096, 4096, M.n_copies(3 * 4096 * 4096 * 2, 16)), \
        2 * 4096 ** 3, 3 * 4096 * 4096 * 2


CASES = (copy_hbm, add_hbm, add_l2, layernorm_fwd_bwd, rmsnorm_fwd_bwd, batchnorm_fwd_bwd,
         relu_fwd_bwd, dwconv_fwd_bwd, xent_fwd_bwd, sdpa_fwd_bwd, adamw_fused, gemm_bf16_4096)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-s", type=float, default=300)
    ap.add_argument("--seconds", type=float, default=1.5)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("power.py needs a CUDA GPU and PyTorch built with CUDA")
    os.makedirs(a.out, exist_ok=True)
    info = M.device_info()
    info["script"] = SCRIPT_VERSION
    json.dump(info, open(os.path.join(a.out, "device_power.json"), "w"), indent=1)
    import pynvml
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
    M.DEADLINE[0] = time.time() + a.budget_s
    w = M.Writer(os.path.join(a.out, "power.csv"), COLS)
    err = M.Writer(os.path.join(a.out, "errors_power.csv"), ["kind", "what", "error"])
    time.sleep(1.0)
    e0, t0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter()
    time.sleep(2.0)
    e1, t = pynvml.nvmlDeviceGetTotalEnergyConsumption(h), time.perf_counter() - t0
    w.row(label="idle", calls=0, seconds=f"{t:.4f}", energy_j=f"{(e1 - e0) / 1e3:.4f}",
          mean_power_w=f"{(e1 - e0) / 1e3 / t:.2f}", version=SCRIPT_VERSION)
    for make in CASES:
        label = make.__name__
        try:
            calls, flops, nbytes = make()
            M.sustained_energy(w, h, label, calls, flops, nbytes, a.seconds, SCRIPT_VERSION)
            print(label, "ok", flush=True)
        except M.OutOfTime:
            err.row(kind=label, what="budget", error="stopped: --budget-s reached")
            break
        except Exception:
            err.row(kind=label, what="crash", error=traceback.format_exc()[-600:])
            print(label, "failed", flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
