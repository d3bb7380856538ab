"""Training-step workloads: forward + input/weight gradients + optimizer update."""

import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.workload.graph import GraphBuilder, Workload
from hwsim.workload.ops import Attention, Conv2d, Elementwise, Gemm
from hwsim.workload.training import backward_ops, to_training


def _wl(*ops):
    b = GraphBuilder()
    for o in ops:
        b.add(o)
    return Workload("t", b.graph, {})


def test_resnet8_step_macs_by_hand():
    fwd = hwsim.load_workload("resnet8")
    tr = hwsim.load_workload("resnet8", phase="train")
    first = fwd.ops[0]
    assert tr.macs == 3 * fwd.macs - first.macs      # no input gradient for the first conv
    assert tr.num_params == fwd.num_params == 78186
    assert tr.meta["phase"] == "train" and tr.meta["forward_macs"] == fwd.macs


def test_gemm_and_conv_backward_shapes():
    g = Gemm(name="fc", M=3, N=5, K=7)
    dx, dw = [o for o in backward_ops(g, layout_ops=False)]
    assert (dx.M, dx.N, dx.K) == (3, 7, 5) and (dw.M, dw.N, dw.K) == (7, 5, 3)
    assert dx.param_elems == dw.param_elems == 0
    c = Conv2d(name="c", in_channels=8, out_channels=16, in_h=10, in_w=10, kernel_h=3,
               kernel_w=3, stride=2, padding=1, groups=2)
    ops = backward_ops(c)
    gemms = [o for o in ops if isinstance(o, Gemm)]
    assert sum(o.macs for o in gemms) == 2 * c.macs
    im2col = [o for o in ops if getattr(o, "fn", "") == "im2col"]
    assert {o.name for o in im2col} == {"c.dx.im2col", "c.dw.im2col"}
    assert [o for o in backward_ops(c, need_input_grad=False) if o.name.startswith("c.dx")] == []


def test_attention_backward_is_2_5x():
    a = Attention(name="a", batch=2, heads=4, q_len=16, kv_len=16, head_dim=8, causal=False)
    assert sum(o.macs for o in backward_ops(a)) == pytest.approx(2.5 * a.macs)


def test_optimizer_updates():
    fwd = _wl(Gemm(name="fc", M=4, N=8, K=16, bias=True))
    sgd, adam = to_training(fwd, "sgd"), to_training(fwd, "adam")
    up = [o for o in sgd.ops if o.group == "optimizer"]
    assert len(up) == 1 and up[0].numel == 16 * 8 + 8
    assert adam.flops > sgd.flops
    with pytest.raises(ConfigError, match="optimizer"):
        to_training(fwd, "lion")


def test_layout_ops_optional_and_macs_unchanged():
    fwd = hwsim.load_workload("ds-cnn")
    a, b = to_training(fwd), to_training(fwd, layout_ops=False)
    assert a.macs == b.macs and len(a) > len(b)
    assert not any(getattr(o, "fn", "") in ("im2col", "transpose") for o in b.ops)


def test_llm_train_has_logits_for_every_token():
    fwd = hwsim.load_workload("llama-2-7b", phase="prefill", context=16)
    tr = hwsim.load_workload("llama-2-7b", phase="train", context=16)
    head = [o for o in tr.ops if o.name == "lm_head"][0]
    assert head.M == 16
    extra = 15 * head.N * head.K                     # logits of the other 15 positions
    assert tr.macs > 2.9 * (fwd.macs + extra)
    assert tr.num_params == fwd.num_params


def test_vit_and_formats_propagate():
    tr = hwsim.load_workload("vit-b16", phase="train", weights="fp16", activations="fp16")
    assert all(f == "fp16" for o in tr.ops for f in o.formats().values())
    assert tr.macs > 2.9 * hwsim.load_workload("vit-b16").macs


def test_train_evaluates_on_a_gpu():
    rep = hwsim.evaluate(hwsim.load_workload("resnet8", phase="train", batch=8),
                         hwsim.load_arch("h100-sxm"))
    assert rep.latency_s > 0


def test_cli_phase_train(capsys):
    from hwsim.cli import main
    rc = main(["eval", "ds-cnn", "--arch", "gap9", "--phase", "train", "--weights", "fp16",
               "--activations", "fp16"])
    assert rc == 0 and "phase=train" in capsys.readouterr().out


def test_mlperf_tiny_shapes():
    d = hwsim.load_workload("ds-cnn")
    conv1 = d.ops[0]
    assert (conv1.out_h, conv1.out_w) == (25, 5)
    assert d.num_params == 23756
    assert hwsim.load_workload("resnet8").macs == 12501632
    assert isinstance(d.ops[-2], Elementwise)


def test_implicit_backward_keeps_macs_and_fuses_optimizer():
    fwd = hwsim.load_workload("resnet8")
    imp = to_training(fwd, "adam", backward="implicit")
    assert imp.macs == to_training(fwd, "adam").macs     # same products, other kernels
    upd = [o for o in imp.ops if o.group == "optimizer"]
    assert len(upd) == 1 and upd[0].numel == fwd.num_params and upd[0].inputs == 6
    assert not any(getattr(o, "fn", "") in ("im2col", "transpose") for o in imp.ops)


def test_attention_backward_is_one_kernel_of_2_5x():
    a = Attention(name="a", batch=1, heads=4, kv_heads=4, q_len=256, kv_len=256, head_dim=64)
    (bwd,) = [o for o in to_training(_wl(a), backward="implicit").ops if o.name == "a.bwd"]
    assert bwd.flops == pytest.approx(2.5 * a.flops)


def test_master_weights_add_casts_and_fp32_optimizer():
    fwd = hwsim.load_workload("resnet8", weights="bf16", activations="bf16")
    tr = to_training(fwd, "sgd", backward="implicit", master_weights="fp32")
    casts = [o for o in tr.ops if o.name.endswith(("w_cast", "dw_cast"))]
    assert sum(o.numel for o in casts) == 2 * fwd.num_params
    assert [o.activations for o in tr.ops if o.group == "optimizer"] == ["fp32"]
    with pytest.raises(ConfigError, match="master_weights"):
        to_training(fwd, master_weights="fp16", backward="implicit")


def test_llm_implicit_step_has_fp32_cross_entropy():
    fwd = hwsim.load_workload("llama-2-7b", phase="prefill", context=64, weights="bf16",
                              activations="bf16")
    tr = to_training(fwd, "adam", backward="implicit")
    ls = [o for o in tr.ops if o.name == "loss.log_softmax"]
    assert ls and ls[0].numel == 64 * 32000 and ls[0].activations == "fp32"


def test_adam_lowrank_projects_linear_weights():
    g = Gemm(name="fc", M=16, N=4096, K=1024)
    full = to_training(_wl(g), "adam")
    low = to_training(_wl(g), "adam_lowrank", rank=64)
    proj = [o for o in low.ops if o.name in ("fc.proj", "fc.unproj")]
    assert sum(o.macs for o in proj) == 2 * 64 * 1024 * 4096
    state = [o for o in low.ops if o.name == "fc.update"][0]
    assert state.numel == 64 * 4096 < [o for o in full.ops if o.name == "fc.update"][0].numel
    assert low.meta["rank"] == 64
    with pytest.raises(ConfigError, match="rank"):
        to_training(_wl(g), "adam_lowrank", rank=0)
