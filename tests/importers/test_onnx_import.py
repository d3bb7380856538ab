"""ONNX import: external data never loaded, symbolic dims, quantized graphs, transformer ops.
Every model here is built by the test itself with onnx.helper (no network, no binaries)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.errors import ConfigError, ShapeError, UnsupportedError  # noqa: E402
from hwsim.workload import load_workload  # noqa: E402
from hwsim.workload.onnx_import import load_onnx  # noqa: E402

F = TensorProto.FLOAT


def _save(nodes, inputs, outputs, inits, path, opset=17, extra_opsets=(), external=False):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)] +
                          [helper.make_opsetid(d, v) for d, v in extra_opsets])
    if external:
        onnx.save(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                  location=path.stem + ".external", size_threshold=0)
    else:
        onnx.save(m, str(path))
    return path


def _mlp(path, external=True):
    """x[batch, seq, 64] -> MatMul(64x256) -> Gelu -> MatMul(256x64) -> Add(x)."""
    w1 = numpy_helper.from_array(np.ones((64, 256), np.float32), "w1")
    w2 = numpy_helper.from_array(np.ones((256, 64), np.float32), "w2")
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="up"),
             helper.make_node("Relu", ["h"], ["a"], name="act"),
             helper.make_node("MatMul", ["a", "w2"], ["d"], name="down"),
             helper.make_node("Add", ["d", "x"], ["y"], name="resid")]
    return _save(nodes, [helper.make_tensor_value_info("x", F, ["batch", "seq", 64])],
                 [helper.make_tensor_value_info("y", F, ["batch", "seq", 64])], [w1, w2], path,
                 external=external)


def test_external_data_is_never_read(tmp_path):
    p = _mlp(tmp_path / "mlp.onnx")
    ext = tmp_path / "mlp.external"
    assert ext.is_file() and ext.stat().st_size == 4 * 2 * 64 * 256
    ext.unlink()  # as in ZigZag's wheel: the weights file is not shipped
    wl = load_workload(p, dims={"batch": 2, "seq": 16})
    by = {op.name: op for op in wl.ops}
    assert (by["up"].M, by["up"].K, by["up"].N) == (32, 64, 256)
    assert (by["down"].M, by["down"].K, by["down"].N) == (32, 256, 64)
    assert wl.num_params == 2 * 64 * 256
    assert by["resid"].numel == 32 * 64 and by["resid"].inputs == 2
    assert wl.meta["dims"] == {"batch": 2, "seq": 16} and wl.meta["skipped"] == {}
    assert list(wl.graph.predecessors("resid")) == ["down"]


def test_symbolic_dims_errors(tmp_path):
    p = _mlp(tmp_path / "mlp.onnx", external=False)
    with pytest.raises(ConfigError, match=r"unbound symbolic input dimension\(s\) batch .*seq"):
        load_onnx(p)
    with pytest.raises(ConfigError, match="unbound.*seq.*--dim"):
        load_onnx(p, dims={"batch": 1})
    with pytest.raises(ConfigError, match="'sequence'|sequence are not symbolic"):
        load_onnx(p, dims={"batch": 1, "seq": 4, "sequence": 4})
    with pytest.raises(ConfigError, match="batch = 0"):
        load_onnx(p, dims={"batch": 0, "seq": 4})


def test_dims_scale_the_flops(tmp_path):
    p = _mlp(tmp_path / "mlp.onnx", external=False)
    a = load_onnx(p, dims={"batch": 1, "seq": 8})
    b = load_onnx(p, dims={"batch": 4, "seq": 8})
    assert b.flops == 4 * a.flops and b.num_params == a.num_params


def test_qdq_int4_blocked_weights_and_int8_activations(tmp_path):
    """Opset 21 QDQ: int4 weights with block_size 32 -> int4_g32; activation Q/DQ -> int8."""
    wq = helper.make_tensor("wq", TensorProto.INT4, [128, 64], np.zeros(128 * 64, np.int8))
    ws = numpy_helper.from_array(np.ones((4, 64), np.float32), "ws")
    s = numpy_helper.from_array(np.array(0.1, np.float32), "s")
    zp = numpy_helper.from_array(np.array(0, np.int8), "zp")
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "s", "zp"], ["xd"], name="dq_x"),
             helper.make_node("DequantizeLinear", ["wq", "ws"], ["wd"], name="dq_w", axis=0,
                              block_size=32),
             helper.make_node("MatMul", ["xd", "wd"], ["y"], name="mm")]
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [8, 128])],
              [helper.make_tensor_value_info("y", F, [8, 64])], [wq, ws, s, zp],
              tmp_path / "qdq.onnx", opset=21, external=True)
    wl = load_workload(p, weights="fp16", activations="fp16")
    mm, = wl.ops
    assert (mm.M, mm.K, mm.N, mm.weights, mm.activations) == (8, 128, 64, "int4_g32", "int8")
    assert wl.meta["zero_cost"] == {"QuantizeLinear": 1, "DequantizeLinear": 2}
    # the file's formats override the caller's defaults, the caller's overrides win over the file
    from hwsim.workload import Precision
    wl2 = load_onnx(p, precision=Precision("fp16", "fp16", overrides={"mm": {"weights": "int8"}}))
    assert wl2.ops[0].weights == "int8"


def test_qlinear_and_integer_ops(tmp_path):
    w = numpy_helper.from_array(np.zeros((16, 3, 3, 3), np.int8), "w")
    mw = numpy_helper.from_array(np.zeros((16 * 8 * 8, 10), np.uint8), "mw")
    sc = numpy_helper.from_array(np.array(0.1, np.float32), "sc")
    zu = numpy_helper.from_array(np.array(128, np.uint8), "zu")
    zi = numpy_helper.from_array(np.array(0, np.int8), "zi")
    nodes = [helper.make_node("QLinearConv", ["x", "sc", "zu", "w", "sc", "zi", "sc", "zu"], ["c"],
                              name="qconv", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Flatten", ["c"], ["f"], name="flat"),
             helper.make_node("MatMulInteger", ["f", "mw", "zu", "zu"], ["y"], name="mmi")]
    p = _save(nodes, [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 16, 16])],
              [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 10])],
              [w, mw, sc, zu, zi], tmp_path / "ql.onnx", opset=13)
    wl = load_onnx(p)
    by = {op.name: op for op in wl.ops}
    c = by["qconv"]
    assert (c.out_h, c.weights, c.activations, c.out) == (8, "int8", "uint8", "uint8")
    assert c.macs == 16 * 8 * 8 * 27
    m = by["mmi"]
    assert (m.M, m.K, m.N, m.weights, m.activations) == (1, 1024, 10, "uint8", "uint8")


def test_matmulnbits_and_gqa_transformer_block(tmp_path):
    """com.microsoft ops of an ONNX Runtime GenAI export: shape inference skips them, the
    importer infers their output shapes itself."""
    B, S, P, H, KV, hd = 1, 4, 60, 8, 2, 16
    D = H * hd
    inits = [numpy_helper.from_array(np.ones(D, np.float32), "ln_w")]
    for nm, n in (("q", D), ("k", KV * hd), ("v", KV * hd), ("o", D)):
        inits += [numpy_helper.from_array(np.zeros((n, D // 32, 16), np.uint8), f"{nm}_w"),
                  numpy_helper.from_array(np.ones((n * D // 32,), np.float32), f"{nm}_s")]
    mnb = lambda nm, x, n: helper.make_node(  # noqa: E731
        "MatMulNBits", [x, f"{nm}_w", f"{nm}_s"], [nm + "_out"], name=nm + "_proj",
        domain="com.microsoft", K=D, N=n, bits=4, block_size=32)
    nodes = [helper.make_node("SimplifiedLayerNormalization", ["x", "ln_w"], ["xn"], name="ln",
                              axis=-1, epsilon=1e-5),
             mnb("q", "xn", D), mnb("k", "xn", KV * hd), mnb("v", "xn", KV * hd),
             helper.make_node("GroupQueryAttention",
                              ["q_out", "k_out", "v_out", "past_k", "past_v", "seqlens", "total"],
                              ["attn", "present_k", "present_v"], name="gqa",
                              domain="com.microsoft", num_heads=H, kv_num_heads=KV),
             mnb("o", "attn", D),
             helper.make_node("Add", ["o_out", "x"], ["y"], name="resid")]
    ins = [helper.make_tensor_value_info("x", F, ["batch", "seq", D]),
           helper.make_tensor_value_info("past_k", F, ["batch", KV, "past", hd]),
           helper.make_tensor_value_info("past_v", F, ["batch", KV, "past", hd]),
           helper.make_tensor_value_info("seqlens", TensorProto.INT32, ["batch"]),
           helper.make_tensor_value_info("total", TensorProto.INT32, [])]
    p = _save(nodes, ins, [helper.make_tensor_value_info("y", F, ["batch", "seq", D])], inits,
              tmp_path / "block.onnx", opset=17, extra_opsets=[("com.microsoft", 1)],
              external=True)
    (tmp_path / "block.external").unlink()
    wl = load_workload(p, dims={"batch": B, "seq": S, "past": P})
    by = {op.name: op for op in wl.ops}
    assert by["q_proj"].weights == "int4_g32" and by["q_proj"].N == D and by["q_proj"].M == B * S
    assert by["k_proj"].N == KV * hd
    a = by["gqa"]
    assert (a.heads, a.kv_heads, a.head_dim, a.q_len, a.kv_len, a.causal) == (H, KV, hd, S,
                                                                                P + S, True)
    assert by["ln"].type == "Norm" and by["ln"].kind == "rms" and by["ln"].cols == D
    assert by["resid"].numel == B * S * D
    assert wl.num_params == D + 2 * D * D + 2 * D * KV * hd
    assert set(wl.graph.predecessors("gqa")) == {"q_proj", "k_proj", "v_proj"}


def test_transformer_float_ops(tmp_path):
    """Embedding Gather, LayerNormalization, decomposed attention (MatMul-Softmax-MatMul with a
    Transpose), Gemm with transB and a weight shared by two MatMuls (tied: counted once)."""
    V, D, T = 100, 32, 6
    emb = numpy_helper.from_array(np.zeros((V, D), np.float32), "emb")
    sc = numpy_helper.from_array(np.ones(D, np.float32), "sc")
    bi = numpy_helper.from_array(np.zeros(D, np.float32), "bi")
    nodes = [helper.make_node("Gather", ["emb", "ids"], ["e"], name="embed"),
             helper.make_node("LayerNormalization", ["e", "sc", "bi"], ["n"], name="ln", axis=-1),
             helper.make_node("Transpose", ["n"], ["nt"], name="tr", perm=[0, 2, 1]),
             helper.make_node("MatMul", ["n", "nt"], ["s"], name="qk"),
             helper.make_node("Softmax", ["s"], ["pr"], name="sm", axis=-1),
             helper.make_node("MatMul", ["pr", "n"], ["o"], name="pv"),
             helper.make_node("Transpose", ["emb"], ["embt"], name="tr_w", perm=[1, 0]),
             helper.make_node("MatMul", ["o", "embt"], ["logits"], name="lm_head")]
    p = _save(nodes, [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, T])],
              [helper.make_tensor_value_info("logits", F, [1, T, V])], [emb, sc, bi],
              tmp_path / "tf.onnx", opset=17)
    wl = load_onnx(p)
    by = {op.name: op for op in wl.ops}
    assert by["embed"].type == "Embedding" and (by["embed"].vocab, by["embed"].tokens) == (V, T)
    assert (by["qk"].M, by["qk"].K, by["qk"].N, by["qk"].b_is_weight) == (T, D, T, False)
    assert (by["sm"].rows, by["sm"].cols) == (T, T)
    assert (by["lm_head"].K, by["lm_head"].N, by["lm_head"].b_is_weight) == (D, V, True)
    assert by["lm_head"].tied and wl.num_params == V * D + 2 * D
    assert by["tr"].flops == 0 and "tr_w" not in by  # activation copy vs. weight transpose
    assert by["ln"].kind == "layer" and by["ln"].affine_bias


def test_conv_padding_variants_match_onnx_shapes(tmp_path):
    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")
    w1 = numpy_helper.from_array(np.zeros((4, 4, 5), np.float32), "w1")
    w2 = numpy_helper.from_array(np.zeros((4, 4, 2, 2), np.float32), "w2")
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="same", auto_pad="SAME_UPPER",
                              strides=[2, 2]),
             helper.make_node("Conv", ["a", "w2"], ["b"], name="asym", pads=[0, 0, 1, 1]),
             helper.make_node("Reshape", ["b", "shp"], ["c"], name="rs"),
             helper.make_node("Conv", ["c", "w1"], ["y"], name="conv1d", pads=[2, 2])]
    shp = numpy_helper.from_array(np.array([1, 4, 72], np.int64), "shp")
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [1, 3, 15, 17])],
              [helper.make_tensor_value_info("y", F, None)], [w, w1, w2, shp], tmp_path / "c.onnx")
    wl = load_onnx(p)
    by = {op.name: op for op in wl.ops}
    assert (by["same"].out_h, by["same"].out_w) == (8, 9)  # ceil(15/2), ceil(17/2)
    assert by["same"].macs == 4 * 8 * 9 * 27
    assert (by["asym"].out_h, by["asym"].out_w) == (8, 9)  # (8 + 1 - 2) + 1, (9 + 1 - 2) + 1
    assert by["asym"].macs == 4 * 8 * 9 * 4 * 4
    assert (by["conv1d"].out_h, by["conv1d"].out_w) == (1, 72)
    assert by["conv1d"].macs == 4 * 72 * 4 * 5


def test_unsupported_ops_named_or_counted(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("TopK", ["r", "k"], ["v", "i"], name="topk", axis=-1),
             helper.make_node("Relu", ["v"], ["y"], name="relu2")]
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [1, 8])],
              [helper.make_tensor_value_info("y", F, [1, 2])], [k], tmp_path / "u.onnx")
    with pytest.raises(UnsupportedError, match=r"unsupported ONNX op\(s\) TopK \(1 node, e.g. "
                                               r"'topk'\); supported: .*MatMul"):
        load_onnx(p)
    wl = load_onnx(p, skip_unsupported=True)
    assert wl.meta["skipped"] == {"TopK": 1}
    assert list(wl.graph.predecessors("relu2")) == ["relu"]  # dependency passed through
    counted = len(wl) + sum(wl.meta["zero_cost"].values()) + sum(wl.meta["skipped"].values()) \
        + sum(wl.meta["fused"].values())
    assert counted == sum(wl.meta["onnx_ops"].values())


def test_missing_file_and_shape_error(tmp_path):
    with pytest.raises(ConfigError, match="no such ONNX file"):
        load_onnx(tmp_path / "nope.onnx")
    nodes = [helper.make_node("NonZero", ["x"], ["nz"], name="nz"),
             helper.make_node("Relu", ["nz"], ["y"], name="relu")]
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [4])],
              [helper.make_tensor_value_info("y", TensorProto.INT64, None)], [],
              tmp_path / "dyn.onnx")
    with pytest.raises(ShapeError, match="ONNX node nz: tensor 'nz' has unknown"):
        load_onnx(p)


def test_shape_subgraph_resolves_and_costs_nothing(tmp_path):
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape (how exporters write dynamic shapes)
    resolves by data propagation once the symbolic dims are bound, and costs nothing; the
    decomposed attention after it becomes per-head batched GEMMs and a Softmax."""
    c = lambda n, v: numpy_helper.from_array(np.array(v, np.int64), n)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["sh"], name="shape"),
             helper.make_node("Gather", ["sh", "i0"], ["b"], axis=0, name="g0"),
             helper.make_node("Gather", ["sh", "i1"], ["s"], axis=0, name="g1"),
             helper.make_node("Unsqueeze", ["b", "ax0"], ["bu"], name="u0"),
             helper.make_node("Unsqueeze", ["s", "ax0"], ["su"], name="u1"),
             helper.make_node("Concat", ["bu", "su", "hh"], ["shp"], axis=0, name="cat"),
             helper.make_node("MatMul", ["x", "wq"], ["q"], name="q_proj"),
             helper.make_node("Reshape", ["q", "shp"], ["q4"], name="rs"),
             helper.make_node("Transpose", ["q4"], ["qt"], perm=[0, 2, 1, 3], name="q_t"),
             helper.make_node("Transpose", ["q4"], ["kt"], perm=[0, 2, 3, 1], name="k_t"),
             helper.make_node("MatMul", ["qt", "kt"], ["sc"], name="qk"),
             helper.make_node("Softmax", ["sc"], ["p"], axis=-1, name="sm"),
             helper.make_node("MatMul", ["p", "qt"], ["o"], name="pv")]
    inits = [c("i0", 0), c("i1", 1), c("ax0", [0]), c("hh", [4, 16]),
             numpy_helper.from_array(np.zeros((64, 64), np.float32), "wq")]
    p = _save(nodes, [helper.make_tensor_value_info("x", F, ["batch", "seq", 64])],
              [helper.make_tensor_value_info("o", F, None)], inits, tmp_path / "att.onnx")
    wl = load_onnx(p, dims={"batch": 2, "seq": 10})
    by = {op.name: op for op in wl.ops}
    assert set(by) == {"q_proj", "q_t", "k_t", "qk", "sm", "pv"}
    assert (by["qk"].M, by["qk"].N, by["qk"].K, by["qk"].groups) == (10, 10, 16, 8)
    assert (by["pv"].M, by["pv"].N, by["pv"].K, by["pv"].groups) == (10, 16, 10, 8)
    assert (by["sm"].rows, by["sm"].cols) == (80, 10)
    assert wl.meta["zero_cost"] == {"Shape": 1, "Gather": 2, "Unsqueeze": 2, "Concat": 1,
                                    "Reshape": 1}


@pytest.mark.parametrize("opset", [11, 13, 17, 21])
def test_opsets_11_to_21(tmp_path, opset):
    """The same conv -> softmax -> MatMul graph imports alike across opsets (Softmax's axis
    semantics changed at 13: before, it flattens the trailing dims at ``axis``)."""
    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")
    mw = numpy_helper.from_array(np.zeros((8, 5), np.float32), "mw")
    shp = numpy_helper.from_array(np.array([1, 4 * 8, 8], np.int64), "shp")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Reshape", ["c", "shp"], ["r"], name="rs"),
             helper.make_node("Softmax", ["r"], ["s"], name="sm", axis=2),
             helper.make_node("MatMul", ["s", "mw"], ["y"], name="mm")]
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [1, 3, 8, 8])],
              [helper.make_tensor_value_info("y", F, [1, 32, 5])], [w, mw, shp],
              tmp_path / f"o{opset}.onnx", opset=opset)
    wl = load_onnx(p)
    by = {op.name: op for op in wl.ops}
    assert by["conv"].macs == 4 * 64 * 27
    assert (by["sm"].rows, by["sm"].cols) == (32, 8)
    assert (by["mm"].M, by["mm"].K, by["mm"].N) == (32, 8, 5)
    assert wl.meta["opsets"] == {"ai.onnx": opset}


def test_decomposed_rms_and_layer_norms_become_norm_ops(tmp_path):
    """Llama's RMSNorm as exported (Cast, Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul, Cast,
    Mul(weight)) and a LayerNorm below opset 17 (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt,
    Div, Mul, Add) each become one Norm; the bookkeeping still adds up."""
    D = 32
    f = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)  # noqa: E731
    inits = [f("two", 2.0), f("eps", 1e-6), f("w", np.ones(D)), f("g", np.ones(D)),
             f("b", np.zeros(D))]
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=F, name="c0"),
             helper.make_node("Pow", ["xf", "two"], ["sq"], name="pow"),
             helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[-1], name="rm"),
             helper.make_node("Add", ["ms", "eps"], ["ae"], name="add_eps"),
             helper.make_node("Sqrt", ["ae"], ["rt"], name="sqrt"),
             helper.make_node("Reciprocal", ["rt"], ["inv"], name="rcp"),
             helper.make_node("Mul", ["xf", "inv"], ["xn"], name="mul"),
             helper.make_node("Cast", ["xn"], ["xh"], to=F, name="c1"),
             helper.make_node("Mul", ["xh", "w"], ["h"], name="rms_out"),
             # LayerNorm on h
             helper.make_node("ReduceMean", ["h"], ["mu"], axes=[-1], name="ln_mean"),
             helper.make_node("Sub", ["h", "mu"], ["d"], name="ln_sub"),
             helper.make_node("Pow", ["d", "two"], ["d2"], name="ln_pow"),
             helper.make_node("ReduceMean", ["d2"], ["var"], axes=[-1], name="ln_var"),
             helper.make_node("Add", ["var", "eps"], ["ve"], name="ln_add"),
             helper.make_node("Sqrt", ["ve"], ["sd"], name="ln_sqrt"),
             helper.make_node("Div", ["d", "sd"], ["nrm"], name="ln_div"),
             helper.make_node("Mul", ["nrm", "g"], ["sc"], name="ln_mul"),
             helper.make_node("Add", ["sc", "b"], ["y"], name="ln_out")]
    p = _save(nodes, [helper.make_tensor_value_info("x", F, [2, 5, D])],
              [helper.make_tensor_value_info("y", F, [2, 5, D])], inits, tmp_path / "n.onnx",
              opset=13)
    wl = load_onnx(p)
    assert [op.name for op in wl.ops] == ["rms_out", "ln_out"]
    rms, ln = wl.ops
    assert (rms.type, rms.kind, rms.rows, rms.cols, rms.affine_bias) == ("Norm", "rms", 10, D,
                                                                          False)
    assert (ln.kind, ln.rows, ln.cols, ln.affine_bias) == ("layer", 10, D, True)
    assert list(wl.graph.predecessors("ln_out")) == ["rms_out"]
    assert wl.num_params == D + 2 * D
    counted = len(wl) + sum(wl.meta["fused"].values()) + sum(wl.meta["zero_cost"].values())
    assert counted == sum(wl.meta["onnx_ops"].values()) == 18
