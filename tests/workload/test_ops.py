import pytest
from hypothesis import given, settings, strategies as st

from hwsim import ops
from hwsim.errors import HwsimError, ShapeError

dim = st.integers(1, 512)


def test_gemm_counts():
    g = ops.Gemm(M=4096, N=4096, K=4096, weights="bf16", activations="bf16")
    assert g.flops == 2 * 4096 ** 3
    assert g.operand_bytes() == {"A": 4096 * 4096 * 2, "B": 4096 * 4096 * 2, "C": 4096 * 4096 * 2}
    assert g.out == "bf16"


def test_gemm_bytes_use_storage_bits_with_scale_overhead():
    g = ops.Gemm(M=1, N=4096, K=4096, weights="int4_g128", activations="fp16")
    assert g.operand_bytes()["B"] == 4096 * 4096 * (4 + 16 / 128) / 8


def test_identical_layers_compare_equal_despite_names():
    a = ops.Gemm(name="layers.0.q", group="attn.qkv", layer=0, M=8, N=16, K=32)
    b = ops.Gemm(name="layers.7.q", group="attn.qkv", layer=7, M=8, N=16, K=32)
    assert a == b and hash(a) == hash(b)
    assert a != ops.Gemm(M=8, N=16, K=32, weights="int8")


def test_conv_output_shape_and_macs():
    c = ops.Conv2d(in_channels=3, out_channels=64, in_h=224, in_w=224, kernel_h=7, kernel_w=7,
                   stride=2, padding=3)
    assert (c.out_h, c.out_w) == (112, 112)
    assert c.macs == 64 * 112 * 112 * 3 * 49
    gm = c.as_gemm()
    assert gm.macs == c.macs


def test_depthwise_conv():
    c = ops.Conv2d(in_channels=32, out_channels=32, groups=32, in_h=56, in_w=56, kernel_h=3,
                   kernel_w=3, padding=1)
    assert c.depthwise and c.macs == 32 * 56 * 56 * 9 and c.param_elems == 32 * 9


def test_attention_causal_pairs_and_gqa_bytes():
    full = ops.Attention(heads=32, kv_heads=8, q_len=128, kv_len=128, head_dim=128, causal=False)
    causal = ops.Attention(heads=32, kv_heads=8, q_len=128, kv_len=128, head_dim=128)
    assert causal.score_pairs == 128 * 129 // 2 and full.score_pairs == 128 * 128
    dec = ops.Attention(heads=32, kv_heads=8, q_len=1, kv_len=4096, head_dim=128)
    assert dec.score_pairs == 4096
    assert dec.operand_bytes()["K"] == 8 * 4096 * 128 * 2  # GQA: only kv_heads are read
    assert ops.Attention(heads=32, kv_heads=8, q_len=1, kv_len=4096, head_dim=128, kv="fp8") \
        .operand_bytes()["K"] == 8 * 4096 * 128


@pytest.mark.parametrize("make,match", [
    (lambda: ops.Gemm(M=0, N=1, K=1), "Gemm.M = 0"),
    (lambda: ops.Gemm(M=-3, N=1, K=1), "M = -3"),
    (lambda: ops.Gemm(M=1.5, N=1, K=1), "M = 1.5"),
    (lambda: ops.Conv2d(in_channels=3, out_channels=8, groups=2), "groups=2"),
    (lambda: ops.Conv2d(in_h=2, in_w=2, kernel_h=5, kernel_w=5), "does not fit"),
    (lambda: ops.Attention(heads=32, kv_heads=5), "kv_heads=5"),
    (lambda: ops.Attention(q_len=10, kv_len=5), "q_len=10"),
    (lambda: ops.Gemm(name="x", weights="int99"), "x.weights"),
    (lambda: ops.Norm(kind="group"), "Norm.kind"),
])
def test_bad_dimensions_raise_typed_errors(make, match):
    with pytest.raises(HwsimError, match=match):
        make()


def test_shape_error_is_a_hwsim_error():
    assert issubclass(ShapeError, HwsimError)


@settings(max_examples=50, deadline=None)
@given(M=dim, N=dim, K=dim, k=st.integers(2, 5), which=st.sampled_from("MNK"),
       w=st.sampled_from(["fp16", "int4_g128", "int8", "nvfp4"]))
def test_gemm_flops_and_bytes_scale_linearly(M, N, K, k, which, w):
    base = ops.Gemm(M=M, N=N, K=K, weights=w, activations="fp16")
    big = ops.Gemm(**{**dict(M=M, N=N, K=K), which: k * dict(M=M, N=N, K=K)[which]},
                   weights=w, activations="fp16")
    assert big.flops == k * base.flops
    # each operand that contains the scaled dimension grows k-fold, the others stay
    for name, dims in {"A": "MK", "B": "KN", "C": "MN"}.items():
        ratio = k if which in dims else 1
        assert big.operand_bytes()[name] == pytest.approx(ratio * base.operand_bytes()[name])


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 8), h=st.sampled_from([8, 16, 32]), q=st.integers(1, 64),
       extra=st.integers(0, 256), k=st.integers(2, 4), which=st.sampled_from(["batch", "head_dim"]))
def test_attention_flops_scale_linearly_in_batch_and_head_dim(b, h, q, extra, k, which):
    kw = dict(batch=b, heads=h, kv_heads=h // 2, q_len=q, kv_len=q + extra, head_dim=64)
    base = ops.Attention(**kw)
    big = ops.Attention(**{**kw, which: k * kw[which]})
    assert big.flops == k * base.flops and big.bytes == pytest.approx(k * base.bytes)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 10 ** 6), k=st.integers(2, 5))
def test_elementwise_scales_linearly(n, k):
    a, b = ops.Elementwise(numel=n, inputs=2), ops.Elementwise(numel=k * n, inputs=2)
    assert b.flops == k * a.flops and b.bytes == k * a.bytes
