"""Microcontroller SIMD cores (family ``mcu``): Cortex-M4/M7/M33 with the DSP extension, Cortex-M55/M85
with Helium (MVE), and PULP-class RISC-V clusters (8 cores, XpulpV2 SIMD, FP16 SIMD, shared FPUs, L1
TCDM fed by DMA from L2).

Kernel-level cycle model. Every GEMM-like op (Gemm, Conv2d as im2col + GEMM, depthwise conv as one
GEMM per channel, attention as two batched GEMMs) runs the inner loop of the library kernel for
its ISA and formats (:data:`RECIPES`, instruction counts per iteration read off the kernels'
structure: CMSIS-NN ``arm_nn_mat_mult_kernel_s8_s16`` / ``_s16`` / ``arm_nn_mat_mult_nt_t_s8``,
PULP-NN and PULP-TrainLib ``mm`` / ``mm_fp16_SIMD``). An iteration's cycles follow from per-
instruction costs of the preset (TRM numbers: load, SIMD MAC, FMA, taken branch) and the issue
model of the core:

* single-issue scalar (M4, M33, PULP RI5CY): the sum of the instruction cycles;
* dual-issue (M7, M85 scalar side): max(instructions / 2, MAC-pipe cycles, load-pipe cycles);
* Helium (M55, M85): vector instructions take 4 / beats cycles of their unit; loads overlap with
  MAC/ALU instructions (beat-wise overlap), so max(load unit, MAC+ALU unit);
* PULP: FP instructions of ``cores`` cores share ``fpus`` FPUs: max(issue, fp_instr * cores / fpus).

On top: tails (tiles padded to the kernel's register tile), per-output work (requantization or
FP stores and SIMD-lane reductions), im2col (CMSIS-NN expands int8 to int16 there), loop
overhead unless the core has zero-overhead loops, multi-core split of the tiles (whole tiles per
core) and a fork/barrier per kernel. PULP operands stream between L2 and L1 by DMA, double-
buffered (latency = max(compute, DMA)).

Memory: weights live in ``weight_memory`` (flash or L2), activations in SRAM (L2 for PULP). Each
op checks that its working set fits (UnsupportedError naming memory, need and size);
:func:`memory_plan` computes the peak of a whole schedule (live tensors, skip connections) and
:func:`check_fit` raises ConfigError when a workload does not fit.

Energy: datasheet run-mode current per MHz times supply voltage times time (the MCU draws that
current whatever its kernels do, a datasheet-level model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import Field

from ... import formats as _formats
from ...errors import ConfigError, UnsupportedError
from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...contract import LegacyDetail, AcceleratorBase, Cost, Params

KiB = 1024


class MCUParams(Params):
    isa: Literal["dsp", "mve", "xpulp"] = Field(
        description="dsp: Armv7E-M/Armv8-M DSP extension (M4, M7, M33); mve: Helium (M55, M85); "
                    "xpulp: PULP RISC-V cluster (RI5CY/CV32E40P with XpulpV2 + FP16 SIMD)")
    core: str = Field(description="core name, for reports (cortex-m7, ri5cy ...)")
    frequency_hz: float = Field(gt=0)
    cores: int = Field(default=1, ge=1, description="cores running a kernel in parallel")
    fpus: int = Field(default=1, ge=0, description="FPUs (shared by the cores on PULP); 0: none")
    fp_formats: list[Literal["fp32", "fp16"]] = Field(
        default_factory=list, description="float formats the FPU computes in (MVE-F / FP16 SIMD)")
    issue_width: int = Field(default=1, ge=1, le=2, description="scalar instructions per cycle")
    load_cycles: float = Field(default=1.0, gt=0, description="a 32-bit load inside a run of loads")
    load_run_extra_cycles: float = Field(default=0.0, ge=0,
                                         description="extra cycles of the first load of a run")
    mac_cycles: float = Field(default=1.0, gt=0, description="SMLAD / sdotp issue cycles")
    fma_cycles: float = Field(default=1.0, gt=0, description="scalar FP fused MAC issue cycles")
    branch_cycles: float = Field(default=1.0, ge=0, description="a taken loop branch")
    zero_overhead_loops: bool = Field(default=False,
                                      description="hardware loops (PULP lp.setup, Armv8.1-M LE)")
    mve_beats_per_cycle: int = Field(default=0, ge=0, le=4,
                                     description="Helium beats per cycle (0: no Helium)")
    fork_cycles: float = Field(default=0.0, ge=0, description="parallel fork + barrier per kernel")
    # memory
    sram_bytes: int = Field(gt=0, description="activation memory (PULP: L2)")
    weight_memory: Literal["flash", "sram", "l2"] = "flash"
    weight_memory_bytes: int = Field(gt=0, description="bytes of the memory holding the weights")
    l1_bytes: int | None = Field(default=None, gt=0, description="PULP cluster L1 TCDM")
    dma_bytes_per_cycle: float | None = Field(default=None, gt=0, description="L2 <-> L1 DMA")
    # energy
    supply_v: float = Field(gt=0)
    run_current_a_per_hz: float = Field(gt=0, description="datasheet run-mode current per Hz")


@dataclass(frozen=True)
class Recipe:
    """One inner-loop iteration of a GEMM kernel: a ``tile_m`` x ``tile_n`` register tile advanced
    by ``k_step`` along K, with its instruction counts by class, and the work per output."""

    name: str
    tile_m: int
    tile_n: int
    k_step: int
    loads: float
    unpack: float = 0.0
    mac: float = 0.0      # integer SIMD MAC instructions (SMLAD, pv.sdotsp)
    fma: float = 0.0      # FP MAC instructions (VFMA.F32, fmadd.s, vfmac.h)
    vector: bool = False  # Helium instructions: each takes 4 / beats cycles of its unit
    per_output: float = 8.0   # instructions per output element (requantize/store/reduce)
    im2col_per_elem: float = 1.0  # instructions per im2col'd element (0: none needed)

    @property
    def macs(self) -> int:
        return self.tile_m * self.tile_n * self.k_step


# Unpack instructions to turn 4 packed weights into SIMD operands, by weight bits (DSP):
# int8: SXTB16 + SXTB16 ROR#8 (CMSIS-NN read_and_pad); int4: two more shifts to move nibbles into
# byte lanes before them (our count of CMSIS-NN's s4 unpacking); 2-bit: two more again (assumption).
_DSP_UNPACK_PER4 = {8: 2.0, 4: 4.0, 2: 6.0}


def _recipe(isa: str, a_bits: int, w_bits: int, fp: str | None) -> Recipe:
    """The kernel's inner loop for operand widths (activations a_bits, weights w_bits) or an FP
    format ``fp``. Instruction counts are ours, read off the kernels named in the module doc."""
    wb = 8 if w_bits > 4 else (4 if w_bits > 2 else 2)
    if isa == "dsp":
        if fp == "fp32":   # CMSIS-DSP style 2x2 register tile, one K per iteration
            return Recipe("cmsis-f32", 2, 2, 1, loads=4, fma=4, per_output=2, im2col_per_elem=2)
        if a_bits > 8 or w_bits > 8:   # arm_nn_mat_mult_kernel_s16: 2 rows x 2 cols x 2 words
            return Recipe("cmsis-s16", 2, 2, 4, loads=8, mac=8, per_output=10, im2col_per_elem=1)
        # arm_nn_mat_mult_kernel_s8_s16: 2 out-channels x 2 pixels, 4 K: 2 weight words (4 int8
        # each; int4: one word for both rows) + 4 im2col q15 words, unpack, 8 SMLAD = 16 MACs;
        # im2col expands int8 -> q15 (arm_q7_to_q15_with_offset: LDR, 2 SXTAB16, PKHBT x2, 2 STR
        # per 4 elements = 7/4 instructions per element)
        loads = 4 + (2 if wb == 8 else 1)
        return Recipe(f"cmsis-s8-w{wb}", 2, 2, 4, loads=loads, unpack=2 * _DSP_UNPACK_PER4[wb],
                      mac=8, per_output=10, im2col_per_elem=7 / 4)
    if isa == "mve":
        # arm_nn_mat_mult_nt_t_s8 (MVE): 4 weight rows x 1 column; a VLDRB.8 of the column and of
        # each row, a VMLADAVA.S8 per row (16 MACs each); int4 weights: half the loaded bytes and
        # 2 VSHL/VSHR per row vector to sign-extend nibbles (our count)
        if fp is not None:
            lanes = 8 if fp == "fp16" else 4   # VFMA.F16 / VFMA.F32 lanes per 128-bit vector
            return Recipe(f"mve-{fp}", 1, 4, lanes, loads=5, fma=4, vector=True, per_output=3,
                          im2col_per_elem=2 / lanes)
        if a_bits > 8 or w_bits > 8:   # VMLALDAVA.S16: 8 MACs per instruction
            return Recipe("mve-s16", 1, 4, 8, loads=5, mac=4, vector=True, per_output=4,
                          im2col_per_elem=2 / 8)
        loads = 1 + (4 if wb == 8 else 2 if wb == 4 else 1)
        return Recipe(f"mve-s8-w{wb}", 1, 4, 16, loads=loads, unpack=0 if wb == 8 else 8 if wb == 4
                      else 12, mac=4, vector=True, per_output=4, im2col_per_elem=2 / 16)
    # xpulp (PULP-NN 4 out-channels x 2 pixels over 4 K: 4 weight words + 2 activation words,
    # 8 pv.sdotsp.b = 32 MACs; int4 weights: 2 instructions per weight word half to unpack nibbles,
    # our count; PULP-TrainLib mm: 2x2 tile, fp32 one K per iteration (4 flw + 4 fmadd.s), fp16 two
    # K per 32-bit word (4 lw + 4 vfmac.h), plus a lane reduction per output)
    if fp == "fp32":
        return Recipe("trainlib-fp32", 2, 2, 1, loads=4, fma=4, per_output=2, im2col_per_elem=4)
    if fp == "fp16":
        return Recipe("trainlib-fp16simd", 2, 2, 2, loads=4, fma=4, per_output=4,
                      im2col_per_elem=4)
    if a_bits > 8 or w_bits > 8:
        return Recipe("pulpnn-s16", 2, 4, 2, loads=6, mac=8, per_output=6, im2col_per_elem=1)
    return Recipe(f"pulpnn-s8-w{wb}", 2, 4, 4, loads=2 + (4 if wb == 8 else 2),
                  unpack=0 if wb == 8 else 8 if wb == 4 else 12, mac=8, per_output=6,
                  im2col_per_elem=1)


@dataclass(frozen=True)
class KernelCycles:
    """Cycles of one GEMM-like kernel on the whole core/cluster, by component."""

    inner: float
    output: float
    im2col: float
    overhead: float
    dma: float
    recipe: str
    macs: int

    @property
    def compute(self) -> float:
        return self.inner + self.output + self.im2col + self.overhead

    @property
    def total(self) -> float:
        return max(self.compute, self.dma)


class MCU(AcceleratorBase):
    family = "mcu"
    Params = MCUParams

    # ------------------------------------------------------------------ figures of merit

    @cached_property
    def power_w(self) -> float:
        p = self.params
        return p.supply_v * p.run_current_a_per_hz * p.frequency_hz

    def peak_macs_per_cycle(self, activations: str = "int8", weights: str = "int8") -> float:
        """Inner-loop MACs per cycle of the whole core/cluster (no tails, no overheads)."""
        r = self._recipe_for(activations, weights, "peak")
        return self.params.cores * r.macs / self._iter_cycles(r)

    # ------------------------------------------------------------------ kernels

    def _fp_path(self, activations: str, weights: str, where: str) -> str | None:
        a, w = _formats.get(activations), _formats.get(weights)
        p = self.params
        ints = "int8, int16 activations with int2..int16 weights"
        if not a.is_float and not w.is_float:
            if a.bits > 16 or w.bits > 16:
                raise UnsupportedError(f"{where}: {activations} x {weights} on {p.core}: integer "
                                       f"kernels take {ints}")
            return None
        # W-only quantization (int weights, float activations) runs on the float path, weights
        # converted on the fly; two float operands run in the wider one's format
        floats = [f for f in (a, w) if f.is_float]
        fp = max(floats, key=lambda f: f.bits).compute_key
        if fp not in ("fp16", "fp32") or fp not in p.fp_formats or p.fpus == 0:
            have = ", ".join(p.fp_formats) if p.fpus else "no FPU"
            raise UnsupportedError(f"{where}: {activations} x {weights} on {p.core}: float "
                                   f"kernels run in {have}; integer kernels take {ints}")
        return fp

    def _recipe_for(self, activations: str, weights: str, where: str) -> Recipe:
        fp = self._fp_path(activations, weights, where)
        return _recipe(self.params.isa, _formats.get(activations).bits,
                       _formats.get(weights).bits, fp)

    def _iter_cycles(self, r: Recipe) -> float:
        """Cycles of one inner-loop iteration on one core."""
        p = self.params
        loop = 0.0 if p.zero_overhead_loops else 1.0 + p.branch_cycles  # SUBS + taken branch
        if r.vector:
            beat = 4.0 / p.mve_beats_per_cycle
            return max(r.loads * beat, (r.mac + r.fma + r.unpack) * beat) + loop
        loads = r.loads * p.load_cycles + p.load_run_extra_cycles
        mac = r.mac * p.mac_cycles + r.fma * p.fma_cycles
        if p.issue_width == 2:
            cyc = max((r.loads + r.unpack + r.mac + r.fma) / 2, mac, loads)
        else:
            cyc = loads + r.unpack + mac
        if r.fma and p.fpus < p.cores:   # shared FPUs: the cluster's FP instructions queue
            cyc = max(cyc, r.fma * p.fma_cycles * p.cores / p.fpus)
        return cyc + loop

    def kernel_cycles(self, M: int, N: int, K: int, groups: int, activations: str, weights: str,
                      im2col_elems: int = 0, dma_bytes: float = 0.0, where: str = "") -> KernelCycles:
        """Cycles of ``groups`` GEMMs C[M x N] = A[M x K] . B[K x N] (A: activations / im2col
        buffer, B: weights), plus ``im2col_elems`` elements copied into the im2col buffer.

        >>> hw = MCU.from_spec("m4", dict(isa="dsp", core="cortex-m4", frequency_hz=1e8,
        ...     sram_bytes=1 << 17, weight_memory_bytes=1 << 20, supply_v=3.3,
        ...     run_current_a_per_hz=1e-10, load_run_extra_cycles=1, branch_cycles=1), "doc")
        >>> hw.kernel_cycles(2, 2, 4, 1, "int8", "int8").inner   # 6 LDR+1, 4 SXTB16, 8 SMLAD, loop
        21.0
        """
        p = self.params
        r = self._recipe_for(activations, weights, where or self.name)
        tiles_m, tiles_n = -(-M // r.tile_m), -(-N // r.tile_n)
        iters = -(-K // r.k_step)
        per_tile = iters * self._iter_cycles(r)
        # whole tiles per core, split along the dimension that balances better
        tiles = tiles_m * tiles_n * groups
        if p.cores > 1:
            a = -(-tiles_m // p.cores) * tiles_n * groups
            b = tiles_m * -(-(tiles_n * groups) // p.cores)
            per_core_tiles = min(a, b)
        else:
            per_core_tiles = tiles
        inner = per_core_tiles * per_tile
        frac = per_core_tiles / tiles
        output = groups * M * N * frac * r.per_output / (1 if r.vector else p.issue_width)
        im2col = im2col_elems * r.im2col_per_elem * frac * (
            4.0 / p.mve_beats_per_cycle if r.vector else 1.0)
        overhead = p.fork_cycles if p.cores > 1 else 0.0
        dma = dma_bytes / p.dma_bytes_per_cycle if p.dma_bytes_per_cycle else 0.0
        return KernelCycles(inner, output, im2col, overhead, dma, r.name, groups * M * N * K)

    # ------------------------------------------------------------------ memory

    def _fit(self, op: Op) -> None:
        """One op's working set: activations in SRAM, weights in the weight memory."""
        p = self.params
        ob = op.operand_bytes()
        w = ob.get("B", 0.0) if getattr(op, "b_is_weight", True) and op.param_elems else 0.0
        act = sum(ob.values()) - w
        if "in" in ob:   # elementwise / norm / pooling loops run in place (fused in CMSIS-NN/TFLM)
            act = ob["in"]
        if act > p.sram_bytes:
            raise UnsupportedError(
                f"{self.name}: {op.name or op.type} needs {act / KiB:.1f} KiB of SRAM for its "
                f"activations, sram_bytes = {p.sram_bytes / KiB:.0f} KiB")
        if w > p.weight_memory_bytes:
            raise UnsupportedError(
                f"{self.name}: {op.name or op.type} needs {w / KiB:.1f} KiB of {p.weight_memory} "
                f"for its weights, weight_memory_bytes = {p.weight_memory_bytes / KiB:.0f} KiB")

    def _dma_bytes(self, op: Op) -> float:
        """PULP: every operand crosses L2 <-> L1 once (double-buffered tiles of L1 size)."""
        return op.bytes if self.params.l1_bytes else 0.0

    # ------------------------------------------------------------------ cost

    def _finish(self, op: Op, kc: KernelCycles) -> Cost:
        p = self.params
        t = kc.total / p.frequency_hz
        peak = self.params.cores * _recipe(p.isa, 8, 8, None).macs / self._iter_cycles(
            _recipe(p.isa, 8, 8, None))
        return Cost(latency_s=t, energy_j=self.power_w * t,
                    bound="memory" if kc.dma > kc.compute else "compute",
                    utilization=kc.macs / max(kc.total, 1e-30) / peak if kc.macs else 0.0,
                    compute_path=kc.recipe,
                    detail=LegacyDetail({"inner_cycles": kc.inner, "output_cycles": kc.output,
                               "im2col_cycles": kc.im2col, "overhead_cycles": kc.overhead,
                               "dma_cycles": kc.dma, "cycles": kc.total,
                               "macs_per_cycle": kc.macs / kc.total if kc.total else 0.0}))

    def cost_gemm(self, op: Gemm) -> Cost:
        self._fit(op)
        w = op.weights if op.b_is_weight else op.activations
        kc = self.kernel_cycles(op.M, op.N, op.K, op.groups, op.activations, w,
                                dma_bytes=self._dma_bytes(op), where=f"{self.name}: {op.name}")
        return self._finish(op, kc)

    def cost_conv2d(self, op: Conv2d) -> Cost:
        self._fit(op)
        g = op.as_gemm()
        pointwise = op.kernel_h == op.kernel_w == 1 and op.stride == 1 and op.padding == 0
        im2col = 0 if pointwise else g.groups * g.M * g.K
        kc = self.kernel_cycles(g.M, g.N, g.K, g.groups, op.activations, op.weights, im2col,
                                self._dma_bytes(op), where=f"{self.name}: {op.name}")
        return self._finish(op, kc)

    def cost_attention(self, op: Attention) -> Cost:
        self._fit(op)
        bh = op.batch * op.heads
        kv_eff = max(1, round(op.score_pairs / op.q_len))
        where = f"{self.name}: {op.name}"
        dma = self._dma_bytes(op) / 2
        qk = self.kernel_cycles(op.q_len, kv_eff, op.head_dim, bh, op.activations, op.kv,
                                dma_bytes=dma, where=where)
        pv = self.kernel_cycles(op.q_len, op.head_dim, kv_eff, bh, op.activations, op.kv,
                                dma_bytes=dma, where=where)
        soft = self._vector_cycles(bh * op.q_len * kv_eff, 1, 5, op.activations)
        kc = KernelCycles(qk.inner + pv.inner, qk.output + pv.output + soft, 0.0,
                          qk.overhead + pv.overhead, qk.dma + pv.dma, qk.recipe, qk.macs + pv.macs)
        return self._finish(op, kc)

    def _vector_cycles(self, numel: int, inputs: int, flops_per_elem: int, fmt: str) -> float:
        """Elementwise loops: per element its loads, store and arithmetic, SIMD-packed into
        32-bit words (128-bit vectors on Helium) for sub-word formats; split over the cores."""
        p = self.params
        bits = _formats.get(fmt).bits
        if p.isa == "mve":
            lanes, per_instr = max(1, 128 // max(bits, 8)), 4.0 / p.mve_beats_per_cycle
        else:
            lanes, per_instr = max(1, 32 // max(bits, 8)), 1.0 / p.issue_width
        instr = (inputs * p.load_cycles + 1 + flops_per_elem) / lanes
        loop = 0.0 if p.zero_overhead_loops else (1 + p.branch_cycles) / lanes
        return numel * (instr * per_instr + loop) / p.cores + (
            p.fork_cycles if p.cores > 1 else 0.0)

    def _vector(self, op: Op) -> Cost:
        if getattr(op, "fn", "") in ("im2col", "transpose"):
            return self._layout(op)   # tiled through a small buffer (L1): no whole-tensor fit
        self._fit(op)
        fmt = getattr(op, "activations", None) or getattr(op, "out", "int8")
        numel = getattr(op, "numel", None) or getattr(op, "rows", 1) * getattr(op, "cols", 1)
        if hasattr(op, "tokens"):
            numel = op.tokens * op.dim
        inputs = getattr(op, "inputs", 1)
        fpe = max(1, op.flops // max(numel, 1))
        cyc = self._vector_cycles(numel, inputs, fpe, fmt)
        dma = self._dma_bytes(op) / self.params.dma_bytes_per_cycle if self.params.l1_bytes else 0
        return self._finish(op, KernelCycles(0.0, cyc, 0.0, 0.0, dma, "scalar-loop", 0))

    def _layout(self, op: Op) -> Cost:
        """An explicit im2col / transpose copy, at the kernel library's im2col cost per element."""
        p = self.params
        fmt = op.activations
        r = self._recipe_for(fmt, fmt, f"{self.name}: {op.name}")
        cyc = op.numel * r.im2col_per_elem * (4.0 / p.mve_beats_per_cycle if r.vector else 1.0)
        cyc = cyc / p.cores + (p.fork_cycles if p.cores > 1 else 0.0)
        dma = self._dma_bytes(op) / p.dma_bytes_per_cycle if p.l1_bytes else 0.0
        return self._finish(op, KernelCycles(0.0, cyc, 0.0, 0.0, dma, r.name + "-layout", 0))

    cost_vector = _vector


# ---------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class MemoryPlan:
    """Peak memory of running a workload's ops in order: activations live from their producer to
    their last consumer; weights stay resident in the weight memory."""

    peak_activation_bytes: float
    peak_op: str
    weight_bytes: float
    per_op_bytes: tuple[tuple[str, float], ...]


def _out_bytes(op: Op) -> float:
    ob = op.operand_bytes()
    return ob.get("C", ob.get("out", ob.get("O", 0.0)))


def memory_plan(workload) -> MemoryPlan:
    """Live activation bytes at each op of ``workload`` (in its topological order).

    A single-input elementwise or norm op whose input dies there runs in place (its output
    overwrites the input, as TFLM/CMSIS-NN fuse or fold BN and activations), the same rule the
    per-op SRAM check uses."""
    g, ops = workload.graph, workload.ops
    order = {op.name: i for i, op in enumerate(ops)}
    last_use = {n: max((order[s] for s in g.successors(n)), default=order[n]) for n in order}
    live: dict[str, float] = {}
    rows, peak, peak_op = [], 0.0, ""
    first = ops[0].name if ops else ""
    for i, op in enumerate(ops):
        ob = op.operand_bytes()
        preds = list(g.predecessors(op.name))
        ext_in = ob.get("A", ob.get("in", 0.0)) if op.name == first or not preds else 0.0
        out = _out_bytes(op)
        if ("in" in ob and getattr(op, "inputs", 1) == 1 and len(preds) == 1
                and last_use.get(preds[0]) == i and live.get(preds[0], -1.0) >= out):
            del live[preds[0]]   # in place: the output takes the input's buffer
            ext_in = 0.0
        live[op.name] = out
        need = sum(live.values()) + ext_in
        rows.append((op.name, need))
        if need > peak:
            peak, peak_op = need, op.name
        for n in [n for n in live if last_use[n] <= i]:
            del live[n]
    return MemoryPlan(peak, peak_op, workload.weight_bytes, tuple(rows))


def check_fit(workload, hw: MCU) -> MemoryPlan:
    """The memory plan of ``workload`` on ``hw``; ConfigError when it does not fit."""
    plan = memory_plan(workload)
    p = hw.params
    if plan.peak_activation_bytes > p.sram_bytes:
        raise ConfigError(f"{hw.name}: {workload.name} needs {plan.peak_activation_bytes / KiB:.1f}"
                          f" KiB of SRAM for activations (peak at {plan.peak_op}), sram_bytes = "
                          f"{p.sram_bytes / KiB:.0f} KiB")
    if plan.weight_bytes > p.weight_memory_bytes:
        raise ConfigError(f"{hw.name}: {workload.name} needs {plan.weight_bytes / KiB:.1f} KiB of "
                          f"{p.weight_memory} for weights, weight_memory_bytes = "
                          f"{p.weight_memory_bytes / KiB:.0f} KiB")
    return plan


@dataclass(frozen=True)
class PatchCost:
    """Cost of a patch-based schedule on one MCU."""

    latency_s: float
    energy_j: float
    macs: int


@dataclass(frozen=True)
class PatchPlan:
    """Patch-based inference (MCUNetV2, Lin et al., NeurIPS 2021) of a workload's first stage: the
    stage's output split into ``patches`` x ``patches`` spatial tiles, each computed through the
    whole stage from an input tile grown by the receptive-field halo (recomputed where tiles
    overlap, clipped at the image border), then the rest of the network layer by layer."""

    workload: object
    patches: int
    stage_groups: tuple         # ((patch count, one such patch's ops), ...): patches of one size
    rest_ops: tuple             # the ops after the stage, unchanged
    stage_macs: int             # MACs of the stage layer by layer
    recompute_macs: int         # MACs above stage_macs of running every patch
    peak_activation_bytes: float
    peak_where: str             # "patch stage" or the op of the rest with the peak
    layer_peak_activation_bytes: float

    @property
    def n_patches(self) -> int:
        return sum(n for n, _ in self.stage_groups)

    @property
    def stage_ops(self) -> tuple:
        """The ops of the largest patch (an interior one when there is one)."""
        return max(self.stage_groups, key=lambda g: sum(o.macs for o in g[1]))[1]

    @property
    def recompute_fraction(self) -> float:
        """Extra MACs over the stage's own MACs."""
        return self.recompute_macs / self.stage_macs if self.stage_macs else 0.0

    @property
    def network_overhead(self) -> float:
        """Extra MACs over the whole network's MACs (the figure MCUNetV2 reports)."""
        return self.recompute_macs / self.workload.macs if self.workload.macs else 0.0

    def check_fit(self, hw: "MCU") -> None:
        """ConfigError naming the memory, the need and the size when the plan does not fit."""
        p = hw.params
        if self.peak_activation_bytes > p.sram_bytes:
            raise ConfigError(
                f"{hw.name}: {self.workload.name} with {self.patches}x{self.patches} patches needs "
                f"{self.peak_activation_bytes / KiB:.1f} KiB of SRAM for activations (peak at "
                f"{self.peak_where}), sram_bytes = {p.sram_bytes / KiB:.0f} KiB")
        if self.workload.weight_bytes > p.weight_memory_bytes:
            raise ConfigError(
                f"{hw.name}: {self.workload.name} needs {self.workload.weight_bytes / KiB:.1f} KiB "
                f"of {p.weight_memory} for weights, weight_memory_bytes = "
                f"{p.weight_memory_bytes / KiB:.0f} KiB")

    def cost(self, hw: "MCU", precision: "PatchPrecision | None" = None) -> PatchCost:
        """Latency and energy on ``hw``: every patch's stage ops, then the rest; checks the fit
        first (ConfigError), so the per-op SRAM checks see one patch's working set. With
        ``precision`` (QuantMCU), a fraction outlier_patches / n_patches of every patch size runs
        the stage in ``high`` activations and the rest in ``low`` (at the kernels' cost of
        narrower activations: none on CMSIS-NN, which widens int4 activations to the int8 loop)."""
        self.check_fit(hw)
        costs = []
        if precision is None:
            shares = ((1.0, None),)
        else:
            _check_precision(self, precision)
            f = precision.outlier_patches / self.n_patches
            shares = ((f, precision.high), (1.0 - f, precision.low))
        for n, ops in self.stage_groups:
            for share, fmt in shares:
                if share:
                    costs += [(n * share, hw.cost(_with_activations(o, fmt) if fmt else o))
                              for o in ops]
        costs += [(1, hw.cost(o)) for o in self.rest_ops]
        macs = sum(n * sum(o.macs for o in ops) for n, ops in self.stage_groups)
        return PatchCost(sum(k * c.latency_s for k, c in costs),
                         sum(k * c.energy_j for k, c in costs),
                         macs + sum(o.macs for o in self.rest_ops))


@dataclass(frozen=True)
class PatchPrecision:
    """Value-driven mixed precision per patch (QuantMCU, Tao et al., DATE 2024): the
    ``outlier_patches`` patches whose feature maps hold outliers keep ``high`` activations through
    the stage; the others run it with ``low`` activations. Everything after the stage is unchanged.
    Which patches hold outliers is data-dependent: they are taken as average-sized patches."""

    outlier_patches: int
    low: str = "int4"
    high: str = "int8"


def _bitops(op: Op, activations: str | None = None) -> float:
    """MACs x weight bits x activation bits (the BitOPs QuantMCU counts)."""
    w = getattr(op, "weights", None)
    a = activations or getattr(op, "activations", None)
    if not op.macs or w is None or a is None:
        return 0.0
    return op.macs * _formats.get(w).bits * _formats.get(a).bits


def _check_precision(plan: "PatchPlan", precision: PatchPrecision) -> None:
    k, n = precision.outlier_patches, plan.n_patches
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ConfigError(f"PatchPrecision.outlier_patches = {k!r}: expected an integer in "
                          f"0..{n} ({plan.patches}x{plan.patches} patches)")
    for f in (precision.low, precision.high):
        if _formats.get(f).is_float:
            raise ConfigError(f"PatchPrecision: activations {f!r} is a float format; per-patch "
                              "precision takes integer activations (int2 ... int8)")


def patch_bitops(plan: "PatchPlan", precision: PatchPrecision | None = None) -> float:
    """BitOPs of running ``plan`` (every patch's stage ops, then the rest), with the stage's
    activations per patch set by ``precision`` (None: the workload's formats everywhere)."""
    rest = sum(_bitops(o) for o in plan.rest_ops)
    if precision is None:
        return sum(n * sum(_bitops(o) for o in ops) for n, ops in plan.stage_groups) + rest
    _check_precision(plan, precision)
    f = precision.outlier_patches / plan.n_patches
    return sum(n * sum(f * _bitops(o, precision.high) + (1 - f) * _bitops(o, precision.low)
                       for o in ops) for n, ops in plan.stage_groups) + rest


def _with_activations(op: Op, fmt: str) -> Op:
    fields = {f: fmt for f in ("activations", "out") if hasattr(op, f)}
    return op.with_formats(**fields) if hasattr(op, "with_formats") else op


def _axis_tiles(convs: list, patches: int, axis: str) -> list[dict[str, tuple[int, int]]]:
    """Per patch index along one axis: for each conv of the stage, (output length, input length
    with its padding rows) of that patch's tile. The stage output is cut into ``patches`` tiles
    of ceil(out / patches) (fewer when those cover the output early: 28 rows in 8 tiles of 4 make
    7 tiles); each conv's input range [a s - p, (b - 1) s - p + d (k - 1) + 1) is
    clipped to the tensor (rows outside are padding, not recomputed) and is the output range the
    conv before it must produce."""
    last = convs[-1]
    total = last.out_h if axis == "h" else last.out_w
    tile = -(-total // patches)
    out = []
    for i in range(patches):
        a, b = i * tile, min((i + 1) * tile, total)
        if a >= b:
            continue
        sizes = {}
        for c in reversed(convs):
            k = c.kernel_h if axis == "h" else c.kernel_w
            n_in = c.in_h if axis == "h" else c.in_w
            lo = a * c.stride - c.padding
            hi = (b - 1) * c.stride - c.padding + c.dilation * (k - 1) + 1
            sizes[c.name] = (b - a, hi - lo)
            a, b = max(0, lo), min(n_in, hi)
        out.append(sizes)
    return out


def patch_plan(workload, last_stage_op: str, patches: int) -> PatchPlan:
    """Run ``workload``'s ops up to ``last_stage_op`` patch by patch (``patches`` per side).

    Tiles follow each conv back from the stage's output tile (:func:`_axis_tiles`), so halos
    overlap between neighbours and stop at the image border. Peak memory in the patch phase: the
    largest patch's schedule (:func:`memory_plan` of its ops) plus every tensor the stage hands to
    the rest (the stage output and any skip tensor crossing the cut), held whole while patches fill
    them; after it, the rest of the layer-by-layer schedule's rows. Only stages of Conv2d /
    Elementwise / Norm ops can be split (UnsupportedError otherwise).

    >>> import hwsim
    >>> pp = patch_plan(hwsim.load_workload("mobilenetv2", weights="int8", activations="int8"),
    ...                 "features.3.project", 4)
    >>> pp.peak_activation_bytes < pp.layer_peak_activation_bytes
    True
    """
    from dataclasses import replace

    from ...workload.graph import Workload
    from ...workload.ops import Elementwise, Norm

    if isinstance(patches, bool) or not isinstance(patches, int) or patches < 1:
        raise ConfigError(f"patch_plan: patches = {patches!r}, expected a positive integer "
                          "(tiles per side)")
    ops = list(workload.ops)
    names = [o.name for o in ops]
    if last_stage_op not in names:
        raise ConfigError(f"patch_plan: last_stage_op = {last_stage_op!r} is not an op of "
                          f"{workload.name} (first ops: {', '.join(names[:4])} ...)")
    cut = names.index(last_stage_op) + 1
    stage, rest = ops[:cut], ops[cut:]
    for o in stage:
        if not isinstance(o, (Conv2d, Elementwise, Norm)):
            raise UnsupportedError(f"patch_plan: {o.name} ({o.type}) in the stage up to "
                                   f"{last_stage_op}: only Conv2d, Elementwise and Norm ops can "
                                   "run patch by patch")
    convs = [o for o in stage if isinstance(o, Conv2d)]
    if not convs:
        raise ConfigError(f"patch_plan: no Conv2d up to last_stage_op = {last_stage_op!r}")
    if not isinstance(stage[0], Conv2d):
        raise UnsupportedError(f"patch_plan: {stage[0].name} precedes the first Conv2d of the stage")
    last = convs[-1]
    if patches > min(last.out_h, last.out_w):
        raise ConfigError(f"patch_plan: patches = {patches} per side, but {last.name}'s output is "
                          f"{last.out_h}x{last.out_w}")
    rows, cols = _axis_tiles(convs, patches, "h"), _axis_tiles(convs, patches, "w")
    kinds: dict[tuple, int] = {}
    for r in rows:
        for c in cols:
            key = tuple((n, r[n], c[n]) for n in r)
            kinds[key] = kinds.get(key, 0) + 1
    groups = []
    for key, count in kinds.items():
        size = {n: (rh, cw) for n, rh, cw in key}
        per_patch, frac = [], 1.0
        for o in stage:
            if isinstance(o, Conv2d):
                (oh, ih), (ow, iw) = size[o.name]
                po = replace(o, in_h=ih, in_w=iw, padding=0)
                frac = oh * ow / (o.out_h * o.out_w)
            else:   # elementwise / norm on the preceding conv's output tile
                po = (replace(o, numel=max(1, round(o.numel * frac))) if isinstance(o, Elementwise)
                      else replace(o, rows=max(1, round(o.rows * frac))))
            per_patch.append(po)
        groups.append((count, tuple(per_patch)))
    stage_macs = sum(o.macs for o in stage)
    recompute = sum(n * sum(o.macs for o in g) for n, g in groups) - stage_macs
    # patch phase: the largest patch's schedule + the tensors crossing the cut, held whole
    patch_mem = 0.0
    for _, g_ops in groups:
        g = workload.graph.subgraph(names[:cut]).copy()
        for po in g_ops:
            g.nodes[po.name]["op"] = po
        patch_mem = max(patch_mem, memory_plan(Workload(workload.name, g, workload.meta))
                        .peak_activation_bytes)
    rest_names = set(names[cut:])
    crossing = sum(_out_bytes(o) for o in stage
                   if any(s in rest_names for s in workload.graph.successors(o.name))
                   or o.name == last_stage_op)
    full = memory_plan(workload)
    rest_peak, rest_op = max(((b, nme) for nme, b in full.per_op_bytes[cut:]), default=(0.0, ""))
    if patch_mem + crossing >= rest_peak:
        peak, where = patch_mem + crossing, "patch stage"
    else:
        peak, where = rest_peak, rest_op
    return PatchPlan(workload, patches, tuple(groups), tuple(rest), stage_macs, recompute,
                     peak, where, full.peak_activation_bytes)


def training_macs_per_cycle(workload, hw: MCU) -> float:
    """End-to-end MACs per clock of a workload (what Nadalini et al. report for training steps)."""
    from ...evaluate import evaluate

    rep = evaluate(workload, hw)
    return workload.macs / (rep.latency_s * hw.params.frequency_hz)


__all__ = ["MCU", "MCUParams", "Recipe", "KernelCycles", "MemoryPlan", "memory_plan",
           "check_fit", "PatchPlan", "PatchCost", "PatchPrecision", "patch_plan", "patch_bitops", "training_macs_per_cycle"]
