"""LUT Tensor Core (Mo et al., "LUT Tensor Core", ISCA 2025, arXiv 2408.06003): low-bit-weight x
higher-precision-activation GEMMs by table lookup (family ``lut``).

For each group of K activations the core holds the sums for every pattern of K one-bit weights
(2^K entries, 2^(K-1) after symmetrization), shares each table across the N columns of its tile
and processes a W-bit weight as W bit-planes (``planes_per_cycle`` at a time), each plane a
lookup + accumulate per output. Table precompute is fused into the previous operator (the paper's
DFG transform) or done in the unit. Area and per-cycle energy come from
:func:`hwsim.families.tile.lut_tile` with the preset's technology node; GEMM latency is the larger of
the tiles' compute time and the operands' DRAM time; energy adds SRAM/DRAM traffic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field

from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Gemm, Op
from ...contract import (Accelerator, Cost, CostDetail, EnergyParts, HardwareSummary, Params,
                        roofline_cost)
from ..tile import Breakdown, adder, lut_tile, table_entry_bits, weight_planes


class LUTParams(Params):
    renamed: ClassVar[dict[str, str]] = {"frequency_hz": "clock_hz"}

    technology: str = Field(description="tech node name or table path, e.g. 28nm")
    clock_hz: float = Field(gt=0, description="clock of the LUT tiles")
    tile_m: int = Field(gt=0)
    tile_n: int = Field(gt=0)
    tile_k: int = Field(gt=0, le=8, description="weights per lookup group (table: 2^K entries)")
    tiles: int = Field(gt=0, description="number of LUT tiles working in parallel")
    planes_per_cycle: int = Field(default=1, gt=0)
    symmetric_tables: bool = True
    negation_removal: bool = True
    precompute: Literal["fused", "in_unit"] = "fused"
    table_format: str | None = Field(default=None, description="quantized table entries, e.g. int8")
    activation_formats: list[str]
    max_weight_bits: int = Field(gt=0, le=8)
    sram_bytes: int = Field(gt=0)
    mem_bandwidth_Bps: float = Field(gt=0)
    dram_kind: str = "hbm2"
    host_ops_per_s: float = Field(gt=0, description="peak of the host datapath that runs what a "
                                  "LUT core cannot: attention and activation x activation GEMMs")
    host_format: str = Field(default="fp16", description="format of the host datapath")
    vector_ops_per_s: float = Field(gt=0, description="elementwise / norm / softmax rate")


@dataclass(frozen=True)
class LUTCostDetail(CostDetail):
    """The LUT core's own numbers for a weight GEMM on its tiles (the split of ``compute_j``)."""

    cycles: float        # clock cycles of the parallel LUT tiles (schedule's ``cycles``)
    weight_planes: float  # weight bit-planes each lookup step walks (ternary 2, intN N)
    tiles_j: float       # lookups and accumulation in the LUT tiles
    precompute_j: float  # table precompute fused into the previous operator (0 when in-unit)


class LUTCore(Accelerator):
    family = "lut"
    Params = LUTParams

    def tile_programs(self, op: Op, cost: Cost, mem_latency_s: float = 0.0):
        """The simulator's tile programs for ``op`` (:mod:`.sim`), None where it has none."""
        from .sim import programs  # simpy-side code, imported only when simulating
        return programs(self, op, mem_latency_s)

    @cached_property
    def tech(self):
        return load_tech(self.params.technology)

    @cached_property
    def _tiles(self) -> dict:
        return {}

    def tile(self, act: str, weight_bits: int) -> Breakdown:
        """Per-cycle breakdown of one tile (memoized: every GEMM of a format pair shares it)."""
        b = self._tiles.get((act, weight_bits))
        if b is None:
            p = self.params
            b = self._tiles[(act, weight_bits)] = lut_tile(
                self.tech, p.tile_m, p.tile_n, p.tile_k, act, weight_bits,
                symmetric=p.symmetric_tables, negation_removal=p.negation_removal,
                precompute_in_unit=p.precompute == "in_unit", table_format=p.table_format,
                planes_per_cycle=p.planes_per_cycle)
        return b

    def _check(self, where: str, act: str, weights: str) -> int:
        p = self.params
        if act not in p.activation_formats:
            raise UnsupportedError(f"{where}: activations {act} not supported; this LUT core "
                                   f"takes {', '.join(p.activation_formats)}")
        wb = weight_planes(weights)
        if wb > p.max_weight_bits:
            raise UnsupportedError(f"{where}: {wb}-bit weights exceed max_weight_bits = "
                                   f"{p.max_weight_bits}")
        return wb

    # ------------------------------------------------------------------ figures of merit

    def area_breakdown_um2(self, act: str | None = None, weight_bits: int | None = None) -> dict:
        """Area by component. A core that takes several activation formats is built for the
        costliest one (its tables, muxes and accumulators serve the others)."""
        p = self.params
        wb = weight_bits or p.max_weight_bits
        acts = [act] if act else p.activation_formats
        b = max((self.tile(a, wb) for a in acts), key=lambda x: x.total_area_um2)
        out = {k: v * p.tiles for k, v in b.area_um2.items()}
        out["sram"] = self.tech.area_um2("sram", capacity_bytes=p.sram_bytes)
        return out

    @property
    def area_mm2(self) -> float:
        return sum(self.area_breakdown_um2().values()) / 1e6

    @property
    def compute_area_mm2(self) -> float:
        """Area of the LUT tiles alone (the tensor-core area papers compare)."""
        return sum(v for k, v in self.area_breakdown_um2().items() if k != "sram") / 1e6

    def summary(self) -> HardwareSummary:
        """No memory capacity (weights stream from an unmodelled host memory) and no static
        power term (the tile and SRAM energies are per access)."""
        p = self.params
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=p.mem_bandwidth_Bps, mem_capacity_bytes=None,
                               idle_power_w=0.0)

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """The LUT tiles' peak for formats they take (by the weights' bit-planes); a GEMM of two
        ``host_format`` operands (attention, activation x activation) runs at ``host_ops_per_s``;
        UnsupportedError otherwise (naming why the LUT tiles cannot take it)."""
        p = self.params
        try:
            wb = self._check(f"{self.name}: peak", activations, weights)
        except UnsupportedError:
            if activations == weights == p.host_format:
                return p.host_ops_per_s
            raise
        return self._peak_ops_per_s(wb)

    def _peak_ops_per_s(self, weight_bits: int) -> float:
        """Peak of the LUT tiles for ``weight_bits``-bit weights (one bit-plane per lookup)."""
        p = self.params
        return (2 * p.tile_m * p.tile_n * p.tile_k * p.tiles * p.clock_hz
                / math.ceil(weight_bits / p.planes_per_cycle))

    def tops_per_mm2(self, act: str, weight_bits: int) -> float:
        return self._peak_ops_per_s(weight_bits) / 1e12 / self.compute_area_mm2

    def tops_per_w(self, act: str, weight_bits: int) -> float:
        """Peak ops per joule of the tiles at full utilization (no SRAM/DRAM traffic)."""
        p = self.params
        e_cycle = self.tile(act, weight_bits).total_energy_pj * 1e-12 * p.tiles
        ops_cycle = self._peak_ops_per_s(weight_bits) / p.clock_hz
        return ops_cycle / e_cycle / 1e12

    # ------------------------------------------------------------------ cost

    def gemm_schedule(self, op: Gemm) -> dict:
        """How ``cost(op)`` runs a weight GEMM on the LUT tiles (read-only; used by
        ``hwsim.sim``): weight bit-planes ``wb``, M x N x K tile ``steps`` over all groups,
        ``cyc_per_step``, ``cycles`` over the parallel tiles, table ``entries``/``tbits`` and the
        ``table_bytes`` one table per tile needs in SRAM."""
        p = self.params
        wb = self._check(f"{self.name}: {op.name or 'Gemm'}", op.activations, op.weights)
        tm, tn, tk = p.tile_m, p.tile_n, p.tile_k
        entries = 2 ** (tk - 1) if p.symmetric_tables else 2 ** tk
        _, tbits = table_entry_bits(op.activations, tk, p.table_format)
        need = tm * entries * tbits / 8 * p.tiles
        if p.sram_bytes < need:
            raise UnsupportedError(f"{self.name}: sram_bytes = {p.sram_bytes} cannot hold one table "
                                   f"per tile ({need:.0f} bytes for {p.tiles} tiles); raise sram_bytes")
        steps = op.groups * -(-op.M // tm) * -(-op.N // tn) * -(-op.K // tk)
        cyc_per_step = math.ceil(wb / p.planes_per_cycle)
        return {"wb": wb, "steps": steps, "cyc_per_step": cyc_per_step,
                "cycles": math.ceil(steps * cyc_per_step / p.tiles), "entries": entries,
                "tbits": tbits, "table_bytes": need}

    def cost_gemm(self, op: Gemm) -> Cost:
        p = self.params
        if not op.b_is_weight:  # activation x activation: no static weights to bit-slice
            f = p.host_format
            return self._host(op, p.host_ops_per_s, f"host-{f}", self.tech.energy_pj("mac", a=f, w=f))
        sch = self.gemm_schedule(op)
        wb, entries, tbits = sch["wb"], sch["entries"], sch["tbits"]
        tk, tn = p.tile_k, p.tile_n
        steps, cyc_per_step = sch["steps"], sch["cyc_per_step"]
        t_c = sch["cycles"] / p.clock_hz
        t_m = op.bytes / p.mem_bandwidth_Bps
        tile = self.tile(op.activations, wb)
        e_tiles = steps * cyc_per_step * tile.total_energy_pj * 1e-12
        # tables: one per (row, K-group), built once (fused precompute on the vector path) and
        # read from SRAM by every N tile
        n_tables = op.groups * op.M * -(-op.K // tk)
        e_pre = 0.0
        if p.precompute == "fused":
            e_pre = n_tables * entries * adder(self.tech, op.activations, "energy") * 1e-12
        table_bits = n_tables * entries * tbits * -(-op.N // tn)
        sram_bits = table_bits + 8 * (op.operand_bytes()["B"] + op.operand_bytes()["C"])
        e_sram = self.tech.energy_pj("sram_read", bits=sram_bits,
                                     capacity_bytes=p.sram_bytes) * 1e-12
        e_dram = self.tech.energy_pj("dram", bits=8 * op.bytes, kind=p.dram_kind) * 1e-12
        t = max(t_c, t_m)
        # no static term: the tiles' and SRAM's energies are per access (tech tables)
        return roofline_cost(
            compute_s=t_c, memory_s=t_m,
            energy=EnergyParts(compute_j=e_tiles + e_pre, onchip_j=e_sram, offchip_j=e_dram),
            utilization=op.flops / t / self._peak_ops_per_s(wb) if t else 0.0,
            compute_path=f"lut-w{wb}-{op.activations}",
            detail=LUTCostDetail(cycles=sch["cycles"], weight_planes=wb, tiles_j=e_tiles,
                                 precompute_j=e_pre))

    def cost_conv2d(self, op: Op) -> Cost:
        return self.cost_gemm(op.as_gemm())

    def _host(self, op: Op, peak: float, path: str, e_op_pj: float) -> Cost:
        """Ops the LUT tiles cannot run go to the host datapath (the paper keeps attention on the
        GPU's FP16 tensor cores): roofline time, MAC energy of the host format plus DRAM."""
        p = self.params
        t_c = op.flops / peak
        t_m = op.bytes / p.mem_bandwidth_Bps
        e_ops = op.flops / 2 * e_op_pj * 1e-12
        e_dram = self.tech.energy_pj("dram", bits=8 * op.bytes, kind=p.dram_kind) * 1e-12
        t = max(t_c, t_m)
        return roofline_cost(compute_s=t_c, memory_s=t_m,
                             energy=EnergyParts(compute_j=e_ops, offchip_j=e_dram),
                             utilization=op.flops / t / peak if t else 0.0, compute_path=path)

    def cost_attention(self, op: Op) -> Cost:
        f = self.params.host_format
        return self._host(op, self.params.host_ops_per_s, f"host-{f}",
                          self.tech.energy_pj("mac", a=f, w=f))

    def _vector(self, op: Op) -> Cost:
        return self._host(op, self.params.vector_ops_per_s, "vector",
                          2 * adder(self.tech, "fp32", "energy"))

    cost_vector = _vector
