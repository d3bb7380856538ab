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
    peak = lambda w: lut.peak_ops_per_s("int8", w)  # noqa: E731
    assert peak("binary") == pytest.approx(2 * peak("int2"))
    assert peak("int4") == pytest.approx(peak("int2") / 2)
    assert peak("ternary") == peak("int2") == lut._peak_ops_per_s(2)
    # attention and activation x activation GEMMs: the host datapath
    assert lut.peak_ops_per_s("fp16", "fp16") == lut.params.host_ops_per_s
    with pytest.raises(UnsupportedError, match="8-bit weights exceed"):
        lut.peak_ops_per_s("int8", "int8")
    with pytest.raises(UnsupportedError, match="activations tf32 not supported"):
        lut.peak_ops_per_s("tf32", "int2")


def test_summary(lut):
    s = lut.summary()
    assert (s.name, s.family, s.clock_hz) == ("lut-tc", "lut", 1e9)
    assert s.mem_bandwidth_Bps == lut.params.mem_bandwidth_Bps and s.mem_capacity_bytes is None
    assert s.idle_power_w == 0.0


def test_old_clock_name_loads_with_a_warning_and_same_cost(lut, tmp_path):
    from hwsim._paths import resolve_preset
    _, src = resolve_preset("arch", "lut-tc", "arch")
    text = src.read_text()
    assert "\n  clock_hz:" in text
    old_yaml = tmp_path / "lut-old.yaml"
    old_yaml.write_text(text.replace("\n  clock_hz:", "\n  frequency_hz:"))
    with pytest.warns(DeprecationWarning, match="'frequency_hz' is now 'clock_hz'"):
        old = hwsim.load_arch(old_yaml)
    assert old.params == lut.params
    op = g(512, 4096, 4096, "int2", "int8")
    assert old.cost(op) == lut.cost(op)


@pytest.mark.parametrize("op", [g(512, 4096, 4096, "int2", "int8"), g(1, 4096, 4096, "int4", "int8"),
                                ops.Gemm(M=64, N=64, K=128, weights="fp16", activations="fp16",
                                         b_is_weight=False),
                                ops.Attention(batch=1, heads=8, q_len=128, kv_len=128, head_dim=64),
                                ops.Norm(rows=128, cols=4096)])
def test_typed_cost_parts_add_up(lut, op):
    c = lut.cost(op)
    t = c.time
    assert c.latency_s > 0 and c.energy_j > 0 and 0 <= c.utilization <= 1.0001
    assert max(t.compute_s, t.memory_s) + t.overhead_s <= c.latency_s * (1 + 1e-6)
    assert c.latency_s <= (t.compute_s + t.memory_s + t.overhead_s) * (1 + 1e-6)
    assert c.energy.total_j == c.energy_j  # bit-for-bit: the parts are the model's own sums
    assert min(c.energy.compute_j, c.energy.onchip_j, c.energy.offchip_j, c.energy.static_j) >= 0
    if c.compute_path.startswith("lut-"):
        d = c.detail
        assert d.tiles_j + d.precompute_j == c.energy.compute_j
        assert d.cycles / lut.params.clock_hz == t.compute_s


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


def test_model_module_imports_no_upper_layer():
    import ast
    import inspect
    from hwsim.families.lut import model
    mods = set()
    for node in ast.walk(ast.parse(inspect.getsource(model))):
        if isinstance(node, ast.ImportFrom):
            mods.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    allowed = {"...errors", "...tech", "...workload.ops", "...contract", "..tile", ".sim",
               "__future__", "math", "dataclasses", "functools", "typing", "pydantic"}
    assert mods <= allowed, mods - allowed
