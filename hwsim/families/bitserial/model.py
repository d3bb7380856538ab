"""Bit-serial and mixed-precision PE arrays (family ``bitserial``): BitMoD, its FP16/ANT/OliVe
baselines, Stripes, DaDianNao, Loom, Bit Fusion and MixPE.

A ``rows x cols`` array of PEs, each a dot-product unit of width ``dp``. A GEMM C[M x N] =
A[M x K] . B[K x N] (activations A, weights B) maps output channels N on rows, tokens M on columns
and the reduction K over ``dp`` lanes; one *tile* is one pass of the array over (dp, rows, cols).
Following the BitMoD artifact (Chen et al., HPCA'25, ``bitmod_sim/accelerator.py``):

* compute cycles = ceil(K/dp) * ceil(N/rows) * ceil(M/cols) * serial cycles per tile, where the
  serial cycles are ceil(bits / bits_per_cycle) of the serial operand (weights: BitMoD 2 bits per
  cycle, Stripes activations 1 bit per cycle; Loom both, so the product of the two) and 1 for a
  bit-parallel PE. Bit Fusion's fusable BitBricks instead multiply the lanes: a fusion unit of
  ``max_bits``-wide operands built from ``brick_bits`` bricks computes (max_bits/pw)*(max_bits/pa)
  products per cycle, pw and pa the operand widths rounded up to a power of two >= brick_bits;
* DRAM cycles = bytes moved * 8 / (bus bits * transfers per cycle), the bytes from the operands'
  stored bits (group scales and selectors included). When both operands exceed their buffers one is
  refetched: all weights once per input chunk, or all inputs once per weight chunk, whichever moves
  fewer bytes (the artifact's rule);
* latency = max(compute cycles, DRAM cycles) per op (no overlap model beyond that);
* energy = PE energy per PE-cycle x PEs x compute cycles (every PE switches every compute cycle,
  as the artifact counts) + one weight- and one input-buffer read per tile + buffer writes of
  everything loaded from DRAM + DRAM bits x energy per bit.

Attention's K and V take the weight operand's place (``kv_formats``/``max_kv_bits``, default the
weight ones), so a weight-serial array serializes them too: fp16 K/V on BitMoD take 8 cycles per
tile, as the revised artifact's ``pe_latency['attn'] = ceil(floor(kv_prec)/2)``. Two mapping
fields follow other artifacts' simulators: ``fusion_over = "array"`` puts Bit Fusion's fused
products on the token columns (activation factor) and output rows (weight factor) as MixPE's
output-stationary simulator does, instead of along K (``"dp"``, the Bit Fusion hardware and
simulator); ``conv_lowering = "channel"`` tiles a convolution per kernel position over its input
channels (Bit Fusion's simulator) instead of one im2col GEMM. ``static_power_w`` charges
background power (MixPE's DRAM static energy) over each op's latency; with an output buffer a
third refetch order (output-stationary tiles, weights streamed once) is considered.

PE energy and area come from the technology library at the preset's node (``pe_cost: tech``:
multiplier slices, alignment shifters, adder tree, accumulator and registers, priced per component)
or from the synthesized per-PE figures an artifact publishes (``pe_cost: published``:
``pe_energy_pj``/``pe_area_um2``, times ``pr_scaling`` for place-and-route, as the BitMoD artifact
applies 1.5x). ``pe_breakdown()`` gives both, so they can be compared.

>>> import hwsim
>>> hw = hwsim.load_arch("bitmod")
>>> c = hw.cost(hwsim.ops.Gemm(M=256, N=4096, K=4096, weights="bitmod4_g128", activations="fp16"))
>>> round(c.breakdown["compute_cycles"])   # 1024 * 128 * 8 tiles * 2 cycles (4 bits, 2 per cycle)
2097152
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ... import formats as _formats
from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary,
                         Params, TimeParts)
from ..tile import adder


class BitSerialParams(Params):
    renamed: ClassVar[dict[str, str]] = {"frequency_hz": "clock_hz"}
    # place-and-route factor on a published PE's energy (BitMoD artifact: 1.0-1.5)
    ranges: ClassVar[dict[str, tuple[float, float, str]]] = {"pr_scaling": (0.1, 10.0, "a factor")}

    technology: str
    clock_hz: float = Field(gt=0, description="array clock (Hz)")
    rows: int = Field(gt=0, description="PE rows: output channels (N) in parallel")
    cols: int = Field(gt=0, description="PE columns: tokens / output pixels (M) in parallel")
    dp: int = Field(gt=0, description="dot-product lanes per PE along K")
    serial: Literal["none", "weights", "activations", "both"]
    bits_per_cycle: int = Field(1, gt=0, description="bits of the serial operand per cycle")
    fusion: bool = Field(False, description="Bit Fusion: lanes fused from brick_bits bricks")
    brick_bits: int = Field(2, gt=0)
    fusion_over: Literal["dp", "array"] = Field(
        "dp", description="where fused products go: 'dp' (Bit Fusion's hardware: summed along K) "
        "or 'array' (the Bit Fusion simulator's output-stationary accounting, which MixPE's "
        "artifact runs: the activation factor widens the token columns, the weight factor the "
        "output rows)")
    max_weight_bits: int = Field(gt=0, description="widest weight element the PE accepts")
    max_activation_bits: int = Field(gt=0, description="widest activation element")
    weight_formats: list[str] = Field(min_length=1, description="weight formats with a datapath")
    kv_formats: list[str] | None = Field(None, description="formats of attention's second operand "
                                         "(K, V: it takes the weight's place); None: weight_formats")
    max_kv_bits: int | None = Field(None, gt=0, description="widest K/V element; None: "
                                    "max_weight_bits")
    activation_formats: list[str] = Field(min_length=1)
    input_buffer_bytes: int = Field(gt=0)
    weight_buffer_bytes: int = Field(gt=0)
    output_buffer_bytes: int = Field(0, ge=0, description="0: outputs stream to DRAM")
    buffer_banks: int = Field(1, gt=0)
    dram_bus_bits: int = Field(gt=0)
    dram_transfers_per_cycle: float = Field(1.0, gt=0, description="2 for DDR at the array clock")
    dram_pj_per_bit: float | None = Field(None, gt=0, description="else tech dram of dram_kind")
    dram_kind: str = "ddr3"
    pe_cost: Literal["tech", "published"] = "tech"
    pe_energy_pj: float | None = Field(None, gt=0, description="published energy per PE-cycle")
    pe_area_um2: float | None = Field(None, gt=0, description="published area per PE")
    pr_scaling: float = Field(1.0, gt=0, description="place-and-route factor on published PE energy")
    vector_ops_per_s: float = Field(gt=0, description="elementwise / norm / softmax rate")
    conv_lowering: Literal["im2col", "channel"] = Field(
        "im2col", description="convolutions as one GEMM over K = kh*kw*C ('im2col') or per "
        "kernel position over the C input channels ('channel': the lanes pad to C, as the Bit "
        "Fusion simulator maps every layer but the first)")
    static_power_w: float = Field(0.0, ge=0, description="background power (leakage, DRAM "
                                  "refresh) charged for the whole latency of every op")

    @model_validator(mode="after")
    def _published_needs_numbers(self):
        if self.pe_cost == "published" and self.pe_energy_pj is None:
            raise ValueError("pe_cost = 'published' needs pe_energy_pj (pe_area_um2 too, else the "
                             "area is tech-priced)")
        for name in self.weight_formats + self.activation_formats + (self.kv_formats or []):
            _formats.get(name)  # unknown names fail here with the registry's message
        return self


@dataclass(frozen=True)
class LayerCycles:
    """The artifact-style cost of one GEMM on the array (cycles, bytes, counts)."""

    tiles: int
    lanes: int  # products per PE per cycle (dp x fused products)
    serial_cycles: int
    compute_cycles: int
    dram_cycles: float
    weight_bytes: float
    input_bytes: float
    output_bytes: float
    weight_fetches: int
    input_fetches: int
    weight_elems_per_tile: int = 0   # operand elements one tile reads from the buffers
    input_elems_per_tile: int = 0

    @property
    def cycles(self) -> float:
        return max(self.compute_cycles, self.dram_cycles)

    @property
    def dram_bytes(self) -> float:
        return (self.weight_bytes * self.weight_fetches + self.input_bytes * self.input_fetches
                + self.output_bytes)


@dataclass(frozen=True)
class GemmSpec:
    """One GEMM that ``cost(op)`` runs (:meth:`BitSerialArray.gemm_specs`): ``groups``
    independent products (M x K) . (K x N)."""

    M: int             # tokens / output pixels (the array's columns)
    N: int             # output channels (the array's rows)
    K: int             # reduction length (the dp lanes)
    groups: int        # independent GEMMs of this shape (attention: batch x KV heads)
    activations: str   # format of the M x K operand
    weights: str       # format of the K x N operand (attention: the K or V cache)
    out: str           # format of the M x N result
    kv: bool = False   # the K x N operand is attention's K or V (checked against kv_formats)
    positions: int = 1  # kernel positions tiled apart (channel-wise conv lowering); 1: one GEMM


@dataclass(frozen=True)
class BitSerialCostDetail(CostDetail):
    """The bit-serial array's own numbers about one op (attention: summed over QK^T and PV)."""

    compute_cycles: float  # array cycles computing: tiles x serial cycles per tile
    dram_cycles: float     # array cycles the DRAM bus needs for the op's traffic
    tiles: float           # passes of the array over (dp, rows, cols)
    serial_cycles: float   # cycles per tile (serial bits / bits per cycle; 1 bit-parallel)
    dram_bytes: float      # bytes moved to / from DRAM, refetches included
    sram_read_j: float     # buffer reads: one weight and one input tile per tile (J)
    sram_write_j: float    # buffer writes of everything loaded from DRAM and of outputs (J)

    def __add__(self, other: "BitSerialCostDetail") -> "BitSerialCostDetail":
        return BitSerialCostDetail(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                                      for f in fields(self)})


def refetches(w_bytes: float, i_bytes: float, w_buf: float, i_buf: float,
              acc_bytes: float = 0.0, o_buf: float = 0.0) -> tuple[int, int]:
    """(weight fetches, input fetches) of a layer whose operands may not fit their buffers.

    Only when both overflow is one refetched: weights once per input chunk (ceil(i/i_buf)) or
    inputs once per weight chunk (ceil(w/w_buf)), whichever moves fewer bytes (ties: inputs) --
    the BitMoD artifact's rule. With an output buffer (``o_buf`` > 0) a third order is open:
    output-stationary tiles of ``o_buf`` partial sums (``acc_bytes`` of them in all), weights
    streamed once and the inputs once per output tile, as a loop-tiling search (Bit Fusion's
    simulator, which MixPE's artifact runs) finds it.
    """
    if w_bytes <= w_buf or i_bytes <= i_buf:
        return 1, 1
    n_w, n_i = math.ceil(i_bytes / i_buf), math.ceil(w_bytes / w_buf)
    options = [(n_w * w_bytes + i_bytes, (n_w, 1)), (n_i * i_bytes + w_bytes, (1, n_i))]
    if o_buf > 0 and acc_bytes > 0:
        n_o = math.ceil(acc_bytes / o_buf)
        options.append((n_o * i_bytes + w_bytes, (1, n_o)))
    return min(options, key=lambda o: (o[0], -o[1][1]))[1]


def pow2_at_least(bits: int, floor: int) -> int:
    return max(floor, 1 << max(0, math.ceil(math.log2(bits))))


class BitSerialArray(Accelerator):
    family = "bitserial"
    Params = BitSerialParams

    def tile_programs(self, op: Op, cost: Cost, mem_latency_s: float = 0.0):
        """The simulator's tile programs for ``op`` (:mod:`.sim`), None where it has none."""
        from .sim import programs  # simpy-side code, imported only when simulating
        return programs(self, op, mem_latency_s)

    @cached_property
    def tech(self):
        return load_tech(self.params.technology)

    @property
    def pes(self) -> int:
        return self.params.rows * self.params.cols

    @property
    def kv_formats(self) -> list[str]:
        return self.params.kv_formats or self.params.weight_formats

    @property
    def max_kv_bits(self) -> int:
        return self.params.max_kv_bits or self.params.max_weight_bits

    # ------------------------------------------------------------------ datapath

    def serial_cycles(self, w_bits: int, a_bits: int, kv: bool = False) -> int:
        """Cycles one tile takes for operands of these element widths (hand check: BitMoD 4-bit
        weights at 2 bits per cycle -> 2). ``kv``: the weight-side operand is attention's K or V
        (bounded by ``max_kv_bits``)."""
        p = self.params
        wrole, wtop = ("kv", self.max_kv_bits) if kv else ("weight", p.max_weight_bits)
        for role, bits, top in ((wrole, w_bits, wtop),
                                ("activation", a_bits, p.max_activation_bits)):
            if bits > top and not (p.fusion and bits % top == 0):
                raise UnsupportedError(f"{self.name}: {role} width {bits} bits: the array "
                                       f"serializes at most max_{role}_bits = {top}")
        w = math.ceil(w_bits / p.bits_per_cycle)
        a = math.ceil(a_bits / p.bits_per_cycle)
        if p.fusion:  # wider than the fusion unit: temporal passes of max-width products
            return math.ceil(w_bits / p.max_weight_bits) * math.ceil(a_bits / p.max_activation_bits)
        return {"none": 1, "weights": w, "activations": a, "both": w * a}[p.serial]

    def fusion_factors(self, w_bits: int, a_bits: int) -> tuple[int, int]:
        """(weight, activation) fusion factors: max_bits / width rounded up to a power of two
        >= brick_bits (Bit Fusion 8/2: 2 each at 4 bits); (1, 1) without fusion."""
        p = self.params
        if not p.fusion:
            return 1, 1
        pw = min(p.max_weight_bits, pow2_at_least(w_bits, p.brick_bits))
        pa = min(p.max_activation_bits, pow2_at_least(a_bits, p.brick_bits))
        return p.max_weight_bits // pw, p.max_activation_bits // pa

    def fusion_lanes(self, w_bits: int, a_bits: int) -> int:
        """Products per PE lane per cycle (Bit Fusion: 1 at 8x8, 4 at 4x4, 16 at 2x2)."""
        fw, fa = self.fusion_factors(w_bits, a_bits)
        return fw * fa

    def layer_cycles(self, M: int, N: int, K: int, *, w_bits: float, a_bits: float,
                     o_bits: float, groups: int = 1, serial_w_bits: int | None = None,
                     serial_a_bits: int | None = None,
                     input_bytes: float | None = None, kv: bool = False,
                     positions: int = 1) -> LayerCycles:
        """Cycles and traffic of ``groups`` GEMMs (M x K) . (K x N) with operands stored at
        ``w_bits``/``a_bits``/``o_bits`` per element (fractional: scale overhead included).
        ``serial_*_bits`` are the element widths the PE iterates over (default: floor of the
        stored bits, as the artifact's ceil(floor(w_prec)/2)). ``input_bytes`` replaces the M x K
        input size where an accounting reads an input of another shape (the BitMoD artifact's
        attention layers, reproduced in :mod:`hwsim.families.bitserial.checks`). ``positions`` > 1
        splits K into that many kernel positions of K/positions channels each, tiled separately
        (channel-wise convolution lowering)."""
        p = self.params
        sw = serial_w_bits if serial_w_bits is not None else int(math.floor(w_bits))
        sa = serial_a_bits if serial_a_bits is not None else int(math.floor(a_bits))
        fw_, fa_ = self.fusion_factors(sw, sa)
        lanes = p.dp * fw_ * fa_
        if p.fusion_over == "array":  # fused products widen the array, K stays on dp lanes
            k_l, rows, cols = p.dp, p.rows * fw_, p.cols * fa_
        else:
            k_l, rows, cols = lanes, p.rows, p.cols
        k_tiles = positions * math.ceil(K // positions / k_l) if positions > 1 else math.ceil(K / k_l)
        tiles = groups * k_tiles * math.ceil(N / rows) * math.ceil(M / cols)
        sc = self.serial_cycles(sw, sa, kv)
        wb, ob = groups * K * N * w_bits / 8, groups * M * N * o_bits / 8
        ib = groups * M * K * a_bits / 8 if input_bytes is None else input_bytes
        # partial sums at 32 bits (int32 / fp32 accumulators) in the output buffer
        fw, fi = refetches(wb, ib, p.weight_buffer_bytes, p.input_buffer_bytes,
                           groups * M * N * 4, p.output_buffer_bytes)
        dram = (wb * fw + ib * fi + ob) * 8 / (p.dram_bus_bits * p.dram_transfers_per_cycle)
        return LayerCycles(tiles, lanes, sc, tiles * sc, dram, wb, ib, ob, fw, fi,
                           k_l * rows, k_l * cols)

    # ------------------------------------------------------------------ PE cost

    def pe_breakdown(self, source: str | None = None) -> dict:
        """Per-PE energy (pJ per PE-cycle) and area (um^2), from ``source`` ("tech" or
        "published"; default the preset's ``pe_cost``)."""
        p = self.params
        src = source or p.pe_cost
        if src == "published":
            if p.pe_energy_pj is None:
                raise UnsupportedError(f"{self.name}: no published PE energy (pe_energy_pj) in "
                                       "this preset")
            # an artifact without a PE area (MixPE's synthesis CSV has a placeholder) keeps the
            # tech-priced area; the BitMoD artifact scales energy, not the array area, by its P&R
            # factor (pe_array.py)
            area = ({"pe": p.pe_area_um2} if p.pe_area_um2 is not None
                    else {"pe (tech-priced)": sum(self._tech_pe["area_um2"].values())})
            return {"energy_pj": {"pe": p.pe_energy_pj * p.pr_scaling}, "area_um2": area}
        if src != "tech":
            raise UnsupportedError(f"{self.name}: PE cost source = {src!r}: expected 'tech' or "
                                   "'published'")
        return self._tech_pe

    @cached_property
    def _tech_pe(self) -> dict:
        """A PE priced from components: per lane a multiplier slice (the serial bits times the
        other operand's significand; fused bricks at the full width), per lane an alignment
        shifter for float activations or serial weights, a dp-input adder tree, the accumulator
        adder and registers for operands and accumulator."""
        p, t = self.params, self.tech
        a = max((_formats.get(f) for f in p.activation_formats), key=lambda f: f.bits)
        w = max((_formats.get(f) for f in p.weight_formats), key=lambda f: f.bits)
        a_sig = (a.man_bits + 1) if a.is_float else a.bits
        w_sig = _sig_bits(w)
        if p.serial in ("weights", "both"):
            w_sig = p.bits_per_cycle
        if p.serial in ("activations", "both"):
            a_sig = p.bits_per_cycle
        acc = "fp32" if a.is_float else "int32"
        acc_w = 24 + 3 if a.is_float else 32  # fp32 significand + guard bits, or int32
        e, ar = {}, {}

        def add(name, n, comp, **kw):
            e[name] = e.get(name, 0.0) + n * t.energy_pj(comp, **kw)
            ar[name] = ar.get(name, 0.0) + n * t.area_um2(comp, **kw)

        if p.fusion:
            add("bitbricks", p.dp * (p.max_weight_bits // p.brick_bits)
                * (p.max_activation_bits // p.brick_bits), "int_mult", bits=p.brick_bits)
            add("fusion_shifters", p.dp, "shifter", bits=p.max_weight_bits + p.max_activation_bits)
        else:
            add("multipliers", p.dp, "int_mult", bits=max(a_sig, 1), b_bits=max(w_sig, 1))
        if a.is_float:
            add("exponent_adders", p.dp, "int_add", bits=a.exp_bits + 1)
        if a.is_float or p.serial != "none":
            add("align_shifters", p.dp, "shifter", bits=acc_w)
        if p.dp > 1:
            add("adder_tree", p.dp - 1, "int_add", bits=acc_w)
        e["accumulator"] = adder(t, acc, "energy")
        ar["accumulator"] = adder(t, acc, "area")
        add("registers", 1, "register", bits=p.dp * (a.bits + w.bits) + _formats.get(acc).bits)
        return {"energy_pj": e, "area_um2": ar}

    @property
    def pe_energy_pj(self) -> float:
        return sum(self.pe_breakdown()["energy_pj"].values())

    def area_breakdown_um2(self) -> dict:
        p = self.params
        out = {"pe_array": self.pes * sum(self.pe_breakdown()["area_um2"].values()),
               "input_buffer": self.tech.area_um2("sram", capacity_bytes=p.input_buffer_bytes),
               "weight_buffer": self.tech.area_um2("sram", capacity_bytes=p.weight_buffer_bytes)}
        if p.output_buffer_bytes:
            out["output_buffer"] = self.tech.area_um2("sram", capacity_bytes=p.output_buffer_bytes)
        return out

    @property
    def area_mm2(self) -> float:
        return sum(self.area_breakdown_um2().values()) / 1e6

    def summary(self) -> HardwareSummary:
        """Clock, DRAM bus bandwidth and background power; DRAM capacity is not modelled."""
        p = self.params
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=self.mem_bandwidth_Bps, mem_capacity_bytes=None,
                               idle_power_w=p.static_power_w)

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """2 x products per second of a GEMM with these operand formats (their element widths
        set the serial cycles and fusion lanes); UnsupportedError for a format the PE has no
        datapath for."""
        where = f"{self.name}: peak_ops_per_s"
        self._check(where, "weights", weights, self.params.weight_formats)
        self._check(where, "activations", activations, self.params.activation_formats)
        return self._peak_ops_per_s_bits(_formats.get(weights).bits,
                                         _formats.get(activations).bits)

    def _peak_ops_per_s_bits(self, w_bits: int | None = None, a_bits: int | None = None) -> float:
        """2 x products per second at these element widths (default: the widest the PE takes)."""
        p = self.params
        w = w_bits or p.max_weight_bits
        a = a_bits or p.max_activation_bits
        return (2 * self.pes * p.dp * self.fusion_lanes(w, a) * p.clock_hz
                / self.serial_cycles(w, a))

    # ------------------------------------------------------------------ energy

    def layer_energy_j(self, lc: LayerCycles, w_bits: float, a_bits: float,
                       o_bits: float) -> dict[str, float]:
        """Energy of a layer from its cycle/traffic counts (J per component)."""
        p, t = self.params, self.tech
        bank_w = p.weight_buffer_bytes / p.buffer_banks
        bank_i = p.input_buffer_bytes / p.buffer_banks
        # one read of the weight tile (dp x rows) and of the input tile (dp x cols) per tile
        rd = lc.tiles * (t.energy_pj("sram_read", bits=lc.weight_elems_per_tile * w_bits,
                                     capacity_bytes=bank_w)
                         + t.energy_pj("sram_read", bits=lc.input_elems_per_tile * a_bits,
                                       capacity_bytes=bank_i))
        wr = (t.energy_pj("sram_write", bits=8 * lc.weight_bytes * lc.weight_fetches,
                          capacity_bytes=bank_w)
              + t.energy_pj("sram_write", bits=8 * (lc.input_bytes * lc.input_fetches
                                                    + lc.output_bytes), capacity_bytes=bank_i))
        per_bit = p.dram_pj_per_bit or t.energy_pj("dram", bits=1, kind=p.dram_kind)
        out = {"pe_j": self.pe_energy_pj * self.pes * lc.compute_cycles * 1e-12,
               "sram_read_j": rd * 1e-12, "sram_write_j": wr * 1e-12,
               "dram_j": lc.dram_bytes * 8 * per_bit * 1e-12}
        if p.static_power_w:  # background power over the layer's latency
            out["static_j"] = p.static_power_w * lc.cycles / p.clock_hz
        return out

    # ------------------------------------------------------------------ cost

    def _check(self, where: str, role: str, fmt: str, allowed: list[str]) -> None:
        if fmt not in allowed and _formats.get(fmt).name not in allowed:
            raise UnsupportedError(f"{where}: {role} = {fmt}: this PE has no datapath for it; "
                                   f"supported {role}: {', '.join(allowed)}")

    def spec_cycles(self, spec: GemmSpec) -> LayerCycles:
        """:meth:`layer_cycles` of one GEMM of :meth:`gemm_specs`, operands at their formats'
        stored bits (group scales included), serialized at their element bits."""
        wf, af, of = (_formats.get(f) for f in (spec.weights, spec.activations, spec.out))
        return self.layer_cycles(spec.M, spec.N, spec.K, w_bits=wf.storage_bits,
                                 a_bits=af.storage_bits, o_bits=of.storage_bits,
                                 groups=spec.groups, serial_w_bits=wf.bits, serial_a_bits=af.bits,
                                 kv=spec.kv, positions=spec.positions)

    def _gemm(self, op: Op, spec: GemmSpec) -> Cost:
        """The cost of one GEMM of :meth:`gemm_specs`."""
        p = self.params
        where = f"{self.name}: {op.name or op.type}"
        if spec.kv:
            self._check(where, "kv", spec.weights, self.kv_formats)
        else:
            self._check(where, "weights", spec.weights, p.weight_formats)
        self._check(where, "activations", spec.activations, p.activation_formats)
        wf, af, of = (_formats.get(f) for f in (spec.weights, spec.activations, spec.out))
        g = getattr(wf, "group", None)
        if g and spec.K % g:
            raise UnsupportedError(f"{where}: weights = {spec.weights}: group size {g} does not "
                                   f"divide K = {spec.K}")
        lc = self.spec_cycles(spec)
        e = self.layer_energy_j(lc, wf.storage_bits, af.storage_bits, of.storage_bits)
        # latency = max(compute, DRAM) cycles / clock; dividing each part by the clock keeps
        # max(compute_s, memory_s) == latency_s exactly
        t = lc.cycles / p.clock_hz
        peak = (2 * self.pes * lc.lanes * p.clock_hz / lc.serial_cycles)
        macs = spec.groups * spec.M * spec.N * spec.K
        return Cost(latency_s=t, energy_j=sum(e.values()),
                    bound=Bound.COMPUTE if lc.compute_cycles >= lc.dram_cycles else Bound.MEMORY,
                    utilization=2 * macs / t / peak,
                    compute_path=f"{p.serial}-serial" if p.serial != "none" else "bit-parallel",
                    time=TimeParts(compute_s=lc.compute_cycles / p.clock_hz,
                                   memory_s=lc.dram_cycles / p.clock_hz),
                    energy=EnergyParts(compute_j=e["pe_j"],
                                       onchip_j=e["sram_read_j"] + e["sram_write_j"],
                                       offchip_j=e["dram_j"], static_j=e.get("static_j", 0.0)),
                    detail=BitSerialCostDetail(
                        compute_cycles=float(lc.compute_cycles), dram_cycles=lc.dram_cycles,
                        tiles=float(lc.tiles), serial_cycles=float(lc.serial_cycles),
                        dram_bytes=lc.dram_bytes, sram_read_j=e["sram_read_j"],
                        sram_write_j=e["sram_write_j"]))

    @property
    def mem_bandwidth_Bps(self) -> float:
        """DRAM bus bits x transfers per cycle x clock (the artifact's bandwidth)."""
        p = self.params
        return p.dram_bus_bits * p.dram_transfers_per_cycle * p.clock_hz / 8

    def gemm_specs(self, op: Op) -> list[GemmSpec] | None:
        """The GEMMs ``cost(op)`` runs (read-only; ``hwsim.sim`` replays them): attention as
        QK^T and PV per KV head -- the queries sharing a KV head (GQA) stream as M, the cached
        keys / values take the weight operand's place (the serialized operand on a weight-serial
        array), causal masking skipped at block granularity; a conv as its implicit GEMM, over
        ``positions`` kernel positions under channel-wise lowering. None for vector ops."""
        if isinstance(op, Attention):
            share = op.heads // op.kv_heads
            kv_eff = op.kv_effective
            m, g = op.q_len * share, op.batch * op.kv_heads
            return [GemmSpec(m, kv_eff, op.head_dim, g, op.activations, op.kv, op.out, kv=True),
                    GemmSpec(m, op.head_dim, kv_eff, g, op.activations, op.kv, op.out, kv=True)]
        if isinstance(op, Gemm):
            return [GemmSpec(op.M, op.N, op.K, op.groups, op.activations, op.weights, op.out)]
        if isinstance(op, Conv2d):
            g = op.as_gemm()
            pos = op.kernel_h * op.kernel_w if self.params.conv_lowering == "channel" else 1
            return [GemmSpec(g.M, g.N, g.K, g.groups, op.activations, op.weights, op.out,
                             positions=pos)]
        return None

    def cost_gemm(self, op: Op) -> Cost:
        return self._gemm(op, self.gemm_specs(op)[0])

    cost_conv2d = cost_gemm

    def cost_attention(self, op: Attention) -> Cost:
        """QK^T then PV, one after the other: times, energies and counts add."""
        qk, pv = (self._gemm(op, spec) for spec in self.gemm_specs(op))
        t = qk.latency_s + pv.latency_s
        return Cost(latency_s=t, energy_j=qk.energy_j + pv.energy_j,
                    bound=qk.bound if qk.latency_s >= pv.latency_s else pv.bound,
                    utilization=(qk.utilization * qk.latency_s
                                 + pv.utilization * pv.latency_s) / t,
                    compute_path=qk.compute_path,
                    time=TimeParts(compute_s=qk.time.compute_s + pv.time.compute_s,
                                   memory_s=qk.time.memory_s + pv.time.memory_s),
                    energy=EnergyParts(**{k: getattr(qk.energy, k) + getattr(pv.energy, k)
                                          for k in ("compute_j", "onchip_j", "offchip_j",
                                                    "static_j")}),
                    detail=qk.detail + pv.detail)

    def cost_vector(self, op: Op) -> Cost:
        """Elementwise / norm / softmax / embedding on the vector unit: max(compute at
        ``vector_ops_per_s``, DRAM traffic at the bus bandwidth), fp32 adder energy per flop."""
        p = self.params
        t_c, t_m = op.flops / p.vector_ops_per_s, op.bytes / self.mem_bandwidth_Bps
        per_bit = p.dram_pj_per_bit or self.tech.energy_pj("dram", bits=1, kind=p.dram_kind)
        t = max(t_c, t_m)
        e_c = op.flops * adder(self.tech, "fp32", "energy")
        e_m = 8 * op.bytes * per_bit
        e = (e_c + e_m) * 1e-12 + p.static_power_w * t
        return Cost(latency_s=t, energy_j=e, bound=Bound.COMPUTE if t_c >= t_m else Bound.MEMORY,
                    utilization=op.flops / t / p.vector_ops_per_s if t else 0.0,
                    compute_path="vector", time=TimeParts(compute_s=t_c, memory_s=t_m),
                    energy=EnergyParts(compute_j=e_c * 1e-12, offchip_j=e_m * 1e-12,
                                       static_j=p.static_power_w * t))


def _sig_bits(f) -> int:
    """Bits a bit-parallel multiplier needs for a weight element: the significand of a float,
    the magnitude+sign of an integer-like grid (mixture types: their widest variant)."""
    if f.is_float and hasattr(f, "man_bits"):
        return f.man_bits + 1
    return f.bits
