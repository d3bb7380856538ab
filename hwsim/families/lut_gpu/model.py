"""A GPU whose tensor cores are MAC arrays or LUT Tensor Core arrays (family ``lut_gpu``).

The LUT Tensor Core paper (Mo et al., ISCA'25, arXiv 2408.06003; ../shared/reference/
paper-claims.md §1) compares whole LLM passes on an A100 whose tensor cores are replaced by LUT
arrays, every configuration normalized to 28 nm and 1.41 GHz (its Table 1). This family builds
that GPU by composing two existing models instead of writing a third:

* the **host GPU** (:class:`hwsim.families.gpu.model.GPU`, an arch preset such as ``a100-sxm``): SM count,
  HBM system, CTA tile / wave quantization, kernel overheads, attention, norm and elementwise
  kernels, all as calibrated there, re-clocked to ``clock_hz``;
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
2 bits). Low-bit integer weights with int8 activations on a MAC GPU run on the int8 path with the
weights dequantized in the kernel (the paper's "A100 INT8 TC" row: W_INT2 A_INT8 on INT8 tensor
cores). No power roof is applied to these GEMMs: the normalized designs have no measured power
limit, and the paper's simulator models none.

Energy of the LUT datapath (unvalidated): the host's measured energy per op of the activation
datapath times the ratio LUT tile / MAC tile energy per op from the same technology table.

Assumptions stated where they are made: one ``tensor_efficiency`` for every tensor datapath (the
paper's tile simulator scales every configuration alike; the value is the host family's measured
fp16 fit), and ``attention_kernel`` (``flash``: hwsim's fused kernel; ``unfused``: score matrix
materialized, as PyTorch eager attention runs it).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from ... import formats as _formats
from ...errors import UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Gemm, Op, Softmax
from ...contract import LegacyDetail, AcceleratorBase, Cost, Params
from ..lut.model import weight_planes
from ..tile import lut_tile, mac_tile

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


class LUTGPU(AcceleratorBase):
    """GPU with MAC or LUT tensor cores, normalized as the LUT Tensor Core paper's Table 1."""

    family = "lut_gpu"
    Params = LUTGPUParams

    # ------------------------------------------------------------------ composition

    @cached_property
    def tech(self):
        return load_tech(self.params.technology)

    @cached_property
    def host(self):
        """The host GPU model re-clocked to ``clock_hz``, every tensor datapath at
        ``tensor_efficiency`` (its SIMT efficiencies as fitted)."""
        from ...arch import load_arch
        base = load_arch(self.params.host)
        if base.family != "gpu":
            raise UnsupportedError(f"{self.name}: host = {self.params.host!r} is a {base.family} "
                                   "preset; expected a GPU (family gpu)")
        return self._host_variant(base, {})

    def _host_variant(self, base, rates: dict[str, float]):
        from ...arch import load_arch
        p, hp = self.params, base.params
        ops = {**hp.ops_per_clk_per_sm, **rates}
        eff = {k: v for k, v in hp.tc_efficiency.items() if k not in TENSOR_PATHS}
        eff.update({k: p.tensor_efficiency for k in ops if k in TENSOR_PATHS})
        return load_arch(p.host, clock_hz=p.clock_hz, max_clock_hz=p.clock_hz, path_clock_hz={},
                         ops_per_clk_per_sm=ops, tc_efficiency=eff)

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

    def peak_ops_per_s(self, path: str = "int8", weight_bits: int | None = None) -> float:
        """Peak of a tensor datapath: a MAC ``path`` (``fp16``, ``int8`` ...), or on a LUT GPU the
        LUT arrays for ``weight_bits``-bit weights (the paper's Table 1 quotes W_INT2)."""
        p = self.params
        if weight_bits is not None:
            return self.lut_ops_per_clk_per_sm(weight_bits) * self.sms * p.clock_hz
        return self.host.ops_per_clk_per_sm(path) * self.sms * p.clock_hz

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
            return self.peak_ops_per_s(weight_bits=wb) / 1e12 / (self.tc_area_per_sm_mm2()
                                                                   * self.sms)
        return self.peak_ops_per_s(path) / 1e12 / (self.tc_area_per_sm_mm2(path) * self.sms)

    @property
    def area_mm2(self) -> float:
        """Tensor-core area of all SMs (the only area this family models)."""
        return self.tc_area_per_sm_mm2() * self.sms

    # ------------------------------------------------------------------ cost

    def _lut_ok(self, op: Op) -> int | None:
        """Weight bit-planes if the LUT arrays take this weight GEMM, else None."""
        p = self.params
        if p.tensor_core != "lut" or not getattr(op, "b_is_weight", True):
            return None
        if op.activations not in p.lut_activation_formats:
            return None
        try:
            wb = weight_planes(op.weights)
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
        e_dyn = ops * e_op_pj * 1e-12 + hp.hbm_energy_pj_per_byte * 1e-12 * nbytes
        peak = hp.sms * hp.ops_per_clk_per_sm[path] * self.params.clock_hz
        bound = "compute" if t_tiles >= t_mem else "memory"
        if body < hp.kernel_overhead_s:
            bound = "overhead"
        return Cost(latency_s=t, energy_j=hp.idle_power_w * t + e_dyn, bound=bound,
                    utilization=ops / t / peak if t > 0 else 0.0, compute_path=compute_path,
                    detail=LegacyDetail({"tiles_s": t_tiles, "memory_s": t_mem,
                               "overhead_s": hp.kernel_overhead_s, "dynamic_j": e_dyn}))

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
        return self.host._e_op(act_path) * 1e12 * lut_pj_op / mac_pj_op

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
        if (not a.is_float and w.kind in ("int", "ternary", "binary", "group", "bipolar")
                and w.bits < a.bits and a.compute_key in host.params.ops_per_clk_per_sm):
            # low-bit integer weights dequantized to the activation's integer datapath in the
            # kernel (Ladder/BitBLAS style): int8 tensor rate, packed weight bytes
            return self._tensor_gemm(op, host, a.compute_key, host._e_op(a.compute_key) * 1e12,
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
        ops = self.attention_ops(op)
        parts = [self.host.cost(o) for o in ops]
        lat = sum(c.latency_s for c in parts)
        return Cost(latency_s=lat, energy_j=sum(c.energy_j for c in parts),
                    bound=max(parts, key=lambda c: c.latency_s).bound,
                    utilization=op.flops / lat / self.host.peak_ops_per_s(parts[0].compute_path),
                    compute_path=f"unfused-{parts[0].compute_path}",
                    detail=LegacyDetail({f"{o.name.rsplit('.', 1)[-1]}_s": c.latency_s
                               for o, c in zip(ops, parts)}))

    def _host_op(self, op: Op) -> Cost:
        return self.host.cost(op)

    cost_vector = _host_op


__all__ = ["LUTGPU", "LUTGPUParams"]
