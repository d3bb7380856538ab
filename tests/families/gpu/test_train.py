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
