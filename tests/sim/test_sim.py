"""hwsim.sim entry points: simulate_op, simulate_shared, evaluate(engine=...), report columns."""

import csv
import io
import json

import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.sim import STALLS, simulate_op, simulate_shared

Gemm = hwsim.ops.Gemm


@pytest.fixture(scope="module")
def mac():
    return hwsim.load_arch("mac-tc")


@pytest.fixture(scope="module")
def decode():
    return hwsim.load_workload("llama-2-7b", phase="decode", context=512)


def test_simulated_cost_keeps_the_analytical_energy_and_adds_stalls(mac):
    op = Gemm(M=64, N=512, K=512, weights="fp16", activations="fp16")
    c, res = simulate_op(mac, op)
    a = mac.cost(op)
    assert c.energy_j == a.energy_j                     # mac-tc has no idle power term
    assert c.breakdown["analytical_latency_s"] == a.latency_s
    assert c.latency_s == pytest.approx(sum(r.latency_s for r in res))
    assert all(c.breakdown[k] >= 0 for k in STALLS)
    assert c.utilization < a.utilization                # same work over more time


def test_two_arrays_on_one_channel_take_twice_as_long_when_memory_bound(mac):
    # decode GEMM: each array alone streams its weights at the full 16 GB/s (2.1 ms); two
    # arrays behind one channel get 8 GB/s each. The analytical model, costing ops one at a
    # time, cannot see this
    op = Gemm(M=1, N=4096, K=4096, weights="fp16", activations="fp16")
    alone = simulate_op(mac, op)[0].latency_s
    shared = simulate_shared(mac, [op, op])
    assert alone == pytest.approx(mac.cost(op).latency_s, rel=0.01)
    assert shared.latency_s / alone == pytest.approx(2.0, rel=0.02)
    # a compute-bound layer (prefill) needs 73% of the channel: two of them oversubscribe it
    # by 46%, and the pair ends memory-bound at ~1.43x
    op2 = Gemm(M=2048, N=4096, K=4096, weights="fp16", activations="fp16")
    alone2 = simulate_op(mac, op2)[0].latency_s
    ratio = simulate_shared(mac, [op2, op2]).latency_s / alone2
    assert 1.3 < ratio < 1.6


def test_simulate_shared_refuses_generic_programs(mac, decode):
    norm = next(o for o in decode.ops if o.type == "Norm")
    with pytest.raises(ConfigError, match="no tile program"):
        simulate_shared(mac, [norm, norm])
    with pytest.raises(ConfigError, match="empty"):
        simulate_shared(mac, [])


def test_evaluate_sim_engine(mac, decode):
    ana = hwsim.evaluate(decode, mac)
    sim = hwsim.evaluate(decode, mac, engine="sim")
    assert len(sim.rows) == len(ana.rows)
    assert sim.latency_s >= ana.latency_s
    assert sim.latency_s / ana.latency_s < 1.05          # decode: bandwidth-bound steady state
    for r in sim.rows:
        assert "analytical_latency_s" in r.cost.breakdown


def test_evaluate_memo_keeps_engines_apart(mac, decode):
    cache = {}
    a = hwsim.evaluate(decode, mac, cache=cache)
    s = hwsim.evaluate(decode, mac, cache=cache, engine="sim")
    assert s.latency_s != a.latency_s
    assert hwsim.evaluate(decode, mac, cache=cache).latency_s == a.latency_s


def test_unknown_engine_is_a_config_error(mac, decode):
    with pytest.raises(ConfigError, match="engine = 'bogus'.*analytical, sim"):
        hwsim.evaluate(decode, mac, engine="bogus")


def test_report_carries_stall_columns_only_for_sim(mac, decode):
    ana = hwsim.evaluate(decode, mac)
    sim = hwsim.evaluate(decode, mac, engine="sim")
    assert "stall_memory_s" not in ana.to_csv().splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(sim.to_csv())))
    assert {"fill_drain_s", "stall_memory_s", "stall_buffer_s", "stall_compute_s"} <= set(rows[0])
    qkv = next(r for r in rows if r["name"].endswith("attn.qkv"))
    assert float(qkv["stall_memory_s"]) > 0              # decode GEMMs wait on DRAM
    ops = json.loads(sim.to_json())["ops"]
    assert sum(o["fill_drain_s"] for o in ops) > 0
    text = sim.table()
    assert "mem stall" in text and "fill/drain" in text and "mem stall" not in ana.table()


@pytest.mark.parametrize("arch,kw", [("rpi5", {}), ("flightllm-u280", {"weights": "int8",
                                                                       "activations": "int8"}),
                                     ("stm32h7", None)])
def test_families_without_an_adapter_run_the_generic_program(arch, kw):
    hw = hwsim.load_arch(arch)
    if kw is None:       # an MCU: a CNN that fits
        wl = hwsim.load_workload("resnet8", batch=1, weights="int8", activations="int8")
    else:
        wl = hwsim.load_workload("llama-2-7b", phase="decode", context=256, **kw)
    ana = hwsim.evaluate(wl, hw)
    sim = hwsim.evaluate(wl, hw, engine="sim")
    assert all(r.cost.breakdown["sim_generic"] == 1.0 for r in sim.rows)
    assert abs(sim.latency_s / ana.latency_s - 1) < 0.02


@pytest.mark.parametrize("arch,kw", [("h100-sxm", {}), ("mac-tc", {}), ("mac-tc-int8",
                                     {"weights": "int8", "activations": "int8"}),
                                     ("lut-tc", {"weights": "int4", "activations": "int8"}),
                                     ("bitmod", {"weights": "int4", "activations": "fp16"})])
@pytest.mark.parametrize("workload", ["resnet18", "vit-b16"])
def test_every_tile_program_runs_and_never_beats_the_roofline(arch, kw, workload):
    # same bytes and compute as the analytical max(compute, memory): the simulator can only
    # add time (pipeline fill/drain, stalls), never remove it
    hw = hwsim.load_arch(arch)
    wl = hwsim.load_workload(workload, batch=1, **kw)
    sim = hwsim.evaluate(wl, hw, engine="sim")
    assert any(r.cost.breakdown["sim_generic"] == 0.0 for r in sim.rows)
    for r in sim.rows:
        assert r.cost.latency_s >= r.cost.breakdown["analytical_latency_s"] * (1 - 1e-9), r.op.name


def test_bitserial_program_replays_channel_wise_conv_lowering():
    """bitfusion lowers a conv per kernel position (conv_lowering: channel): the simulated
    layer may add stalls to the analytical compute time but never beat it."""
    from hwsim.workload.ops import Conv2d
    hw = hwsim.load_arch("bitfusion")
    op = Conv2d(batch=1, in_channels=20, out_channels=64, in_h=28, in_w=28, kernel_h=3,
                kernel_w=3, padding=1, weights="int4", activations="int4")
    c = hw.cost(op)
    from hwsim.sim import simulate_op
    s, _ = simulate_op(hw, op, c)
    assert s.breakdown["sim_generic"] == 0.0
    assert s.latency_s >= c.breakdown["compute_cycles"] / hw.params.clock_hz
