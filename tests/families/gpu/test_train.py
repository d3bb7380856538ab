"""Training steps on the GPU model (backward="implicit") and the gpu-train data."""

import pytest

import hwsim
from hwsim.families.gpu.fit_train import FIT_MODELS, load_rows, train_workload
from hwsim.workload.training import to_training


def test_rows_split_disjoint_by_model():
    rows = load_rows("h100")
    fit = {r.model for r in rows if r.fit}
    held = {r.model for r in rows if not r.fit}
    assert fit == FIT_MODELS and not fit & held and len(held) >= 5


def test_depthwise_gradients_are_streaming_convs_not_gemms():
    fwd = hwsim.load_workload("mobilenetv2", phase="prefill", batch=32, weights="bf16",
                              activations="bf16")
    hw = hwsim.load_arch("h100-sxm")
    exp = hwsim.evaluate(to_training(fwd, "sgd"), hw).latency_s
    imp = hwsim.evaluate(to_training(fwd, "sgd", backward="implicit"), hw).latency_s
    t_fwd = hwsim.evaluate(fwd, hw).latency_s
    assert imp / t_fwd < 5 < exp / t_fwd      # explicit (PULP-style GEMMs) prices it ~15x


@pytest.mark.slow
def test_resnet50_step_within_10pct_of_measured():
    row = next(r for r in load_rows("h100") if r.label == "resnet50.b64.bf16")
    t = hwsim.evaluate(train_workload(row), hwsim.load_arch("h100-sxm")).latency_s
    assert abs(t / row.step_s - 1) < 0.10


def test_h200_rows_same_configs_as_h100():
    assert [r.label for r in load_rows("h200")] == [r.label for r in load_rows("h100")]


def _bn_stats_op(rows: int):
    from hwsim.workload.ops import Elementwise
    return Elementwise(name="bn.stats", numel=64, inputs=rows, fn="batchnorm_stats",
                       flops_per_elem=2, activations="bf16", out="bf16")


def test_sm_bound_training_kernel_does_not_scale_with_hbm_bandwidth():
    """A batch-norm statistics pass is SM-side bound (fitted rate): the H200's 1.43x HBM does not
    speed it up; a plain elementwise kernel of the same bytes does scale."""
    from hwsim.workload.ops import Elementwise
    h100, h200 = hwsim.load_arch("h100-sxm"), hwsim.load_arch("h200-sxm")
    bn = _bn_stats_op(1 << 20)
    assert h200.cost(bn).latency_s / h100.cost(bn).latency_s > 0.97
    add = Elementwise(name="x", numel=64 << 20, inputs=2, fn="add", activations="bf16")
    assert h200.cost(add).latency_s / h100.cost(add).latency_s < 0.75


def test_training_kernel_rate_bounds_time_from_below():
    hw = hwsim.load_arch("h100-sxm")
    p = hw.params
    op = _bn_stats_op(1 << 20)
    bpc = p.train_kernel_bytes_per_clk_per_sm["batchnorm_stats"]
    assert hw.cost(op).latency_s >= op.bytes / (p.sms * p.max_clock_hz * bpc)
    fast = type(hw)(hw.name, p.model_copy(update={"train_kernel_bytes_per_clk_per_sm": {}}))
    assert fast.cost(op).latency_s < hw.cost(op).latency_s


@pytest.mark.slow
def test_kernel_rates_refit_equal_committed_and_transfer():
    """The committed rates are the joint fit; H100-only and H200-only fits agree within 20% (the
    SM side is the same die), which is what lets the rates transfer between the GPUs."""
    from hwsim.families.gpu.fit_train import fit_kernel_rates
    from hwsim.families.gpu.model import TRAIN_KERNEL_BYTES_PER_CLK_PER_SM as committed
    assert fit_kernel_rates() == committed
    a, b = fit_kernel_rates(("h100",)), fit_kernel_rates(("h200",))
    for fn in committed:
        assert abs(a[fn] / b[fn] - 1) < 0.2, fn


@pytest.mark.slow
def test_h200_heldout_mape_within_issue_target():
    from hwsim.families.gpu.checks_train import _mape
    assert _mape(False, "h200") <= 0.15
