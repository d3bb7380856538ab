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
op checks that its working set fits (UnsupportedError naming memory, need and size); whole
schedules (peak live memory, patch-based inference) are in :mod:`hwsim.families.mcu.planning`.

Energy: datasheet run-mode current per MHz times supply voltage times time (the MCU draws that
current whatever its kernels do, a datasheet-level model).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field

from ... import formats as _formats
from ...errors import UnsupportedError
from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary,
                         Params, TimeParts)

KiB = 1024


class MCUParams(Params):
    renamed: ClassVar[dict[str, str]] = {"frequency_hz": "clock_hz"}
    ranges: ClassVar[dict[str, tuple[float, float, str]]] = {
        "mve_beats_per_cycle": (0, 4, "beats per cycle (0: no Helium)")}

    isa: Literal["dsp", "mve", "xpulp"] = Field(
        description="dsp: Armv7E-M/Armv8-M DSP extension (M4, M7, M33); mve: Helium (M55, M85); "
                    "xpulp: PULP RISC-V cluster (RI5CY/CV32E40P with XpulpV2 + FP16 SIMD)")
    core: str = Field(description="core name, for reports (cortex-m7, ri5cy ...)")
    clock_hz: float = Field(gt=0, description="core (cluster) clock")
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


@dataclass(frozen=True)
class MCUCostDetail(CostDetail):
    """An op's cycles on the MCU by kernel component (:class:`KernelCycles`), whole core/cluster."""

    inner_cycles: float      # inner-loop iterations of the kernel's register tiles
    output_cycles: float     # per-output work: requantize / store / lane reduction; vector loops
    im2col_cycles: float     # copying inputs into the im2col buffer
    overhead_cycles: float   # parallel fork + barrier per kernel (multi-core)
    dma_cycles: float        # L2 <-> L1 DMA (PULP), overlapped with compute (double-buffered)
    cycles: float            # max(compute, DMA): the op's cycles
    macs_per_cycle: float    # the op's MACs over its cycles (0 for ops without MACs)


class MCU(Accelerator):
    family = "mcu"
    Params = MCUParams

    # ------------------------------------------------------------------ figures of merit

    @cached_property
    def power_w(self) -> float:
        p = self.params
        return p.supply_v * p.run_current_a_per_hz * p.clock_hz

    def summary(self) -> HardwareSummary:
        """Bandwidth: PULP's L2 -> L1 DMA; a Cortex-M core's loads (4 bytes per ``load_cycles``,
        16 bytes per 4 / beats cycles on Helium), the only path to memory its kernels model.
        Capacity: activation SRAM plus the weight memory (one L2 when weights live there).
        No idle power term: the run-mode power is drawn while kernels run."""
        p = self.params
        if p.dma_bytes_per_cycle:
            per_cycle = p.dma_bytes_per_cycle
        elif p.isa == "mve":
            per_cycle = p.cores * 4.0 * p.mve_beats_per_cycle
        else:
            per_cycle = p.cores * 4.0 / p.load_cycles
        shared = p.weight_memory == "l2"
        cap = max(p.sram_bytes, p.weight_memory_bytes) if shared else (
            p.sram_bytes + p.weight_memory_bytes)
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=per_cycle * p.clock_hz,
                               mem_capacity_bytes=float(cap), idle_power_w=0.0)

    def peak_macs_per_cycle(self, activations: str = "int8", weights: str = "int8") -> float:
        """Inner-loop MACs per cycle of the whole core/cluster (no tails, no overheads): the
        kernel's rate for these operand formats (MCU-specific; the contract's rate is
        :meth:`peak_ops_per_s`)."""
        r = self._recipe_for(activations, weights, "peak")
        return self.params.cores * r.macs / self._iter_cycles(r)

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """2 ops per MAC x :meth:`peak_macs_per_cycle` x clock; UnsupportedError for formats
        the core has no kernel for (fp16 on an fp32-only FPU, > 16-bit integers)."""
        return 2 * self.peak_macs_per_cycle(activations, weights) * self.params.clock_hz

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

        >>> hw = MCU.from_spec("m4", dict(isa="dsp", core="cortex-m4", clock_hz=1e8,
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
        """Compute and DMA overlap (double-buffered), so latency is the larger; the fork/barrier
        overhead counts in compute_s because the DMA runs during it too. Energy is run-mode power
        over that time, not split by role: it all lies in compute_j."""
        p = self.params
        f = p.clock_hz
        t = kc.total / f
        peak = self.params.cores * _recipe(p.isa, 8, 8, None).macs / self._iter_cycles(
            _recipe(p.isa, 8, 8, None))
        e = self.power_w * t
        return Cost(latency_s=t, energy_j=e,
                    bound=Bound.MEMORY if kc.dma > kc.compute else Bound.COMPUTE,
                    utilization=kc.macs / max(kc.total, 1e-30) / peak if kc.macs else 0.0,
                    compute_path=kc.recipe,
                    time=TimeParts(compute_s=kc.compute / f, memory_s=kc.dma / f),
                    energy=EnergyParts(compute_j=e),
                    detail=MCUCostDetail(
                        inner_cycles=kc.inner, output_cycles=kc.output, im2col_cycles=kc.im2col,
                        overhead_cycles=kc.overhead, dma_cycles=kc.dma, cycles=kc.total,
                        macs_per_cycle=kc.macs / kc.total if kc.total else 0.0))

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
        kv_eff = op.kv_effective
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


__all__ = ["MCU", "MCUCostDetail", "MCUParams", "Recipe", "KernelCycles"]
