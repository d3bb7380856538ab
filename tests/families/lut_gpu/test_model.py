import pytest

import hwsim
from hwsim import ops
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families import LUTGPU

PRESETS = ("a100-tc", "h100-tc", "a100-lut-4x", "a100-lut-8x", "h100-lut-4x", "h100-lut-8x")


@pytest.fixture(scope="module")
def hw():
    return {n: hwsim.load_arch(n) for n in PRESETS}


def g(M, N, K, w="int2", a="int8"):
    return ops.Gemm(M=M, N=N, K=K, weights=w, activations=a)


def test_presets_are_normalized_lut_gpus(hw):
    for name, m in hw.items():
        assert isinstance(m, LUTGPU) and m.family == "lut_gpu"
        assert m.host.params.clock_hz == m.host.params.max_clock_hz == 1.41e9
        assert m.sms == (108 if name.startswith("a100") else 132)


def test_lut_peak_follows_arrays_and_bit_planes(hw):
    a4, a8, h4 = hw["a100-lut-4x"], hw["a100-lut-8x"], hw["h100-lut-4x"]
    peak = lambda m, w: m.peak_ops_per_s("int8", w)  # noqa: E731
    assert peak(a8, "int2") == pytest.approx(2 * peak(a4, "int2"))
    assert peak(a4, "binary") == pytest.approx(2 * peak(a4, "int2"))
    assert peak(a4, "int3") == pytest.approx(peak(a4, "int2") * 2 / 3)
    assert peak(a4, "ternary") == peak(a4, "int2") == a4._lut_peak_ops_per_s(2)
    # "4X": four times A100's FP16 tensor-core rate per SM at W_INT2, the same arrays on H100
    # (Table 1: H100-LUT-4X peak 1525 TOPs = the H100 FP8 tensor cores at 1.41 GHz; 8X twice it)
    assert peak(a4, "int2") == pytest.approx(4 * hw["a100-tc"].peak_ops_per_s("fp16", "fp16"))
    assert peak(h4, "int2") / h4.sms == pytest.approx(peak(a4, "int2") / a4.sms)
    assert h4.peak_ops_per_s("fp8_e4m3", "int2") == pytest.approx(
        hw["h100-tc"].peak_ops_per_s("fp8_e4m3", "fp8_e4m3"))
    # formats the arrays do not take: the host datapath cost() runs them on
    assert a4.peak_ops_per_s("fp16", "fp16") == hw["a100-tc"].peak_ops_per_s("fp16", "fp16")
    assert a4.peak_ops_per_s("int8", "int8") == hw["a100-tc"].peak_ops_per_s("int8", "int8")
    tc = hw["a100-tc"]
    assert tc.peak_ops_per_s("int8", "int2") == tc._path_peak_ops_per_s("int8")  # dequantized
    assert tc.peak_ops_per_s("fp16", "fp16") * 2 == tc.peak_ops_per_s("int8", "int8")
    with pytest.raises(UnsupportedError, match="no LUT arrays"):
        tc._lut_peak_ops_per_s(2)
    with pytest.raises(UnsupportedError, match="no datapath"):
        tc.peak_ops_per_s("fp8_e4m3", "fp8_e4m3")  # A100 has no fp8 tensor cores


def test_weight_gemms_run_on_the_lut_arrays_and_attention_on_the_host(hw):
    lut, tc = hw["a100-lut-8x"], hw["a100-tc"]
    big = g(2048, 8640, 3200)
    c_lut, c_tc = lut.cost(big), tc.cost(big)
    assert c_lut.compute_path == "lut-w2-int8" and c_tc.compute_path == "int8-dequant-w2"
    # compute-bound: 4x the int8 peak buys at least 3x (wave quantization takes the rest)
    assert c_lut.bound == c_tc.bound == "compute"
    assert 3.0 < c_tc.latency_s / c_lut.latency_s <= 4.0 + 1e-9
    att = ops.Attention(batch=1, heads=32, q_len=2048, kv_len=2048, head_dim=100,
                        activations="int8", kv="fp16")
    assert lut.cost(att).latency_s == pytest.approx(tc.cost(att).latency_s)
    assert lut.cost(att).compute_path == "fp16"


def test_narrow_weights_with_fp8_activations_stay_on_tensor_datapaths(hw):
    """W_INT2 A_FP8 (Table 1's H100 rows): the LUT arrays take it; a MAC GPU dequantizes the
    weights to its FP8 tensor cores instead of falling to a weight-only SIMT-rate kernel."""
    tc, lut = hw["h100-tc"], hw["h100-lut-8x"]
    big = g(1024, 8640, 3200, "int2", "fp8_e4m3")
    c_tc, c_lut = tc.cost(big), lut.cost(big)
    assert c_tc.compute_path == "fp8-dequant-w2" and c_lut.compute_path == "lut-w2-fp8_e4m3"
    # the dequantizing GEMM is no slower than FP8 weights (fewer bytes, the same tensor rate)
    fp8 = tc.cost(g(1024, 8640, 3200, "fp8_e4m3", "fp8_e4m3"))
    assert c_tc.latency_s <= fp8.latency_s * (1 + 1e-9)
    assert c_tc.utilization > 0.5  # at the fp8 tensor rate, not a 28 TFLOP/s weight-only kernel
    # LUT-8X: 2x the FP8 tensor cores' peak, so between 1.5x and 2x faster when compute-bound
    assert c_lut.bound == "compute" and 1.5 < c_tc.latency_s / c_lut.latency_s <= 2 + 1e-9
    # fp16 activations with int4 weights on the MAC GPU: the fp16 tensor path, dequantized
    assert tc.cost(g(1024, 4096, 4096, "int4", "fp16")).compute_path == "fp16-dequant-w4"


def test_decode_gemv_is_memory_bound_and_gains_nothing(hw):
    gemv = g(1, 8640, 3200)
    c_lut, c_tc = hw["a100-lut-8x"].cost(gemv), hw["a100-tc"].cost(gemv)
    assert c_lut.bound in ("memory", "overhead")
    # 4x the int8 peak, but the same 2-bit weight bytes to stream: at most 1.2x faster
    assert c_tc.latency_s / 1.2 <= c_lut.latency_s <= c_tc.latency_s


def test_formats_the_lut_cannot_take_go_to_the_host(hw):
    lut = hw["a100-lut-4x"]
    assert lut.cost(g(512, 4096, 4096, "fp16", "fp16")).compute_path == "fp16"
    assert lut.cost(g(512, 4096, 4096, "int8", "int8")).compute_path == "int8"  # 8-bit > max 4
    assert lut.cost(g(512, 4096, 4096, "int4", "int8")).compute_path == "lut-w4-int8"
    with pytest.raises(UnsupportedError):
        lut.cost(g(16, 64, 64, "fp8_e4m3", "fp8_e4m3"))  # A100 has no fp8 datapath


def test_more_weight_bits_never_faster(hw):
    lut = hw["h100-lut-8x"]
    t = [lut.cost(g(4096, 8192, 8192, w)).latency_s for w in ("binary", "int2", "int3", "int4")]
    assert t == sorted(t) and t[-1] > 3 * t[0]


def test_unfused_attention_costs_more_only_with_long_queries():
    flash = hwsim.load_arch("a100-tc")
    eager = hwsim.load_arch("a100-tc", attention_kernel="unfused")
    long = ops.Attention(batch=1, heads=32, q_len=2048, kv_len=2048, head_dim=100)
    one = ops.Attention(batch=64, heads=32, q_len=1, kv_len=2048, head_dim=100)
    assert eager.cost(long).latency_s > 3 * flash.cost(long).latency_s
    assert eager.cost(one).latency_s == flash.cost(one).latency_s
    kinds = [type(o).__name__ for o in eager.attention_ops(long)]
    assert kinds == ["Gemm", "Softmax", "Gemm"]


def test_area_and_density(hw):
    a4, a8, tc = hw["a100-lut-4x"], hw["a100-lut-8x"], hw["a100-tc"]
    assert a8.tc_area_per_sm_mm2() == pytest.approx(2 * a4.tc_area_per_sm_mm2())
    assert tc.tc_area_per_sm_mm2("int8") < tc.tc_area_per_sm_mm2("fp16")
    # LUT arrays have the highest density, INT8 MACs next, FP16 MACs last
    assert (a4.compute_density_tops_per_mm2(weight_bits=2) > tc.compute_density_tops_per_mm2("int8")
            > tc.compute_density_tops_per_mm2("fp16"))
    # fp16 activation tables cost more area than int8 ones
    assert a4.tc_area_per_sm_mm2("fp16") > 2 * a4.tc_area_per_sm_mm2("int8")
    with pytest.raises(UnsupportedError, match="no MAC tile shape for the tf32"):
        tc.tc_area_per_sm_mm2("tf32")


def test_lut_energy_per_op_below_the_int8_macs(hw):
    lut = hw["a100-lut-4x"]
    assert 0 < lut.lut_energy_pj_per_op("int8", 2) < lut.host._e_op("int8") * 1e12


def test_bad_configurations_are_named(tmp_path):
    with pytest.raises(ConfigError, match="lut_tiles_per_sm = 0"):
        hwsim.load_arch("a100-lut-4x", lut_tiles_per_sm=0)
    with pytest.raises(ConfigError, match="mac_shapes.fp17"):
        hwsim.load_arch("a100-tc", mac_shapes={"fp17": [8, 4, 16]})
    with pytest.raises(ConfigError, match="tensor_efficiency"):
        hwsim.load_arch("a100-tc", tensor_efficiency=1.5)
    with pytest.raises(UnsupportedError, match="expected a GPU"):
        hwsim.load_arch("a100-tc", host="lut-tc").host


def test_table1_forward_passes_order_as_the_paper():
    """BS1024 SEQ1: FP16 TC > INT8 TC > LUT-4X > LUT-8X; the prefill shape of the workload."""
    from hwsim.families.lut_gpu.checks import TABLE1, table1_latency_s
    t = [table1_latency_s(*TABLE1[r][0], 1024, 1) for r in
         ("a100-fp16-tc", "a100-int8-tc", "a100-lut-4x", "a100-lut-8x")]
    assert t == sorted(t, reverse=True)
    wl = hwsim.load_workload("llama-3b", phase="prefill", batch=1, context=2048)
    assert 3.3e9 < wl.num_params < 3.5e9


def test_h100_table1_rows_hold_together():
    """The H100 rows as typed (paper-claims.md §1.1): density = peak / (area x 132 SMs), LUT-4X
    has the FP8 TC's peak, and each speedup check's reference is the ratio of the two latencies."""
    from hwsim.families.lut_gpu.checks import H100_TABLE1, _h100_speedup_checks
    for _, (l2048, l1024, peak, area, dens) in H100_TABLE1.values():
        assert peak / (area * 132) == pytest.approx(dens, rel=0.005)
    assert H100_TABLE1["h100-lut-4x"][1][2] == H100_TABLE1["h100-fp8-tc"][1][2]
    base = H100_TABLE1["h100-fp8-tc"][1]
    refs = {c.id: c.reference for c in _h100_speedup_checks()}
    assert refs["table1.speedup_h100-lut-8x_over_fp8_tc.bs1024_seq1"] == pytest.approx(
        base[1] / H100_TABLE1["h100-lut-8x"][1][1]) == pytest.approx(2.06, abs=0.005)
    assert len(refs) == 4


def test_h100_lut_speedups_over_the_fp8_tensor_cores():
    """More LUT arrays never slower; LUT-4X (the FP8 TC's peak, 4x fewer weight bytes) never
    slower than the FP8 TC; LUT-8X's 2x peak buys more where GEMMs dominate (BS1024)."""
    from hwsim.families.lut_gpu.checks import h100_speedup
    for b, s in ((1, 2048), (1024, 1)):
        s4, s8 = h100_speedup("h100-lut-4x", b, s), h100_speedup("h100-lut-8x", b, s)
        assert 1 - 1e-9 <= s4 < s8 < 2
    assert h100_speedup("h100-lut-8x", 1024, 1) > h100_speedup("h100-lut-8x", 1, 2048) > 1.2


def test_mac_area_of_an_fp8_row_uses_the_fp8_datapath():
    from hwsim.families.lut_gpu.checks import _area, _density
    tc = hwsim.load_arch("h100-tc")
    assert _area("h100-tc", "fp8_e4m3") == pytest.approx(tc.tc_area_per_sm_mm2("fp8"))
    assert _density("h100-tc", "fp8_e4m3") == pytest.approx(
        tc.compute_density_tops_per_mm2("fp8"))


def _params(name):
    from hwsim.arch import resolved_spec
    return resolved_spec(name)[0]["params"]


def test_host_comes_from_refs_not_from_loading_presets(monkeypatch):
    import hwsim.arch
    base = hwsim.load_arch("a100-sxm")
    op = g(2048, 8640, 3200)
    expected = hwsim.load_arch("a100-lut-4x").cost(op)
    with pytest.raises(ConfigError, match="needs the model"):
        LUTGPU.from_spec("x", _params("a100-lut-4x"), "test")
    monkeypatch.setattr(hwsim.arch, "load_arch", lambda *a, **k: pytest.fail("model loaded a preset"))
    m = LUTGPU.from_spec("x", _params("a100-lut-4x"), "test", refs={"host": base})
    assert m.cost(op) == expected and m.host.params.clock_hz == 1.41e9
    # the variant re-rates the tensor datapaths; the preset's own model is left as it was
    assert m.host.params.tc_efficiency["int8"] == 0.7441 != base.params.tc_efficiency["int8"]


def test_summary(hw):
    for name, m in hw.items():
        s = m.summary()
        assert (s.name, s.family, s.clock_hz) == (name, "lut_gpu", 1.41e9)
        hp = m.host.params
        assert s.mem_bandwidth_Bps == hp.mem_bandwidth_Bps
        assert s.mem_capacity_bytes == hp.mem_capacity_bytes and s.idle_power_w == hp.idle_power_w


def _assert_parts(c):
    t = c.time
    assert c.latency_s > 0 and c.energy_j >= 0 and 0 <= c.utilization <= 1.0001
    assert max(t.compute_s, t.memory_s) + t.overhead_s <= c.latency_s * (1 + 1e-6)
    assert c.latency_s <= (t.compute_s + t.memory_s + t.overhead_s) * (1 + 1e-6)
    assert c.energy.total_j == pytest.approx(c.energy_j, rel=1e-9)
    assert min(c.energy.compute_j, c.energy.onchip_j, c.energy.offchip_j, c.energy.static_j) >= 0


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("op", [g(2048, 8640, 3200), g(1, 8640, 3200), g(512, 4096, 4096, "int4"),
                                g(8, 64, 64)])
def test_tensor_gemms_report_typed_parts(hw, name, op):
    c = hw[name].cost(op)
    _assert_parts(c)
    assert c.detail.datapath_peak_ops_per_s == hw[name].peak_ops_per_s(op.activations, op.weights)
    assert c.utilization == pytest.approx(op.flops / c.latency_s / c.detail.datapath_peak_ops_per_s)


def test_unfused_attention_parts_are_its_kernels():
    eager = hwsim.load_arch("a100-lut-8x", attention_kernel="unfused")
    long = ops.Attention(batch=1, heads=32, q_len=2048, kv_len=2048, head_dim=100)
    c = eager.cost(long)
    d = c.detail
    assert d.qk_s + d.softmax_s + d.pv_s == pytest.approx(c.latency_s, rel=1e-12)
    _assert_parts(c)


def test_model_module_imports_no_upper_layer():
    """The model reads its host from refs: no hwsim.arch / evaluate / validate imports."""
    import ast
    import inspect
    from hwsim.families.lut_gpu import model
    mods = set()
    for node in ast.walk(ast.parse(inspect.getsource(model))):
        if isinstance(node, ast.ImportFrom):
            mods.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
    allowed = {"...", "...errors", "...tech", "...workload.ops", "...contract", "..tile",
               "__future__", "math", "dataclasses", "functools", "typing", "pydantic"}
    assert mods <= allowed, mods - allowed


def test_tensor_efficiency_follows_the_h100_fit():
    """The LUT presets' tensor efficiency is documented as the H100 fp16 fit: a refit of the gpu
    family must carry over (arch/a100-tc.yaml, which the other presets inherit)."""
    from hwsim.arch import arch_spec
    spec, _ = arch_spec("a100-tc")
    assert spec["params"]["tensor_efficiency"] == \
        hwsim.load_arch("h100-sxm").params.tc_efficiency["fp16"]
