import pytest

import hwsim
from hwsim import ops
from hwsim.errors import UnsupportedError
from hwsim.families import Accelerator, pick_compute_path


@pytest.fixture(scope="module")
def h100():
    return hwsim.load_arch("h100-sxm", model="roofline")


def test_is_an_accelerator(h100):
    assert isinstance(h100, Accelerator) and h100.family == "gpu"


def test_compute_bound_gemm_runs_at_datasheet_peak(h100):
    c = h100.cost(ops.Gemm(M=8192, N=8192, K=8192, weights="bf16", activations="bf16"))
    assert c.bound == "compute" and c.compute_path == "bf16"
    assert c.latency_s == pytest.approx(2 * 8192 ** 3 / 989.4e12, rel=1e-3)
    assert c.utilization == pytest.approx(1.0)


def test_decode_gemm_is_memory_bound_and_reads_packed_weights(h100):
    fp16 = h100.cost(ops.Gemm(M=1, N=4096, K=4096, weights="fp16", activations="fp16"))
    w4 = h100.cost(ops.Gemm(M=1, N=4096, K=4096, weights="int4_g128", activations="fp16"))
    assert fp16.bound == w4.bound == "memory"
    assert w4.compute_path == "fp16"  # weight-only quantization: dequantize to the fp16 path
    assert fp16.latency_s / w4.latency_s == pytest.approx(16 / (4 + 16 / 128), rel=0.01)


def test_fp8_is_twice_bf16_when_compute_bound(h100):
    a = h100.cost(ops.Gemm(M=8192, N=8192, K=8192, weights="fp8", activations="fp8"))
    b = h100.cost(ops.Gemm(M=8192, N=8192, K=8192, weights="bf16", activations="bf16"))
    assert b.latency_s / a.latency_s == pytest.approx(2.0, rel=0.01)


def test_unsupported_formats_raise_with_supported_list(h100):
    with pytest.raises(UnsupportedError, match="supports bf16, fp16"):
        h100.cost(ops.Gemm(M=64, N=64, K=64, weights="int4", activations="int4"))
    with pytest.raises(UnsupportedError, match="fp4"):
        h100.cost(ops.Gemm(M=64, N=64, K=64, weights="nvfp4", activations="nvfp4"))
    # A100 has an INT4 tensor path, B200 an FP4 one
    assert hwsim.load_arch("a100-sxm", model="roofline").cost(
        ops.Gemm(M=64, N=64, K=64, weights="int4", activations="int4")).compute_path == "int4"
    assert hwsim.load_arch("b200", model="roofline").cost(
        ops.Gemm(M=64, N=64, K=64, weights="nvfp4", activations="nvfp4")).compute_path == "fp4"


def test_pick_compute_path_rules():
    sup = {"fp16", "bf16", "int8", "fp8", "fp32"}
    assert pick_compute_path("t", "fp16", "int4_g128", sup) == "fp16"
    assert pick_compute_path("t", "int8", "ternary", sup) == "int8"
    assert pick_compute_path("t", "fp8_e5m2", "fp8_e4m3", sup) == "fp8"
    assert pick_compute_path("t", "fp8", "fp16", sup) == "fp16"


def test_elementwise_ops_are_memory_bound(h100):
    c = h100.cost(ops.Elementwise(numel=10 ** 8, inputs=2))
    assert c.bound == "memory" and c.latency_s == pytest.approx(6e8 / 3.35e12)


def test_bigger_bandwidth_is_faster_on_decode():
    wl = hwsim.load_workload("llama-2-7b")
    h100 = hwsim.evaluate(wl, hwsim.load_arch("h100-sxm", model="roofline")).latency_s
    h200 = hwsim.evaluate(wl, hwsim.load_arch("h200-sxm", model="roofline")).latency_s
    assert h100 / h200 == pytest.approx(4.8 / 3.35, rel=0.01)


def test_energy_is_power_times_time_and_positive(h100):
    c = h100.cost(ops.Gemm(M=512, N=512, K=512))
    assert c.energy_j == pytest.approx(700 * c.latency_s) and c.energy_j > 0


def test_no_area_model(h100):
    with pytest.raises(UnsupportedError, match="area"):
        h100.area_mm2
