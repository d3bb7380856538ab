"""Cycle-approximate, tile-level simulation on simpy: the same accelerator and the same mapping as
the analytical model, plus the dynamics it cannot see (pipeline fill/drain, buffers too small to
double-buffer, units contending for one memory channel, DRAM latency).

``hwsim.evaluate(workload, hw, engine="sim")`` runs every op through :func:`simulate_op`. Each
family supplies a tile program built from its analytical model's own mapping (``mac_array``,
``lut``, ``gpu``, ``bitserial``); ops and families without one (FPGA, MCU, CPU; vector ops
everywhere) use :mod:`hwsim.sim.generic` and are flagged ``sim_generic`` = 1 (what it cannot see
is in its docstring). Energy stays the analytical model's (the same work), plus idle power x the
extra time where the model has an ``idle_power_w``. :func:`simulate_shared` runs several ops at
once on copies of one unit behind one memory channel.

Stall breakdown (seconds, in ``Cost.breakdown`` and the report's columns): ``sim_fill_drain_s``
(before the first tile computes + after the last one), ``sim_stall_memory_s`` (compute waiting
for data), ``sim_stall_buffer_s`` (time lost because a buffer cannot hold two tiles, against a
run with room for two), ``sim_stall_compute_s`` (memory channel idle-equivalent while tiles
compute: the op is compute-bound there).

Example::

    import hwsim
    from hwsim.sim import simulate_op
    hw = hwsim.load_arch("mac-tc", input_buffer_bytes=262144)
    op = hwsim.ops.Gemm(M=512, N=4096, K=4096, weights="fp16", activations="fp16")
    cost, results = simulate_op(hw, op)
    cost.latency_s, cost.breakdown["sim_stall_buffer_s"]   # 11.55 ms, 1.58 ms (analytical 9.44)
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConfigError
from ..contract import Bound, Cost
from ..report import STALL_COLUMNS
from ..workload.ops import Op
from ..contract import SimDetail
from . import generic
from .engine import SimResult, simulate
from .program import Step, TileProgram

# breakdown keys of the report's stall columns (one list: hwsim.report.STALL_COLUMNS)
STALLS = tuple("sim_" + k for k in STALL_COLUMNS)


def op_programs(hw, op: Op, cost: Cost | None = None, mem_latency_s: float = 0.0
                ) -> list[TileProgram]:
    """The tile programs (run one after another) that simulate ``op`` on ``hw``."""
    cost = hw.cost(op) if cost is None else cost
    progs = hw.tile_programs(op, cost, mem_latency_s)
    return progs or [generic.program(op, cost, mem_latency_s=mem_latency_s)]


def simulate_op(hw, op: Op, cost: Cost | None = None, *, mem_latency_s: float = 0.0,
                trace: bool = False) -> tuple[Cost, list[SimResult]]:
    """Simulate ``op`` on ``hw``: a Cost with the simulated latency (analytical energy, idle
    power for the extra time) whose breakdown adds ``analytical_latency_s``, the ``sim_*`` stall
    times and ``sim_generic`` (1 when no family tile program was used), and the SimResults."""
    cost = hw.cost(op) if cost is None else cost
    progs = op_programs(hw, op, cost, mem_latency_s)
    res = [simulate(p, trace=trace) for p in progs]
    lat = sum(r.latency_s for r in res)
    tot = {k: sum(r.breakdown()[k] for r in res)
           for k in STALLS + ("sim_compute_busy_s", "sim_memory_busy_s", "sim_events")}
    sim = SimDetail(analytical_latency_s=cost.latency_s,
                    fill_drain_s=tot["sim_fill_drain_s"], stall_memory_s=tot["sim_stall_memory_s"],
                    stall_buffer_s=tot["sim_stall_buffer_s"],
                    stall_compute_s=tot["sim_stall_compute_s"],
                    compute_busy_s=tot["sim_compute_busy_s"],
                    memory_busy_s=tot["sim_memory_busy_s"], events=tot["sim_events"],
                    generic=any(p.source.startswith("generic") for p in progs))
    extra_j = hw.summary().idle_power_w * (lat - cost.latency_s)
    energy = cost.energy_j + extra_j
    parts = cost.energy
    if parts is not None:
        parts = replace(parts, static_j=parts.static_j + extra_j)
    bound = cost.bound
    if lat > 0 and sim.stall_buffer_s > 0.05 * lat:
        bound = Bound.BUFFER
    util = cost.utilization * cost.latency_s / lat if lat > 0 else cost.utilization
    return replace(cost, latency_s=lat, energy_j=energy, energy=parts, bound=bound,
                   utilization=util, sim=sim), res


def simulate_shared(hw, ops: list[Op], *, mem_latency_s: float = 0.0, trace: bool = False
                    ) -> SimResult:
    """Run ``ops`` at the same time, one per copy of ``hw``'s compute unit (its buffers
    included), all on ``hw``'s one memory channel: what two arrays behind one DRAM interface
    see and the per-op analytical model cannot (it gives each op the whole bandwidth).

    Each op's programs (attention: two) run back to back on its unit. Latency is when the last
    unit finishes. Raises ConfigError when the programs do not share one memory system (ops that
    fall back to the generic program, or programs with different buffers).

    Example::

        res = simulate_shared(hw, [op, op])      # two arrays, one channel
        res.latency_s / simulate_op(hw, op)[0].latency_s    # ~2 when the op is memory-bound
    """
    streams, ref, first = [], None, None
    for op in ops:
        progs = op_programs(hw, op, mem_latency_s=mem_latency_s)
        first = first if streams else progs[0]  # the shared program's template
        for p in progs:
            if p.source.startswith("generic") or len(p.streams) != 1:
                raise ConfigError(f"simulate_shared: {op.name or op.type} has no tile program of "
                                  f"its own on {hw.name} ({p.source}); only family tile programs "
                                  "share a channel")
            key = (p.operands, p.buffer_bytes, p.mem_bandwidth_Bps, p.out)
            if ref is not None and key != ref:
                raise ConfigError(f"simulate_shared: {op.name or op.type}: programs differ in "
                                  f"operands/buffers/bandwidth ({key} vs {ref})")
            ref = key
        streams.append(tuple(s for p in progs for s in p.streams[0]))
    if ref is None:
        raise ConfigError("simulate_shared: ops is empty; expected at least one op")
    prog = replace(first, streams=tuple(streams), overhead_s=0.0,
                   source=f"{len(ops)} units sharing one channel")
    return simulate(prog, trace=trace)


__all__ = ["SimResult", "Step", "TileProgram", "op_programs", "simulate", "simulate_op",
           "simulate_shared", "STALLS"]
