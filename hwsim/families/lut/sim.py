"""Tile program of a LUT-core GEMM (family ``lut``) from its analytical schedule
(:meth:`hwsim.families.lut.model.LUTCore.gemm_schedule`).

The ``tiles`` LUT tiles work side by side on ``tiles * tile_n`` output columns (an N block). The
program walks, per group: M blocks (rows of activations that fit their SRAM share, held with
their lookup tables while every N block uses them), N blocks, and K chunks of the weights
(streamed through the weight share of the SRAM); an N block's outputs are stored after its last K
chunk. Compute per step is the analytical ``cycles`` spread in proportion to the step's rows and
K, so the steps add up to the analytical compute time.

Within an M block the weight chunks are equal and the outputs drain in proportion to them (a
finished N block's store is spread over its chunks), so an M block is two runs of steps.

SRAM split (an assumption: the paper gives no partition): half for activations and tables, a
quarter for weights, a quarter for outputs. When the activations of a group do not fit their
half, the weights are streamed once per M block: more DRAM traffic than the analytical model's
one pass over every operand -- a difference the simulator shows. Attention, activation x
activation GEMMs and vector ops run on the host datapath and use the generic program.
"""

from __future__ import annotations

import math

from ...workload.ops import Conv2d, Gemm, Op
from ...sim.program import Step, TileProgram, compress


def programs(hw, op: Op, mem_latency_s: float = 0.0) -> list | None:
    if isinstance(op, Conv2d):
        op = op.as_gemm()
    if not isinstance(op, Gemm) or not op.b_is_weight:
        return None
    p = hw.params
    sch = hw.gemm_schedule(op)
    ob = op.operand_bytes()
    G, M, N, K = op.groups, op.M, op.N, op.K
    a_row = ob["A"] / (G * M)                      # bytes of one activation row (K elements)
    w_col = ob["B"] / (G * N * K)                  # bytes per weight element
    c_el = ob["C"] / (G * M * N)
    cap_a, cap_b, cap_c = p.sram_bytes / 2, p.sram_bytes / 4, p.sram_bytes / 4
    room = cap_a / 2 - sch["table_bytes"]          # an M block (+ tables) double-buffered
    rows = int(room // a_row) // p.tile_m * p.tile_m if room > 0 else 0
    ncols = p.tile_n * p.tiles
    kc = max(p.tile_k, int(cap_b / 2 // (ncols * w_col)) // p.tile_k * p.tile_k)
    kc = min(kc, -(-K // p.tile_k) * p.tile_k)
    n_blocks = [min(ncols, N - j) for j in range(0, N, ncols)]
    k_chunks = [min(kc, K - k) for k in range(0, K, kc)]
    n_chunks = len(n_blocks) * len(k_chunks)
    # an M block's outputs drain over its chunks: one chunk's share must double-buffer too
    rows_c = int(cap_c / 2 * n_chunks // (N * c_el)) // p.tile_m * p.tile_m
    rows = min(rows, rows_c)
    if rows < p.tile_m:
        return None                                # not even one row block fits: generic
    rows = min(rows, -(-M // p.tile_m) * p.tile_m)
    cyc_s = sch["cycles"] / p.clock_hz / G          # compute time of one group
    m_pad = -(-M // p.tile_m)
    steps = []
    m_blocks = [min(rows, M - i) for i in range(0, M, rows)]
    mid = set(range(2, len(m_blocks) - 2)) if len(m_blocks) > 6 else set()
    for i, r in enumerate(m_blocks):
        a_new = r * a_row + sch["table_bytes"]
        # an M block streams its weights chunk by chunk; outputs drain in proportion (a finished
        # N block's store spread over its chunks keeps the block's steps identical: one run)
        per_c = (math.ceil(r / p.tile_m) / m_pad) / n_chunks
        c_share = r * N * c_el / n_chunks
        b_chunk = ob["B"] / G / n_chunks
        if i in mid:
            # coarsening: the middle M blocks (identical) spread each block's activation load
            # over its weight chunks, so they merge into one run
            a_share = r * a_row / n_chunks
            steps.append(Step(new=(0.0, b_chunk, c_share), load=(a_share, b_chunk, 0.0),
                              compute_s=cyc_s * per_c, store_bytes=c_share,
                              last_use=(False, True, True), count=n_chunks))
            continue
        for j, n in ((0, 1), (1, n_chunks - 1)):
            if n:
                steps.append(Step(
                    new=(a_new if j == 0 else 0.0, b_chunk, c_share),
                    load=(r * a_row if j == 0 else 0.0, b_chunk, 0.0),
                    compute_s=cyc_s * per_c, store_bytes=c_share,
                    last_use=(n_chunks == 1 or j == 1, True, True), count=n))
    steps = compress(compress(steps) * G)
    return [TileProgram(
        operands=("A+tables", "B", "C"), buffer_bytes=(cap_a, cap_b, cap_c),
        streams=(tuple(steps),), mem_bandwidth_Bps=p.mem_bandwidth_Bps,
        mem_latency_s=mem_latency_s, out=2, unit=f"{p.tiles} LUT tiles",
        source=f"lut schedule: {len(m_blocks)} M blocks of {rows} rows x {len(n_blocks)} N "
               f"blocks of {ncols} x {len(k_chunks)} K chunks of {kc}",
        meta={"analytical_bytes": op.bytes})]
