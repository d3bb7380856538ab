"""Datasheet roofline of a GPU: each op takes max(compute time at the datapath's peak, bytes of its
operands at peak memory bandwidth). No tiling, overheads or clock throttling — the bound that the
detailed model (``model.py``) is compared against.

Energy is ``tdp_w × latency_s``: board power at its limit for the whole op, an upper bound until a
fitted energy model replaces it. It has no idle/dynamic or per-level split, so the whole of it is
reported as ``EnergyParts.compute_j``. Every number comes from the arch YAML, which cites its
sources.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ...errors import UnsupportedError
from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...contract import (Accelerator, Cost, EnergyParts, HardwareSummary, Params,
                         pick_compute_path, roofline_cost)

PATHS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "fp6", "fp4", "int8", "int4", "int1")


class GPUParams(Params):
    sms: int = Field(gt=0, description="streaming multiprocessors")
    clock_hz: float = Field(gt=0, description="clock at which the datasheet quotes tensor peaks")
    path_clock_hz: dict[str, float] = Field(default_factory=dict,
                                            description="per-datapath clock where it differs")
    ops_per_clk_per_sm: dict[str, float] = Field(
        description="dense ops per clock per SM by datapath (1 MAC = 2 ops); fp32 = SIMT cores")
    mem_bandwidth_Bps: float = Field(gt=0)
    mem_capacity_bytes: float = Field(gt=0)
    l2_bytes: float = Field(gt=0)
    tdp_w: float = Field(gt=0)

    @model_validator(mode="after")
    def _known_paths(self):
        for key in list(self.ops_per_clk_per_sm) + list(self.path_clock_hz):
            if key not in PATHS:
                raise ValueError(f"unknown datapath {key!r}; expected one of {', '.join(PATHS)}")
        for key, v in self.ops_per_clk_per_sm.items():
            if v <= 0:
                raise ValueError(f"ops_per_clk_per_sm.{key} = {v}: expected > 0")
        if "fp32" not in self.ops_per_clk_per_sm:
            raise ValueError("ops_per_clk_per_sm needs 'fp32' (the SIMT rate used by "
                             "elementwise, norm and softmax ops)")
        return self


class RooflineGPU(Accelerator):
    """Roofline over the datasheet peaks of a GPU preset (family ``gpu``)."""

    family = "gpu"
    Params = GPUParams

    def ops_per_clk_per_sm(self, path: str) -> float:
        """The datapath's rate, or UnsupportedError listing the datapaths this GPU has."""
        rates = self.params.ops_per_clk_per_sm
        if path not in rates:
            raise UnsupportedError(f"{self.name}: no {path} datapath; supported: "
                                   f"{', '.join(sorted(rates))}")
        return rates[path]

    def path_peak_ops_per_s(self, path: str) -> float:
        """Datasheet peak (ops/s, 2 per MAC) of one datapath (``fp16``, ``int8``, ``fp32`` = SIMT,
        ...) at its quoted clock; UnsupportedError where the GPU lacks it."""
        p = self.params
        return p.sms * self.ops_per_clk_per_sm(path) * p.path_clock_hz.get(path, p.clock_hz)

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """Peak of the datapath a GEMM with these operand formats runs on
        (:func:`~hwsim.contract.pick_compute_path`), in ops/s (2 per MAC)."""
        path = pick_compute_path(self.name, activations, weights, self.params.ops_per_clk_per_sm)
        return self.path_peak_ops_per_s(path)

    def supported_paths(self) -> list[str]:
        return sorted(self.params.ops_per_clk_per_sm)

    def summary(self) -> HardwareSummary:
        """``clock_hz`` is the clock the datasheet peaks are quoted at; the roofline has no idle
        power term (0)."""
        p = self.params
        return HardwareSummary(name=self.name, family=self.family, clock_hz=p.clock_hz,
                               mem_bandwidth_Bps=p.mem_bandwidth_Bps,
                               mem_capacity_bytes=p.mem_capacity_bytes, idle_power_w=0.0)

    def _roof(self, flops: float, nbytes: float, path: str) -> Cost:
        peak = self.path_peak_ops_per_s(path)
        t_c = flops / peak
        t_m = nbytes / self.params.mem_bandwidth_Bps
        t = max(t_c, t_m)
        # board power at its limit over the op: not split by role (module docstring)
        return roofline_cost(compute_s=t_c, memory_s=t_m,
                             energy=EnergyParts(compute_j=self.params.tdp_w * t),
                             utilization=(flops / t / peak) if t > 0 else 0.0, compute_path=path)

    def _gemm_path(self, op: Op) -> str:
        return pick_compute_path(f"{self.name}: {op.name or op.type}", op.activations, op.weights,
                                 self.params.ops_per_clk_per_sm)

    def cost_gemm(self, op: Gemm) -> Cost:
        return self._roof(op.flops, op.bytes, self._gemm_path(op))

    def cost_conv2d(self, op: Conv2d) -> Cost:
        return self._roof(op.flops, op.bytes, self._gemm_path(op))

    def cost_attention(self, op: Attention) -> Cost:
        path = pick_compute_path(f"{self.name}: {op.name or op.type}", op.activations, op.kv,
                                 self.params.ops_per_clk_per_sm)
        return self._roof(op.flops, op.bytes, path)

    def _simt(self, op: Op) -> Cost:
        return self._roof(op.flops, op.bytes, "fp32")

    cost_vector = _simt


__all__ = ["RooflineGPU", "GPUParams", "PATHS"]
