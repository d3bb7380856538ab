"""Bit-serial array tile programs from the analytical layer cost (BitMoD accounting)."""

import pytest

import hwsim
from hwsim.sim import op_programs, simulate_op

Gemm = hwsim.ops.Gemm


@pytest.mark.parametrize("arch,w,M", [("bitmod", "int4", 1), ("bitmod", "bitmod4_g128", 2048),
                                      ("bitmod-fp16", "fp16", 256), ("bitmod-fp16", "fp16", 16)])
def test_program_moves_the_analytical_bytes_and_cycles(arch, w, M):
    hw = hwsim.load_arch(arch)
    op = Gemm(M=M, N=4096, K=4096, weights=w, activations="fp16")
    b = hw.cost(op).breakdown
    (prog,) = op_programs(hw, op)
    assert prog.load_bytes + prog.store_bytes == pytest.approx(b["dram_bytes"], rel=1e-9)
    assert prog.compute_s == pytest.approx(b["compute_cycles"] / hw.params.clock_hz,
                                           rel=1e-9)


@pytest.mark.parametrize("M,N,bound", [(2048, 11008, "compute"), (2048, 4096, "compute"),
                                       (1, 32000, "memory"), (1, 4096, "memory")])
def test_steady_state_layers_agree_with_the_analytical_model(M, N, bound):
    hw = hwsim.load_arch("bitmod")
    op = Gemm(M=M, N=N, K=4096, weights="int4", activations="fp16")
    c, _ = simulate_op(hw, op)
    assert hw.cost(op).bound == bound and c.breakdown["sim_generic"] == 0.0
    assert 1.0 <= c.latency_s / hw.cost(op).latency_s < 1.05


def test_refetch_chunks_fill_the_buffer_and_stall():
    # fp16 weights (32 MB) and 2048 tokens of inputs (16 MB) both overflow their 512 kB
    # buffers: the artifact's rule refetches the weights once per input chunk, and those
    # chunks fill the input buffer, so each chunk's load waits for the previous one
    hw = hwsim.load_arch("bitmod-fp16")
    op = Gemm(M=2048, N=4096, K=4096, weights="fp16", activations="fp16")
    c, _ = simulate_op(hw, op)
    assert c.breakdown["sim_stall_buffer_s"] > 0.5 * (c.latency_s - hw.cost(op).latency_s) > 0


def test_attention_is_two_programs_matching_the_analytical_split():
    hw = hwsim.load_arch("bitmod")
    wl = hwsim.load_workload("llama-2-7b", phase="decode", context=1024, weights="int4",
                             activations="fp16", kv="int8")
    op = next(o for o in wl.ops if o.type == "Attention")
    progs = op_programs(hw, op)
    assert len(progs) == 2
    b = hw.cost(op).breakdown
    assert sum(p.load_bytes + p.store_bytes for p in progs) == pytest.approx(b["dram_bytes"])
    # decode attention here is balanced (compute 266.8 us, DRAM 267.0 us): no slack to hide
    # the first chunk's load or the last one's compute, so the simulator adds ~6%
    c, _ = simulate_op(hw, op)
    assert b["compute_cycles"] == pytest.approx(b["dram_cycles"], rel=0.01)
    assert 1.03 < c.latency_s / hw.cost(op).latency_s < 1.10
