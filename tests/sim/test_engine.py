"""The simpy engine on hand-made tile programs whose timelines can be worked out by hand."""

import math

import pytest

from hwsim.errors import ConfigError
from hwsim.sim import Step, TileProgram, simulate

INF = float("inf")
BW = 1e9           # 1 GB/s: 1 kB takes 1 us


def stream(n, load_b, compute_s, store_b=0.0, cap=INF, units=1, latency_s=0.0):
    """``n`` identical tiles per unit, each loading ``load_b`` bytes and storing ``store_b``."""
    step = Step(new=(load_b, store_b), load=(load_b, 0.0), compute_s=compute_s,
                store_bytes=store_b, last_use=(True, True), count=n)
    return TileProgram(operands=("in", "out"), buffer_bytes=(cap, INF),
                       streams=((step,),) * units, mem_bandwidth_Bps=BW, mem_latency_s=latency_s,
                       out=1)


def test_compute_bound_stream_is_fill_plus_compute_plus_drain():
    # 1000 tiles: 1 us load, 2 us compute, 0.5 us store each; double-buffered
    res = simulate(stream(1000, 1e3, 2e-6, 500.0))
    expect = 1e-6 + 1000 * 2e-6 + 0.5e-6        # first load + all compute + last store
    assert res.latency_s == pytest.approx(expect, rel=2e-3)
    assert res.fill_drain_s == pytest.approx(1.5e-6, rel=0.05)
    assert res.stall_memory_s < 0.01 * res.latency_s
    # the channel idles 25% of the time while tiles compute (1.5 us of traffic per 2 us tile)
    assert res.stall_compute_s == pytest.approx(0.25 * 2e-3, rel=0.02)


def test_memory_bound_stream_is_bytes_over_bandwidth_plus_last_compute():
    res = simulate(stream(1000, 3e3, 1e-6, 1e3))
    expect = 1000 * 4e3 / BW + 1e-6 + 1e3 / BW   # every byte + the last tile's compute/store
    assert res.latency_s == pytest.approx(expect, rel=2e-3)
    assert res.stall_memory_s == pytest.approx(1000 * 3e-6, rel=0.05)
    assert res.stall_compute_s < 1e-3 * res.latency_s


@pytest.mark.parametrize("load_b,compute_s", [(1e3, 2e-6), (3e3, 1e-6), (2e3, 2e-6)])
def test_coarsening_matches_tile_by_tile(load_b, compute_s):
    prog = stream(300, load_b, compute_s, 700.0)
    coarse, fine = simulate(prog), simulate(prog, edge=10 ** 6)
    assert coarse.events < fine.events / 10
    assert coarse.latency_s == pytest.approx(fine.latency_s, rel=0.01)


def test_buffer_of_one_tile_serializes_load_and_compute():
    double = simulate(stream(100, 1e3, 1e-6, cap=2e3))
    single = simulate(stream(100, 1e3, 1e-6, cap=1e3))
    assert double.latency_s == pytest.approx(101e-6, rel=0.01)    # overlap: 100 x max(1, 1) + fill
    assert single.latency_s == pytest.approx(200e-6, rel=0.01)    # 100 x (1 + 1)
    assert single.stall_buffer_s == pytest.approx(single.latency_s - double.latency_s, rel=0.01)
    assert double.stall_buffer_s == 0.0


def test_two_units_share_one_channel():
    one = simulate(stream(500, 2e3, 1e-6))
    two = simulate(stream(500, 2e3, 1e-6, units=2))
    # each unit alone is memory-bound at 2 us / tile; together they get 1 GB/s between them
    assert one.latency_s == pytest.approx(1.001e-3, rel=0.01)
    assert two.latency_s == pytest.approx(2 * 1e-3, rel=0.01)


def test_compute_bound_unit_leaves_bandwidth_to_a_memory_bound_one():
    # unit 0 needs 0.25 GB/s (1 kB per 4 us), unit 1 would take all it gets: max-min fairness
    # gives unit 1 0.75 GB/s, so it finishes its 3 MB in ~4 ms (equal shares would give 6 ms)
    a = Step(new=(1e3, 0), load=(1e3, 0), compute_s=4e-6, last_use=(True, True), count=1000)
    b = Step(new=(3e3, 0), load=(3e3, 0), compute_s=1e-7, last_use=(True, True), count=1000)
    prog = TileProgram(operands=("in", "out"), buffer_bytes=(INF, INF),
                       streams=((a,), (b,)), mem_bandwidth_Bps=BW)
    res = simulate(prog)
    assert res.latency_s == pytest.approx(4e-3, rel=0.02)


def test_dram_latency_shows_as_fill_and_hides_behind_double_buffering():
    # 2 us of latency per request, 1 us transfer, 4 us compute: the next tile's request
    # (issued when a buffer slot frees) arrives in time, so only the first one is exposed
    prog0, prog1 = stream(200, 1e3, 4e-6), stream(200, 1e3, 4e-6, latency_s=2e-6)
    res0, res1 = simulate(prog0), simulate(prog1)
    assert res1.latency_s - res0.latency_s == pytest.approx(2e-6, rel=0.05)
    assert res1.fill_drain_s - res0.fill_drain_s == pytest.approx(2e-6, rel=0.05)
    assert res1.latency_s == pytest.approx(simulate(prog1, edge=10 ** 6).latency_s, rel=1e-3)


def test_program_checks_its_inputs():
    with pytest.raises(ConfigError, match="does not fit its buffer"):
        stream(2, 2e3, 1e-6, cap=1e3)
    with pytest.raises(ConfigError, match="mem_bandwidth_Bps"):
        TileProgram(operands=("a",), buffer_bytes=(INF,), streams=(), mem_bandwidth_Bps=0)
    with pytest.raises(ConfigError, match="buffer_bytes"):
        TileProgram(operands=("a", "b"), buffer_bytes=(INF,), streams=(), mem_bandwidth_Bps=1)


def test_empty_program_takes_its_overhead():
    prog = TileProgram(operands=("a",), buffer_bytes=(INF,), streams=(), mem_bandwidth_Bps=1,
                       overhead_s=3e-6)
    assert math.isclose(simulate(prog).latency_s, 3e-6)
