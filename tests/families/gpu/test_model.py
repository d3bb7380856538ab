"""The calibrated GPU model (hwsim/families/gpu/model.py) and its fit (gpu_fit.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

import hwsim
from hwsim import ops
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families import GPU
from hwsim.families.gpu import fit as gpu_fit, report as gpu_report

DATA = Path(__file__).resolve().parents[3] / "hwsim" / "families" / "gpu" / "data"


@pytest.fixture(scope="module")
def h100():
    return hwsim.load_arch("h100-sxm")


def g(M, N, K, fmt="bf16", **kw):
    return ops.Gemm(M=M, N=N, K=K, weights=kw.pop("w", fmt), activations=fmt, **kw)


def test_default_gpu_model_and_roofline_choice(h100):
    assert isinstance(h100, GPU)
    roof = hwsim.load_arch("h100-sxm", model="roofline")
    assert type(roof).__name__ == "RooflineGPU"
    with pytest.raises(ConfigError, match="model = 'magic'"):
        hwsim.load_arch("h100-sxm", model="magic")


def test_slower_than_roofline_everywhere(h100):
    roof = hwsim.load_arch("h100-sxm", model="roofline")
    for shape in [(1, 4096, 4096), (64, 12288, 4096), (4096, 4096, 4096), (8192, 8192, 8192)]:
        assert h100.cost(g(*shape)).latency_s > roof.cost(g(*shape)).latency_s


def test_wave_quantization_steps_in_n(h100):
    # M = K = 4096, N sweep: time is a step function of the tile grid, not linear in N
    t = [h100.gemm_time(4096, n, 4096, "bf16")[0] for n in range(256, 8193, 256)]
    assert all(b >= a for a, b in zip(t, t[1:]))  # never faster with more columns
    # plateaus: several N share a time because they need the same number of waves
    assert len(set(np.round(t, 12))) <= 0.6 * len(t)
    # a linear-in-N model would instead give as many distinct times as points
    assert (np.diff(t) == 0).sum() >= 10


def test_decode_is_memory_bound_and_prefill_compute_or_power_bound(h100):
    assert h100.cost(g(1, 12288, 4096)).bound == "memory"
    assert h100.cost(g(8192, 12288, 4096)).bound in ("compute", "power")


def test_misaligned_shapes_are_slower(h100):
    # measured on H100: bf16 4095^3 runs ~5x slower than 4096^3; int8 with K = 4104 ~2x
    assert h100.cost(g(4095, 4095, 4095)).latency_s > 3 * h100.cost(g(4096, 4096, 4096)).latency_s
    i8 = dict(out="int32")
    assert h100.cost(g(4096, 4096, 4104, "int8", **i8)).latency_s > \
        1.5 * h100.cost(g(4096, 4096, 4096, "int8", **i8)).latency_s
    # fp32 runs on SIMT cores with ordinary loads: no alignment penalty
    assert h100.cost(g(4095, 4095, 4095, "fp32")).latency_s == pytest.approx(
        h100.cost(g(4096, 4096, 4096, "fp32")).latency_s, rel=0.02)


def test_power_roof_binds_large_gemms(h100):
    c = h100.cost(g(16384, 16384, 16384))
    assert c.bound == "power" and c.breakdown["power_s"] > c.breakdown["tiles_s"]


def test_energy_is_idle_plus_dynamic(h100):
    c = h100.cost(g(8192, 8192, 8192))
    p = h100.params
    dyn = p.energy_pj_per_op["bf16"] * 1e-12 * 2 * 8192 ** 3 + \
        p.hbm_energy_pj_per_byte * 1e-12 * g(8192, 8192, 8192).bytes
    assert c.energy_j == pytest.approx(p.idle_power_w * c.latency_s + dyn)
    fp8 = h100.cost(g(8192, 8192, 8192, "fp8_e4m3", out="bf16"))
    assert fp8.energy_j < c.energy_j  # narrower format, less energy per op


def test_w4a16_decode_faster_than_fp16_then_compute_limited(h100):
    w4 = lambda m: h100.cost(ops.Gemm(M=m, N=12288, K=4096, weights="uint4_g128",  # noqa: E731
                                      activations="bf16")).latency_s
    assert w4(1) < h100.cost(g(1, 12288, 4096)).latency_s
    assert w4(64) > 4 * w4(1)  # tinygemm's dequantize+MMA rate limits it past a few rows


def test_attention_decode_gqa_reads_fewer_bytes(h100):
    mha = ops.Attention(batch=8, heads=32, kv_heads=32, q_len=1, kv_len=8192, head_dim=128)
    gqa = ops.Attention(batch=8, heads=32, kv_heads=8, q_len=1, kv_len=8192, head_dim=128)
    assert h100.cost(gqa).latency_s < h100.cost(mha).latency_s / 2


def test_causal_prefill_is_cheaper_than_full(h100):
    kw = dict(batch=1, heads=32, q_len=8192, kv_len=8192, head_dim=128)
    assert h100.cost(ops.Attention(causal=True, **kw)).latency_s < \
        0.7 * h100.cost(ops.Attention(causal=False, **kw)).latency_s


def test_bitlevel_gemm_on_binary_tensor_cores():
    a100 = hwsim.load_arch("a100-sxm")
    w1a2 = a100.bitlevel_gemm(4096, 4096, 4096, w_bits=1, a_bits=2)
    w2a2 = a100.bitlevel_gemm(4096, 4096, 4096, w_bits=2, a_bits=2)
    assert w2a2.latency_s > 1.5 * w1a2.latency_s  # cost grows with the number of bit planes
    with pytest.raises(UnsupportedError, match="binary tensor-core"):
        hwsim.load_arch("h100-sxm").bitlevel_gemm(64, 64, 64, 1, 1)


def test_unmeasured_datapaths_are_refused_not_invented():
    b200 = hwsim.load_arch("b200", path_fallback={})  # the preset's stated fp4 -> fp8 assumption off
    with pytest.raises(UnsupportedError, match="no fitted efficiency for the fp4"):
        b200.cost(g(1024, 1024, 1024, "nvfp4"))
    assert hwsim.load_arch("b200", model="roofline").cost(g(1024, 1024, 1024, "nvfp4")).latency_s > 0


def test_llama_decode_between_measured_kernels_and_roofline(h100):
    """The measured comparison (tokens/s, per-kernel GEMM and attention time, two-sided, within
    the registry's tolerances) is the `gpu-decode` family of the validation registry. Here: the
    calibrated model is slower than the datasheet roofline, which is an upper bound by
    construction, and its GEMM time is what dominates a batch-1 decode step."""
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
                             weights="fp16", activations="fp16")
    r = hwsim.evaluate(wl, h100)
    roof = hwsim.evaluate(wl, hwsim.load_arch("h100-sxm", model="roofline"))
    assert r.tokens_per_s < roof.tokens_per_s
    gemm_s = sum(x.cost.latency_s for x in r.rows if isinstance(x.op, ops.Gemm))
    assert gemm_s > 0.6 * r.latency_s


@pytest.mark.skipif(not (DATA / "h100").is_dir(), reason="measurement data not in this checkout")
def test_refit_reproduces_the_preset():
    """Fitting the committed H100 data again gives the preset's values (no hand edits)."""
    hw = hwsim.load_arch("h100-sxm")
    f = gpu_fit.fit(hw, gpu_fit.load_measurements(DATA / "h100"))
    p = hw.params
    for k, v in f["tc_efficiency"].items():
        assert p.tc_efficiency[k] == pytest.approx(v, rel=0.02), k
    for k in ("kernel_overhead_s", "power_budget_ratio", "mem_efficiency", "idle_power_w",
              "attn_efficiency", "w4a16_bw_efficiency", "hbm_energy_pj_per_byte",
              "int8_skinny_bw_efficiency"):
        assert getattr(p, k) == pytest.approx(f[k], rel=0.02), k


@pytest.mark.skipif(not (DATA / "h100").is_dir(), reason="measurement data not in this checkout")
def test_report_and_calibrate_cli(capsys):
    from hwsim.cli import main
    assert main(["validate", "gpu", "--arch", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "held-out summary" in out and "held MAPE" in out and "roofline" in out
    assert main(["calibrate", "gpu", "--data", str(DATA / "h100")]) == 0
    assert "tc_efficiency:" in capsys.readouterr().out


def test_missing_measurements_error(tmp_path):
    with pytest.raises(ConfigError, match="no such measurement folder"):
        gpu_fit.load_measurements(tmp_path / "nope")
    with pytest.raises(ConfigError, match="pass --data"):
        gpu_report.default_data("l40s")


def test_depthwise_conv_is_a_streaming_kernel_not_a_tensor_core_gemm():
    """MobileNetV2's depthwise 3x3 at batch 256: measured 137 us on an H200 (conv.csv); as an
    implicit GEMM with K = 9 on tensor cores the old model said ~9 ms."""
    from hwsim.workload.ops import Conv2d
    hw = hwsim.load_arch("h200-sxm")
    dw = Conv2d(batch=256, in_channels=32, out_channels=32, in_h=112, in_w=112, kernel_h=3,
                kernel_w=3, padding=1, groups=32)
    c = hw.cost(dw)
    assert c.compute_path == "fp32" and c.bound == "memory"
    assert 50e-6 < c.latency_s < 400e-6


def test_strided_1x1_conv_reads_only_the_sampled_pixels():
    from hwsim.workload.ops import Conv2d
    from hwsim.families.gpu.model import _conv_bytes
    full = Conv2d(batch=8, in_channels=256, out_channels=512, in_h=56, in_w=56)
    strided = Conv2d(batch=8, in_channels=256, out_channels=512, in_h=56, in_w=56, stride=2)
    b = strided.operand_bytes()
    assert _conv_bytes(strided) == pytest.approx(b["A"] / 4 + b["B"] + b["C"])
    assert _conv_bytes(full) == pytest.approx(sum(full.operand_bytes().values()))


def test_conv_with_three_input_channels_pays_for_padding_to_a_vector():
    """Stems: channels-last C = 3 is padded to 8 (one 16-byte fp16 vector) and run at the
    fitted small-channel efficiency, so it costs more than 8/3 x fewer MACs suggest."""
    from hwsim.workload.ops import Conv2d
    hw = hwsim.load_arch("h100-sxm")
    stem = Conv2d(batch=64, in_channels=3, out_channels=64, in_h=224, in_w=224, kernel_h=7,
                  kernel_w=7, stride=2, padding=3)
    wide = Conv2d(batch=64, in_channels=8, out_channels=64, in_h=224, in_w=224, kernel_h=7,
                  kernel_w=7, stride=2, padding=3)
    assert hw.cost(stem).breakdown["tiles_s"] > hw.cost(wide).breakdown["tiles_s"]


def test_missing_conv_efficiency_class_is_named():
    from hwsim.workload.ops import Conv2d
    hw = hwsim.load_arch("h100-sxm", conv_efficiency={"1x1": 1.0})
    with pytest.raises(hwsim.UnsupportedError, match="conv_efficiency has no 'kxk'"):
        hw.cost(Conv2d(batch=1, in_channels=64, out_channels=64, in_h=56, in_w=56, kernel_h=3,
                       kernel_w=3, padding=1))


def test_b200_runs_fp4_and_fp6_on_their_own_tensor_paths():
    """Unvalidated (datasheet rates, fp8's fitted efficiency): NVFP4/MXFP4 at twice the fp8 rate,
    MXFP6 at the fp8 rate; Hopper has no FP4 path and says so."""
    from hwsim.workload.ops import Gemm
    hw = hwsim.load_arch("b200")
    t = {f: hw.cost(Gemm(M=8192, N=8192, K=8192, weights=f, activations=f))
         for f in ("nvfp4", "mxfp4", "mxfp6_e3m2", "fp8_e4m3")}
    assert t["nvfp4"].compute_path == t["mxfp4"].compute_path == "fp4"
    assert t["mxfp6_e3m2"].compute_path == "fp6"
    assert t["nvfp4"].latency_s < 0.6 * t["fp8_e4m3"].latency_s
    assert t["mxfp6_e3m2"].latency_s == pytest.approx(t["fp8_e4m3"].latency_s, rel=0.05)
    with pytest.raises(UnsupportedError):
        hwsim.load_arch("h100-sxm").cost(Gemm(M=64, N=64, K=64, weights="nvfp4",
                                              activations="nvfp4"))


def test_stream_launch_queues_kernels_behind_the_host():
    """launch='stream': a kernel starts at the later of the previous one's end and its own
    launch; the GPU's wait is attributed to the op that waits and the step never gets faster."""
    wl = hwsim.load_workload("llama-2-7b", phase="decode", fusion="eager")
    graph = hwsim.evaluate(wl, hwsim.load_arch("h200-sxm"))
    slow = hwsim.evaluate(wl, hwsim.load_arch("h200-sxm", launch="stream", host_launch_s=1e-3))
    assert slow.latency_s == pytest.approx(len(wl.ops) * 1e-3, rel=0.01)  # host-bound
    fast = hwsim.evaluate(wl, hwsim.load_arch("h200-sxm", launch="stream", host_launch_s=1e-9))
    assert fast.latency_s == pytest.approx(graph.latency_s, rel=1e-6)
    mid = hwsim.evaluate(wl, hwsim.load_arch("h200-sxm", launch="stream", host_launch_s=5e-6))
    waits = sum(r.cost.breakdown.get("host_wait_s", 0.0) for r in mid.rows)
    assert mid.latency_s == pytest.approx(graph.latency_s + waits, rel=1e-9)
    assert graph.latency_s < mid.latency_s < slow.latency_s
    assert any(r.cost.bound == "host" for r in mid.rows)
    with pytest.raises(ConfigError):
        hwsim.load_arch("h200-sxm", launch="async")


@pytest.mark.skipif(not (DATA / "h200" / "conv.csv").exists(), reason="no conv data")
def test_conv_refit_reproduces_the_preset_and_holds_out_other_networks():
    hw = hwsim.load_arch("h200-sxm")
    data = gpu_fit.load_measurements(DATA / "h200")
    conv = [s for s in data["samples"] if s.kind == "conv"]
    fit_shapes = {gpu_fit._shape_key(s) for s in conv if s.fit}
    assert fit_shapes and all(s.dtype == "fp16" for s in conv if s.fit)
    # the ViT patch embedding and ResNet-50's wider layers are never fitted
    assert not any(s.fit for s in conv if s.op.kernel_h == 16)
    f = gpu_fit.fit_conv(hw, data)
    for k, v in f["conv_efficiency"].items():
        assert hw.params.conv_efficiency[k] == pytest.approx(v, rel=0.02), k
    for k in ("conv_overhead_s", "conv_bw_efficiency", "dwconv_bw_efficiency",
              "dwconv_overhead_s"):
        assert getattr(hw.params, k) == pytest.approx(f[k], rel=0.02), k


@pytest.mark.skipif(not (DATA / "h100" / "power.csv").exists(), reason="no power data")
def test_sm_power_refit_reproduces_the_preset_and_spares_copies():
    """memkernel_sm_power_w comes from power.csv alone; copies take none (the per-byte energy is
    fitted on one), a LayerNorm more power than an add of the same bytes and time."""
    from hwsim.families.gpu import model as gpu_model
    hw = hwsim.load_arch("h100-sxm")
    f = gpu_fit.fit(hw, gpu_fit.load_measurements(DATA / "h100"))
    assert f["memkernel_sm_power_w"] == hw.params.memkernel_sm_power_w
    assert f["memkernel_sm_power_w"]["reduction"] > f["memkernel_sm_power_w"]["elementwise"] > 0
    assert gpu_model.sm_power_class("strided_copy", False) is None
    assert gpu_model.sm_power_class("column_sum", False) == "reduction"
    assert gpu_model.sm_power_class("add", False) == "elementwise"
    add = ops.Elementwise(name="a", numel=1 << 24, inputs=2, activations="bf16")
    norm = ops.Norm(name="n", rows=1 << 12, cols=1 << 12, activations="bf16")
    c_add, c_norm = hw.cost(add), hw.cost(norm)
    assert c_add.energy.onchip_j == pytest.approx(115.7 * c_add.latency_s, rel=1e-3)
    assert c_norm.energy.onchip_j == pytest.approx(308.3 * c_norm.latency_s, rel=1e-3)
