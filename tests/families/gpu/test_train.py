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


def _vit_step(layers: int = 1):
    from hwsim.workload.cnn import build_vit
    from hwsim.workload.graph import Precision
    return to_training(build_vit(8, layers=layers, precision=Precision("bf16", "bf16")), "sgd",
                       backward="implicit")


def test_vit_step_has_torchvision_mha_copies_and_layernorm_param_grads():
    """Per encoder layer (torchvision nn.MultiheadAttention, train mode, batch_first): forward
    4 strided copies (input transpose, q/k/v split, two LayerNorm inputs), the qkv bias added
    on its own, the MLP residual on the strided path; backward 4 + 1 strided copies, 3 select
    gradients, gamma/beta gradients of every LayerNorm."""
    one, two = _vit_step(1), _vit_step(2)
    per_layer = {fn: sum(o.fn == fn for o in two.ops if hasattr(o, "fn"))
                 - sum(o.fn == fn for o in one.ops if hasattr(o, "fn"))
                 for fn in ("strided_copy", "strided_add", "select_grad", "norm_param_grad")}
    assert per_layer == {"strided_copy": 9, "strided_add": 2, "select_grad": 3,
                         "norm_param_grad": 2}


def test_eager_extras_only_in_implicit_eager_graphs():
    """The explicit (PULP-style) backward and fused LLM graphs get none of the eager kernels."""
    from hwsim.workload.cnn import build_vit
    from hwsim.workload.llm import LLMConfig, build_llm
    from hwsim.workload.graph import Precision
    from hwsim.families.gpu.fit_train import LLM_SHAPES
    explicit = to_training(build_vit(2, layers=1), "sgd")
    assert not any(getattr(o, "fn", "").startswith("strided_") for o in explicit.ops)
    cfg = LLMConfig.from_hf(dict(LLM_SHAPES["tinyllama-1.1b"], model_type="llama",
                                 num_hidden_layers=1, hidden_act="silu"), name="t")
    fused = to_training(build_llm(cfg, "prefill", 1, 256, Precision("bf16", "bf16")), "adam",
                        backward="implicit")
    assert not any(getattr(o, "fn", "").startswith("strided_") or o.name.endswith("grad_other")
                   for o in fused.ops)


def test_llm_eager_step_has_per_input_product_grads_and_no_kv_writes():
    row = next(r for r in load_rows("h200") if r.model == "tinyllama-1.1b")
    ops = train_workload(row).ops
    names = {o.name for o in ops}
    assert not any(getattr(o, "fn", "") == "kv_write" for o in ops)
    assert "layers.0.mlp.act.mul.grad_other" in names          # silu(g) * u: two kernels
    assert "layers.0.attn_norm.mul_weight.dweight" in names     # RMSNorm weight: column sum
    assert "layers.0.attn.sdpa.bwd_dot_do_o" in names           # FA-2 backward preprocessing
    assert not any(n.startswith("layers.0.attn.rope") and n.endswith("grad_other")
                   for n in names)                              # cos / sin need no gradient


def test_strided_kernels_run_at_the_fitted_sm_rate_on_both_gpus():
    """A copy of a transposed view is SM-bound (TensorIterator's non-vectorized path): the same
    time on the H100 and the H200, slower than a contiguous copy of the same bytes; any
    strided_<fn> takes strided_copy's rate."""
    from hwsim.workload.ops import Elementwise
    h100, h200 = hwsim.load_arch("h100-sxm"), hwsim.load_arch("h200-sxm")
    mk = lambda fn: Elementwise(name="x", numel=32 << 20, inputs=1, fn=fn, flops_per_elem=0,
                                activations="bf16")
    s = mk("strided_copy")
    assert h200.cost(s).latency_s / h100.cost(s).latency_s > 0.97
    assert h200.cost(s).latency_s > 1.5 * h200.cost(mk("copy")).latency_s
    assert h200.cost(mk("strided_silu")).latency_s == pytest.approx(h200.cost(s).latency_s)


def test_gpu_train_has_no_known_misses_left():
    from hwsim.families.gpu.checks_train import _MISSES
    assert _MISSES == {}
