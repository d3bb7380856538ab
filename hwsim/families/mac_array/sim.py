"""Tile program of the MAC array (family ``mac_array``) from the mapping its analytical model
chose (:meth:`hwsim.families.mac_array.model.MACArray.mapping`): the same tile sizes, loop order and
dataflow.

Tiles (Tm, Tn, Tk) are visited in the mapping's loop order. An operand tile is loaded when its
indices change (the analytical model's refetch rule, so DRAM bytes match ``dram_bytes``); an
output tile is read back when revisited along K (partial sums) and stored when the loop moves
off it. Buffer space per tile: A ``Tm*Tk*a_bytes`` in ``input_buffer_bytes``, B ``Tk*Tn*w_bytes``
in ``weight_buffer_bytes``, C ``Tm*Tn*acc_bytes`` in ``output_buffer_bytes``. Where the analytical
memory floor (every operand once: ``total_bytes``) exceeds the mapping's ``dram_bytes`` -- a
strided convolution reads its whole input -- the difference is charged to the input loads.

Compute per tile: its array folds times the streamed dimension, with the analytical model's
per-fold fill/drain of the array (rows + cols cycles) spread over the streamed tiles -- the tiles'
cycles add up exactly to the analytical ``cycles``. What the simulator adds is the tile pipeline:
the first load before any compute, the last store after it, buffers that cannot hold two tiles,
DRAM latency and units sharing one channel. It does not re-model in-array fill per streamed tile.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ...workload.ops import Attention, Conv2d, Gemm, Op
from ...sim.program import Step, TileProgram, compress

OPERANDS = ("A", "B", "C")


def gemm_steps(m: dict, clock_hz: float) -> list[Step]:
    """Steps of one group of a mapped GEMM (``m``: one dict of ``MACArray.mapping``).

    Built loop body by loop body: inside the innermost loop the tiles are identical except the
    first (where outer indices changed) and a partial last one, so each body is at most three
    runs and the cost is linear in the number of outer iterations, not of tiles."""
    dims = {"m": m["M"], "n": m["N"], "k": m["K"]}
    T = dict(zip("mnk", m["tile"]))
    (d1, s1), (d2, s2), tdim = m["spatial"]
    order = m["order"]
    cnt = {d: -(-dims[d] // T[d]) for d in "mnk"}
    scale = 1 + (s1 + s2) / dims[tdim]
    eb = {"A": m["a_bytes"], "B": m["w_bytes"]}
    acc_b, o_b = m["acc_bytes"], m["o_bytes"]
    size = {d: [min(T[d], dims[d] - i * T[d]) for i in range(cnt[d])] for d in "mnk"}
    compute_cache: dict[tuple, float] = {}

    def compute_s(sm, sn, sk):
        c = compute_cache.get((sm, sn, sk))
        if c is None:
            sz = {"m": sm, "n": sn, "k": sk}
            c = compute_cache[(sm, sn, sk)] = (math.ceil(sz[d1] / s1) * math.ceil(sz[d2] / s2)
                                               * sz[tdim] * scale / clock_hz)
        return c

    o0, o1, inner = order
    raw = []   # [new, load, compute_s, c_bytes_out, count]
    prev = None
    for i0 in range(cnt[o0]):
        for i1 in range(cnt[o1]):
            for j in _inner_runs(cnt[inner]):
                i = {o0: i0, o1: i1, inner: j[0]}
                sm, sn, sk = size["m"][i["m"]], size["n"][i["n"]], size["k"][i["k"]]
                ids = _ids(i)
                # the first tile of a run compares with what came before; later ones with
                # their predecessor in the run (the same outer indices, inner index - 1)
                run = []
                for first in ((True, False) if j[1] > 1 else (True,)):
                    before = prev if first else _ids(dict(i, **{inner: i[inner] - 1}))
                    new, load = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
                    for jj, (X, elems) in enumerate((("A", sm * sk), ("B", sk * sn))):
                        if before is None or ids[X] != before[X]:
                            new[jj] = load[jj] = elems * eb[X]
                    if before is None or ids["C"] != before["C"]:
                        new[2] = sm * sn * acc_b
                        if i["k"] > 0:   # revisited along K: read the partial sums back
                            load[2] = sm * sn * o_b
                    run.append([tuple(new), tuple(load), compute_s(sm, sn, sk), sm * sn * o_b])
                if len(run) == 1:
                    raw.append(run[0] + [j[1]])
                else:
                    raw.append(run[0] + [1])
                    raw.append(run[1] + [j[1] - 1])
                end = dict(i, **{inner: j[0] + j[1] - 1})   # the run's last tile
                prev = _ids(end)
    steps = []
    for idx, (new, load, c, c_out, count) in enumerate(raw):
        nxt = raw[idx + 1][0] if idx + 1 < len(raw) else (1.0, 1.0, 1.0)
        last = tuple(x > 0 for x in nxt)
        same = tuple(x > 0 for x in new)       # inside the run the next tile is like this one
        if count > 1:
            steps.append(Step(new=new, load=load, compute_s=c,
                              store_bytes=c_out if same[2] else 0.0, last_use=same,
                              count=count - 1))
        steps.append(Step(new=new, load=load, compute_s=c,
                          store_bytes=c_out if last[2] else 0.0, last_use=last))
    return compress(steps)


def _inner_runs(n: int) -> list[tuple[int, int]]:
    """(first index, count) of the runs of equal tiles along the innermost loop: the first tile,
    the full tiles after it and, sizes differing, the partial last one (kept separate)."""
    if n <= 2:
        return [(j, 1) for j in range(n)]
    return [(0, 1), (1, n - 2), (n - 1, 1)]


def _ids(i: dict) -> dict:
    """Tile indices of operands A (m, k), B (k, n) and C (m, n) at loop position ``i``."""
    return {"A": (i["m"], i["k"]), "B": (i["k"], i["n"]), "C": (i["m"], i["n"])}


def programs(hw, op: Op, mem_latency_s: float = 0.0) -> list | None:
    """Tile programs (run one after another) of ``op`` on a :class:`MACArray`; None for the
    vector ops (elementwise, norm, softmax, embedding), which have no tile mapping."""
    if not isinstance(op, (Gemm, Conv2d, Attention)):
        return None
    p = hw.params
    out = []
    for m in hw.mapping(op):
        one = gemm_steps(m, p.clock_hz)
        steps = compress(one * m["groups"])
        steps = _floor_bytes(steps, m["total_bytes"] - m["dram_bytes"])
        out.append(TileProgram(
            operands=OPERANDS,
            buffer_bytes=(p.input_buffer_bytes, p.weight_buffer_bytes, p.output_buffer_bytes),
            streams=(tuple(steps),), mem_bandwidth_Bps=p.mem_bandwidth_Bps,
            mem_latency_s=mem_latency_s, out=2, unit=f"mac array {p.rows}x{p.cols}",
            source=f"mac_array mapping tile={m['tile']} order={m['order']} {p.dataflow}",
            meta={"dram_bytes": m["dram_bytes"], "total_bytes": m["total_bytes"],
                  "cycles": m["cycles"]}))
    return out


def _floor_bytes(steps: list[Step], excess: float) -> list[Step]:
    """The analytical memory time is ``max(dram_bytes, total_bytes)``: every operand at least
    once (a strided convolution's DMA reads its whole input, not just the im2col rows the
    mapping counts). Charge the ``excess`` bytes to the input operand's loads, in proportion."""
    a_bytes = sum(s.count * s.load[0] for s in steps)
    if excess <= 0 or a_bytes <= 0:
        return steps
    f = 1 + excess / a_bytes
    return [replace(s, load=(s.load[0] * f, *s.load[1:])) if s.load[0] else s for s in steps]
