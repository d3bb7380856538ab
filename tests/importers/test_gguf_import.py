"""GGUF import: a header-only GGUF file written by the test (documented binary layout)."""

import pytest

from hwsim.errors import ConfigError, UnsupportedError
from hwsim.importers.gguf import op_of, read_gguf, write_gguf
from hwsim.workload import load_workload

H, I, L, HEADS, KV, V = 256, 512, 2, 4, 2, 320
HD = H // HEADS
Q4K, Q6K, F32, Q5K = 12, 14, 0, 13
META = {"general.architecture": "llama", "general.name": "tiny-q4km",
        "llama.embedding_length": H, "llama.feed_forward_length": I, "llama.block_count": L,
        "llama.attention.head_count": HEADS, "llama.attention.head_count_kv": KV,
        "llama.context_length": 4096, "general.file_type": 15,
        "tokenizer.ggml.tokens": [f"t{i}" for i in range(V)]}


def _tensors(down=Q6K):
    """A Q4_K_M-like mix: attn_v and ffn_down in q6_k, the rest q4_k, norms f32. GGUF dims are
    innermost first: a linear layer of K inputs and N outputs is [K, N]."""
    t = [("token_embd.weight", [H, V], Q4K), ("output_norm.weight", [H], F32),
         ("output.weight", [H, V], Q6K)]
    for i in range(L):
        b = f"blk.{i}."
        t += [(b + "attn_norm.weight", [H], F32), (b + "ffn_norm.weight", [H], F32),
              (b + "attn_q.weight", [H, H], Q4K), (b + "attn_k.weight", [H, KV * HD], Q4K),
              (b + "attn_v.weight", [H, KV * HD], Q6K), (b + "attn_output.weight", [H, H], Q4K),
              (b + "ffn_gate.weight", [H, I], Q4K), (b + "ffn_up.weight", [H, I], Q4K),
              (b + "ffn_down.weight", [I, H], down)]
    return t


def test_gguf_q4_k_m_workload(tmp_path):
    p = write_gguf(tmp_path / "tiny.gguf", META, _tensors())
    meta, tensors = read_gguf(p)
    assert meta["llama.block_count"] == L and len(meta["tokenizer.ggml.tokens"]) == V
    assert tensors[2].shape == (H, V) and tensors[2].type_name == "q6_k"
    wl = load_workload(p, phase="decode", context=64)
    by = {op.name: op for op in wl.ops}
    assert by["layers.0.attn.qkv"].weights == "q4_k"  # q, k q4_k + v q6_k: mean 5.02 bits
    assert any("layers.0.attn.qkv: attn_q=q4_k, attn_k=q4_k, attn_v=q6_k" in n
               for n in wl.meta["notes"])
    assert by["layers.1.mlp.down"].weights == "q6_k" and by["layers.1.mlp.up"].weights == "q4_k"
    assert by["lm_head"].weights == "q6_k" and by["embed"].weights == "q4_k"
    assert not by["lm_head"].tied
    assert wl.meta["file_params"] == wl.num_params and wl.meta["unmapped_tensors"] == 0
    assert wl.name == "tiny-q4km" and wl.meta["gguf_types"] == {"q4_k": 11, "f32": 5, "q6_k": 5}
    # weight bytes: every tensor in its own format, the fused qkv in its representative format
    assert 4.5 / 8 * wl.num_params < wl.weight_bytes < 6.6 / 8 * wl.num_params


def test_gguf_runs_on_the_cpu_family(tmp_path):
    import hwsim
    p = write_gguf(tmp_path / "tiny.gguf", META, _tensors())
    rep = hwsim.evaluate(load_workload(p, context=64), hwsim.load_arch("rpi5"))
    assert rep.latency_s > 0


def test_gguf_errors(tmp_path):
    p = write_gguf(tmp_path / "q5.gguf", META, _tensors(down=Q5K))
    with pytest.raises(UnsupportedError, match=r"q5_k \(2 tensors, e.g. blk.0.ffn_down.weight\);"
                                               r" supported: .*q4_k"):
        load_workload(p)
    p = write_gguf(tmp_path / "gpt.gguf", {**META, "general.architecture": "gpt2"}, _tensors())
    with pytest.raises(UnsupportedError, match="'gpt2'; supported: llama"):
        load_workload(p)
    meta = dict(META)
    del meta["llama.block_count"]
    p = write_gguf(tmp_path / "nb.gguf", meta, _tensors())
    with pytest.raises(ConfigError, match="missing metadata key 'llama.block_count'"):
        load_workload(p)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGML\x03\x00\x00\x00")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        read_gguf(bad)
    bad.write_bytes(write_gguf(tmp_path / "ok.gguf", META, _tensors()).read_bytes()[:100])
    with pytest.raises(ConfigError, match="truncated"):
        read_gguf(bad)


def test_tensor_names():
    assert op_of("blk.7.attn_v.weight") == "layers.7.attn.qkv"
    assert op_of("blk.7.ffn_down_exps.weight") == "layers.7.mlp.down"
    assert op_of("blk.7.ffn_gate_inp.weight") == "layers.7.moe.router"
    assert op_of("blk.7.attn_norm.weight") is None and op_of("output.weight") == "lm_head"


def _raw(tmp_path, body: bytes, pad: int = 100):
    p = tmp_path / "bad.gguf"
    p.write_bytes(body + b"\0" * max(0, pad - len(body)))
    return p


def _s(x: str) -> bytes:
    import struct
    return struct.pack("<Q", len(x)) + x.encode()


@pytest.mark.parametrize("what,body", [
    ("metadata count", lambda st: b"GGUF" + st.pack("<IQQ", 3, 0, 2 ** 40)),
    ("tensor count", lambda st: b"GGUF" + st.pack("<IQQ", 3, 2 ** 40, 0)),
    ("array length", lambda st: b"GGUF" + st.pack("<IQQ", 3, 0, 1) + _s("a")
     + st.pack("<IIQ", 9, 4, 2 ** 40)),
    ("array length", lambda st: b"GGUF" + st.pack("<IQQ", 3, 0, 1) + _s("a")
     + st.pack("<IIQ", 9, 8, 2 ** 40)),
    ("byte length", lambda st: b"GGUF" + st.pack("<IQQ", 3, 0, 1) + st.pack("<Q", 2 ** 40)),
])
def test_counts_bounded_by_file_size(tmp_path, what, body):
    """A 100-byte file claiming 2**40 entries: a ConfigError before anything is allocated."""
    import struct
    with pytest.raises(ConfigError, match=f"GGUF {what} = 1099511627776, but only"):
        read_gguf(_raw(tmp_path, body(struct)))


def test_nested_arrays_and_zero_dims(tmp_path):
    import struct
    nested = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _s("a") + struct.pack("<I", 9) + \
        struct.pack("<IQ", 9, 1) * 64
    with pytest.raises(ConfigError, match="nested"):
        read_gguf(_raw(tmp_path, nested))
    zero = b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + _s("t.weight") + struct.pack("<IQQIQ", 2, 0,
                                                                                5, 0, 0)
    with pytest.raises(ConfigError, match=r"dimensions \[0, 5\]"):
        read_gguf(_raw(tmp_path, zero))


@pytest.mark.parametrize("key,value", [("llama.block_count", 2.0), ("llama.block_count", 0),
                                       ("llama.attention.head_count", "4"),
                                       ("llama.embedding_length", True)])
def test_metadata_types_named_as_in_the_file(tmp_path, key, value):
    p = write_gguf(tmp_path / "m.gguf", {**META, key: value}, _tensors())
    with pytest.raises(ConfigError, match=f"metadata '{key}' = {value!r}"):
        load_workload(p)
