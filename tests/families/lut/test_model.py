import pytest

import hwsim
from hwsim import ops
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families import LUTCore


@pytest.fixture(scope="module")
def lut():
    return hwsim.load_arch("lut-tc")


def g(M, N, K, w, a="fp16"):
    return ops.Gemm(M=M, N=N, K=K, weights=w, activations=a)


def test_preset_is_a_lut_core(lut):
    assert isinstance(lut, LUTCore) and lut.family == "lut"
    assert lut.area_mm2 > lut.compute_area_mm2 > 0


@pytest.mark.parametrize("act", ["fp16", "int8", "fp8_e4m3"])
def test_more_weight_bits_never_cheaper(lut, act):
    costs = [lut.cost(g(512, 4096, 4096, w, act)) for w in ("binary", "int2", "int3", "int4")]
    for a, b in zip(costs, costs[1:]):
        assert b.latency_s >= a.latency_s and b.energy_j >= a.energy_j


def test_throughput_scales_with_bit_planes(lut):
    assert lut.peak_ops_per_s(1) == pytest.approx(2 * lut.peak_ops_per_s(2))
    assert lut.peak_ops_per_s(4) == pytest.approx(lut.peak_ops_per_s(2) / 2)


def test_symmetrization_and_fusion_save_area_and_energy():
    base = dict(symmetric_tables=True, negation_removal=True, precompute="fused")
    full = hwsim.load_arch("lut-tc", **base)
    unpu = hwsim.load_arch("lut-tc", symmetric_tables=False, negation_removal=False,
                           precompute="in_unit")
    assert unpu.compute_area_mm2 > 1.3 * full.compute_area_mm2
    assert unpu.tops_per_w("int8", 2) < full.tops_per_w("int8", 2)


def test_int8_tables_cheaper_than_fp16(lut):
    assert lut.tile("int8", 2).total_area_um2 < lut.tile("fp16", 2).total_area_um2


def test_ternary_bitnet_decode_runs_with_host_ops(lut):
    wl = hwsim.load_workload("bitnet-b1.58-3b", weights="ternary", activations="int8")
    r = hwsim.evaluate(wl, lut)
    paths = {row.cost.compute_path for row in r.rows}
    assert "lut-w2-int8" in paths and "vector" in paths
    assert r.latency_s > 0 and r.energy_j > 0


def test_unsupported_inputs_are_named(lut):
    with pytest.raises(UnsupportedError, match="not integer/binary/ternary"):
        lut.cost(g(16, 64, 64, "fp8_e4m3"))
    with pytest.raises(UnsupportedError, match="8-bit weights exceed max_weight_bits = 4"):
        lut.cost(g(16, 64, 64, "int8"))
    with pytest.raises(UnsupportedError, match="activations tf32 not supported"):
        lut.cost(g(16, 64, 64, "int2", "tf32"))
    small = hwsim.load_arch("lut-tc", sram_bytes=16)
    with pytest.raises(UnsupportedError, match="sram_bytes = 16"):
        small.cost(g(16, 64, 64, "int2"))
    with pytest.raises(ConfigError, match="tile_k"):
        hwsim.load_arch("lut-tc", tile_k=0)
