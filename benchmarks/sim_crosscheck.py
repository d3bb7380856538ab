"""Cross-check of the two engines on steady-state layers, per family with a tile program.

    python benchmarks/sim_crosscheck.py [--csv FILE]

Compute-bound and bandwidth-bound GEMMs (llama-2-7b shapes) on one preset per family: the
analytical latency, the simulated one, their ratio (issue #12: within 5%) and the simulator's
stall breakdown. The same cases are asserted in tests/sim (test_*_agree_with_the_analytical_model).
Writes ``benchmarks/results/sim_crosscheck.csv``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import hwsim
from hwsim.sim import simulate_op

# (family, arch, overrides, weights, activations, M, N, K)
CASES = [("mac_array", "mac-tc", {}, "fp16", "fp16", 2048, 4096, 4096),
         ("mac_array", "mac-tc", {}, "fp16", "fp16", 1, 4096, 4096),
         ("gpu", "h100-sxm", {}, "bf16", "bf16", 8192, 8192, 8192),
         ("gpu", "h100-sxm", {}, "bf16", "bf16", 4096, 4096, 4096),
         ("gpu", "h100-sxm", {}, "bf16", "bf16", 1, 4096, 4096),
         ("gpu", "h100-sxm", {}, "int8", "int8", 16, 4096, 4096),
         ("lut", "lut-tc", {}, "int4", "int8", 2048, 4096, 4096),
         # the LUT preset is compute-bound even at M = 1; at 50 GB/s (an LPDDR-class interface,
         # an assumption for this check) the same GEMV is bandwidth-bound
         ("lut", "lut-tc", {"mem_bandwidth_Bps": 5e10}, "int4", "int8", 1, 4096, 4096),
         ("bitserial", "bitmod", {}, "int4", "fp16", 2048, 11008, 4096),
         ("bitserial", "bitmod", {}, "int4", "fp16", 1, 32000, 4096)]


def rows() -> list[dict]:
    out = []
    for fam, arch, kw, w, a, M, N, K in CASES:
        hw = hwsim.load_arch(arch, **kw)
        op = hwsim.ops.Gemm(M=M, N=N, K=K, weights=w, activations=a)
        c0 = hw.cost(op)
        c, _ = simulate_op(hw, op, c0)
        b = c.breakdown
        out.append(dict(family=fam, arch=arch + "".join(f" {k}={v:g}" for k, v in kw.items()),
                        gemm=f"{M}x{N}x{K} w={w} a={a}", bound=c0.bound,
                        analytical_s=c0.latency_s, simulated_s=c.latency_s,
                        sim_over_analytical=round(c.latency_s / c0.latency_s, 5),
                        fill_drain_s=b["sim_fill_drain_s"], stall_memory_s=b["sim_stall_memory_s"],
                        stall_buffer_s=b["sim_stall_buffer_s"],
                        stall_compute_s=b["sim_stall_compute_s"], events=int(b["sim_events"])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(Path(__file__).resolve().parent / "results"
                                         / "sim_crosscheck.csv"))
    a = ap.parse_args()
    rs = rows()
    for r in rs:
        print(f"{r['family']:10s} {r['arch']:28s} {r['gemm']:30s} {r['bound']:8s} "
              f"analytical {1e6 * r['analytical_s']:11.2f} us  sim {1e6 * r['simulated_s']:11.2f}"
              f" us  {100 * (r['sim_over_analytical'] - 1):+5.2f}%")
    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rs[0]))
        w.writeheader()
        w.writerows(rs)
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
