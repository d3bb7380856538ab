"""Conventional MAC array (systolic / tensor-core-like): the baseline custom designs are compared
against (family ``mac_array``).

A rows x cols array of PEs, each a multiply-accumulate unit for the preset's formats, fed by
input / weight / output SRAM buffers from DRAM. A GEMM (convolutions as implicit GEMMs) maps as:

* spatially, by dataflow: ``weight_stationary`` K x N on rows x cols (M streams),
  ``output_stationary`` M x N (K streams), ``input_stationary`` K x M (N streams);
* temporally, into buffer-sized tiles (Tm, Tn, Tk) visited in one of six loop orders. An operand
  is refetched from DRAM once per iteration of every loop outside its innermost indexing loop that
  does not index it; partial sums refetched that way are read and written.

The mapping search enumerates tile sizes (powers of two times the spatial unroll, up to the layer's
dimension) and loop orders that fit the buffers, and keeps the lowest-energy one (ties: lowest
latency). Latency = max(compute cycles incl. array fill/drain per fold, DRAM bytes / bandwidth).
Energy = MACs x MAC energy (precision-aware, from the technology table) + PE register traffic +
SRAM reads/writes (per array fold) + DRAM bytes. Area = PEs + buffers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from ... import formats as _formats
from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Gemm, Op
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary,
                         Params, TimeParts)
from ..tile import acc_format, adder

ORDERS = list(itertools.permutations("mnk"))
INDEX = {"A": set("mk"), "B": set("kn"), "C": set("mn")}


class MACArrayParams(Params):
    renamed: ClassVar[dict[str, str]] = {"frequency_hz": "clock_hz"}

    technology: str
    clock_hz: float = Field(gt=0, description="array clock (Hz)")
    rows: int = Field(gt=0)
    cols: int = Field(gt=0)
    dataflow: Literal["weight_stationary", "output_stationary", "input_stationary"]
    activation_format: str = Field(description="PE multiplier format of activations")
    weight_format: str = Field(description="PE multiplier format of weights")
    input_buffer_bytes: int = Field(gt=0)
    weight_buffer_bytes: int = Field(gt=0)
    output_buffer_bytes: int = Field(gt=0)
    mem_bandwidth_Bps: float = Field(gt=0)
    dram_kind: str = "hbm2"
    vector_ops_per_s: float = Field(gt=0, description="elementwise / norm / softmax rate")


@dataclass(frozen=True)
class MACGemmSpec:
    """One GEMM that ``cost(op)`` maps (:meth:`MACArray.gemm_specs`): ``groups`` independent
    products (M x K) . (K x N)."""

    M: int
    N: int
    K: int
    groups: int         # independent GEMMs of this shape (attention: batch x heads)
    activations: str    # format of the M x K operand
    weights: str        # format of the K x N operand (attention: the K or V cache)
    out: str            # format of the M x N result
    total_bytes: float  # the op's bytes this GEMM moves at least once (the memory floor)


@dataclass(frozen=True)
class MACArrayCostDetail(CostDetail):
    """The MAC array's own numbers about one GEMM (or convolution) and the mapping it chose."""

    cycles: float      # array cycles: folds x (streamed dimension + fill/drain), all groups
    dram_bytes: float  # DRAM traffic of the chosen tiling and loop order (refetches included)
    tile_m: int        # temporal tile sizes the mapping search chose
    tile_n: int
    tile_k: int
    pe_reg_j: float    # PE operand/accumulator register traffic, one access per MAC (J)
    sram_j: float      # input / weight / output buffer accesses at the array (J)


class MACArray(Accelerator):
    family = "mac_array"
    Params = MACArrayParams

    def tile_programs(self, op: Op, cost: Cost, mem_latency_s: float = 0.0):
        """The simulator's tile programs for ``op`` (:mod:`.sim`), None where it has none."""
        from .sim import programs  # simpy-side code, imported only when simulating
        return programs(self, op, mem_latency_s)

    @cached_property
    def tech(self):
        return load_tech(self.params.technology)

    @cached_property
    def _pe(self) -> dict:
        p = self.params
        a, w = p.activation_format, p.weight_format
        acc = acc_format(a if _formats.get(a).bits >= _formats.get(w).bits else w)
        acc_bits = _formats.get(acc).bits
        reg_bits = _formats.get(a).bits + _formats.get(w).bits + acc_bits
        return {
            "mac_pj": self.tech.energy_pj("mac", a=a, w=w, acc=acc),
            "reg_pj": self.tech.energy_pj("register", bits=reg_bits),
            "mac_um2": self.tech.area_um2("mac", a=a, w=w, acc=acc),
            "reg_um2": self.tech.area_um2("register", bits=reg_bits),
            "acc": acc, "acc_bytes": acc_bits / 8,
        }

    # ------------------------------------------------------------------ figures of merit

    def area_breakdown_um2(self) -> dict:
        p, pe = self.params, self._pe
        n = p.rows * p.cols
        return {"pe_macs": n * pe["mac_um2"], "pe_registers": n * pe["reg_um2"],
                "input_buffer": self.tech.area_um2("sram", capacity_bytes=p.input_buffer_bytes),
                "weight_buffer": self.tech.area_um2("sram", capacity_bytes=p.weight_buffer_bytes),
                "output_buffer": self.tech.area_um2("sram", capacity_bytes=p.output_buffer_bytes)}

    @property
    def area_mm2(self) -> float:
        return sum(self.area_breakdown_um2().values()) / 1e6

    def summary(self) -> HardwareSummary:
        """Clock and off-chip bandwidth; DRAM capacity and static power are not modelled."""
        p = self.params
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=p.mem_bandwidth_Bps, mem_capacity_bytes=None,
                               idle_power_w=0.0)

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """2 x MACs per second of the array; UnsupportedError for operand formats wider than
        (or of another kind than) the PE's multiplier."""
        self._check(f"{self.name}: peak_ops_per_s", activations, weights)
        return self._peak_ops_per_s()

    def _peak_ops_per_s(self) -> float:
        """2 x PEs x clock: every PE does one MAC per cycle, whatever the operand formats."""
        p = self.params
        return 2 * p.rows * p.cols * p.clock_hz

    # ------------------------------------------------------------------ mapping

    def _spatial(self, M, N, K):
        p = self.params
        return {"weight_stationary": (("k", p.rows), ("n", p.cols), "m"),
                "output_stationary": (("m", p.rows), ("n", p.cols), "k"),
                "input_stationary": (("k", p.rows), ("m", p.cols), "n")}[p.dataflow]

    def map_gemm(self, M: int, N: int, K: int, groups: int = 1, a_bytes: float = 1.0,
                 w_bytes: float = 1.0, o_bytes: float = 2.0) -> dict:
        """The best mapping of a GEMM: tile sizes, loop order, cycles, traffic and energy."""
        p, pe, tech = self.params, self._pe, self.tech
        dims = {"m": M, "n": N, "k": K}
        (d1, s1), (d2, s2), tdim = self._spatial(M, N, K)
        # compute: folds of the spatial unroll, each streaming the temporal dim plus fill/drain
        folds = -(-dims[d1] // s1) * -(-dims[d2] // s2)
        cycles = groups * folds * (dims[tdim] + s1 + s2)
        util = M * N * K / (cycles / groups * s1 * s2)
        # SRAM traffic at the array: the stationary operand is loaded once per fold, the streamed
        # one read once per fold, partial sums cross the output buffer once per fold along K
        acc_b = pe["acc_bytes"]
        stationary = {"weight_stationary": "B", "output_stationary": "C",
                      "input_stationary": "A"}[p.dataflow]
        size = {"A": M * K * a_bytes, "B": K * N * w_bytes, "C": M * N * acc_b}
        sram = {}
        for X in "ABC":
            reuse_dims = [d for d in (d1, d2) if d not in INDEX[X]]
            refetch = math.prod(-(-dims[d] // s) for d, s in ((d1, s1), (d2, s2)) if d in reuse_dims)
            sram[X] = size[X] * (1 if X == stationary else refetch)
        # temporal tiling for DRAM reuse: vectorized over tile candidates x loop orders
        cand = {d: _candidates(dims[d], s) for d, s in
                (("m", s1 if d1 == "m" else s2 if d2 == "m" else 1),
                 ("n", s1 if d1 == "n" else s2 if d2 == "n" else 1),
                 ("k", s1 if d1 == "k" else s2 if d2 == "k" else 1))}
        Tm, Tn, Tk = np.meshgrid(cand["m"], cand["n"], cand["k"], indexing="ij")
        Tm, Tn, Tk = Tm.ravel(), Tn.ravel(), Tk.ravel()
        fits = ((Tm * Tk * a_bytes <= p.input_buffer_bytes)
                & (Tk * Tn * w_bytes <= p.weight_buffer_bytes)
                & (Tm * Tn * acc_b <= p.output_buffer_bytes))
        if not fits.any():
            raise UnsupportedError(
                f"{self.name}: no tile of this GEMM fits the buffers (input_buffer_bytes = "
                f"{p.input_buffer_bytes}, weight_buffer_bytes = {p.weight_buffer_bytes}, "
                f"output_buffer_bytes = {p.output_buffer_bytes}); even one array fold "
                f"({s1}x{s2}) needs more")
        Tm, Tn, Tk = Tm[fits], Tn[fits], Tk[fits]
        cnt = {"m": -(-M // Tm), "n": -(-N // Tn), "k": -(-K // Tk)}
        best = None
        e_dram_b = tech.energy_pj("dram", bits=8, kind=p.dram_kind)
        for order in ORDERS:
            traffic = np.zeros_like(Tm, dtype=float)
            for X, sz in (("A", M * K * a_bytes), ("B", K * N * w_bytes), ("C", M * N * o_bytes)):
                inner = max(i for i, d in enumerate(order) if d in INDEX[X])
                f = np.ones_like(Tm, dtype=float)
                for i, d in enumerate(order[:inner]):
                    if d not in INDEX[X]:
                        f = f * cnt[d]
                traffic += sz * (2 * f - 1 if X == "C" else f)
            i = int(np.argmin(traffic))
            if best is None or traffic[i] < best[0]:
                best = (float(traffic[i]), order, int(Tm[i]), int(Tn[i]), int(Tk[i]))
        dram_bytes = groups * best[0]
        macs = groups * M * N * K
        e_sram = sum(tech.energy_pj("sram_read", bits=8 * groups * sram[X], capacity_bytes=cap)
                     for X, cap in (("A", p.input_buffer_bytes), ("B", p.weight_buffer_bytes),
                                    ("C", p.output_buffer_bytes)))
        energy = {"mac_j": macs * pe["mac_pj"] * 1e-12, "pe_reg_j": macs * pe["reg_pj"] * 1e-12,
                  "sram_j": e_sram * 1e-12, "dram_j": dram_bytes * e_dram_b * 1e-12}
        return {"tile": (best[2], best[3], best[4]), "order": "".join(best[1]), "cycles": cycles,
                "utilization": util, "dram_bytes": dram_bytes, "energy": energy,
                "spatial": ((d1, s1), (d2, s2), tdim), "acc_bytes": acc_b}

    # ------------------------------------------------------------------ cost

    def _check(self, where, act, weights):
        p = self.params
        for role, f, pe_f in (("activations", act, p.activation_format),
                              ("weights", weights, p.weight_format)):
            fa, fp = _formats.get(f), _formats.get(pe_f)
            ok = fa.bits <= fp.bits and (fa.is_float == fp.is_float or not fa.is_float)
            if not ok:
                raise UnsupportedError(f"{where}: {role} {f} do not fit the PE's {pe_f} "
                                       f"multiplier; use formats of at most {fp.bits} bits "
                                       f"({'float' if fp.is_float else 'integer'})")

    def _gemm(self, op: Op, spec: MACGemmSpec) -> Cost:
        """The cost of one GEMM of :meth:`gemm_specs` under its best mapping."""
        p = self.params
        self._check(f"{self.name}: {op.name or op.type}", spec.activations, spec.weights)
        m = self.map_gemm(spec.M, spec.N, spec.K, spec.groups,
                          _formats.get(spec.activations).storage_bits / 8,
                          _formats.get(spec.weights).storage_bits / 8,
                          _formats.get(spec.out).storage_bits / 8)
        t_c = m["cycles"] / p.clock_hz
        t_m = max(m["dram_bytes"], spec.total_bytes) / p.mem_bandwidth_Bps
        t = max(t_c, t_m)
        en = m["energy"]
        macs = spec.groups * spec.M * spec.N * spec.K
        return Cost(latency_s=t, energy_j=sum(en.values()),
                    bound=Bound.COMPUTE if t_c >= t_m else Bound.MEMORY,
                    utilization=2 * macs / t / self._peak_ops_per_s(),
                    compute_path=f"mac-{p.dataflow}",
                    time=TimeParts(compute_s=t_c, memory_s=t_m),
                    # PE registers count as on-chip storage (the innermost memory level, as in
                    # ZigZag / Timeloop), the MAC units alone as compute
                    energy=EnergyParts(compute_j=en["mac_j"],
                                       onchip_j=en["pe_reg_j"] + en["sram_j"],
                                       offchip_j=en["dram_j"]),
                    detail=MACArrayCostDetail(
                        cycles=float(m["cycles"]), dram_bytes=float(m["dram_bytes"]),
                        tile_m=m["tile"][0], tile_n=m["tile"][1], tile_k=m["tile"][2],
                        pe_reg_j=en["pe_reg_j"], sram_j=en["sram_j"]))

    def cost_gemm(self, op: Gemm) -> Cost:
        return self._gemm(op, self.gemm_specs(op)[0])

    def cost_conv2d(self, op: Op) -> Cost:
        return self._gemm(op, self.gemm_specs(op)[0])

    def gemm_specs(self, op: Op) -> list[MACGemmSpec]:
        """The GEMMs ``cost(op)`` maps (attention: QK^T then PV, causal masking skipped at block
        granularity, each with half the op's bytes as its memory floor). Read-only."""
        if isinstance(op, Attention):
            bh = op.batch * op.heads
            kv_eff = op.kv_effective
            return [MACGemmSpec(op.q_len, kv_eff, op.head_dim, bh, op.activations, op.kv, op.out,
                                op.bytes / 2),
                    MACGemmSpec(op.q_len, op.head_dim, kv_eff, bh, op.activations, op.kv, op.out,
                                op.bytes / 2)]
        g = op if isinstance(op, Gemm) else op.as_gemm()
        return [MACGemmSpec(g.M, g.N, g.K, g.groups, op.activations, op.weights, op.out,
                            op.bytes)]

    def mapping(self, op: Op) -> list[dict]:
        """The mapping(s) ``cost(op)`` chose, one per GEMM of :meth:`gemm_specs`: the
        :meth:`map_gemm` dict plus ``M, N, K, groups``, bytes per element of each operand
        (``a_bytes, w_bytes, o_bytes``) and ``total_bytes``. Read-only (used by ``hwsim.sim``)."""
        out = []
        for sp in self.gemm_specs(op):
            self._check(f"{self.name}: {op.name or op.type}", sp.activations, sp.weights)
            eb = {r: _formats.get(f).storage_bits / 8 for r, f in
                  (("a_bytes", sp.activations), ("w_bytes", sp.weights), ("o_bytes", sp.out))}
            m = self.map_gemm(sp.M, sp.N, sp.K, sp.groups, eb["a_bytes"], eb["w_bytes"],
                              eb["o_bytes"])
            out.append({**m, "M": sp.M, "N": sp.N, "K": sp.K, "groups": sp.groups, **eb,
                        "total_bytes": sp.total_bytes})
        return out

    def cost_attention(self, op: Attention) -> Cost:
        """QK^T and PV as batched GEMMs run one after the other: times and energies add (no
        family detail: the two GEMMs map differently, see :meth:`mapping`)."""
        qk, pv = (self._gemm(op, spec) for spec in self.gemm_specs(op))
        return Cost(latency_s=qk.latency_s + pv.latency_s, energy_j=qk.energy_j + pv.energy_j,
                    bound=qk.bound if qk.latency_s >= pv.latency_s else pv.bound,
                    utilization=(qk.utilization * qk.latency_s + pv.utilization * pv.latency_s)
                    / (qk.latency_s + pv.latency_s), compute_path=qk.compute_path,
                    time=TimeParts(compute_s=qk.time.compute_s + pv.time.compute_s,
                                   memory_s=qk.time.memory_s + pv.time.memory_s),
                    energy=EnergyParts(compute_j=qk.energy.compute_j + pv.energy.compute_j,
                                       onchip_j=qk.energy.onchip_j + pv.energy.onchip_j,
                                       offchip_j=qk.energy.offchip_j + pv.energy.offchip_j))

    def cost_vector(self, op: Op) -> Cost:
        """Elementwise / norm / softmax / embedding on the vector unit: max(compute at
        ``vector_ops_per_s``, DRAM traffic), fp32 adder energy per flop."""
        p = self.params
        t_c = op.flops / p.vector_ops_per_s
        t_m = op.bytes / p.mem_bandwidth_Bps
        e_c = op.flops * adder(self.tech, "fp32", "energy")
        e_m = self.tech.energy_pj("dram", bits=8 * op.bytes, kind=p.dram_kind)
        e = (e_c + e_m) * 1e-12
        t = max(t_c, t_m)
        return Cost(latency_s=t, energy_j=e, bound=Bound.COMPUTE if t_c >= t_m else Bound.MEMORY,
                    utilization=op.flops / t / p.vector_ops_per_s if t else 0.0,
                    compute_path="vector", time=TimeParts(compute_s=t_c, memory_s=t_m),
                    energy=EnergyParts(compute_j=e_c * 1e-12, offchip_j=e_m * 1e-12))


def _candidates(dim: int, unit: int) -> np.ndarray:
    """Tile sizes: the spatial unroll times powers of two, capped at the (rounded-up) dimension."""
    top = -(-dim // unit) * unit
    out, t = [], unit
    while t < top:
        out.append(t)
        t *= 2
    out.append(top)
    return np.array(sorted(set(out)), dtype=np.int64)
