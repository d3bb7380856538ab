import copy
import dataclasses

import pytest
import yaml

import hwsim
from hwsim.arch import resolved_spec
from hwsim import ops
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families import MACArray


@pytest.fixture(scope="module")
def mac():
    return hwsim.load_arch("mac-tc")


def test_preset(mac):
    assert isinstance(mac, MACArray) and mac.area_mm2 > 0
    # one MAC per PE per cycle, whatever formats fit the fp16 multiplier
    assert mac.peak_ops_per_s("fp16", "fp16") == 2 * 32 * 32 * 1e9
    assert mac.peak_ops_per_s("fp16", "int4") == 2 * 32 * 32 * 1e9
    with pytest.raises(UnsupportedError, match="fp32 do not fit"):
        mac.peak_ops_per_s("fp32", "fp16")
    s = mac.summary()
    assert (s.name, s.family, s.clock_hz, s.mem_bandwidth_Bps) == ("mac-tc", "mac_array", 1e9,
                                                                   1.6e10)
    assert s.mem_capacity_bytes is None and s.idle_power_w == 0.0


def test_typed_parts_add_up(mac):
    g = mac.cost(ops.Gemm(M=1, N=4096, K=4096, weights="int4", activations="fp16"))
    assert g.latency_s == max(g.time.compute_s, g.time.memory_s) and g.time.overhead_s == 0
    assert g.energy_j == pytest.approx(g.energy.total_j, rel=1e-12)
    d = g.detail
    assert g.energy.onchip_j == pytest.approx(d.pe_reg_j + d.sram_j)
    assert d.cycles / mac.params.clock_hz == g.time.compute_s
    att = ops.Attention(batch=1, heads=8, q_len=128, kv_len=128, head_dim=64)
    a = mac.cost(att)
    qk, pv = (mac._gemm(att, spec) for spec in mac.gemm_specs(att))
    assert a.latency_s == qk.latency_s + pv.latency_s
    assert a.time.memory_s == qk.time.memory_s + pv.time.memory_s
    assert a.energy.total_j == pytest.approx(a.energy_j, rel=1e-12)


def test_old_parameter_name_loads_with_a_warning(mac, tmp_path):
    spec = copy.deepcopy(resolved_spec("mac-tc")[0])
    spec["params"]["frequency_hz"] = spec["params"].pop("clock_hz")
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(spec))
    with pytest.warns(DeprecationWarning, match="'frequency_hz' is now 'clock_hz'"):
        old = hwsim.load_arch(tmp_path / "old.yaml")
    assert old.params == mac.params
    op = ops.Gemm(M=64, N=512, K=512)
    assert dataclasses.astuple(old.cost(op)) == dataclasses.astuple(mac.cost(op))


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
