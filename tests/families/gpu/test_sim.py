"""GPU tile programs from the CTA tiling the analytical model picked."""

import pytest

import hwsim
from hwsim.sim import op_programs, simulate_op

Gemm = hwsim.ops.Gemm


@pytest.fixture(scope="module")
def h100():
    return hwsim.load_arch("h100-sxm")


@pytest.mark.parametrize("M,N,K,bound", [(8192, 8192, 8192, "power"), (4096, 4096, 4096, "power"),
                                         (1, 4096, 4096, "memory"), (16, 11008, 4096, "memory")])
def test_steady_state_gemms_agree_with_the_analytical_model(h100, M, N, K, bound):
    op = Gemm(M=M, N=N, K=K, weights="bf16", activations="bf16")
    c, _ = simulate_op(h100, op)
    assert h100.cost(op).bound == bound
    assert c.breakdown["sim_generic"] == 0.0
    assert 1.0 <= c.latency_s / c.breakdown["analytical_latency_s"] < 1.05


def test_program_follows_the_chosen_tiling(h100):
    op = Gemm(M=4096, N=4096, K=4096, weights="bf16", activations="bf16")
    t = h100.gemm_tiling(op)
    (prog,) = op_programs(h100, op)
    assert prog.tiles == t["waves"] * 4096 // t["bk"]
    assert prog.load_bytes == pytest.approx(op.operand_bytes()["A"] + op.operand_bytes()["B"])
    assert prog.store_bytes == pytest.approx(op.operand_bytes()["C"])
    assert f"{t['bm']}x{t['bn']}" in prog.source


def test_last_wave_store_is_a_drain_the_roofline_hides(h100):
    op = Gemm(M=4096, N=4096, K=4096, weights="bf16", activations="bf16")
    c, _ = simulate_op(h100, op)
    t = h100.gemm_tiling(op)
    p = h100.params
    drain = op.operand_bytes()["C"] / t["waves"] / (p.mem_bandwidth_Bps * p.mem_efficiency)
    assert c.breakdown["sim_fill_drain_s"] == pytest.approx(drain, rel=0.1)


def test_weight_only_and_attention_fall_back_to_the_generic_program(h100):
    op = Gemm(M=1, N=4096, K=4096, weights="int4_g128", activations="fp16")
    assert h100.gemm_tiling(op) is None
    c, _ = simulate_op(h100, op)
    assert c.breakdown["sim_generic"] == 1.0
    assert abs(c.latency_s / h100.cost(op).latency_s - 1) < 0.01


@pytest.mark.parametrize("M", [1, 16, 64, 128])
def test_program_uses_the_bandwidth_the_analytical_cost_charged(h100, M):
    # int8 GEMMs with M <= 64 stream at int8_skinny_bw_efficiency x mem_efficiency: the
    # program must not stream faster than the analytical cost assumed
    op = Gemm(M=M, N=4096, K=4096, weights="int8", activations="int8")
    c, _ = simulate_op(h100, op)
    assert 1.0 <= c.latency_s / h100.cost(op).latency_s < 1.05
