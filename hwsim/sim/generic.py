"""Generic tile program from an analytical :class:`~hwsim.contract.Cost`, for ops and families
that have no tile program of their own (vector ops everywhere; bit-serial, FPGA, MCU/CPU until
they supply one).

It reads only the Cost's time parts (:class:`~hwsim.contract.TimeParts`: ``compute_s``, which
includes a power roof, ``memory_s`` and ``overhead_s``) and ``op.bytes``. It builds a stream
of ``chunks`` equal tiles (default 256, an assumption: small enough that its
fill/drain, one chunk, stays under 0.5% of the op), double-buffered, each reading
``op.bytes / chunks`` at the bandwidth the model implied (``op.bytes / memory_s``) and computing
``compute_s / chunks``; ``overhead_s`` stays a fixed serial term. So the simulated latency is the
analytical one plus the pipeline fill/drain of one chunk.

What it cannot see: the real tile sizes and loop order (so neither refetch traffic nor bursty
per-tile traffic), the buffer capacities (it always double-buffers), DRAM latency of the real
requests, stores (all bytes count as reads), and any parallel units or shared channels inside
the op. A Cost without ``compute_s``/``memory_s`` is treated as pure compute.
"""

from __future__ import annotations

from ..contract import Cost
from ..workload.ops import Op
from .program import Step, TileProgram

CHUNKS = 256  # assumption: granularity of the generic stream (fill/drain = 1/256 of the op)


def program(op: Op, cost: Cost, chunks: int = CHUNKS, mem_latency_s: float = 0.0) -> TileProgram:
    """A double-buffered stream of ``chunks`` tiles reproducing ``cost``'s compute and memory time.

    Example::

        prog = program(op, hw.cost(op))
    """
    tp = cost.time
    over, comp, mem = tp.overhead_s, tp.compute_s, tp.memory_s
    if comp == 0.0 and mem == 0.0:  # no parts stated: all of it is compute
        comp = max(cost.latency_s - over, 0.0)
    nbytes = float(op.bytes) if mem > 0 else 0.0
    bw = nbytes / mem if mem > 0 and nbytes > 0 else 1.0
    per = nbytes / chunks
    step = Step(new=(per,), load=(per,), compute_s=comp / chunks, last_use=(True,), count=chunks)
    return TileProgram(operands=("data",), buffer_bytes=(float("inf"),), streams=((step,),),
                       mem_bandwidth_Bps=bw, mem_latency_s=mem_latency_s, overhead_s=over,
                       unit=cost.compute_path or "compute",
                       source=f"generic: {chunks}-chunk stream from the analytical Cost")
