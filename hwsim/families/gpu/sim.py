"""Tile program of a GPU GEMM (family ``gpu``) from the CTA tiling its analytical model chose
(:meth:`hwsim.families.gpu.model.GPU.gemm_tiling`).

The SMs run the output tiles in ``waves``; each CTA walks K in ``bk`` steps. The program is one
aggregate unit (all SMs of a wave) whose steps are the waves' K-steps: each reads its share of the
A and B bytes from HBM (each operand once, as in the analytical model: L2 captures the re-reads)
and computes its share of the cost's ``time.compute_s`` (the tile time, or the power roof when
that is slower); a wave's last K-step stores its share of C. Bandwidth is the one the analytical
cost charged (operand bytes / ``time.memory_s``: ``mem_bandwidth_Bps x mem_efficiency`` and any
kernel-specific factor); the fixed kernel time (``time.overhead_s``) stays serial.

Shared memory is taken as deep enough to keep the K pipeline full (CUTLASS/cuBLAS size their
stages for that), so the simulator adds the kernel's fill (first K-step's load) and drain (the last
wave's store) -- not per-tile prologues, which the fitted ``tile_overhead_s`` already holds.
Weight-only quantized GEMMs, attention and memory kernels use the generic program.
"""

from __future__ import annotations

from ...contract import Cost
from ...workload.ops import Conv2d, Gemm, Op
from ...sim.program import Step, TileProgram, compress
from .model import GPU


def programs(hw: GPU, op: Op, cost: Cost, mem_latency_s: float = 0.0) -> list | None:
    """The tile program of a tensor-core GEMM or convolution on ``hw``; None for other ops."""
    if not isinstance(op, (Gemm, Conv2d)) or not isinstance(hw, GPU):
        return None
    t = hw.gemm_tiling(op)
    if t is None:
        return None
    p, tp = hw.params, cost.time
    comp = tp.compute_s  # max(tiles, power roof)
    ob = op.operand_bytes()
    # the bandwidth the analytical model charged (mem_efficiency, and any kernel-specific factor
    # such as int8_skinny_bw_efficiency): its bytes over its memory time
    nbytes = ob["A"] + ob["B"] + ob["C"]
    bw = nbytes / tp.memory_s if tp.memory_s > 0 else p.mem_bandwidth_Bps * p.mem_efficiency
    k_steps = -(-(-(-t["K"] // t["split"])) // t["bk"])
    n = t["waves"] * k_steps
    ab = (ob["A"] + ob["B"]) / n
    inf = float("inf")
    mid = Step(new=(ab, 0.0), load=(ab, 0.0), compute_s=comp / n, last_use=(True, False))
    last = Step(new=(ab, 0.0), load=(ab, 0.0), compute_s=comp / n,
                store_bytes=ob["C"] / t["waves"], last_use=(True, True))
    wave = [mid] * (k_steps - 1) + [last]
    steps = compress(wave * t["waves"])
    return [TileProgram(
        operands=("A+B", "C"), buffer_bytes=(inf, inf), streams=(tuple(steps),),
        mem_bandwidth_Bps=bw, mem_latency_s=mem_latency_s,
        overhead_s=tp.overhead_s, out=None, unit=f"{p.sms} SMs",
        source=f"gpu tiling {t['bm']}x{t['bn']} split {t['split']}, {t['waves']} waves x "
               f"{k_steps} K-steps of {t['bk']}")]
