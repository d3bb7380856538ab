"""LUT-core tile programs from the analytical schedule."""

import pytest

import hwsim
from hwsim.sim import op_programs, simulate_op

Gemm = hwsim.ops.Gemm


def op(M):
    return Gemm(M=M, N=4096, K=4096, weights="int4", activations="int8")


@pytest.mark.parametrize("bw,M,bound", [(2.039e12, 2048, "compute"), (2.039e12, 1, "compute"),
                                        (5e10, 1, "memory")])
def test_steady_state_layers_agree_with_the_analytical_model(bw, M, bound):
    hw = hwsim.load_arch("lut-tc", mem_bandwidth_Bps=bw)
    c, _ = simulate_op(hw, op(M))
    assert hw.cost(op(M)).bound == bound
    assert c.breakdown["sim_generic"] == 0.0
    assert 1.0 <= c.latency_s / c.breakdown["analytical_latency_s"] < 1.05


def test_compute_adds_up_to_the_schedule():
    hw = hwsim.load_arch("lut-tc")
    (prog,) = op_programs(hw, op(512))
    sch = hw.gemm_schedule(op(512))
    assert prog.compute_s == pytest.approx(sch["cycles"] / hw.params.clock_hz, rel=1e-6)


def test_weights_restreamed_per_row_block_when_activations_do_not_fit():
    # 16 rows of 4 kB activations do not fit one double-buffered M block (14 rows), so the
    # weights stream twice: at 50 GB/s that makes the layer memory-bound, which the analytical
    # model (every operand once) calls compute-bound
    hw = hwsim.load_arch("lut-tc", mem_bandwidth_Bps=5e10)
    (prog,) = op_programs(hw, op(16))
    assert prog.load_bytes > 1.9 * op(16).operand_bytes()["B"]
    c, _ = simulate_op(hw, op(16))
    assert hw.cost(op(16)).bound == "compute"
    assert c.latency_s > 1.4 * hw.cost(op(16)).latency_s
