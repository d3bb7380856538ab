"""MAC-array tile programs: the analytical mapping, replayed; what only the simulator sees."""

import pytest

import hwsim
from hwsim.sim import op_programs, simulate_op
from hwsim.families.mac_array.sim import gemm_steps

Gemm = hwsim.ops.Gemm


def gemm(M, N, K, fmt="fp16", groups=1):
    return Gemm(M=M, N=N, K=K, groups=groups, weights=fmt, activations=fmt)


@pytest.fixture(scope="module")
def mac():
    return hwsim.load_arch("mac-tc")


@pytest.mark.parametrize("M,N,K,groups", [(512, 4096, 4096, 1), (1, 4096, 4096, 1),
                                          (100, 300, 77, 3), (17, 1000, 999, 2)])
def test_program_moves_the_mappings_dram_bytes_and_cycles(mac, M, N, K, groups):
    op = gemm(M, N, K, groups=groups)
    (prog,), (m,) = op_programs(mac, op), mac.mapping(op)
    assert prog.load_bytes + prog.store_bytes == pytest.approx(m["dram_bytes"], rel=1e-9)
    assert prog.compute_s == pytest.approx(m["cycles"] / mac.params.clock_hz, rel=1e-9)
    assert prog.source.endswith(f"tile={m['tile']} order={m['order']} weight_stationary")


def test_steps_are_built_per_loop_body_not_per_tile(mac):
    m = mac.mapping(gemm(2048, 11008, 4096))[0]
    steps = gemm_steps(m, 1e9)
    assert sum(s.count for s in steps) > 10 * len(steps)


@pytest.mark.parametrize("M,bound", [(2048, "compute"), (1, "memory")])
def test_steady_state_layers_agree_with_the_analytical_model(mac, M, bound):
    op = gemm(M, 4096, 4096)
    c, _ = simulate_op(mac, op)
    a = c.breakdown["analytical_latency_s"]
    assert mac.cost(op).bound == bound
    assert abs(c.latency_s / a - 1) < 0.05


def test_fill_and_drain_dominate_a_short_layer(mac):
    # 16 x 128 x 128: ~2.6 us of analytical time; the first load and the last store cannot
    # overlap anything, which adds ~12%
    c, _ = simulate_op(mac, gemm(16, 128, 128))
    a = c.breakdown["analytical_latency_s"]
    assert c.latency_s / a > 1.10
    assert c.breakdown["sim_fill_drain_s"] > 0.5 * (c.latency_s - a)
    # on a long layer the same fill/drain is noise
    c2, _ = simulate_op(mac, gemm(1, 4096, 4096))
    assert c2.breakdown["sim_fill_drain_s"] < 0.01 * c2.latency_s


def test_shrinking_the_input_buffer_costs_latency_only_the_simulator_sees():
    op = gemm(512, 4096, 4096)
    big = hwsim.load_arch("mac-tc")
    small = hwsim.load_arch("mac-tc", input_buffer_bytes=256 * 1024)
    # the analytical model re-maps to the smaller buffer at no latency cost (compute-bound)...
    assert small.cost(op).latency_s == pytest.approx(big.cost(op).latency_s, rel=1e-9)
    c_big, _ = simulate_op(big, op)
    c_small, _ = simulate_op(small, op)
    # ...but the new mapping's 512 kB weight tile fills the weight buffer: it cannot be
    # double-buffered, so every weight tile's load stalls the array (measured: +22%)
    assert c_small.latency_s > 1.15 * small.cost(op).latency_s
    assert c_small.latency_s > 1.15 * c_big.latency_s
    assert c_small.breakdown["sim_stall_buffer_s"] > 0.8 * (c_small.latency_s
                                                            - c_big.latency_s)
    assert c_small.bound == "buffer"


def test_attention_runs_both_gemms(mac):
    wl = hwsim.load_workload("llama-2-7b", phase="decode", context=256)
    op = next(o for o in wl.ops if o.type == "Attention")
    progs = op_programs(mac, op)
    assert len(progs) == 2
    c, res = simulate_op(mac, op)
    assert c.latency_s == pytest.approx(sum(r.latency_s for r in res))
    assert abs(c.latency_s / mac.cost(op).latency_s - 1) < 0.05


@pytest.mark.parametrize("ibuf,M", [(524288, 512), (262144, 512)])
def test_coarse_events_match_the_tile_by_tile_run_on_a_mapped_layer(ibuf, M):
    from hwsim.sim import simulate
    hw = hwsim.load_arch("mac-tc", input_buffer_bytes=ibuf)
    (prog,) = op_programs(hw, gemm(M, 512, 2048))
    coarse, fine = simulate(prog, counterfactual=False), simulate(prog, edge=10 ** 9,
                                                                  counterfactual=False)
    assert coarse.events < fine.events / 2
    assert coarse.latency_s == pytest.approx(fine.latency_s, rel=1e-3)
