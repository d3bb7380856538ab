"""Multi-core CPU running quantized LLM kernels with NEON / AVX2 / AVX-512 (family ``cpu``).

Two kernel styles for low-bit weights (``kernel`` parameter):

* ``"dequant"`` (llama.cpp): each weight block is unpacked to int8 (or converted to float) and
  multiplied with int8-quantized activations by dot-product instructions (SDOT on NEON,
  VPMADDUBSW + VPMADDWD on AVX2, VPDPBUSD on AVX-512 VNNI), then scaled per block.
* ``"lut"`` (T-MAC, Wei et al. EuroSys'25): for each group of g = 4 activations a 16-entry table of
  all signed sums is precomputed; each *bit-plane* of the weights supplies 4-bit indices, and one
  TBL (NEON) / PSHUFB (x86) looks up 16 (128-bit) rows at once. Work grows linearly with the weight
  bits and has no multiplications.

Per op, with ``threads`` cores splitting the output rows:

    t = max(t_compute, t_memory) + op_overhead_s + (threads > 1) * barrier_s

* ``t_compute``: vector work of the kernel in 128-bit *lane-instructions* per weight (``KERNELS``:
  our count of the kernels' inner loops, split into dot-product, table-lookup and other vector
  instructions), executed by ``simd_pipes`` pipes of ``simd_bits`` each (lookups only on
  ``lookup_pipes``, dot products only on ``dot_pipes``, x86 AVX2 needs ``dot_instructions = 2`` per
  dot) at ``clock_hz``, times 1 / ``kernel_efficiency[kernel]`` (the fraction of that ideal
  issue rate the real end-to-end run achieves: stalls, scalar work, the loop overhead the count
  leaves out). The efficiency is the only fitted quantity of the speed model: see
  ``KERNEL_EFFICIENCY`` and the presets' ``kernel_efficiency`` for the rows that fitted it.
* ``t_memory``: operand bytes (each once; decode streams every weight once per token) over
  ``min(threads * core_bandwidth_Bps, clusters * cluster_bandwidth_Bps, cpu_bandwidth_Bps)``: one
  core cannot saturate DRAM (limited outstanding misses), a cluster of cores shares one interface
  to the fabric (threads fill a cluster before the next), and the CPU reaches only part of the
  SoC's DRAM peak.

Energy: ``t * (idle_power_w + threads * core_power_w)`` (ggml worker threads spin between ops, so a
used core is busy the whole time) + lane-instructions x ``lane_op_energy_pj`` + DRAM bytes x
``dram_pj_per_bit``.

>>> import hwsim
>>> hw = hwsim.load_arch("m2-ultra", threads=1, kernel="lut")
>>> c = hw.cost(hwsim.ops.Gemm(M=1, N=4096, K=4096, weights="int2_g128", activations="int8"))
>>> str(c.bound)
'compute'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from ... import formats as _formats
from ...errors import UnsupportedError
from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary,
                         Params, TimeParts)

# Vector work of one kernel per 32 weights of a dot product, in 128-bit lane-instructions:
# (dot-product, table-lookup, other). Our count of the inner loops of llama.cpp's NEON
# ggml_vec_dot_<type>_q8_<type> (ggml-quants.c, b2794 era) and T-MAC's LUT kernel; loads count as
# "other" (they issue on load pipes that sit beside the vector pipes, but occupy issue slots).
#   q8_0: 2 weight loads, 2 activation loads, 2 SDOT, int->float convert, FMA by d_w*d_a
#   q4_0: 1 weight load, AND + SHR (nibbles), 2 subtract-8, 2 act loads, 2 SDOT, convert, FMA
#   q4_k: as q4_0 without the subtract, plus 6-bit scale/min unpacking and the min correction
#         with the activation block sums (~2.5 per 32 over the 256-element super-block)
#   q2_k: NEON ggml_vec_dot_q2_K_q8_K, counted instruction by instruction per 256-weight
#         super-block: scales/mins (1 load, AND, store to aux, USHR), min correction with the
#         activation bsums (2 loads, 2 UXTL, 4 SMULL, 3 ADD, 1 ADDV) = 16; 2 x 32-byte weight loads
#         = 4; then per 16-weight sub-block (16 of them): act load, SDOT into a zeroed register
#         (MOVI), AND (+ USHR for 12 of 16), ADDV of the 4 lanes and UMOV to a general register for
#         the scalar MADD by the sub-block's 4-bit scale = 6 (+0.75): 16 + 4 + 16 x 6 + 12 = 128
#         -> 2 dot + 14 other per 32. The per-sub-block ADDV + UMOV (4 per 32 weights) are what
#         Q4_0 (one FMA per 32-block, no horizontal add) does not pay. The MADD chain on isum (16
#         per super-block) restarts every super-block, so out-of-order cores overlap it: issue, not
#         latency, bounds it (checked: M2's measured Q2_K/Q4_0 1-thread token-time ratio, 1.48,
#         against 16/11 = 1.45 per weight here, both rows compute-bound).
#         AVX2 (x86): the same kernel applies the scales with VPMADDWD on whole vectors and has no
#         per-sub-block horizontal add: the NEON count without the ADDV + UMOV pair, 2 + 10 per 32
#         (_X86_KERNELS)
#   q3_k: q2_k plus the high-bit mask (load, AND/compare, subtract per 64 weights, ~28 per 256)
#   q6_k: 4-bit + 2-bit parts (two loads, 2 AND/SHR, OR), subtract 32, SDOT, int8 scales
#   iq4_nl: NEON ggml_vec_dot_iq4_nl_q8_0 (T-MAC's llama.cpp fork at its profiling commit
#         0358ebc1, ggml-quants.c): as q4_0 (1 weight load, AND + SHR, 2 act loads, 2 SDOT, convert,
#         FMA by d_w*d_a) with the 2 subtract-8 replaced by 2 TBL lookups into the 16-level table and
#         one ADDV per block (the block sum is reduced to a scalar before the scale) = 2 + 2 + 8;
#         llama.cpp PR #5590 states IQ4_NL "almost the same" CPU speed as Q4_0 (12 vs 11 here)
#   fp16: 4 weight loads + 4 activation loads + 4 FMA (fp16 arithmetic, 8 lanes); fp32: double
# The LUT kernel per weight bit-plane: one TBL/PSHUFB looks up 16 rows x g = 4 weights (64
# weight-bits per 128-bit lookup); per lookup: 0.5 index load (16 bytes hold 32 indices), 1 AND or
# SHR nibble split, 1 pairwise widening accumulate (SADALP: 16 int8 into 8 int16 accumulators;
# T-MAC without fast aggregation, the setting of its tables).
KERNELS: dict[str, tuple[float, float, float]] = {
    "q8_0": (2, 0, 6), "q4_0": (2, 0, 9), "q4_k": (2, 0, 9.5), "q2_k": (2, 0, 14),
    "q3_k": (2, 0, 12.9), "q6_k": (2, 0, 11), "iq4_nl": (2, 2, 8), "fp16": (0, 0, 12),
    "fp32": (0, 0, 24),
}
# x86 (AVX2 / AVX-512) kernels whose count differs from the NEON one above (see q2_k)
_X86_KERNELS: dict[str, tuple[float, float, float]] = {"q2_k": (2, 0, 10)}


def _kernel_of(path: str) -> str:
    """The kernel (``lut`` or ``dequant``) of a compute path named by ``CPU.kernel_work``
    (``lut-wN`` / ``dequant-<type>``)."""
    return path.split("-", 1)[0]
LUT_PER_WEIGHT_BIT = (0.0, 1 / 64, 2.5 / 64)  # (dot, lookup, other) lane-instructions
LUT_GROUP = 4  # activations per table (T-MAC g = 4: 16 entries fit one 128-bit register of int8)

# Default for presets without their own fit (xeon-8480, and dequant on surface-laptop-7): the
# M2-Ultra fit. Each T-MAC device preset carries its own kernel_efficiency, solved by
# hwsim/families/cpu/fit.py on that device's W4 1-thread row of each kernel (T-MAC
# docs/profiling_data.md; rows in hwsim/families/cpu/checks.py FIT_PARAMS, kind="consistency"); every
# other row of the table is a validation check.
KERNEL_EFFICIENCY = {"dequant": 0.93, "lut": 0.94}

# ggml's per-node synchronisation, core cycles per worker thread per op (threads > 1). FITTED on
# one row: M2-Ultra llama.cpp Llama-2-7B W4 at 8 threads (T-MAC docs/profiling_data.md, 31.57
# tok/s; checks.FIT_PARAMS), with M2's bandwidth taken from its sources instead of fitted. Presets
# without a multi-thread row of their own use this value: it is counted in cycles because the
# barrier's spin/atomic code and the last thread's serial INIT run at the core clock. Every other
# multi-thread row (Orin 12 threads, Pi 5 2 threads, Surface Book 3 4 threads, T-MAC at any
# thread count) is held out.
SYNC_CYCLES_PER_THREAD = 9192.0

# Which llama.cpp kernel a hwsim weight format runs with kernel="dequant" (kind, bits) -> type
_DEQUANT_OF = {("int", 8): "q8_0", ("group", 8): "q8_0", ("group", 4): "q4_0", ("int", 4): "q4_0",
               ("group", 3): "q3_k", ("group", 2): "q2_k", ("int", 2): "q2_k",
               ("ternary", 2): "q2_k", ("binary", 1): "q2_k"}
_LUT_KINDS = ("int", "group", "ternary", "binary", "gguf")
_LUT_SUPPORTED = ("intN / uintN / intN_gK with N <= 4, ternary, binary, q2_k, q3_k, q4_0, q4_k")


@dataclass(frozen=True)
class CPUCostDetail(CostDetail):
    """The CPU model's own numbers about one op."""

    lane_instructions: float  # 128-bit vector lane-instructions issued (dynamic energy's count)
    dram_bytes: float         # operand bytes read from / written to DRAM, each once
    bandwidth_Bps: float      # achievable DRAM bandwidth at this thread count
    barrier_s: float          # the thread barrier's share of overhead_s (0 on one thread)


class CPUParams(Params):
    renamed: ClassVar[dict[str, str]] = {"frequency_hz": "clock_hz"}

    isa: Literal["neon", "avx2", "avx512"]
    cores: int = Field(gt=0, description="cores the threads run on (performance cores)")
    threads: int = Field(default=1, gt=0, description="worker threads, one per core")
    kernel: Literal["dequant", "lut"] = "dequant"
    clock_hz: float = Field(gt=0, description="sustained core clock")
    simd_bits: Literal[128, 256, 512]
    simd_pipes: int = Field(gt=0, description="vector instructions issued per cycle per core")
    lookup_pipes: int = Field(gt=0, description="pipes executing TBL / PSHUFB")
    dot_pipes: int = Field(gt=0, description="pipes executing SDOT / VPMADDUBSW / VPDPBUSD")
    dot_instructions: int = Field(default=1, gt=0, description="instructions per int8 dot step "
                                  "(AVX2: VPMADDUBSW + VPMADDWD = 2)")
    l1d_bytes: int = Field(gt=0)
    l2_bytes: int = Field(gt=0)
    llc_bytes: int = Field(ge=0)
    mem_bandwidth_Bps: float = Field(gt=0, description="DRAM peak (datasheet)")
    cpu_bandwidth_Bps: float = Field(gt=0, description="achievable by the CPU cores together")
    cluster_cores: int = Field(gt=0, description="cores sharing one cluster interface (L2)")
    cluster_bandwidth_Bps: float = Field(gt=0, description="achievable by one cluster")
    core_bandwidth_Bps: float = Field(gt=0, description="achievable by one core")
    op_overhead_s: float = Field(ge=0, description="fixed time per op (dispatch, tails)")
    barrier_s: float = Field(ge=0, description="thread barrier per op when threads > 1")
    sync_cycles_per_thread: float = Field(
        default=SYNC_CYCLES_PER_THREAD, ge=0, le=1e6, description="per op and per worker thread when threads > 1: core "
        "cycles of ggml's per-node synchronisation (see SYNC_CYCLES_PER_THREAD; <= 1e6 = the "
        "calibration's bracket)")
    kernel_efficiency: dict[str, float] = Field(default_factory=lambda: dict(KERNEL_EFFICIENCY))
    idle_power_w: float = Field(ge=0)
    core_power_w: float = Field(ge=0, description="power of one busy core beyond idle")
    lane_op_energy_pj: float = Field(ge=0, description="dynamic energy per 128-bit lane-instruction")
    dram_pj_per_bit: float = Field(ge=0)
    fit_source: str = ""

    @field_validator("threads")
    @classmethod
    def _threads_fit(cls, v: int, info: ValidationInfo) -> int:
        cores = info.data.get("cores")
        if cores is not None and v > cores:
            raise ValueError(f"threads = {v} exceeds cores = {cores}: one worker thread per core")
        return v

    @field_validator("kernel_efficiency")
    @classmethod
    def _eff(cls, v: dict) -> dict:
        for k, e in v.items():
            if k not in ("dequant", "lut") or not 0 < e <= 1:
                raise ValueError(f"kernel_efficiency[{k!r}] = {e}: keys dequant/lut, values in (0, 1]")
        return v


class CPU(Accelerator):
    """Analytical multi-core SIMD CPU. See the module docstring for the equations."""

    family = "cpu"
    Params = CPUParams

    @cached_property
    def _lanes(self) -> float:
        return self.params.simd_bits / 128  # 128-bit lane-instructions per vector instruction

    def summary(self) -> HardwareSummary:
        """DRAM peak (datasheet) as the memory bandwidth; the model bounds no memory capacity."""
        p = self.params
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=p.mem_bandwidth_Bps, mem_capacity_bytes=None,
                               idle_power_w=p.idle_power_w)

    def int8_dot_ops_per_s(self) -> float:
        """int8 dot-product instruction ops/s of all used cores (1 MAC = 2 ops; 16 MACs per
        128-bit SDOT): the ISA's figure, not what a quantized kernel reaches."""
        p = self.params
        return 2 * 16 * self._lanes * p.dot_pipes / p.dot_instructions * p.clock_hz * p.threads

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """Peak ops/s (2 per MAC) of a GEMM with these weights on the preset's kernel and
        threads: the kernel's ideal issue rate (:meth:`cycles_per_weight` without the fitted
        ``kernel_efficiency``, and without T-MAC's per-token table precompute). Activations do
        not change it: both kernels quantize them to int8 on the fly. UnsupportedError where the
        kernel has no code for the weights."""
        _formats.get(activations)  # an unknown name is an error, as elsewhere
        p = self.params
        return 2 * p.clock_hz * p.threads / self._ideal_cycles_per_weight(weights)

    # ------------------------------------------------------------------ kernel work

    def kernel_work(self, weights: str) -> tuple[tuple[float, float, float], str]:
        """Lane-instructions per weight (dot, lookup, other) and the kernel's name
        (``lut-wN`` or ``dequant-<llama.cpp type>``)."""
        p, f = self.params, _formats.get(weights)
        if p.kernel == "lut":
            if f.kind in _LUT_KINDS and f.bits <= 4 and not f.is_float:
                bits = f.bits
                return tuple(bits * x for x in LUT_PER_WEIGHT_BIT), f"lut-w{bits}"
            # T-MAC runs inside llama.cpp: only its I1-I4 tensors go to the table lookup; every
            # other tensor (fp16 embeddings / LM heads of its conversions, q8_0 ...) runs ggml's
            # own kernel (T-MAC's llama.cpp fork kaleid-liner/llama.cpp at 0358ebc1, ggml-tmac.cpp:
            # ggml_tmac_can_mul_mat holds only for its I2 and Q4_0 tensors)
            if f.name in KERNELS:
                return self._dequant_work(f.name)
            raise UnsupportedError(
                f"{self.name}: kernel='lut' (T-MAC table lookup) runs 1-4-bit integer weights "
                f"({_LUT_SUPPORTED}) and, through llama.cpp, {', '.join(sorted(KERNELS))}; "
                f"got weights={weights}. Use kernel='dequant' for it")
        key = f.name if f.name in KERNELS else (
            f.compute_key if f.compute_key in KERNELS else _DEQUANT_OF.get((f.kind, f.bits)))
        if key is None or key not in KERNELS:
            raise UnsupportedError(
                f"{self.name}: kernel='dequant' (llama.cpp) has no kernel for weights={weights}; "
                f"it runs {', '.join(sorted(KERNELS))} and int8, intN_gK (N = 2, 3, 4, 8), "
                "ternary, binary (as the nearest llama.cpp type)")
        return self._dequant_work(key)

    def _dequant_work(self, key: str) -> tuple[tuple[float, float, float], str]:
        counts = _X86_KERNELS.get(key, KERNELS[key]) if self.params.isa != "neon" else KERNELS[key]
        return tuple(x / 32 for x in counts), f"dequant-{key}"

    def _ideal_cycles_per_weight(self, weights: str) -> float:
        """Core cycles per weight at the pipes' full issue rate (the busiest pipe class)."""
        return self._ideal_cycles(self.kernel_work(weights)[0])

    def _ideal_cycles(self, work: tuple[float, float, float]) -> float:
        p = self.params
        dot, look, other = work
        dot *= p.dot_instructions
        lanes = self._lanes
        return max((dot + look + other) / (p.simd_pipes * lanes), dot / (p.dot_pipes * lanes),
                   look / (p.lookup_pipes * lanes))

    def cycles_per_weight(self, weights: str) -> float:
        """Core cycles per weight of one token's dot products, at the kernel's fitted efficiency."""
        return self._cycles(*self.kernel_work(weights))

    def _cycles(self, work: tuple[float, float, float], path: str) -> float:
        # the kernel that runs, not the preset's: a lut preset's fp16 head runs dequant
        kernel = _kernel_of(path)
        return self._ideal_cycles(work) / self.params.kernel_efficiency.get(
            kernel, KERNEL_EFFICIENCY[kernel])

    def sync_s(self) -> float:
        """Synchronisation per op on ``threads`` > 1 threads: the fixed barrier plus
        ``sync_cycles_per_thread`` per thread at the core clock (ggml b2794 joins all threads
        after every graph node on one atomic counter: each arrival bounces one cache line, the
        last thread runs the next node's serial INIT (activation quantization) while the others
        spin, so the cost grows with the threads and runs at core speed)."""
        p = self.params
        if p.threads == 1:
            return 0.0
        return p.barrier_s + p.threads * p.sync_cycles_per_thread / p.clock_hz

    def bandwidth_Bps(self) -> float:
        p = self.params
        clusters = -(-p.threads // p.cluster_cores)  # threads fill one cluster before the next
        return min(p.threads * p.core_bandwidth_Bps, clusters * p.cluster_bandwidth_Bps,
                   p.cpu_bandwidth_Bps)

    # ------------------------------------------------------------------ costs

    def _finish(self, t_c: float, nbytes: float, lane_ops: float, ops: float, path: str,
                peak: float, parallel: bool = True) -> Cost:
        """Roofline plus fixed overheads; ``peak``: ops/s of the datapath the op ran on."""
        p = self.params
        bw = self.bandwidth_Bps()
        t_m = nbytes / bw
        barrier = self.sync_s() if parallel else 0.0
        over = p.op_overhead_s + barrier
        t = max(t_c, t_m) + over
        bound = Bound.COMPUTE if t_c >= t_m else Bound.MEMORY
        if max(t_c, t_m) < over:
            bound = Bound.OVERHEAD
        e_static = t * (p.idle_power_w + p.threads * p.core_power_w)
        e_dyn = lane_ops * p.lane_op_energy_pj * 1e-12
        e_dram = nbytes * 8 * p.dram_pj_per_bit * 1e-12
        return Cost(latency_s=t, energy_j=e_static + e_dyn + e_dram, bound=bound,
                    utilization=ops / t / peak if t > 0 else 0.0, compute_path=path,
                    time=TimeParts(compute_s=t_c, memory_s=t_m, overhead_s=over),
                    energy=EnergyParts(compute_j=e_dyn, offchip_j=e_dram, static_j=e_static),
                    detail=CPUCostDetail(lane_instructions=lane_ops, dram_bytes=nbytes,
                                         bandwidth_Bps=bw, barrier_s=barrier))

    def _gemm(self, op: Op, M: int, N: int, K: int, groups: int, weights: str) -> Cost:
        p = self.params
        work, path = self.kernel_work(weights)
        cyc = self._cycles(work, path)
        rows_per_thread = -(-groups * N // p.threads)  # output rows split over the threads
        t_c = M * rows_per_thread * K * cyc / p.clock_hz
        if _kernel_of(path) == "lut":  # tables: per token, K/g groups x 16 int8 entries (~2 ops each / 16 lanes)
            t_c += M * K / LUT_GROUP * 2 / (p.simd_pipes * self._lanes) / p.clock_hz
        lane_ops = M * groups * N * K * sum(work)
        return self._finish(t_c, op.bytes, lane_ops, 2 * M * N * K * groups, path,
                            self.peak_ops_per_s(op.activations, weights))

    def cost_gemm(self, op: Gemm) -> Cost:
        return self._gemm(op, op.M, op.N, op.K, op.groups, op.weights)

    def cost_conv2d(self, op: Conv2d) -> Cost:
        g = op.as_gemm()
        return self._gemm(op, g.M, g.N, g.K, g.groups, op.weights)

    def _fp32_rate(self) -> float:
        """fp32 FMA flops/s of the used cores (simd_pipes FMA pipes of simd_bits)."""
        p = self.params
        return p.simd_pipes * p.simd_bits / 32 * 2 * p.clock_hz * p.threads

    def cost_attention(self, op: Attention) -> Cost:
        """QK^T, softmax and PV at the fp32 vector rate, KV cache streamed once."""
        t_c = op.flops / self._fp32_rate()
        lane_ops = op.flops / 8  # 4 fp32 lanes x 2 flops per 128-bit FMA
        return self._finish(t_c, op.bytes, lane_ops, op.flops, "fp32-vector", self._fp32_rate())

    def _vector(self, op: Op) -> Cost:
        t_c = op.flops / self._fp32_rate()
        return self._finish(t_c, op.bytes, op.flops / 4, op.flops, "fp32-vector", self._fp32_rate())

    cost_vector = _vector

    def cost_embedding(self, op: Op) -> Cost:  # a row copy on one thread
        return self._finish(0.0, op.bytes, op.bytes / 16, 0, "copy", self._fp32_rate(),
                            parallel=False)
