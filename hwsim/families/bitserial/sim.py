"""Tile program of a bit-serial / mixed-precision PE array (family ``bitserial``) from its
analytical layer cost (:meth:`hwsim.families.bitserial.model.BitSerialArray.layer_cycles`, used
read-only: its compute cycles, operand bytes and refetch counts).

The analytical model (the BitMoD artifact's accounting) has no loop order beyond its refetch rule,
so the program makes that rule concrete:

* an operand that fits its buffer is *resident*: loaded whole before the first tile (inputs when
  they fit and are the smaller or the weights do not fit; otherwise the weights), while the other
  operand *streams* in chunks of whole array passes (``rows`` output channels of weights, ``cols``
  tokens of inputs) that fill half its buffer, so consecutive chunks double-buffer;
* when neither fits, the refetched operand streams once per chunk of the other, and those chunks
  are what the refetch count assumes: ``ceil(bytes / buffer)`` equal chunks, nearly filling the
  buffer -- they cannot double-buffer, so each one's load waits for the previous one's last tile
  (a stall the analytical ``max(compute, DRAM)`` does not see).

Compute per step is the analytical compute time times the step's share of the output (resident
share x streamed share), so steps add up to ``compute_cycles``; DRAM bytes add up to the
analytical ``dram_bytes``. Outputs are stored after each step, their share of the output bytes;
they take no buffer space (the artifact writes outputs to the input SRAM without charging its
capacity). Bandwidth is ``dram_bus_bits x dram_transfers_per_cycle x clock_hz / 8``. Vector
ops use the generic program.
"""

from __future__ import annotations

import math

from ...workload.ops import Op
from ...sim.program import Step, TileProgram, compress


def chunks(total: float, unit: float, cap: float) -> list[float]:
    """Split ``total`` bytes into chunks of whole ``unit``s, as many as fill half of ``cap``
    (so two chunks double-buffer). A unit larger than that is split by bytes."""
    room = cap / 2
    per = unit * math.floor(room / unit) if unit <= room else room
    per = min(per, total) if per > 0 else total
    n = max(1, math.ceil(total / per - 1e-9))
    return [per] * (n - 1) + [total - per * (n - 1)]


def _gemm_steps(hw, spec) -> list[Step]:
    """Chunk steps of one :class:`~hwsim.families.bitserial.model.GemmSpec` (module doc)."""
    p = hw.params
    groups, M, N = spec.groups, spec.M, spec.N
    lc = hw.spec_cycles(spec)
    comp = lc.compute_cycles / p.clock_hz
    wb, ib, ob = lc.weight_bytes, lc.input_bytes, lc.output_bytes
    ibuf, wbuf = p.input_buffer_bytes, p.weight_buffer_bytes
    unit = {0: ib / (groups * math.ceil(M / p.cols)), 1: wb / (groups * math.ceil(N / p.rows))}
    total, cap = {0: ib, 1: wb}, {0: ibuf, 1: wbuf}
    if lc.weight_fetches > 1:        # inputs in whole-buffer chunks, weights stream per chunk
        res, res_chunks = 0, [ib / lc.weight_fetches] * lc.weight_fetches
    elif lc.input_fetches > 1:       # weights in whole-buffer chunks, inputs stream per chunk
        res, res_chunks = 1, [wb / lc.input_fetches] * lc.input_fetches
    else:
        res = 0 if ib <= ibuf and (wb > wbuf or ib <= wb) else 1
        res_chunks = [total[res]]
    strm = 1 - res
    s_chunks = chunks(total[strm], unit[strm], cap[strm])
    steps = []
    n_s = len(s_chunks)
    for r in res_chunks:
        # runs along the streamed chunks: the first (loads the resident chunk too), the equal
        # middle ones, the last (frees the resident chunk; may be shorter)
        for j, count in ((0, 1), (1, n_s - 2), (n_s - 1, 1)) if n_s > 2 else (
                (j, 1) for j in range(n_s)):
            if count < 1:
                continue
            s = s_chunks[j]
            share = (r / total[res]) * (s / total[strm]) if total[res] and total[strm] else (
                1.0 / (len(res_chunks) * n_s))
            new = [0.0, 0.0]
            new[strm] = s
            if j == 0:
                new[res] = r
            last = [True, True]
            last[res] = j == n_s - 1
            steps.append(Step(new=tuple(new), load=tuple(new), compute_s=comp * share,
                              store_bytes=ob * share, last_use=tuple(last), count=count))
    return steps


def programs(hw, op: Op, mem_latency_s: float = 0.0) -> list | None:
    """One program per GEMM of ``op`` (attention: QK^T and PV); None for vector ops."""
    sp = hw.gemm_specs(op)  # the GEMMs cost(op) runs
    if sp is None:
        return None
    p = hw.params
    bw = hw.mem_bandwidth_Bps
    out = []
    for spec in sp:
        steps = compress(_gemm_steps(hw, spec))
        out.append(TileProgram(
            operands=("inputs", "weights"),
            buffer_bytes=(float(p.input_buffer_bytes), float(p.weight_buffer_bytes)),
            streams=(tuple(steps),), mem_bandwidth_Bps=bw, mem_latency_s=mem_latency_s,
            unit=f"{p.rows}x{p.cols} PEs ({p.serial}-serial)",
            source=f"bitserial: M={spec.M} N={spec.N} K={spec.K} groups={spec.groups}, "
                   f"{sum(s.count for s in steps)} chunk steps"))
    return out
