"""FPGA accelerator designs built from DSP chains and LUT-fabric arithmetic (family ``fpga``).

A design (an arch preset) names its **device** (``devices.yaml``) and its organization:

* an MM engine (matrix-matrix, prefill) and optionally an MV engine (matrix-vector, decode) of
  ``n x k x m`` *lanes*; a lane is one DSP slice (or one LUT-fabric MAC with ``arithmetic: lut``)
  producing ``products_per_lane`` products per cycle; ``k`` lanes form one PCOUT->PCIN cascade
  (a dot product without fabric adders, limited by the device's ``max_cascade``). MM and MV may
  time-share the same chains (``shared_engine``: FlightLLM's unified matrix processing engine).
  Work is issued in blocks (``block_m`` tokens, ``block_n`` output columns, ``block_k`` reduction
  elements): the padding is real work (FlightLLM's profiler pads decode attention's 128-wide
  P.V output to its 512-column MV block);
* N:M sparse DSP chains skip pruned weights: weight GEMMs run ``sparsity_speedup`` faster;
* a vector unit of ``vector_lanes`` elements per cycle for norms, softmax and elementwise ops
  (two passes for norms and softmax, which read their row before writing it);
* on-chip buffers (``buffer_bytes`` in URAM or BRAM); off-chip memory at the device's bandwidth:
  weights and the KV cache stream at ``weight_channel_efficiency`` / ``kv_channel_efficiency`` of it
  (FlightLLM's artifact: 0.7 same-channel, 0.35 cross-channel); activations stay on chip while they
  fit the buffers (always-on-chip decode).

Resources (DSP, LUT, FF, BRAM36, URAM) are counted from the engines (``arithmetic.py``) and the
buffers and checked against the device at load: a design that does not fit raises ``ConfigError``
naming the resource, the need and the budget, unless ``check_fit: false`` (design-space
exploration, where ``resource_utilization <= 1`` is a constraint). Control logic, HBM/NoC
interfaces and instruction decoders are not counted unless the preset gives ``control_luts`` /
``control_ffs`` (FlightLLM publishes no utilization).

Clock: ``clock_hz`` capped at the device's DSP Fmax and derated above the utilization knees of
AMD's UltraFast methodology (UG949: keep LUTs under 70%, DSP/BRAM/URAM under 80%, FF under 50%
utilization for timing closure): ``f = f0 * max(0.5, 1 - clock_derate_slope * overshoot)``, with
overshoot the largest utilization above its knee. The slope is an assumption (no data fitted).

Latency per op = max(compute cycles / f, off-chip bytes / effective bandwidth) (double buffered).
Power = ``static_power_w`` + dynamic: products x MAC energy of the technology library at the device
node times the FPGA/ASIC dynamic-power gap (Kuon & Rose, IEEE TCAD 26(2) 2007: ~7x with hard DSP
blocks, ~14x for LUT logic), vector ops likewise, and off-chip bytes at the technology library's
HBM2/DDR energy per bit. Energy = power x time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from ... import formats as _formats
from ...errors import ConfigError, UnsupportedError
from ...tech import load as load_tech
from ...workload.ops import Attention, Gemm, Op
from ...contract import (Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary,
                         Params, TimeParts)
from . import arithmetic as ar
from .devices import RESOURCES, get_device

# UG949 (UltraFast Design Methodology) utilization guidelines for timing closure
UTIL_KNEE = {"dsp": 0.8, "lut": 0.7, "ff": 0.5, "bram36": 0.8, "uram": 0.8}
# Kuon & Rose 2007: FPGA/ASIC dynamic power ratio, with hard blocks / logic only
GAP_HARD, GAP_LOGIC = 7.1, 14.0
RESOURCE_LABEL = {"dsp": "DSP", "lut": "LUT", "ff": "FF", "bram36": "BRAM36", "uram": "URAM"}
_MEM_KIND = {"hbm2": "hbm2", "hbm2e": "hbm2", "ddr4": "ddr3"}  # tech library rows (DDR4: DDR3 row, upper bound)


@dataclass(frozen=True)
class FPGACostDetail(CostDetail):
    """The FPGA model's own numbers about one op."""

    compute_cycles: float       # datapath cycles (MM/MV engine or vector unit) at the achieved clock
    offchip_bytes: float        # bytes streamed from off-chip memory (weights, KV, spilled activations)
    channel_efficiency: float   # fraction of the memory bandwidth this stream achieves
    macs: float                 # multiply-accumulates (products) on the DSP/LUT datapath
    vector_ops: float           # element operations on the vector unit


class Engine(Params):
    n: int = Field(gt=0, description="output-column lanes")
    k: int = Field(gt=0, description="reduction lanes: one cascade of k DSPs per output")
    m: int = Field(default=1, gt=0, description="token lanes")
    block_n: int = Field(default=1, gt=0, description="output columns issued per instruction")
    block_m: int = Field(default=1, gt=0, description="tokens issued per instruction")
    block_k: int = Field(default=1, gt=0, description="reduction elements per instruction")

    @property
    def lanes(self) -> int:
        return self.n * self.k * self.m


class FPGAParams(Params):
    ranges: ClassVar[dict[str, tuple[float, float, str]]] = {
        # N:M sparse chains skip at most M-1 of M weights; 16x is past any published 1:16 gain
        "sparsity_speedup": (1.0, 16.0, "a speed-up"),
        # clock lost per unit of utilization overshoot; the derate floors at half the clock anyway
        "clock_derate_slope": (0.0, 100.0, "a slope"),
    }
    device: str = Field(description="a row of hwsim/families/fpga/devices.yaml")
    clock_hz: float = Field(gt=0, description="target clock")
    weight_format: str = Field(description="widest weight format the datapath multiplies")
    activation_format: str = Field(description="widest activation format the datapath multiplies")
    arithmetic: Literal["dsp", "lut"] = "dsp"
    mm: Engine
    mv: Engine | None = None
    shared_engine: bool = Field(default=True, description="MM and MV time-share the same lanes")
    products_per_lane: int = Field(default=1, gt=0, description="products one lane makes per cycle")
    dsp_packing: bool = Field(default=True, description="pack several narrow products into one "
                              "DSP (WP486/WP521/DSP58 INT8 mode); false: one product per DSP")
    sparsity_speedup: float = Field(default=1.0, ge=1.0, description="N:M sparse-chain gain on "
                                    "weight GEMMs")
    accumulate_n: int = Field(default=4096, gt=0, description="longest dot product the "
                              "accumulators are sized for (accumulator_bits)")
    vector_lanes: int = Field(gt=0, description="elements per cycle of the norm/softmax/eltwise unit")
    buffer_bytes: float = Field(gt=0)
    buffer_memory: Literal["uram", "bram"] = "uram"
    mem_bandwidth_Bps: float | None = Field(default=None, gt=0, description="default: the device's")
    weight_channel_efficiency: float = Field(gt=0, le=1)
    kv_channel_efficiency: float = Field(gt=0, le=1)
    control_luts: int = Field(default=0, ge=0)
    control_ffs: int = Field(default=0, ge=0)
    clock_derate_slope: float = Field(default=1.0, ge=0)
    static_power_w: float = Field(ge=0)
    check_fit: bool = True
    fit_source: str = ""

    @model_validator(mode="after")
    def _formats_ok(self):
        for f in (self.weight_format, self.activation_format):
            _formats.get(f)
        return self


class FPGA(Accelerator):
    """An FPGA design on a device (module docstring)."""

    family = "fpga"
    Params = FPGAParams

    @classmethod
    def from_spec(cls, name, params, where, **meta):
        hw = super().from_spec(name, _engine_overrides(params, where), where, **meta)
        if hw.params.check_fit:
            hw.check_fit()
        return hw

    # ------------------------------------------------------------------ structure

    @cached_property
    def device(self):
        return get_device(self.params.device)

    @cached_property
    def tech(self):
        return load_tech(f"{self.device.node_nm}nm")

    @cached_property
    def _ops(self):
        return ar.operand(self.params.weight_format), ar.operand(self.params.activation_format)

    def _lanes_total(self) -> int:
        p = self.params
        mv = p.mv.lanes if p.mv is not None else 0
        return max(p.mm.lanes, mv) if p.shared_engine else p.mm.lanes + mv

    def _chains(self) -> list[tuple[int, int]]:
        """(chains, lanes per chain) of each physical engine."""
        p = self.params
        engines = [p.mm] if (p.mv is None or p.shared_engine) else [p.mm, p.mv]
        if p.mv is not None and p.shared_engine and p.mv.lanes > p.mm.lanes:
            engines = [p.mv]
        return [(e.lanes // e.k, e.k) for e in engines]

    @cached_property
    def resources(self) -> dict[str, int]:
        """Used resources: ``dsp``, ``lut``, ``ff``, ``bram36``, ``uram``."""
        p, dev = self.params, self.device
        w, a = self._ops
        products = self._lanes_total() * p.products_per_lane
        used = {r: 0.0 for r in RESOURCES}
        if p.arithmetic == "dsp":
            if w.is_float or a.is_float:
                raise ConfigError(f"{self.name}: arithmetic 'dsp' with {p.weight_format} x "
                                  f"{p.activation_format}: DSP slices multiply integers; use "
                                  "arithmetic: lut for minifloats")
            ppd = ar.products_per_dsp(dev.dsp_type, w.bits, a.bits, p.dsp_packing)
            used["dsp"] = math.ceil(products / ppd)
            acc = ar.accumulator_bits(p.weight_format, p.activation_format, p.accumulate_n)
            for chains, k in self._chains():
                # each chain sums k terms per output per cycle for products_per_lane outputs;
                # behind it: segment adders, packing corrections and one running accumulator each
                plan = ar.dsp_chain(dev.dsp_type, w.bits, a.bits, k, dev.max_cascade, acc,
                                    p.dsp_packing)
                outputs = chains * p.products_per_lane
                used["lut"] += outputs * (plan.fabric_adder_luts + plan.correction_luts
                                          + ar.lut_adder(acc))
                used["ff"] += outputs * (plan.ffs + acc)
        else:
            # one MAC (multiplier + accumulator) per product lane: the FPL'24 cost unit
            mac = ar.lut_mac(p.weight_format, p.activation_format, p.accumulate_n)
            used["lut"] += products * mac.lut
            used["ff"] += products * mac.ff
        # vector unit: one fp16-class adder + multiplier per lane in fabric (FINN-R cost model)
        used["lut"] += p.vector_lanes * (ar.lut_int_multiplier(11, 11) + 2 * ar.lut_adder(16))
        used["ff"] += p.vector_lanes * 3 * 16
        block = 288 * 1024 / 8 if p.buffer_memory == "uram" else 36 * 1024 / 8
        used["uram" if p.buffer_memory == "uram" else "bram36"] += math.ceil(p.buffer_bytes / block)
        used["lut"] += p.control_luts
        used["ff"] += p.control_ffs
        return {r: int(math.ceil(v)) for r, v in used.items()}

    def check_fit(self) -> None:
        """Raise ``ConfigError`` for the first resource the design over-uses (and for a DSP cascade
        longer than the device allows)."""
        dev, used = self.device, self.resources
        for r in RESOURCES:
            if used[r] > getattr(dev, r):
                raise ConfigError(f"{self.name} on {dev.name}: {RESOURCE_LABEL[r]}: needs "
                                  f"{used[r]}, {dev.name} has {getattr(dev, r)}")
        if self.params.arithmetic == "dsp":
            for _, k in self._chains():
                if k > dev.max_cascade:
                    raise ConfigError(f"{self.name} on {dev.name}: DSP cascade: needs {k} in one "
                                      f"chain, {dev.name} allows {dev.max_cascade}")

    def utilization(self) -> dict[str, float]:
        dev = self.device
        # a resource the device lacks (URAM on a ZCU102): its need counts as the utilization
        # (>= 1, infeasible) so exploration constraints stay finite
        return {r: self.resources[r] / getattr(dev, r) if getattr(dev, r) else
                float(self.resources[r]) for r in RESOURCES}

    @property
    def resource_utilization(self) -> float:
        """Largest used/available fraction over the resources (> 1: does not fit)."""
        return max(self.utilization().values())

    @cached_property
    def clock_hz(self) -> float:
        """Achieved clock: target, capped at DSP Fmax, derated above the UG949 knees."""
        p = self.params
        f0 = min(p.clock_hz, self.device.dsp_fmax_hz)
        over = max([0.0] + [u - UTIL_KNEE[r] for r, u in self.utilization().items()
                            if math.isfinite(u)])
        return f0 * max(0.5, 1.0 - p.clock_derate_slope * over)

    def resource_table(self) -> str:
        """Used / available resources and the achieved clock, one printable table."""
        dev, used = self.device, self.resources
        lines = [f"{self.name} on {dev.name} ({dev.part}, {dev.dsp_type}): clock "
                 f"{self.clock_hz / 1e6:.0f} MHz (target {self.params.clock_hz / 1e6:.0f} MHz)",
                 f"{'resource':<9}{'used':>11}{'available':>11}{'util':>8}"]
        for r in RESOURCES:
            avail = getattr(dev, r)
            u = f"{100 * used[r] / avail:.1f}%" if avail else ("-" if not used[r] else "inf")
            lines.append(f"{RESOURCE_LABEL[r]:<9}{used[r]:>11}{avail:>11}{u:>8}")
        if not dev.verified:
            lines.append(f"note: some {dev.name} resource counts are unverified (devices.yaml)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ figures of merit

    @property
    def mem_bandwidth_Bps(self) -> float:
        return self.params.mem_bandwidth_Bps or self.device.mem_bandwidth_Bps

    def summary(self) -> HardwareSummary:
        """The achieved clock (derated), the memory the design streams from (its bandwidth
        override or the device's) and the board's memory capacity; idle power = static power."""
        return HardwareSummary(name=self.name, family=self.family, clock_hz=self.clock_hz,
                               mem_bandwidth_Bps=self.mem_bandwidth_Bps,
                               mem_capacity_bytes=self.device.mem_bytes,
                               idle_power_w=self.params.static_power_w)

    def dense_peak_ops_per_s(self, sparse: bool = False) -> float:
        """Ops/s of the widest engine (MM, or MV where it has more lanes) at the achieved clock,
        2 per product; ``sparse``: times the N:M sparse chains' ``sparsity_speedup``."""
        p = self.params
        lanes = max(p.mm.lanes, p.mv.lanes if p.mv is not None else 0)
        return (2 * lanes * p.products_per_lane * self.clock_hz
                * (p.sparsity_speedup if sparse else 1.0))

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """Peak ops/s of a GEMM with these operand formats: the widest engine on the sparse chains
        (every GEMM the model costs runs there, :meth:`cost_gemm`); UnsupportedError when the
        formats do not fit the datapath."""
        self._check_formats(f"{self.name}: peak_ops_per_s", activations, weights)
        return self.dense_peak_ops_per_s(sparse=True)

    @cached_property
    def _energy(self) -> dict:
        p = self.params
        mac = self.tech.energy_pj("mac", a=_int_or(p.activation_format),
                                  w=_int_or(p.weight_format))
        gap = GAP_HARD if p.arithmetic == "dsp" else GAP_LOGIC
        return {"mac_pj": mac * gap,
                "vec_pj": self.tech.energy_pj("fp_fma", exp_bits=5, man_bits=10) * GAP_LOGIC,
                "mem_pj_per_byte": self.tech.energy_pj(
                    "dram", bits=8, kind=_MEM_KIND.get(self.device.mem_kind, "hbm2"))}

    # ------------------------------------------------------------------ cost

    def _check_formats(self, where: str, act: str, w: str | None, w_role: str = "weights") -> None:
        """``w_role``: what the second operand is (``weights``, or ``kv`` for attention, whose
        K/V cache runs on the weight port of the datapath)."""
        p = self.params
        pw, pa = self._ops
        for role, f, dp, dpname in (("activations", act, pa, p.activation_format),
                                    (w_role, w, pw, p.weight_format)):
            if f is None:
                continue
            o = ar.operand(f)
            ok = (o.is_float == dp.is_float and (o.bits <= dp.bits if not o.is_float else
                  o.exp_bits <= dp.exp_bits and o.man_bits <= dp.man_bits)) or \
                 (dp.is_float and not o.is_float and o.bits <= dp.man_bits + 2) or \
                 (not dp.is_float and o.is_float and False)
            if not ok:
                raise UnsupportedError(
                    f"{where}: {role} {f} do not fit this design's {dpname} datapath; supported: "
                    f"{'minifloats up to ' + dpname if dp.is_float else f'integers of up to {dp.bits} bits'}")

    def _engine(self, M: int) -> Engine:
        p = self.params
        return p.mv if (M == 1 and p.mv is not None) else p.mm

    def _matmul_s(self, M: int, N: int, K: int, groups: int, sparse: bool) -> float:
        p = self.params
        e = self._engine(M)
        pad = lambda x, b: -(-x // b) * b  # noqa: E731
        work = groups * pad(M, e.block_m) * pad(N, e.block_n) * pad(K, e.block_k)
        rate = e.lanes * p.products_per_lane * (p.sparsity_speedup if sparse else 1.0)
        return work / rate / self.clock_hz

    def _finish(self, t_c: float, mem_bytes: float, eff: float, products: float, vec_ops: float,
                flops: float, path: str, peak: float) -> Cost:
        """Double-buffered: latency = max(compute, memory); energy = static power x latency +
        MAC, vector and off-chip energies. ``peak``: ops/s of the datapath the op ran on."""
        p, e = self.params, self._energy
        t_m = mem_bytes / (self.mem_bandwidth_Bps * eff)
        t = max(t_c, t_m)
        mac_j, vec_j = products * e["mac_pj"], vec_ops * e["vec_pj"]
        mem_j = mem_bytes * e["mem_pj_per_byte"]
        # energy_j in the pre-typed summation order (bit-identical); the parts sum to it to ~1 ulp
        dyn = (mac_j + vec_j + mem_j) * 1e-12
        static = p.static_power_w * t
        return Cost(latency_s=t, energy_j=static + dyn,
                    bound=Bound.COMPUTE if t_c >= t_m else Bound.MEMORY,
                    utilization=flops / t / peak if t > 0 else 0.0, compute_path=path,
                    time=TimeParts(compute_s=t_c, memory_s=t_m),
                    energy=EnergyParts(compute_j=(mac_j + vec_j) * 1e-12, offchip_j=mem_j * 1e-12,
                                       static_j=static),
                    detail=FPGACostDetail(compute_cycles=t_c * self.clock_hz,
                                          offchip_bytes=mem_bytes, channel_efficiency=eff,
                                          macs=products, vector_ops=vec_ops))

    def _gemm(self, op: Op, M, N, K, groups, act, w, weight_bytes, act_bytes) -> Cost:
        where = f"{self.name}: {op.name or op.type}"
        self._check_formats(where, act, w)
        p = self.params
        t_c = self._matmul_s(M, N, K, groups, sparse=True)
        off_chip = weight_bytes + (act_bytes if act_bytes > p.buffer_bytes else 0.0)
        eng = "mv" if self._engine(M) is p.mv else "mm"
        return self._finish(t_c, off_chip, p.weight_channel_efficiency, groups * M * N * K, 0.0,
                            2.0 * groups * M * N * K, f"{eng}-{p.arithmetic}",
                            self.dense_peak_ops_per_s(sparse=True))

    def cost_gemm(self, op: Gemm) -> Cost:
        ob = op.operand_bytes()
        wb = ob["B"] if op.b_is_weight else 0.0
        ab = ob["A"] + ob["C"] + (0.0 if op.b_is_weight else ob["B"])
        return self._gemm(op, op.M, op.N, op.K, op.groups, op.activations, op.weights, wb, ab)

    def cost_conv2d(self, op: Op) -> Cost:
        g, ob = op.as_gemm(), op.operand_bytes()
        return self._gemm(op, g.M, g.N, g.K, g.groups, op.activations, op.weights, ob["B"],
                          ob["A"] + ob["C"])

    def cost_attention(self, op: Attention) -> Cost:
        """Q.K^T and P.V per (batch, head) on the MM/MV engine; the KV cache streams from off-chip
        memory at ``kv_channel_efficiency``; the softmax between them on the vector unit."""
        where = f"{self.name}: {op.name or op.type}"
        self._check_formats(where, op.activations, op.kv, "kv")
        p = self.params
        bh = op.batch * op.heads
        kv_eff = op.kv_effective
        t_c = (self._matmul_s(op.q_len, kv_eff, op.head_dim, bh, sparse=False)
               + self._matmul_s(op.q_len, op.head_dim, kv_eff, bh, sparse=False)
               + 2 * bh * op.score_pairs / p.vector_lanes / self.clock_hz)
        ob = op.operand_bytes()
        kv_bytes = ob["K"] + ob["V"]
        return self._finish(t_c, kv_bytes, p.kv_channel_efficiency, op.macs, 3.0 * bh * op.score_pairs,
                            op.flops, f"attention-{p.arithmetic}", self.dense_peak_ops_per_s())

    def _vector(self, op: Op, passes: int = 1) -> Cost:
        p = self.params
        elems = getattr(op, "numel", None) or op.rows * op.cols
        t_c = passes * elems / p.vector_lanes / self.clock_hz
        nbytes = op.bytes
        off_chip = nbytes if nbytes > p.buffer_bytes else 0.0
        # utilization against the engines' dense peak, as before the typed contract (the
        # vector unit's own rate would be the datapath's; kept for unchanged reports)
        return self._finish(t_c, off_chip, p.weight_channel_efficiency, 0.0, op.flops, 0.0, "vector",
                            self.dense_peak_ops_per_s())

    def cost_vector(self, op: Op) -> Cost:
        return self._vector(op)

    def cost_norm(self, op: Op) -> Cost:
        return self._vector(op, passes=2)

    cost_softmax = cost_norm

    def cost_embedding(self, op: Op) -> Cost:
        p = self.params
        return self._finish(0.0, op.operand_bytes()["table_rows"], p.weight_channel_efficiency,
                            0.0, 0.0, 0.0, "embedding", self.dense_peak_ops_per_s())


def _engine_overrides(params: dict, where: str) -> dict:
    """Fold flat ``"mm.n": 32``-style keys into the nested engine dicts, so design-space
    exploration (whose hardware overrides are flat) can search an engine's parallelism."""
    out = {k: v for k, v in params.items() if "." not in k}
    for key, value in params.items():
        if "." not in key:
            continue
        eng, _, field = key.partition(".")
        if eng not in ("mm", "mv") or field not in Engine.model_fields:
            raise ConfigError(f"{where}: field {key!r}: expected mm.<f> or mv.<f> with <f> one of "
                              f"{', '.join(Engine.model_fields)}")
        base = out.get(eng)
        if not isinstance(base, dict):
            raise ConfigError(f"{where}: field {key!r}: the design has no {eng} engine to change")
        out[eng] = {**base, field: value}
    return out


def _int_or(fmt: str) -> str:
    """The technology library's MAC row for a datapath format (elements of scaled formats)."""
    f = _formats.get(fmt)
    return getattr(f, "element", f).name
