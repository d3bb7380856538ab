import pytest

import hwsim
from hwsim import ops
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families import MACArray


@pytest.fixture(scope="module")
def mac():
    return hwsim.load_arch("mac-tc")


def test_preset(mac):
    assert isinstance(mac, MACArray) and mac.area_mm2 > 0
    assert mac.peak_ops_per_s() == 2 * 32 * 32 * 1e9


def test_mapping_fits_buffers_and_reuses(mac):
    m = mac.map_gemm(4096, 4096, 4096, 1, 2, 2, 2)
    tm, tn, tk = m["tile"]
    p = mac.params
    assert tm * tk * 2 <= p.input_buffer_bytes and tk * tn * 2 <= p.weight_buffer_bytes
    # DRAM traffic at least the operands once, far below no reuse (every MAC fetching operands)
    assert 3 * 4096 * 4096 * 2 <= m["dram_bytes"] < 4096 ** 3
    assert 0.9 < m["utilization"] <= 1.0


@pytest.mark.parametrize("shape", [(512, 512, 512), (256, 1024, 2048), (1024, 64, 4096)])
def test_bigger_array_never_slower_on_compute_bound_layers(shape):
    small = hwsim.load_arch("mac-tc", rows=16, cols=16, mem_bandwidth_Bps=1e15)
    big = hwsim.load_arch("mac-tc", rows=64, cols=64, mem_bandwidth_Bps=1e15)
    op = ops.Gemm(M=shape[0], N=shape[1], K=shape[2])
    assert big.cost(op).latency_s <= small.cost(op).latency_s


def test_int8_array_is_smaller_and_cheaper():
    f16, i8 = hwsim.load_arch("mac-tc"), hwsim.load_arch("mac-tc-int8")
    assert i8.area_mm2 < f16.area_mm2
    op16 = ops.Gemm(M=1024, N=1024, K=1024)
    op8 = ops.Gemm(M=1024, N=1024, K=1024, weights="int8", activations="int8")
    assert i8.cost(op8).energy_j < f16.cost(op16).energy_j


@pytest.mark.parametrize("df", ["weight_stationary", "output_stationary", "input_stationary"])
def test_dataflows_run_a_cnn(df):
    hw = hwsim.load_arch("mac-tc", dataflow=df)
    r = hwsim.evaluate(hwsim.load_workload("resnet18"), hw)
    assert r.latency_s > 0 and r.energy_j > 0


def test_bad_input(mac):
    tiny = hwsim.load_arch("mac-tc", input_buffer_bytes=16)
    with pytest.raises(UnsupportedError, match="input_buffer_bytes = 16"):
        tiny.cost(ops.Gemm(M=64, N=64, K=64))
    with pytest.raises(UnsupportedError, match="fp32 do not fit the PE's fp16"):
        mac.cost(ops.Gemm(M=8, N=8, K=8, weights="fp32", activations="fp32"))
    with pytest.raises(ConfigError, match="dataflow"):
        hwsim.load_arch("mac-tc", dataflow="row_stationary")


def test_tile_candidates_cover_the_dimension():
    from hwsim.families.mac_array.model import _candidates
    c = list(_candidates(1000, 32))
    assert c[0] == 32 and c[-1] == 1024 and all(b == 2 * a for a, b in zip(c, c[1:-1]))
    assert list(_candidates(5, 32)) == [32]
