"""Analytical model of GPU tensor-core execution (family ``gpu``).

Each op is one kernel whose time is

    t = max(t_tiles, t_hbm, t_power) + kernel_overhead_s

* ``t_tiles``: the output is cut into CTA tiles (BM x BN from the candidates cuBLAS/CUTLASS use,
  optionally split along K); tiles run in waves over the SMs, each tile taking its padded MACs at
  the per-SM tensor rate x efficiency at the maximum clock plus a fixed per-tile prologue/epilogue.
  The model picks the tile/split with the lowest time (an ideal kernel heuristic). Steps appear as N
  grows past multiples of the tile grid (wave quantization); small tiles run at lower efficiency
  ``(BM*BN / 32768) ** tile_size_exponent``.
* ``t_hbm``: operand bytes (each operand once: L2 captures the re-reads of tiled GEMMs) over
  ``mem_bandwidth_Bps * mem_efficiency``.
* ``t_power``: the power roof. Datapath energy (``energy_pj_per_op[path]`` x ops) cannot be spent
  faster than ``power_budget_ratio * tdp_w - idle_power_w``;
  large GEMMs on H100 run power-capped (measured: bf16 8192^3 at ~1340 MHz, 700 W sustained).
  ``power_budget_ratio`` is fitted to the timing runs (kernels back to back for ~5 ms): the driver's
  power limit acts over an averaging window, so short bursts draw more than ``tdp_w``; over
  seconds (``measure.py``'s energy runs) large GEMMs are up to ~8% slower than predicted.
* Misaligned operands (a contiguous dimension whose bytes are not a multiple of 16, so TMA / 16-byte
  vector loads cannot be used) run at ``(alignment_bytes / 16) ** unaligned_exponent`` of the
  tensor rate; 8-bit GEMMs whose contiguous dimensions are 16-byte aligned but not multiples of 64
  elements run at ``int8_fp8_k64_efficiency``. The fp32 SIMT path has no such penalty (its kernels
  use ordinary loads; measured: fp32 4095^3 runs at the same rate as 4096^3). Once M > 1 its
  tiles have at least ``SIMT_MIN_TILE_M`` rows: cuBLAS's SIMT kernels pad small M.

Energy = idle_power_w x t + dynamic energy (the same terms as the power roof). In
:class:`~hwsim.contract.EnergyParts`: the idle term is ``static_j``, the datapath energy
(``energy_pj_per_op`` x ops) ``compute_j``, the per-byte term ``offchip_j``. The per-byte energy,
fitted on a copy kernel, holds the on-chip work of moving each byte; memory-class kernels that
do more than copy (elementwise math, row reductions) draw SM power beyond it,
``memkernel_sm_power_w[class]`` x t in ``onchip_j`` (measured: LayerNorm fwd+bwd at 633 W
against a copy's 402 W on the H100; data/h100/power.csv). GEMM-class kernels have no such term:
their per-op energy is fitted on whole sustained runs.

Attention: FlashAttention-style prefill as a compute kernel over causal-trimmed query x key blocks
(its CTAs are query blocks; the longest one bounds small grids), decode as a KV-cache read with
its own fixed overhead (split-KV plus combine kernels). Weight-only int4 GEMMs (W4A16) follow the
measured tinygemm kernel: packed-weight bandwidth at ``w4a16_bw_efficiency`` or its dequantize+MMA
rate ``w4a16_ops_per_s``, whichever is slower. Elementwise, norm, softmax and embedding ops are
memory-bound kernels with their own (smaller) fixed time; row reductions (norm, softmax) reach a
fitted fraction of the streaming bandwidth. Bit-level GEMMs on binary tensor cores (APNN-TC style) cost X*Y one-bit
GEMMs plus the shift-add reduction.

The free parameters are fitted by :mod:`hwsim.families.gpu.fit` to measurements made with
``benchmarks/gpu/measure.py``; each arch YAML says which data set its values come from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ... import formats as _formats
from ...errors import UnsupportedError
from ...workload.ops import Attention, Conv2d, Embedding, Gemm, Op
from ...contract import (Bound, Cost, CostDetail, EnergyParts, HardwareSummary, TimeParts,
                         pick_compute_path)
from .roofline import PATHS, GPUParams, RooflineGPU

# CTA tiles (BM, BN): CUTLASS/cuBLAS Hopper tiles, plus narrow ones for skinny GEMMs (cuBLAS
# swaps operands so the small dimension sits in BM; GEMV-like kernels do not pad M to 64).
TILES = ((256, 128), (128, 256), (128, 128), (128, 64), (64, 128), (64, 64), (64, 256),
         (32, 256), (16, 256), (32, 128), (16, 128), (8, 256))
SPLITS = (1, 2, 3, 4, 6, 8, 12, 16)
# cuBLAS's SIMT (FFMA) fp32 kernels tile at least this many output rows once M > 1 (M = 1 runs a
# GEMV kernel). A rule read off data/h200-shapes/gemm_shapes.csv (simt rows: M = 2..32 take the
# time of M = 32..64); validated on data/h100-shapes, measured after it (#22).
SIMT_MIN_TILE_M = 32
SKINNY_M = 64  # largest M cuBLASLt serves with its weight-streaming (skinny) int8 kernels, as measured
ELT_BYTES = {"fp64": 8, "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1,
             "fp6": 0.75, "fp4": 0.5, "int4": 0.5, "int1": 0.125}


# Training-step kernels (backward="implicit" graphs only; no forward op carries these fns): the
# SM-side throughput (bytes moved per SM clock per SM) of each kernel class. Such a kernel takes
# max(bytes / (mem_bandwidth_Bps * mem_efficiency), bytes / (sms * max_clock_hz * this)): HBM
# where it streams, its own SM / L2-side rate where that is slower (reductions with atomics, the
# max-pool scatter, kernels whose activations stay in L2). The SM side is the same GH100 die on
# the H100 and the H200, so only the HBM term scales with memory bandwidth. Fitted by
# hwsim.families.gpu.fit_train.fit_kernel_rates on the kernels of the FIT rows' eager steps
# (Llama-2-7B-shaped, ResNet-18, MobileNetV2; gpu-train 1.0) in data/h100/kernels_train.csv AND
# data/h200/kernels_train.csv jointly; sgd_fused takes adam_fused's value (same kernel family).
# strided_copy (TensorIterator's non-vectorized elementwise_kernel<128, 4> copying a transposed
# view) is fitted on the Llama FIT steps' dq / dk transpose copies, column_sum (a bf16
# reduce_kernel<128, 4> over rows) on their RMSNorm weight gradients; every other strided_<fn>
# (the same non-vectorized path adding, multiplying ...; STRIDED_PREFIX) takes strided_copy's
# value, bias_grad (the same reduce_kernel) and
# norm_param_grad (LayerNorm's GammaBetaBackward column sums; no FIT model runs a LayerNorm)
# column_sum's (workload/training_eager.py says where each kernel comes from).
TRAIN_KERNEL_BYTES_PER_CLK_PER_SM = {
    "adam_fused": 8.8, "sgd_fused": 8.8, "batchnorm_stats": 2.09, "batchnorm_grad_reduce": 6.462,
    "batchnorm_grad": 9.265, "pool_grad": 0.6485, "strided_copy": 5.786, "column_sum": 5.858,
    "bias_grad": 5.858, "norm_param_grad": 5.858}
STRIDED_PREFIX = "strided_"  # fns of kernels on non-contiguous views: strided_copy's rate
# (log_softmax[_grad], relu_grad, relu6_grad were fitted too and came out HBM-bound: no entry)

def _train_rate(rates: dict[str, float], fn: str) -> float:
    """The SM-side rate of a training kernel class (0: none, HBM-bound only)."""
    if fn in rates:
        return rates[fn]
    return rates.get("strided_copy", 0.0) if fn.startswith(STRIDED_PREFIX) else 0.0


# Power of the SMs while a memory-class kernel runs, beyond idle and the per-byte energy (which is
# fitted on a plain copy, so copies take none): memkernel_sm_power_w[class]. Row reductions
# (norm, softmax, their gradients, column sums) are "reduction", other elementwise kernels
# "elementwise". Fitted by hwsim.families.gpu.fit.fit_sm_power on data/<gpu>/power.csv.
COPY_FNS = frozenset({"copy", "strided_copy", "transpose", "cat", "kv_write"})
REDUCTION_FNS = frozenset({"log_softmax", "log_softmax_grad", "softmax_grad", "mean",
                           "batchnorm_stats", "batchnorm_grad_reduce", "batchnorm_grad",
                           "norm_param_grad", "column_sum", "bias_grad"})
SM_POWER_CLASSES = ("elementwise", "reduction")


def sm_power_class(fn: str, reduction: bool) -> str | None:
    """The memkernel_sm_power_w class of a memory-class kernel (None: a copy, no SM power)."""
    if fn in COPY_FNS:
        return None
    return "reduction" if reduction or fn in REDUCTION_FNS else "elementwise"


# filter classes of conv_efficiency (see _conv_class)
CONV_CLASSES = ("1x1", "kxk", "small_channels")


class GPUModelParams(GPUParams):
    ranges: ClassVar[dict[str, tuple[float, float, str]]] = {
        # a budget at or below idle power leaves no power for the datapath (the power roof
        # divides by it); 10 x TDP is far past any burst limit (fitted: 1.01 on the H100)
        "power_budget_ratio": (0.1, 10.0, "times tdp_w"),
        # relative to the GEMM tile model, not to peak: 1x1 convs fit above 1 (1.316 on the
        # H200 data), at most 1 / tc_efficiency of the datapath
        "conv_efficiency": (1e-6, 4.0, "times the GEMM tile model's throughput"),
    }
    max_clock_hz: float = Field(gt=0, description="maximum SM clock (unthrottled)")
    tc_efficiency: dict[str, float] = Field(
        description="fraction of peak (at max clock) a large tile sustains, per datapath")
    path_fallback: dict[str, str] = Field(
        default_factory=dict, description="datapath -> datapath whose fitted efficiency and "
        "energy per op it uses where none was measured (an assumption the preset states)")
    mem_efficiency: float = Field(gt=0, le=1)
    kernel_overhead_s: float = Field(ge=0, description="launch + inter-kernel gap of GEMM kernels")
    memkernel_overhead_s: float = Field(ge=0, description="fixed time of an elementwise kernel")
    reduction_bw_efficiency: float = Field(gt=0, le=1, description="achieved / achievable "
                                           "bandwidth of row-reduction kernels (norm, softmax)")
    reduction_overhead_s: float = Field(ge=0, description="fixed time of a row-reduction kernel")
    memkernel_sm_power_w: dict[str, float] = Field(
        default_factory=dict, description="SM power (W) beyond idle and per-byte energy while "
        "a memory-class kernel runs, per class (elementwise, reduction); none: 0")
    tile_overhead_s: float = Field(ge=0, description="per-tile prologue/epilogue")
    tile_size_exponent: float = Field(ge=0)
    unaligned_exponent: float = Field(ge=0)
    int8_fp8_k64_efficiency: float = Field(gt=0, le=1)
    launch: Literal["graph", "stream"] = Field(
        default="graph", description="how kernels are launched: replayed from a CUDA graph (as "
        "every measurement here and serving engines) or one by one from the host (plain eager "
        "PyTorch), where no kernel can take less than host_launch_s")
    host_launch_s: float = Field(default=0.0, ge=0, description="host time per kernel launch "
                                 "when launch='stream' (depends on the host CPU and framework)")
    int8_skinny_bw_efficiency: float = Field(
        default=1.0, gt=0, le=1, description="bandwidth of int8 GEMMs with M <= 64 (weight "
        "streaming by cuBLASLt's skinny IMMA kernels) relative to mem_efficiency")
    idle_power_w: float = Field(ge=0)
    power_budget_ratio: float = Field(gt=0, description="effective power limit over ms bursts / tdp_w")
    energy_pj_per_op: dict[str, float] = Field(description="dynamic energy per op (1 MAC = 2 ops)")
    hbm_energy_pj_per_byte: float = Field(ge=0)
    attn_efficiency: float = Field(gt=0, le=1)
    attn_overhead_s: float = Field(ge=0)
    attn_decode_overhead_s: float = Field(ge=0)
    attn_decode_bw_efficiency: float = Field(gt=0, le=1)
    w4a16_bw_efficiency: float = Field(gt=0, le=1)
    w4a16_ops_per_s: float = Field(gt=0)
    conv_overhead_s: float = Field(ge=0, description="fixed time of an implicit-GEMM "
                                   "convolution kernel (cuDNN), replacing kernel_overhead_s")
    conv_efficiency: dict[str, float] = Field(
        description="implicit-GEMM convolution throughput relative to the GEMM tile model, per "
        "filter class: '1x1', 'kxk' (larger filters), 'small_channels' (channels per group not a "
        "multiple of one 16-byte vector, padded up to it: stems)")
    conv_bw_efficiency: float = Field(gt=0, le=1, description="achieved / peak bandwidth of "
                                      "implicit-GEMM convolution kernels")
    dwconv_bw_efficiency: float = Field(gt=0, le=1, description="achieved / peak bandwidth of "
                                        "depthwise (and narrow grouped) convolution kernels")
    dwconv_overhead_s: float = Field(ge=0, description="fixed time of a depthwise conv kernel")
    train_kernel_bytes_per_clk_per_sm: dict[str, float] = Field(
        default_factory=lambda: dict(TRAIN_KERNEL_BYTES_PER_CLK_PER_SM), description="SM-side "
        "throughput of the training-step kernels (Elementwise fn -> bytes per SM clock per SM; "
        "absent: HBM-bound only): fused optimizers, train-mode batch-norm passes, the fp32 "
        "cross-entropy, activation and max-pool backward")
    fit_source: str = Field(default="", description="data set and subset the values were fitted on")

    @model_validator(mode="after")
    def _datapath_keys(self):
        """Per-datapath mappings name datapaths; fallbacks lead to a fitted one. (A preset may
        inherit fitted entries for datapaths it lacks: the A100 keeps the H100's fp8.)"""
        for field in ("tc_efficiency", "energy_pj_per_op", "path_fallback"):
            for key in getattr(self, field):
                if key not in PATHS:
                    raise ValueError(f"{field}.{key}: unknown datapath; expected one of "
                                     f"{', '.join(PATHS)}")
        for key, w in self.memkernel_sm_power_w.items():
            if key not in SM_POWER_CLASSES or w < 0:
                raise ValueError(f"memkernel_sm_power_w.{key} = {w!r}: expected a class in "
                                 f"{', '.join(SM_POWER_CLASSES)} with a power >= 0 W")
        for key, to in self.path_fallback.items():
            if to not in self.tc_efficiency:
                raise ValueError(f"path_fallback.{key} = {to!r}: expected a datapath with a fitted "
                                 f"tc_efficiency ({', '.join(sorted(self.tc_efficiency))})")
        bad = sorted(set(self.conv_efficiency) - set(CONV_CLASSES))
        if bad:
            raise ValueError(f"conv_efficiency.{bad[0]}: unknown filter class; expected "
                             f"{', '.join(CONV_CLASSES)}")
        if self.power_budget_ratio * self.tdp_w <= self.idle_power_w:
            raise ValueError(f"power_budget_ratio x tdp_w = {self.power_budget_ratio * self.tdp_w:g}"
                             f" W is not above idle_power_w = {self.idle_power_w:g} W: no power "
                             "would be left for the datapaths")
        return self


@dataclass(frozen=True)
class GPUCostDetail(CostDetail):
    """The GPU model's own terms of one kernel (seconds). ``TimeParts.compute_s`` is
    ``max(tiles_s, power_s)``; ``overhead_s`` holds the kernel's fixed time plus ``host_wait_s``."""

    tiles_s: float      # CTA tiles in waves over the SMs at the fitted tensor/SIMT rate
    power_s: float      # power roof: datapath energy / (power budget - idle power)
    host_wait_s: float = 0.0  # launch="stream": GPU idle waiting for the host to issue the kernel


def _align_bytes(n_elems: int, elt: float) -> int:
    """Largest power of two (<= 16) dividing the byte length of a contiguous row."""
    b = n_elems * elt
    if b != int(b):
        return 1
    b = int(b)
    return min(16, b & -b) if b else 16


def _bk(path: str) -> int:
    """K step of a CTA main-loop stage: 128 bytes of each operand row (16 elements minimum)."""
    return max(16, int(128 / ELT_BYTES.get(path, 2)) if path != "fp64" else 16)


def _conv_bytes(op: Conv2d) -> float:
    """DRAM bytes of a convolution kernel: filter and output once, and of the input only the
    pixels some filter tap reads (a strided 1x1 conv or a patchify conv skips the rest; with
    channels-last every read pixel is a contiguous C vector)."""
    b = op.operand_bytes()
    taps = op.batch * op.out_h * op.out_w * op.kernel_h * op.kernel_w
    frac = min(1.0, taps / (op.batch * op.in_h * op.in_w))
    return b["A"] * frac + b["B"] + b["C"]


def is_depthwise(op: Conv2d) -> bool:
    """Depthwise and narrow grouped convolutions (< 16 channels per group): too short a reduction
    for the tensor cores, run as SIMT streaming kernels."""
    return op.groups > 1 and op.in_channels // op.groups < 16


def conv_filter_class(op: Conv2d, path: str) -> tuple[int, str]:
    """(channels per group padded to one 16-byte vector of ``path``, filter class keying
    ``conv_efficiency``): channels-last implicit GEMMs reduce along R, S and C, so C is padded."""
    cg = op.in_channels // op.groups
    vec = max(1, int(16 // ELT_BYTES.get(path, 2)))
    c_pad = -(-cg // vec) * vec
    cls = ("small_channels" if c_pad != cg else
           "1x1" if op.kernel_h == op.kernel_w == 1 else "kxk")
    return c_pad, cls


class GPU(RooflineGPU):
    """Calibrated tensor-core model. See the module docstring for the equations."""

    family = "gpu"
    Params = GPUModelParams

    def summary(self) -> HardwareSummary:
        """As the roofline's, with the fitted idle power. ``clock_hz`` stays the datasheet clock of
        the peaks; the model's tiles run at ``max_clock_hz`` (the unthrottled SM clock)."""
        return replace(super().summary(), idle_power_w=self.params.idle_power_w)

    @property
    def order_dependent(self) -> bool:
        """launch="stream" with a host cost: a kernel's wait depends on the ones before it."""
        return self.params.launch == "stream" and self.params.host_launch_s > 0

    def tile_programs(self, op: Op, cost: Cost, mem_latency_s: float = 0.0):
        """The simulator's tile programs for ``op`` (:mod:`.sim`), None where it has none."""
        from .sim import programs  # simpy-side code, imported only when simulating
        return programs(self, op, cost, mem_latency_s)

    # ------------------------------------------------------------------ building blocks

    def _rate_per_sm(self, path: str) -> float:
        p = self.params
        rate = self.ops_per_clk_per_sm(path)
        eff = p.tc_efficiency.get(path, p.tc_efficiency.get(p.path_fallback.get(path, "")))
        if eff is None:
            raise UnsupportedError(f"{self.name}: no fitted efficiency for the {path} datapath "
                                   f"(tc_efficiency has {', '.join(sorted(p.tc_efficiency))})")
        return rate * p.max_clock_hz * eff

    def _e_op(self, path: str) -> float:
        e = self.params.energy_pj_per_op
        path = path if path in e else self.params.path_fallback.get(path, path)
        if path not in e:
            raise UnsupportedError(f"{self.name}: no measured energy per op for {path} "
                                   f"(energy_pj_per_op has {', '.join(sorted(e))})")
        return e[path] * 1e-12

    def _finish(self, t_core: float, t_mem: float, ops: float, nbytes: float, path: str,
                extra_overhead: float = 0.0, base_overhead: float | None = None,
                sm_power_w: float = 0.0) -> Cost:
        """One kernel's Cost from its tile time, memory time, ops and bytes on ``path``: the power
        roof, the fixed time (``base_overhead``, default ``kernel_overhead_s``, plus
        ``extra_overhead``) and the energy parts (module docstring)."""
        p = self.params
        k_over = p.kernel_overhead_s if base_overhead is None else base_overhead
        e_ops = self._e_op(path) * ops
        e_hbm = p.hbm_energy_pj_per_byte * 1e-12 * nbytes
        # only datapath energy counts against the power budget: the per-byte energy is fitted on a
        # copy kernel and already holds the SM work of moving data, which GEMMs overlap
        t_pow = e_ops / max(p.power_budget_ratio * p.tdp_w - p.idle_power_w, 1e-9)
        t_body = max(t_core, t_mem, t_pow)
        t = t_body + k_over + extra_overhead
        bound = (Bound.COMPUTE if t_core >= max(t_mem, t_pow) else
                 Bound.MEMORY if t_mem >= t_pow else Bound.POWER)
        if t_body < k_over + extra_overhead:
            bound = Bound.OVERHEAD
        peak = self.path_peak_ops_per_s(path)
        # total_j is the former idle * t + (e_ops + e_hbm) bit for bit (float addition commutes)
        energy = EnergyParts(compute_j=e_ops, offchip_j=e_hbm, static_j=p.idle_power_w * t,
                             onchip_j=sm_power_w * t)
        return Cost(latency_s=t, energy_j=energy.total_j, bound=bound,
                    utilization=ops / t / peak if t > 0 and peak else 0.0, compute_path=path,
                    time=TimeParts(compute_s=max(t_core, t_pow), memory_s=t_mem,
                                   overhead_s=k_over + extra_overhead),
                    energy=energy, detail=GPUCostDetail(tiles_s=t_core, power_s=t_pow))

    def sequence(self, costs: list[Cost]) -> list[Cost]:
        """``launch="stream"``: the host issues one kernel every ``host_launch_s`` into an
        in-order queue while the GPU runs what it has, so a kernel starts at the later of the
        previous kernel's end and its own launch; the GPU's wait is added to the op that waits
        (``detail.host_wait_s`` and ``time.overhead_s``, idle power over it in
        ``energy.static_j``, bound ``host`` where the wait dominates). ``graph``: as is."""
        p = self.params
        if not self.order_dependent:
            return costs
        host = gpu = 0.0
        out = []
        for c in costs:
            host += p.host_launch_s
            wait = max(0.0, host - gpu)
            gpu = max(gpu, host) + c.latency_s
            out.append(self._with_host_wait(c, wait) if wait > 0 else c)
        return out

    def _with_host_wait(self, c: Cost, wait: float) -> Cost:
        """``c`` preceded by ``wait`` seconds of an idle GPU waiting for its launch."""
        t = c.latency_s + wait
        e_wait = self.params.idle_power_w * wait
        energy = None if c.energy is None else replace(c.energy,
                                                         static_j=c.energy.static_j + e_wait)
        detail = (replace(c.detail, host_wait_s=c.detail.host_wait_s + wait)
                  if isinstance(c.detail, GPUCostDetail) else c.detail)
        return replace(c, latency_s=t, energy_j=c.energy_j + e_wait,
                       bound=Bound.HOST if wait > c.latency_s else c.bound,
                       utilization=c.utilization * c.latency_s / t,
                       time=replace(c.time, overhead_s=c.time.overhead_s + wait),
                       energy=energy, detail=detail)

    def gemm_time(self, M: int, N: int, K: int, path: str, groups: int = 1,
                  align: int = 16) -> tuple[float, tuple]:
        """Tile/wave time of a GEMM on ``path`` and the (BM, BN, split) chosen."""
        p = self.params
        rate = self._rate_per_sm(path)
        if align < 16 and path != "fp32":
            rate *= (align / 16) ** p.unaligned_exponent
        bk = _bk(path)
        best = (math.inf, None)
        for bm, bn in TILES:
            if path == "fp32" and 1 < M and bm < SIMT_MIN_TILE_M:
                continue
            tiles_mn = groups * -(-M // bm) * -(-N // bn)
            eff = min(1.0, (bm * bn / 32768) ** p.tile_size_exponent)
            for s in SPLITS:
                if s > 1 and (tiles_mn * s > 2 * p.sms or K // s < 2 * bk):
                    break
                k_per = -(-K // s)
                k_pad = -(-k_per // bk) * bk
                t_tile = 2 * bm * bn * k_pad / (rate * eff) + p.tile_overhead_s
                waves = -(-tiles_mn * s // p.sms)
                t = waves * t_tile
                if s > 1:  # fp32 partials written and reduced, plus the reduction kernel
                    t += 2 * s * M * N * groups * 4 / (p.mem_bandwidth_Bps * p.mem_efficiency) \
                        + p.kernel_overhead_s
                if t < best[0]:
                    best = (t, (bm, bn, s))
        return best

    # ------------------------------------------------------------------ ops

    def _gemm_setup(self, op: Op, N: int, K: int) -> tuple[str, int | None]:
        """Datapath and operand alignment (bytes) of a GEMM-like op; alignment None marks a
        weight-only quantized GEMM (dequantizing kernel, no CTA tiling of its own)."""
        where = f"{self.name}: {op.name or op.type}"
        a, w = _formats.get(op.activations), _formats.get(op.weights)
        path = pick_compute_path(where, op.activations, op.weights, self.params.ops_per_clk_per_sm)
        if w.bits < a.bits and w.compute_key != path:  # weight-only quantization
            return path, None
        if a.compute_key.startswith("bipolar") or path == "int1":
            raise UnsupportedError(f"{where}: use bit-level decomposition (bitlevel_gemm) for "
                                   "binary/bipolar GEMMs")
        elt = ELT_BYTES.get(path, a.storage_bits / 8)
        out_elt = _formats.get(op.out).storage_bits / 8
        # contiguous dims: A is M x K row-major; B is K x N row-major for 16/32-bit GEMMs and
        # N x K (column-major) for 8-bit ones (cuBLASLt's IMMA/FP8 layout); C is M x N
        b_contig = K if elt <= 1 else N
        return path, min(_align_bytes(K, elt), _align_bytes(b_contig, elt),
                         _align_bytes(N, out_elt))

    def _tensor_gemm(self, op: Op) -> tuple | None:
        """``(path, M, N, K, groups, align)`` of the tensor-core GEMM ``cost(op)`` runs for a
        Gemm or Conv2d (a conv's K with C padded, its alignment the output's); None where no
        CTA-tiled tensor GEMM runs (weight-only quantized GEMMs, depthwise convolutions)."""
        if isinstance(op, Conv2d) and is_depthwise(op):
            return None
        g = op if isinstance(op, Gemm) else op.as_gemm()
        path, align = self._gemm_setup(op, g.N, g.K)
        if align is None:
            return None
        if not isinstance(op, Conv2d):
            return path, g.M, g.N, g.K, g.groups, align
        c_pad, _ = conv_filter_class(op, path)
        out_elt = _formats.get(op.out).storage_bits / 8
        return (path, g.M, g.N, c_pad * op.kernel_h * op.kernel_w, g.groups,
                _align_bytes(g.N, out_elt))

    def gemm_tiling(self, op: Op) -> dict | None:
        """The CTA tiling ``cost(op)`` picks for a Gemm/Conv2d on the tensor cores (read-only;
        used by ``hwsim.sim``): ``path, M, N, K, groups, bm, bn, split``, ``waves`` over the SMs
        and ``bk`` (K step of a CTA's main loop). None where no tensor GEMM runs."""
        t = self._tensor_gemm(op)
        if t is None:
            return None
        path, M, N, K, groups, align = t
        _, (bm, bn, split) = self.gemm_time(M, N, K, path, groups, align)
        tiles = groups * -(-M // bm) * -(-N // bn) * split
        return {"path": path, "M": M, "N": N, "K": K, "groups": groups, "bm": bm, "bn": bn,
                "split": split, "waves": -(-tiles // self.params.sms), "bk": _bk(path)}

    def _gemm_like(self, op: Op, M: int, N: int, K: int, groups: int) -> Cost:
        a, w = _formats.get(op.activations), _formats.get(op.weights)
        path, align = self._gemm_setup(op, N, K)
        nbytes = op.bytes
        if align is None:  # weight-only quantization
            return self._weight_only(op, M, N, K, groups, path, w, nbytes)
        elt = ELT_BYTES.get(path, a.storage_bits / 8)
        t_tiles, _ = self.gemm_time(M, N, K, path, groups, align)
        if elt == 1 and align == 16 and (K % 64 or N % 64):
            t_tiles /= self.params.int8_fp8_k64_efficiency
        bw = self.params.mem_bandwidth_Bps * self.params.mem_efficiency
        if path == "int8" and M <= SKINNY_M:  # cuBLASLt's skinny IMMA kernels stream slower
            bw *= self.params.int8_skinny_bw_efficiency
        t_mem = nbytes / bw
        return self._finish(t_tiles, t_mem, 2 * groups * M * N * K, nbytes, path)

    def _weight_only(self, op, M, N, K, groups, path, w, nbytes) -> Cost:
        """Dequantize-in-kernel GEMM (tinygemm-like): weight bandwidth or its compute rate."""
        p = self.params
        if w.bits > 4 and not w.kind == "group":
            # W8A16 runs as a fused dequant GEMM at the activation path's tensor rate
            t_tiles, _ = self.gemm_time(M, N, K, path, groups)
            t_mem = nbytes / (p.mem_bandwidth_Bps * p.mem_efficiency)
            return self._finish(t_tiles, t_mem, 2 * groups * M * N * K, nbytes, path)
        t_core = 2 * groups * M * N * K / p.w4a16_ops_per_s
        t_mem = nbytes / (p.mem_bandwidth_Bps * p.w4a16_bw_efficiency)
        return self._finish(t_core, t_mem, 2 * groups * M * N * K, nbytes, path)

    def cost_gemm(self, op: Gemm) -> Cost:
        return self._gemm_like(op, op.M, op.N, op.K, op.groups)

    def cost_conv2d(self, op: Conv2d) -> Cost:
        """Depthwise and narrow grouped convolutions are SIMT streaming kernels; others an
        implicit GEMM (C per group padded to a 16-byte vector) at a fitted per-filter-class
        efficiency relative to the GEMM tile model and with the conv kernels' own fixed time."""
        p = self.params
        if is_depthwise(op):
            return self._depthwise_conv(op)
        t = self._tensor_gemm(op)
        if t is None:  # weight-only quantized: the dequantizing GEMM kernel
            g = op.as_gemm()
            return self._gemm_like(op, g.M, g.N, g.K, g.groups)
        path, M, N, K_pad, groups, align = t
        cls = conv_filter_class(op, path)[1]
        eff = p.conv_efficiency.get(cls)
        if eff is None:
            raise UnsupportedError(f"{self.name}: conv_efficiency has no {cls!r} entry "
                                   f"(has {', '.join(sorted(p.conv_efficiency))})")
        t_tiles, _ = self.gemm_time(M, N, K_pad, path, groups, align)
        nbytes = _conv_bytes(op)
        t_mem = nbytes / (p.mem_bandwidth_Bps * p.conv_bw_efficiency)
        return self._finish(t_tiles / eff, t_mem, op.flops, nbytes, path,
                            base_overhead=p.conv_overhead_s)

    def _simt_s(self, flops: float) -> float:
        """Time of ``flops`` on the fp32 SIMT lanes of every SM at the maximum clock."""
        p = self.params
        return flops / (p.sms * p.ops_per_clk_per_sm["fp32"] * p.max_clock_hz)

    def _depthwise_conv(self, op: Conv2d) -> Cost:
        """Input, filter and output streamed once at a fitted bandwidth; the MACs on the SIMT
        units (tensor cores cannot use a reduction this short)."""
        p = self.params
        nbytes = _conv_bytes(op)
        t_mem = nbytes / (p.mem_bandwidth_Bps * p.dwconv_bw_efficiency)
        return self._finish(self._simt_s(op.flops), t_mem, op.flops, nbytes, "fp32",
                            base_overhead=p.dwconv_overhead_s)

    def cost_attention(self, op: Attention) -> Cost:
        p = self.params
        path = pick_compute_path(f"{self.name}: {op.name or op.type}", op.activations, op.kv,
                                 p.ops_per_clk_per_sm)
        nbytes = op.bytes
        if op.q_len == 1:  # decode: read the KV cache
            t_mem = nbytes / (p.mem_bandwidth_Bps * p.attn_decode_bw_efficiency)
            return self._finish(0.0, t_mem, op.flops, nbytes, path,
                                extra_overhead=p.attn_decode_overhead_s)
        bq = bk = 128
        rate_sm = p.ops_per_clk_per_sm[path] * p.max_clock_hz * p.attn_efficiency
        nq, nk = -(-op.q_len // bq), -(-op.kv_len // bk)
        offset = nk - nq  # causal: query block j sees key blocks up to offset + j
        blocks_max = nk if not op.causal else min(nk, offset + nq)
        total_blocks = nq * nk if not op.causal else sum(min(nk, offset + j + 1) for j in range(nq))
        ctas = op.batch * op.heads * nq
        per_block = 4 * bq * bk * op.head_dim / rate_sm
        t_core = max(op.batch * op.heads * total_blocks * per_block / p.sms,
                     blocks_max * per_block) + -(-ctas // p.sms) * p.tile_overhead_s
        t_mem = nbytes / (p.mem_bandwidth_Bps * p.mem_efficiency)
        return self._finish(t_core, t_mem, op.flops, nbytes, path, extra_overhead=p.attn_overhead_s)

    def _memory_kernel(self, op: Op, reduction: bool = False) -> Cost:
        """One streaming kernel: operand bytes at achievable bandwidth (row reductions such as
        norms and softmax at a further fitted fraction of it) plus a small fixed time."""
        p = self.params
        nbytes = op.bytes
        t_core = self._simt_s(op.flops)
        eff = p.mem_efficiency * (p.reduction_bw_efficiency if reduction else 1.0)
        bpc = _train_rate(p.train_kernel_bytes_per_clk_per_sm, getattr(op, "fn", ""))
        if bpc > 0:  # a training kernel's SM-side limit (TRAIN_KERNEL_BYTES_PER_CLK_PER_SM)
            t_core = max(t_core, nbytes / (p.sms * p.max_clock_hz * bpc))
        t_mem = nbytes / (p.mem_bandwidth_Bps * eff)
        cls = sm_power_class(getattr(op, "fn", ""), reduction)
        return self._finish(t_core, t_mem, 0, nbytes, "fp32",
                            base_overhead=p.reduction_overhead_s if reduction
                            else p.memkernel_overhead_s,
                            sm_power_w=p.memkernel_sm_power_w.get(cls, 0.0) if cls else 0.0)

    cost_vector = cost_elementwise = _memory_kernel

    def cost_norm(self, op: Op) -> Cost:
        return self._memory_kernel(op, reduction=True)

    cost_softmax = cost_norm

    def cost_embedding(self, op: Embedding) -> Cost:
        return self._memory_kernel(op)

    # ------------------------------------------------------------------ bit-level GEMM

    def bitlevel_gemm(self, M: int, N: int, K: int, w_bits: int, a_bits: int) -> Cost:
        """An arbitrary-precision wXaY GEMM as X*Y one-bit GEMMs on the binary tensor-core path
        (AND/XOR + popcount, APNN-TC style) plus a shift-add reduction of the int32 partials."""
        p = self.params
        if "int1" not in p.ops_per_clk_per_sm:
            raise UnsupportedError(f"{self.name}: no binary tensor-core path (int1); bit-level "
                                   "decomposition needs one (A100 has it, Hopper does not)")
        planes = w_bits * a_bits
        t_tiles, _ = self.gemm_time(M, N, K, "int1", groups=planes)
        nbytes = (M * K * a_bits + K * N * w_bits) / 8 + M * N * 4
        t_red = planes * M * N * 4 * 2 / (p.mem_bandwidth_Bps * p.mem_efficiency)
        t_mem = nbytes / (p.mem_bandwidth_Bps * p.mem_efficiency) + t_red
        return self._finish(t_tiles, t_mem, 2 * planes * M * N * K, nbytes, "int1")
