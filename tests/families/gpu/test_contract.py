"""The GPU models against hwsim.contract: typed parts on every op of every preset, summary(),
the one peak_ops_per_s signature, and the typed host wait of launch='stream'."""

import math
import warnings

import pytest

import hwsim
from hwsim import ops
from hwsim.contract import Bound, CostDetail, EnergyParts, HardwareSummary
from hwsim.errors import UnsupportedError
from hwsim.families.gpu.model import GPUCostDetail

PRESETS = ("a100-sxm", "b200", "h100-sxm", "h200-sxm", "l40s", "rtx4090", "v100s")
# decode, prefill and a CNN: GEMMs (incl. W4A16), attention both ways, memory kernels, convs
WORKLOADS = (dict(name_or_path="llama-2-7b", phase="decode", context=511),
             dict(name_or_path="llama-2-7b", phase="prefill", context=300, weights="int4_g128"),
             dict(name_or_path="mobilenetv2", batch=4))


def _check_parts(c):
    """The conformance invariants of the typed contract (contract.TimeParts, EnergyParts)."""
    assert math.isfinite(c.latency_s) and c.latency_s > 0
    assert math.isfinite(c.energy_j) and c.energy_j >= 0
    assert 0 <= c.utilization <= 1.0001
    assert isinstance(c.bound, Bound) and (c.detail is None or isinstance(c.detail, CostDetail))
    tp = c.time
    assert max(tp.compute_s, tp.memory_s) + tp.overhead_s <= c.latency_s * (1 + 1e-6)
    assert c.latency_s <= (tp.compute_s + tp.memory_s + tp.overhead_s) * (1 + 1e-6)
    e = c.energy
    assert isinstance(e, EnergyParts)
    assert min(e.compute_j, e.onchip_j, e.offchip_j, e.static_j) >= 0
    assert e.total_j == pytest.approx(c.energy_j, rel=1e-9)


@pytest.mark.parametrize("model", ["default", "roofline"])
@pytest.mark.parametrize("name", PRESETS)
def test_every_op_reports_typed_parts(name, model):
    hw = hwsim.load_arch(name, model=model)
    for kw in WORKLOADS:
        for r in hwsim.evaluate(hwsim.load_workload(**kw), hw).rows:
            _check_parts(r.cost)
            if model == "default":
                d = r.cost.detail
                assert isinstance(d, GPUCostDetail)
                assert r.cost.time.compute_s == max(d.tiles_s, d.power_s)
                assert r.cost.energy.static_j == hw.params.idle_power_w * r.cost.latency_s


def test_bitlevel_gemm_reports_typed_parts():
    _check_parts(hwsim.load_arch("a100-sxm").bitlevel_gemm(1024, 4096, 4096, 2, 4))


def test_power_roof_counts_in_compute_time():
    hw = hwsim.load_arch("h100-sxm")
    c = hw.cost(ops.Gemm(M=8192, N=8192, K=8192, weights="bf16", activations="bf16"))
    assert c.bound is Bound.POWER and c.time.compute_s == c.detail.power_s > c.detail.tiles_s


def test_summary():
    for model, idle in (("default", True), ("roofline", False)):
        hw = hwsim.load_arch("h100-sxm", model=model)
        s = hw.summary()
        assert isinstance(s, HardwareSummary) and s.family == "gpu" and s.name == hw.name
        assert s.clock_hz == hw.params.clock_hz
        assert s.mem_bandwidth_Bps == hw.params.mem_bandwidth_Bps
        assert s.mem_capacity_bytes == hw.params.mem_capacity_bytes
        assert s.idle_power_w == (hw.params.idle_power_w if idle else 0.0)
    # the boost clock the tiles run at is a distinct quantity
    p = hwsim.load_arch("h100-sxm").params
    assert p.max_clock_hz != p.clock_hz


@pytest.mark.parametrize("model", ["default", "roofline"])
def test_peak_ops_per_s_takes_operand_formats(model):
    hw = hwsim.load_arch("h100-sxm", model=model)
    assert hw.peak_ops_per_s("bf16", "bf16") == hw.path_peak_ops_per_s("bf16")
    assert hw.peak_ops_per_s("int8", "int8") == hw.path_peak_ops_per_s("int8")
    assert hw.peak_ops_per_s("fp16", "int4_g128") == hw.path_peak_ops_per_s("fp16")  # W4A16
    assert hw.peak_ops_per_s("fp32", "fp32") == hw.path_peak_ops_per_s("fp32")
    with pytest.raises(UnsupportedError):
        hw.peak_ops_per_s("nvfp4", "nvfp4")  # Hopper has no fp4 datapath
    with pytest.raises(UnsupportedError):
        hw.path_peak_ops_per_s("fp4")


def test_stream_launch_wait_is_typed():
    wl = hwsim.load_workload("llama-2-7b", phase="decode", fusion="eager")
    graph_hw = hwsim.load_arch("h200-sxm")
    assert not graph_hw.order_dependent
    assert not hwsim.load_arch("h200-sxm", launch="stream", host_launch_s=0.0).order_dependent
    hw = hwsim.load_arch("h200-sxm", launch="stream", host_launch_s=5e-6)
    assert hw.order_dependent
    graph = hwsim.evaluate(wl, graph_hw)
    mid = hwsim.evaluate(wl, hw)
    idle = hw.params.idle_power_w
    seen_host = False
    for g, m in zip(graph.rows, mid.rows):
        _check_parts(m.cost)
        wait = m.cost.detail.host_wait_s
        assert m.cost.latency_s == g.cost.latency_s + wait
        assert m.cost.energy_j == g.cost.energy_j + idle * wait
        assert m.cost.time.overhead_s == pytest.approx(g.cost.time.overhead_s + wait, rel=1e-12)
        assert m.cost.energy.static_j == pytest.approx(g.cost.energy.static_j + idle * wait,
                                                       rel=1e-12)
        assert (m.cost.bound is Bound.HOST) == (wait > g.cost.latency_s)
        seen_host |= m.cost.bound is Bound.HOST
    assert seen_host


def test_no_deprecation_warning_for_current_names():
    """The GPU presets already use the shared vocabulary (clock_hz, mem_bandwidth_Bps,
    mem_capacity_bytes): nothing is renamed, so loading warns of nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in PRESETS:
            hwsim.load_arch(name)
