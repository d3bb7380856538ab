"""A GPU whose tensor cores are MAC arrays or LUT Tensor Core arrays (family ``lut_gpu``).

The LUT Tensor Core paper (Mo et al., ISCA'25, arXiv 2408.06003; hwsim/reference/
paper-claims.md §1) compares whole LLM passes on an A100 whose tensor cores are replaced by LUT
arrays, every configuration normalized to 28 nm and 1.41 GHz (its Table 1). This family builds
that GPU by composing two existing models instead of writing a third:

* the **host GPU** (:class:`hwsim.families.gpu.model.GPU`, an arch preset such as ``a100-sxm``,
  named by ``host``; :func:`hwsim.load_arch` builds it and passes it in as ``refs["host"]``): SM
  count, HBM system, CTA tile / wave quantization, kernel overheads, attention, norm and
  elementwise kernels, all as calibrated there, re-clocked to ``clock_hz``;
* the **tensor-core datapath** of each SM:

  - ``tensor_core: mac``: the host's own MAC tensor cores. Area per SM comes from
    :func:`hwsim.families.tile.mac_tile` at ``technology`` for the shape in ``mac_shapes``.
  - ``tensor_core: lut``: ``lut_tiles_per_sm`` LUT tiles (:func:`hwsim.families.tile.lut_tile`,
    M x N x K one-bit lookups per cycle each). A W-bit weight takes ceil(W / planes_per_cycle)
    cycles (bit-serial), so the per-SM rate is ``2 * tiles * M * N * K / ceil(W / p)`` ops per
    clock. Weight GEMMs whose formats the LUT takes run there; everything else (attention,
    activation x activation GEMMs, float weights) runs on the host's datapaths, which the SM keeps
    (the paper's Table 1 counts only the LUT arrays' area).

A weight GEMM on a tensor datapath costs ``max(t_tiles, t_hbm) + kernel_overhead_s`` where
``t_tiles`` is the host's tile/wave model (:meth:`GPU.gemm_time`) at the datapath's per-SM rate and
``tensor_efficiency``, and ``t_hbm`` moves the operands at their storage width (2-bit weights move
2 bits). Low-bit integer weights with wider activations that the LUT arrays do not take run on the
activation's tensor datapath with the weights dequantized in the kernel (the paper's "A100 INT8 TC"
row: W_INT2 A_INT8 on INT8 tensor cores; its "H100 FP8 TC" row: W_INT2 A_FP8 on FP8 tensor cores),
never on the host's measured weight-only (tinygemm) kernel, which the normalized designs do not run. No power roof is applied to these GEMMs: the normalized designs have no measured power
limit, and the paper's simulator models none.

Energy of the LUT datapath (unvalidated): the host's measured energy per op of the activation
datapath times the ratio LUT tile / MAC tile energy per op from the same technology table.

Assumptions stated where they are made: one ``tensor_efficiency`` for every tensor datapath (the
paper's tile simulator scales every configuration alike; the value is the host family's measured
fp16 fit), and ``attention_kernel`` (``flash``: hwsim's fused kernel; ``unfused``: score matrix
materialized, as PyTorch eager attention runs it).

What this model reads of the host beyond the contract (the GPU family's own API): its parameters
``sms``, ``ops_per_clk_per_sm``, ``tc_efficiency``, ``mem_bandwidth_Bps``, ``mem_efficiency``,
``kernel_overhead_s``, ``hbm_energy_pj_per_byte``, ``idle_power_w`` (and, to re-clock it,
``clock_hz``, ``max_clock_hz``, ``path_clock_hz``), and its methods ``gemm_time``,
``ops_per_clk_per_sm`` and ``_e_op``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from ... import formats as _formats
from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Gemm, Op, Softmax
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary, Params,
                        TimeParts, pick_compute_path)
from ..tile import lut_tile, mac_tile, weight_planes

# datapaths of a GPU that are tensor cores (the rest, fp32/fp64, are SIMT cores)
TENSOR_PATHS = ("tf32", "fp16", "bf16", "fp8", "fp6", "fp4", "int8", "int4", "int1")


class LUTGPUParams(Params):
    host: str = Field(description="arch preset of the host GPU (family gpu), e.g. a100-sxm")
    clock_hz: float = Field(gt=0, description="SM clock of every datapath (normalization clock)")
    technology: str = Field(description="tech node of the tensor-core area model, e.g. 28nm")
    tensor_core: Literal["mac", "lut"]
    tensor_efficiency: float = Field(gt=0, le=1, description="fraction of a tensor datapath's "
                                     "peak a large CTA tile sustains (every datapath alike)")
    attention_kernel: Literal["flash", "unfused"] = "flash"
    mac_shapes: dict[str, list[int]] = Field(
        description="tensor datapath -> [M, N, K] of the MAC tile whose area per MAC is used")
    lut_tile_m: int = Field(default=2, gt=0)
    lut_tile_n: int = Field(default=64, gt=0)
    lut_tile_k: int = Field(default=4, gt=0, le=8)
    lut_tiles_per_sm: int = Field(default=0, ge=0)
    lut_planes_per_cycle: int = Field(default=1, gt=0)
    lut_activation_formats: list[str] = Field(default_factory=list)
    lut_max_weight_bits: int = Field(default=4, gt=0, le=8)
    symmetric_tables: bool = True
    negation_removal: bool = True
    precompute: Literal["fused", "in_unit"] = "fused"
    table_format: str | None = None

    @model_validator(mode="after")
    def _lut_fields(self):
        if self.tensor_core == "lut":
            if self.lut_tiles_per_sm < 1:
                raise ValueError(f"lut_tiles_per_sm = {self.lut_tiles_per_sm}: a LUT GPU needs >= 1")
            if not self.lut_activation_formats:
                raise ValueError("lut_activation_formats is empty: a LUT GPU needs at least one "
                                 "activation format (e.g. [int8])")
        for path, shape in self.mac_shapes.items():
            if path not in TENSOR_PATHS or len(shape) != 3 or min(shape) < 1:
                raise ValueError(f"mac_shapes.{path} = {shape}: expected a tensor datapath "
                                 f"({', '.join(TENSOR_PATHS)}) -> [M, N, K] of positive ints")
        return self


@dataclass(frozen=True)
class LUTGPUCostDetail(CostDetail):
    """A weight GEMM on a tensor datapath (LUT arrays or MAC tensor cores) of the LUT GPU."""

    datapath_peak_ops_per_s: float  # the datapath's peak at clock_hz (utilization's denominator)
    energy_pj_per_op: float         # datapath energy per op (LUT: host's x LUT/MAC tile ratio)


@dataclass(frozen=True)
class UnfusedAttentionDetail(CostDetail):
    """Eager attention as three host kernels run one after another (:meth:`LUTGPU.attention_ops`)."""

    qk_s: float       # S = Q K^T GEMM
    softmax_s: float  # softmax over the materialized score matrix
    pv_s: float       # O = P V GEMM


def _sum_energy(parts: list[Cost]) -> EnergyParts | None:
    """Energy roles of kernels run one after another; None if a part has no roles (a host
    family that does not report them yet)."""
    if any(c.energy is None for c in parts):
        return None
    return EnergyParts(compute_j=sum(c.energy.compute_j for c in parts),
                       onchip_j=sum(c.energy.onchip_j for c in parts),
                       offchip_j=sum(c.energy.offchip_j for c in parts),
                       static_j=sum(c.energy.static_j for c in parts))


class LUTGPU(Accelerator):
    """GPU with MAC or LUT tensor cores, normalized as the LUT Tensor Core paper's Table 1."""

    family = "lut_gpu"
    Params = LUTGPUParams
    arch_refs = ("host",)  # the host GPU preset; load_arch builds it (refs["host"])

    # ------------------------------------------------------------------ composition

    @cached_property
    def tech(self):
        return load_tech(self.params.technology)

    @cached_property
    def host(self):
        """The host GPU model re-clocked to ``clock_hz``, every tensor datapath at
        ``tensor_efficiency`` (its SIMT efficiencies as fitted)."""
        base = self.refs["host"]
        if base.family != "gpu":
            raise UnsupportedError(f"{self.name}: host = {self.params.host!r} is a {base.family} "
                                   "preset; expected a GPU (family gpu)")
        return self._host_variant(base, {})

    def _host_variant(self, base, rates: dict[str, float]):
        """``base`` (the host preset's model) with these parameters replaced: every datapath at
        ``clock_hz``, ``rates`` (ops/clk/SM) and the tensor datapaths' efficiency."""
        p, hp = self.params, base.params
        ops = {**hp.ops_per_clk_per_sm, **rates}
        eff = {k: v for k, v in hp.tc_efficiency.items() if k not in TENSOR_PATHS}
        eff.update({k: p.tensor_efficiency for k in ops if k in TENSOR_PATHS})
        over = dict(clock_hz=p.clock_hz, max_clock_hz=p.clock_hz, path_clock_hz={},
                    ops_per_clk_per_sm=ops, tc_efficiency=eff)
        return type(base).from_spec(
            base.name, {**hp.model_dump(), **over},
            f"{self.name}: host {base.name} (with overrides {sorted(over)})",
            source=base.source, description=base.description, refs=base.refs)

    @cached_property
    def _lut_hosts(self) -> dict:
        """Memo of the derived hosts per (datapath, weight bits) and LUT energies per op."""
        return {}

    def _lut_host(self, act_path: str, wb: int):
        """Host variant whose ``act_path`` datapath runs at the LUT arrays' rate for W-bit weights."""
        key = (act_path, wb)
        if key not in self._lut_hosts:
            rate = self.lut_ops_per_clk_per_sm(wb)
            self._lut_hosts[key] = self._host_variant(self.host, {act_path: rate})
        return self._lut_hosts[key]

    @property
    def sms(self) -> int:
        return self.host.params.sms

    def summary(self) -> HardwareSummary:
        """The host's memory system and idle power at the normalization clock ``clock_hz``."""
        hs = self.host.summary()
        return HardwareSummary(name=self.name, family=self.family, clock_hz=self.params.clock_hz,
                               mem_bandwidth_Bps=hs.mem_bandwidth_Bps,
                               mem_capacity_bytes=hs.mem_capacity_bytes,
                               idle_power_w=hs.idle_power_w)

    # ------------------------------------------------------------------ tensor-core figures

    def lut_tile_breakdown(self, act: str, weight_bits: int = 2):
        p = self.params
        return lut_tile(self.tech, p.lut_tile_m, p.lut_tile_n, p.lut_tile_k, act, weight_bits,
                        symmetric=p.symmetric_tables, negation_removal=p.negation_removal,
                        precompute_in_unit=p.precompute == "in_unit",
                        table_format=p.table_format, planes_per_cycle=p.lut_planes_per_cycle)

    def lut_ops_per_clk_per_sm(self, weight_bits: int) -> float:
        """Ops (1 MAC = 2) per clock per SM of the LUT arrays for W-bit weights (bit-serial)."""
        p = self.params
        if p.tensor_core != "lut":
            raise UnsupportedError(f"{self.name}: tensor_core = mac has no LUT arrays")
        return (2 * p.lut_tiles_per_sm * p.lut_tile_m * p.lut_tile_n * p.lut_tile_k
                / math.ceil(weight_bits / p.lut_planes_per_cycle))

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """Peak of the datapath a weight GEMM of these formats runs on: the LUT arrays where they
        take it (by the weights' bit-planes), else the host datapath :meth:`cost` uses (the
        activations' integer path for dequantized low-bit weights), at ``clock_hz``."""
        wb = self._lut_planes(activations, weights)
        if wb is not None:
            return self._lut_peak_ops_per_s(wb)
        path = pick_compute_path(f"{self.name}: peak", activations, weights,
                                 self.host.params.ops_per_clk_per_sm)
        return self._path_peak_ops_per_s(path)

    def _lut_peak_ops_per_s(self, weight_bits: int) -> float:
        """Peak of the LUT arrays for ``weight_bits``-bit weights (the paper's Table 1: W_INT2)."""
        return self.lut_ops_per_clk_per_sm(weight_bits) * self.sms * self.params.clock_hz

    def _path_peak_ops_per_s(self, path: str) -> float:
        """Peak of the host's ``path`` datapath (``fp16``, ``int8`` ...) at ``clock_hz``."""
        return self.host.ops_per_clk_per_sm(path) * self.sms * self.params.clock_hz

    def tc_area_per_sm_mm2(self, path: str | None = None) -> float:
        """Tensor-core area of one SM at ``technology``. LUT GPU: the LUT tiles, built for the
        costliest of ``lut_activation_formats`` (or ``path``, an activation format). MAC GPU: the
        MACs/clock/SM of datapath ``path`` (default fp16) x area per MAC of its ``mac_shapes``
        tile (multiply, adder tree, accumulator, operand registers)."""
        p = self.params
        if p.tensor_core == "lut":
            acts = [path] if path else p.lut_activation_formats
            return max(self.lut_tile_breakdown(a).total_area_um2 for a in acts) \
                * p.lut_tiles_per_sm / 1e6
        path = path or "fp16"
        if path not in p.mac_shapes:
            raise UnsupportedError(f"{self.name}: no MAC tile shape for the {path} datapath "
                                   f"(mac_shapes has {', '.join(sorted(p.mac_shapes)) or 'none'})")
        m, n, k = p.mac_shapes[path]
        t = mac_tile(self.tech, m, n, k, path, path)
        macs_per_clk = self.host.ops_per_clk_per_sm(path) / 2
        return t.total_area_um2 / (m * n * k) * macs_per_clk / 1e6

    def compute_density_tops_per_mm2(self, path: str = "fp16",
                                     weight_bits: int | None = None) -> float:
        """Peak / tensor-core area of the whole GPU (TOPS per mm² at ``technology``)."""
        if self.params.tensor_core == "lut":
            wb = weight_bits or 2
            return self._lut_peak_ops_per_s(wb) / 1e12 / (self.tc_area_per_sm_mm2() * self.sms)
        return self._path_peak_ops_per_s(path) / 1e12 / (self.tc_area_per_sm_mm2(path) * self.sms)

    @property
    def area_mm2(self) -> float:
        """Tensor-core area of all SMs (the only area this family models)."""
        return self.tc_area_per_sm_mm2() * self.sms

    # ------------------------------------------------------------------ cost

    def _lut_ok(self, op: Op) -> int | None:
        """Weight bit-planes if the LUT arrays take this weight GEMM, else None."""
        if not getattr(op, "b_is_weight", True):
            return None
        return self._lut_planes(op.activations, op.weights)

    def _lut_planes(self, activations: str, weights: str) -> int | None:
        """Weight bit-planes if the LUT arrays take a weight GEMM of these formats, else None."""
        p = self.params
        if p.tensor_core != "lut" or activations not in p.lut_activation_formats:
            return None
        try:
            wb = weight_planes(weights)
        except UnsupportedError:
            return None
        return wb if wb <= p.lut_max_weight_bits else None

    def _tensor_gemm(self, op: Op, host, path: str, e_op_pj: float, compute_path: str) -> Cost:
        """A weight GEMM on a tensor datapath of ``host`` (module docstring)."""
        g = op if isinstance(op, Gemm) else op.as_gemm()
        hp = host.params
        t_tiles, _ = host.gemm_time(g.M, g.N, g.K, path, g.groups)
        nbytes = op.bytes
        t_mem = nbytes / (hp.mem_bandwidth_Bps * hp.mem_efficiency)
        body = max(t_tiles, t_mem)
        t = body + hp.kernel_overhead_s
        ops = op.flops
        e_ops = ops * e_op_pj * 1e-12
        e_hbm = hp.hbm_energy_pj_per_byte * 1e-12 * nbytes
        e_static = hp.idle_power_w * t
        peak = hp.sms * hp.ops_per_clk_per_sm[path] * self.params.clock_hz
        bound = Bound.COMPUTE if t_tiles >= t_mem else Bound.MEMORY
        if body < hp.kernel_overhead_s:
            bound = Bound.OVERHEAD
        # energy_j summed as before the typed parts (static + dynamic): unchanged to the bit
        return Cost(latency_s=t, energy_j=e_static + (e_ops + e_hbm), bound=bound,
                    utilization=ops / t / peak if t > 0 else 0.0, compute_path=compute_path,
                    time=TimeParts(compute_s=t_tiles, memory_s=t_mem,
                                   overhead_s=hp.kernel_overhead_s),
                    energy=EnergyParts(compute_j=e_ops, offchip_j=e_hbm, static_j=e_static),
                    detail=LUTGPUCostDetail(datapath_peak_ops_per_s=peak,
                                            energy_pj_per_op=e_op_pj))

    def lut_energy_pj_per_op(self, act: str, wb: int) -> float:
        """Host's measured energy per op of the ``act`` datapath x (LUT tile / MAC tile energy per
        op at ``technology``); unvalidated. Memoized per (act, wb): cost() asks per weight GEMM."""
        key = ("energy", act, wb)
        if key not in self._lut_hosts:
            self._lut_hosts[key] = self._lut_energy_pj_per_op(act, wb)
        return self._lut_hosts[key]

    def _lut_energy_pj_per_op(self, act: str, wb: int) -> float:
        p = self.params
        act_path = _formats.get(act).compute_key
        lut = self.lut_tile_breakdown(act, wb)
        lut_pj_op = lut.total_energy_pj / (2 * p.lut_tile_m * p.lut_tile_n * p.lut_tile_k
                                           / math.ceil(wb / p.lut_planes_per_cycle))
        m, n, k = p.mac_shapes.get(act_path, (8, 4, 16))
        mac_pj_op = mac_tile(self.tech, m, n, k, act, act).total_energy_pj / (2 * m * n * k)
        return self._host_e_op(act_path) * 1e12 * lut_pj_op / mac_pj_op

    def _host_e_op(self, path: str, host=None) -> float:
        """The host's measured energy per op of ``path`` (joules): the GPU family's ``_e_op``,
        the one place this model reads it."""
        return (host or self.host)._e_op(path)

    def _weight_gemm(self, op: Op) -> Cost:
        wb = self._lut_ok(op)
        if wb is not None:
            act_path = _formats.get(op.activations).compute_key
            host = self._lut_host(act_path, wb)
            return self._tensor_gemm(op, host, act_path, self.lut_energy_pj_per_op(op.activations,
                                                                                   wb),
                                     f"lut-w{wb}-{op.activations}")
        a, w = _formats.get(op.activations), _formats.get(op.weights)
        host = self.host
        if (w.kind in ("int", "ternary", "binary", "group", "bipolar") and w.bits < a.bits
                and a.compute_key in TENSOR_PATHS
                and a.compute_key in host.params.ops_per_clk_per_sm):
            # low-bit integer weights dequantized to the activation's tensor datapath in the
            # kernel (Ladder/BitBLAS style; the paper's "A100 INT8 TC" and "H100 FP8 TC" rows:
            # W_INT2 on the INT8 / FP8 tensor cores): that path's tensor rate, packed weight bytes
            return self._tensor_gemm(op, host, a.compute_key,
                                     self._host_e_op(a.compute_key, host) * 1e12,
                                     f"{a.compute_key}-dequant-w{w.bits}")
        return host.cost(op)

    def cost_gemm(self, op: Gemm) -> Cost:
        if not op.b_is_weight:
            return self.host.cost(op)
        return self._weight_gemm(op)

    cost_conv2d = _weight_gemm

    def attention_ops(self, op: Attention) -> list[Op]:
        """The kernels of unfused (eager) attention: S = Q K^T, softmax over the full score
        matrix (the causal mask is applied, not skipped), O = P V; scores in the activation
        format (fp16 for integer activations: the scores are not quantized)."""
        f = op.activations if _formats.get(op.activations).is_float else "fp16"
        kv = op.kv or op.activations
        g = op.batch * op.heads
        return [Gemm(name=f"{op.name}.qk", M=op.q_len, N=op.kv_len, K=op.head_dim, weights=kv,
                     activations=f, out=f, groups=g, b_is_weight=False),
                Softmax(name=f"{op.name}.softmax", rows=g * op.q_len, cols=op.kv_len,
                        activations=f, out=f),
                Gemm(name=f"{op.name}.pv", M=op.q_len, N=op.head_dim, K=op.kv_len, weights=kv,
                     activations=f, out=f, groups=g, b_is_weight=False)]

    def cost_attention(self, op: Attention) -> Cost:
        if self.params.attention_kernel == "flash" or op.q_len == 1:
            return self.host.cost(op)
        qk, sm, pv = parts = [self.host.cost(o) for o in self.attention_ops(op)]
        lat = sum(c.latency_s for c in parts)
        # kernels in sequence: each part's time parts bound its latency, so their sums bound the sum
        time = TimeParts(compute_s=sum(c.time.compute_s for c in parts),
                         memory_s=sum(c.time.memory_s for c in parts),
                         overhead_s=sum(c.time.overhead_s for c in parts))
        return Cost(latency_s=lat, energy_j=sum(c.energy_j for c in parts),
                    bound=max(parts, key=lambda c: c.latency_s).bound,
                    utilization=op.flops / lat / self._path_peak_ops_per_s(qk.compute_path),
                    compute_path=f"unfused-{qk.compute_path}", time=time,
                    energy=_sum_energy(parts),
                    detail=UnfusedAttentionDetail(qk_s=qk.latency_s, softmax_s=sm.latency_s,
                                                  pv_s=pv.latency_s))

    def _host_op(self, op: Op) -> Cost:
        return self.host.cost(op)

    cost_vector = _host_op


__all__ = ["LUTGPU", "LUTGPUParams"]
