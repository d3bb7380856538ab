"""Write the small model files the README and docs commands read (committed; rerun to rebuild):

* ``decoder.onnx`` -- a one-layer decoder (embedding, LayerNorm, attention over a KV cache
  concatenated from ``past_k``/``past_v``, MLP, LM head) with symbolic input dimensions
  ``batch``, ``sequence`` and ``past``, made with ``onnx.helper``;
* ``tiny_cnn.onnx`` -- conv, relu, conv, global average pool, fully connected;
* ``tiny-llama-gptq/`` -- a Hugging Face checkpoint folder: ``config.json`` with a GPTQ 4-bit
  ``quantization_config`` and a ``model.safetensors`` holding only the tensor header (what hwsim
  reads: which layers are really quantized);
* ``tiny-llama.Q4_K_M.gguf`` -- a header-only GGUF of a two-layer llama with llama.cpp's Q4_K_M
  type mix (q4_k, attn_v/ffn_down/output in q6_k, norms f32); hwsim reads only the header, so
  the file carries no tensor data.

The weights are constants (hwsim reads shapes and dtypes, never values).

    python examples/make_examples.py          # needs the onnx package (pip install -e '.[onnx]')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
D, FF, V, HEADS = 32, 64, 128, 4  # model width, MLP width, vocabulary, attention heads


def _init(name: str, shape: tuple) -> "object":
    from onnx import numpy_helper
    return numpy_helper.from_array(np.full(shape, 0.01, np.float32), name)


def _attention_nodes() -> list:
    """q/k/v projections, KV cache concatenation, scaled scores, softmax, output projection.
    Single-head (D wide) in the graph; the importer reads it as one attention op."""
    from onnx import helper
    mk = helper.make_node
    return [mk("MatMul", ["h1", "wq"], ["q"], name="layers.0.attn.q"),
            mk("MatMul", ["h1", "wk"], ["k"], name="layers.0.attn.k"),
            mk("MatMul", ["h1", "wv"], ["v"], name="layers.0.attn.v"),
            mk("Concat", ["past_k", "k"], ["k_all"], name="layers.0.attn.cat_k", axis=1),
            mk("Concat", ["past_v", "v"], ["v_all"], name="layers.0.attn.cat_v", axis=1),
            mk("Transpose", ["k_all"], ["k_t"], name="layers.0.attn.k_t", perm=[0, 2, 1]),
            mk("MatMul", ["q", "k_t"], ["s"], name="layers.0.attn.qk"),
            mk("Softmax", ["s"], ["p"], name="layers.0.attn.softmax", axis=-1),
            mk("MatMul", ["p", "v_all"], ["a"], name="layers.0.attn.pv"),
            mk("MatMul", ["a", "wo"], ["o"], name="layers.0.attn.o"),
            mk("Add", ["o", "x"], ["r1"], name="layers.0.attn.residual")]


def decoder(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper
    mk = helper.make_node
    nodes = ([mk("Gather", ["embed", "ids"], ["x"], name="embed"),
              mk("LayerNormalization", ["x", "ln1_w", "ln1_b"], ["h1"], name="layers.0.ln1",
                 axis=-1)]
             + _attention_nodes()
             + [mk("LayerNormalization", ["r1", "ln2_w", "ln2_b"], ["h2"], name="layers.0.ln2",
                   axis=-1),
                mk("MatMul", ["h2", "w_up"], ["u"], name="layers.0.mlp.up"),
                mk("Relu", ["u"], ["g"], name="layers.0.mlp.act"),
                mk("MatMul", ["g", "w_down"], ["dn"], name="layers.0.mlp.down"),
                mk("Add", ["dn", "r1"], ["r2"], name="layers.0.mlp.residual"),
                mk("MatMul", ["r2", "lm_head"], ["logits"], name="lm_head")])
    inits = [_init("embed", (V, D)), _init("ln1_w", (D,)), _init("ln1_b", (D,)),
             _init("ln2_w", (D,)), _init("ln2_b", (D,)), _init("wq", (D, D)),
             _init("wk", (D, D)), _init("wv", (D, D)), _init("wo", (D, D)),
             _init("w_up", (D, FF)), _init("w_down", (FF, D)), _init("lm_head", (D, V))]
    F = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "sequence"]),
              helper.make_tensor_value_info("past_k", F, ["batch", "past", D]),
              helper.make_tensor_value_info("past_v", F, ["batch", "past", D])]
    out = [helper.make_tensor_value_info("logits", F, ["batch", "sequence", V])]
    graph = helper.make_graph(nodes, "tiny_decoder", inputs, out, inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def tiny_cnn(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper
    mk = helper.make_node
    nodes = [mk("Conv", ["image", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
             mk("Relu", ["c1"], ["a1"], name="relu1"),
             mk("Conv", ["a1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             mk("Relu", ["c2"], ["a2"], name="relu2"),
             mk("GlobalAveragePool", ["a2"], ["gp"], name="pool"),
             mk("Flatten", ["gp"], ["f"], name="flatten"),
             mk("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1)]
    inits = [_init("w1", (32, 3, 3, 3)), _init("w2", (64, 32, 3, 3)), _init("fc_w", (10, 64)),
             _init("fc_b", (10,))]
    F = TensorProto.FLOAT
    graph = helper.make_graph(nodes, "tiny_cnn",
                              [helper.make_tensor_value_info("image", F, [1, 3, 64, 64])],
                              [helper.make_tensor_value_info("logits", F, [1, 10])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def tiny_gguf(path: Path) -> Path:
    """llama.cpp's Q4_K_M mix (llama.cpp ``llama_tensor_get_type``: attn_v, ffn_down and output
    in q6_k, other linear layers q4_k, norms f32); GGUF dims innermost first ([K, N])."""
    from hwsim.importers.gguf import write_gguf
    Q4K, Q6K, F32 = 12, 14, 0  # ggml type ids (ggml.h)
    H, I, L, KV = 256, 512, 2, 2  # GGUF: no tensor data, so sizes cost nothing
    hd = H // HEADS
    meta = {"general.architecture": "llama", "general.name": "tiny-llama-q4_k_m",
            "llama.embedding_length": H, "llama.feed_forward_length": I, "llama.block_count": L,
            "llama.attention.head_count": HEADS, "llama.attention.head_count_kv": KV,
            "llama.context_length": 4096, "general.file_type": 15,
            "tokenizer.ggml.tokens": [f"t{i}" for i in range(V)]}
    t = [("token_embd.weight", [H, V], Q4K), ("output_norm.weight", [H], F32),
         ("output.weight", [H, V], Q6K)]
    for i in range(L):
        b = f"blk.{i}."
        t += [(b + "attn_norm.weight", [H], F32), (b + "ffn_norm.weight", [H], F32),
              (b + "attn_q.weight", [H, H], Q4K), (b + "attn_k.weight", [H, KV * hd], Q4K),
              (b + "attn_v.weight", [H, KV * hd], Q6K), (b + "attn_output.weight", [H, H], Q4K),
              (b + "ffn_gate.weight", [H, I], Q4K), (b + "ffn_up.weight", [H, I], Q4K),
              (b + "ffn_down.weight", [I, H], Q6K)]
    return write_gguf(path, meta, t)


def tiny_gptq(folder: Path) -> Path:
    """GPTQ layout (AutoGPTQ: qweight [K/8, N] int32, qzeros, scales, g_idx per linear layer);
    the LM head and norms stay fp16."""
    import json
    from hwsim.importers.safetensors import write_header
    H, I, L, KV, group = 256, 512, 2, 2, 128
    hd = H // HEADS
    folder.mkdir(exist_ok=True)
    cfg = {"model_type": "llama", "hidden_size": H, "intermediate_size": I,
           "num_hidden_layers": L, "num_attention_heads": HEADS, "num_key_value_heads": KV,
           "vocab_size": V, "torch_dtype": "float16",
           "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": group,
                                   "sym": True, "desc_act": False}}
    (folder / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    linears = {"self_attn.q_proj": (H, H), "self_attn.k_proj": (H, KV * hd),
               "self_attn.v_proj": (H, KV * hd), "self_attn.o_proj": (H, H),
               "mlp.gate_proj": (H, I), "mlp.up_proj": (H, I), "mlp.down_proj": (I, H)}
    t = {"model.embed_tokens.weight": ("F16", [V, H]), "model.norm.weight": ("F16", [H]),
         "lm_head.weight": ("F16", [V, H])}
    for i in range(L):
        b = f"model.layers.{i}."
        t[b + "input_layernorm.weight"] = ("F16", [H])
        t[b + "post_attention_layernorm.weight"] = ("F16", [H])
        for m, (k, n) in linears.items():
            t[b + m + ".qweight"] = ("I32", [k // 8, n])
            t[b + m + ".qzeros"] = ("I32", [k // group, n // 8])
            t[b + m + ".scales"] = ("F16", [k // group, n])
            t[b + m + ".g_idx"] = ("I32", [k])
    return write_header(folder / "model.safetensors", t)


def main() -> None:
    for p in (decoder(HERE / "decoder.onnx"), tiny_cnn(HERE / "tiny_cnn.onnx"),
              tiny_gptq(HERE / "tiny-llama-gptq"), tiny_gguf(HERE / "tiny-llama.Q4_K_M.gguf")):
        print(f"wrote {p.relative_to(HERE.parent)} ({p.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
