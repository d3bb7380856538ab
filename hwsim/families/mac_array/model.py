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
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import Field

from ... import formats as _formats
from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Gemm, Op
from ...contract import LegacyDetail, AcceleratorBase, Cost, Params
from ..tile import acc_format, adder

ORDERS = list(itertools.permutations("mnk"))
INDEX = {"A": set("mk"), "B": set("kn"), "C": set("mn")}


class MACArrayParams(Params):
    technology: str
    frequency_hz: float = Field(gt=0)
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


class MACArray(AcceleratorBase):
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

    def peak_ops_per_s(self) -> float:
        p = self.params
        return 2 * p.rows * p.cols * p.frequency_hz

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

    def _gemm(self, op: Op, M, N, K, groups, act, weights, out, total_bytes) -> Cost:
        p = self.params
        self._check(f"{self.name}: {op.name or op.type}", act, weights)
        m = self.map_gemm(M, N, K, groups, _formats.get(act).storage_bits / 8,
                          _formats.get(weights).storage_bits / 8, _formats.get(out).storage_bits / 8)
        t_c = m["cycles"] / p.frequency_hz
        t_m = max(m["dram_bytes"], total_bytes) / p.mem_bandwidth_Bps
        t = max(t_c, t_m)
        e = sum(m["energy"].values())
        return Cost(latency_s=t, energy_j=e, bound="compute" if t_c >= t_m else "memory",
                    utilization=2 * groups * M * N * K / t / self.peak_ops_per_s(),
                    compute_path=f"mac-{p.dataflow}",
                    detail=LegacyDetail({"compute_s": t_c, "memory_s": t_m, **m["energy"],
                               "tile_m": m["tile"][0], "tile_n": m["tile"][1],
                               "tile_k": m["tile"][2]}))

    def cost_gemm(self, op: Gemm) -> Cost:
        return self._gemm(op, op.M, op.N, op.K, op.groups, op.activations, op.weights, op.out,
                          op.bytes)

    def cost_conv2d(self, op: Op) -> Cost:
        g = op.as_gemm()
        return self._gemm(op, g.M, g.N, g.K, g.groups, op.activations, op.weights, op.out, op.bytes)

    def gemm_specs(self, op: Op) -> list[tuple]:
        """The GEMMs ``cost(op)`` maps, as ``(M, N, K, groups, act, weights, out, total_bytes)``
        (attention: QK^T then PV, causal masking skipped at block granularity). Read-only."""
        if isinstance(op, Attention):
            bh = op.batch * op.heads
            frac = op.score_pairs / (op.q_len * op.kv_len)
            kv_eff = max(1, round(op.kv_len * frac))
            return [(op.q_len, kv_eff, op.head_dim, bh, op.activations, op.kv, op.out,
                     op.bytes / 2),
                    (op.q_len, op.head_dim, kv_eff, bh, op.activations, op.kv, op.out,
                     op.bytes / 2)]
        g = op if isinstance(op, Gemm) else op.as_gemm()
        return [(g.M, g.N, g.K, g.groups, op.activations, op.weights, op.out, op.bytes)]

    def mapping(self, op: Op) -> list[dict]:
        """The mapping(s) ``cost(op)`` chose, one per GEMM of :meth:`gemm_specs`: the
        :meth:`map_gemm` dict plus ``M, N, K, groups``, bytes per element of each operand
        (``a_bytes, w_bytes, o_bytes``) and ``total_bytes``. Read-only (used by ``hwsim.sim``)."""
        out = []
        for M, N, K, groups, act, weights, o, total in self.gemm_specs(op):
            self._check(f"{self.name}: {op.name or op.type}", act, weights)
            eb = {r: _formats.get(f).storage_bits / 8 for r, f in
                  (("a_bytes", act), ("w_bytes", weights), ("o_bytes", o))}
            m = self.map_gemm(M, N, K, groups, eb["a_bytes"], eb["w_bytes"], eb["o_bytes"])
            out.append({**m, "M": M, "N": N, "K": K, "groups": groups, **eb,
                        "total_bytes": total})
        return out

    def cost_attention(self, op: Attention) -> Cost:
        """QK^T and PV as batched GEMMs (causal masking skipped at block granularity)."""
        qk, pv = (self._gemm(op, *spec) for spec in self.gemm_specs(op))
        return Cost(latency_s=qk.latency_s + pv.latency_s, energy_j=qk.energy_j + pv.energy_j,
                    bound=qk.bound if qk.latency_s >= pv.latency_s else pv.bound,
                    utilization=(qk.utilization * qk.latency_s + pv.utilization * pv.latency_s)
                    / (qk.latency_s + pv.latency_s), compute_path=qk.compute_path)

    def _vector(self, op: Op) -> Cost:
        p = self.params
        t_c = op.flops / p.vector_ops_per_s
        t_m = op.bytes / p.mem_bandwidth_Bps
        e = (op.flops * adder(self.tech, "fp32", "energy")
             + self.tech.energy_pj("dram", bits=8 * op.bytes, kind=p.dram_kind)) * 1e-12
        t = max(t_c, t_m)
        return Cost(latency_s=t, energy_j=e, bound="compute" if t_c >= t_m else "memory",
                    utilization=op.flops / t / p.vector_ops_per_s if t else 0.0,
                    compute_path="vector", detail=LegacyDetail({"compute_s": t_c, "memory_s": t_m}))

    cost_vector = _vector


def _candidates(dim: int, unit: int) -> np.ndarray:
    """Tile sizes: the spatial unroll times powers of two, capped at the (rounded-up) dimension."""
    top = -(-dim // unit) * unit
    out, t = [], unit
    while t < top:
        out.append(t)
        t *= 2
    out.append(top)
    return np.array(sorted(set(out)), dtype=np.int64)
