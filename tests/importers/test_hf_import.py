"""Hugging Face checkpoints: quantization_config -> precision policy, safetensors headers ->
per-layer truth. Fixtures are a tiny config.json plus safetensors files holding only headers."""

import json
import re
import struct

import pytest

from hwsim.errors import ConfigError, UnsupportedError
from hwsim.importers.hf import module_of, op_of, quant_policy
from hwsim.importers.safetensors import read_checkpoint, read_header, write_header
from hwsim.workload import Precision, load_workload

H, I, L, HEADS, KV, V = 64, 128, 2, 4, 2, 100
HD = H // HEADS
CFG = {"model_type": "llama", "hidden_size": H, "intermediate_size": I, "num_hidden_layers": L,
       "num_attention_heads": HEADS, "num_key_value_heads": KV, "vocab_size": V,
       "torch_dtype": "float16"}
LINEARS = {"self_attn.q_proj": (H, H), "self_attn.k_proj": (H, KV * HD),
           "self_attn.v_proj": (H, KV * HD), "self_attn.o_proj": (H, H),
           "mlp.gate_proj": (H, I), "mlp.up_proj": (H, I), "mlp.down_proj": (I, H)}


def _gptq_dir(tmp_path, group=32, float_modules=("model.layers.1.mlp.down_proj",), shards=1):
    d = tmp_path / "tiny-gptq"
    d.mkdir()
    q = {"quant_method": "gptq", "bits": 4, "group_size": group, "sym": True, "desc_act": False}
    (d / "config.json").write_text(json.dumps({**CFG, "quantization_config": q}))
    t = {"model.embed_tokens.weight": ("F16", [V, H]), "model.norm.weight": ("F16", [H]),
         "lm_head.weight": ("F16", [V, H])}
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = ("F16", [H])
        t[p + "post_attention_layernorm.weight"] = ("F16", [H])
        for m, (k, n) in LINEARS.items():
            if p + m in float_modules:
                t[p + m + ".weight"] = ("F16", [n, k])  # torch Linear: [out, in]
                continue
            t[p + m + ".qweight"] = ("I32", [k // 8, n])
            t[p + m + ".qzeros"] = ("I32", [k // group, n // 8])
            t[p + m + ".scales"] = ("F16", [k // group, n])
            t[p + m + ".g_idx"] = ("I32", [k])
    names = sorted(t)
    if shards == 1:
        write_header(d / "model.safetensors", t)
    else:
        wm = {}
        for s in range(shards):
            f = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: t[n] for n in names[s::shards]}
            write_header(d / f, part)
            wm.update({n: f for n in part})
        (d / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wm}))
    return d


def test_gptq_checkpoint_per_layer_formats(tmp_path):
    d = _gptq_dir(tmp_path)
    wl = load_workload(d, phase="decode", batch=1, context=128)
    by = {op.name: op for op in wl.ops}
    assert by["layers.0.attn.qkv"].weights == "int4_g32"
    assert by["layers.0.mlp.down"].weights == "int4_g32"
    assert by["layers.1.mlp.down"].weights == "fp16"  # the header says it is not quantized
    assert by["lm_head"].weights == "fp16" and by["embed"].weights == "fp16"
    assert wl.meta["quantization"]["method"] == "gptq"
    assert wl.meta["checkpoint_params"] == wl.num_params  # packed int4 codes unpacked
    assert wl.meta["unmapped_tensors"] == 0 and wl.meta["notes"] == []
    # int4 weights: the weight bytes drop by ~4x against the same model in fp16
    ref = load_workload(d / "config.json", weights="fp16")
    assert ref.meta.get("quantization") is not None  # config.json path reads the same checkpoint
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text(json.dumps(CFG))
    fp = load_workload(plain, weights="fp16")
    assert fp.num_params == wl.num_params and fp.meta["quantization"] is None
    assert wl.weight_bytes < 0.6 * fp.weight_bytes


def test_sharded_checkpoint_and_missing_shard(tmp_path):
    d = _gptq_dir(tmp_path, shards=3)
    # embed, final norm, lm_head; per layer 2 norms + 7 linears x 4 GPTQ tensors, except
    # layer 1's down_proj stored as one fp16 weight
    assert len(read_checkpoint(d)) == 3 + (2 + 28) + (2 + 24 + 1)
    wl = load_workload(d)
    assert wl.meta["checkpoint_params"] == wl.num_params
    (d / "model-00002-of-00003.safetensors").unlink()
    with pytest.raises(ConfigError, match="model-00002-of-00003.safetensors not found"):
        load_workload(d)


def test_config_only_awq_with_unconverted_modules(tmp_path):
    d = tmp_path / "awq"
    d.mkdir()
    q = {"quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": True,
         "modules_to_not_convert": ["layers.1.mlp"]}
    (d / "config.json").write_text(json.dumps({**CFG, "quantization_config": q}))
    wl = load_workload(d, weights="bf16", activations="bf16")
    by = {op.name: op for op in wl.ops}
    assert by["layers.0.mlp.up"].weights == "uint4_g64"
    assert by["layers.1.mlp.up"].weights == "bf16" and by["layers.1.mlp.down"].weights == "bf16"
    assert by["layers.1.attn.o"].weights == "uint4_g64"
    assert by["lm_head"].weights == "bf16"  # AWQ quantizes decoder linears only
    # the caller's overrides win over the checkpoint's
    wl2 = load_workload(d, precision=Precision("bf16", "bf16",
                                               overrides={"layers.0.*": {"weights": "int8"}}))
    assert {op.name: op for op in wl2.ops}["layers.0.mlp.up"].weights == "int8"


def test_quant_policies():
    ct = {"quant_method": "compressed-tensors", "format": "int-quantized", "ignore": ["lm_head"],
          "config_groups": {"group_0": {"targets": ["Linear"],
                                        "weights": {"num_bits": 8, "type": "int",
                                                    "symmetric": True, "strategy": "channel"},
                                        "input_activations": {"num_bits": 8, "type": "int",
                                                              "symmetric": True,
                                                              "strategy": "token",
                                                              "dynamic": True}}}}
    p = quant_policy(ct)
    assert (p.weights, p.activations) == ("int8", "int8") and p.excluded("lm_head")
    nv = {"quant_method": "compressed-tensors", "config_groups": {"g": {
        "targets": ["re:.*mlp.*"], "weights": {"num_bits": 4, "type": "float",
                                               "strategy": "tensor_group", "group_size": 16}}}}
    assert quant_policy(nv).formats_for("model.layers.0.mlp.up_proj") == ("nvfp4", None)
    fp8 = quant_policy({"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                        "weight_block_size": [128, 128]})
    assert (fp8.weights, fp8.activations) == ("fp8_e4m3", "fp8_e4m3")
    bnb = quant_policy({"quant_method": "bitsandbytes", "load_in_4bit": True,
                        "bnb_4bit_quant_type": "nf4", "llm_int8_skip_modules": ["lm_head"]})
    assert bnb.weights == "int4_g64" and "nf4" in bnb.notes[0] and bnb.excluded("lm_head")
    assert quant_policy({"quant_method": "gptq", "bits": 8, "group_size": -1,
                         "sym": False}).weights == "uint8"
    with pytest.raises(UnsupportedError, match="'hqq' is not supported; supported: gptq, awq"):
        quant_policy({"quant_method": "hqq"})
    with pytest.raises(ConfigError, match="'bits' = 1: expected an integer 2..8"):
        quant_policy({"quant_method": "gptq", "bits": 1, "group_size": 128})


def test_w8a8_checkpoint_sets_activation_formats(tmp_path):
    d = tmp_path / "w8a8"
    d.mkdir()
    q = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
         "modules_to_not_convert": ["lm_head"]}
    (d / "config.json").write_text(json.dumps({**CFG, "quantization_config": q}))
    wl = load_workload(d, weights="bf16", activations="bf16")
    by = {op.name: op for op in wl.ops}
    assert (by["layers.0.mlp.up"].weights, by["layers.0.mlp.up"].activations) == (
        "fp8_e4m3", "fp8_e4m3")
    assert by["layers.0.attn.sdpa"].activations == "bf16"
    assert (by["lm_head"].weights, by["lm_head"].activations) == ("bf16", "bf16")


def test_module_names():
    assert module_of("model.layers.3.mlp.up_proj.qweight") == ("model.layers.3.mlp.up_proj",
                                                                "qweight")
    assert module_of("model.layers.0.self_attn.q_proj.weight.absmax")[1] == "weight.absmax"
    assert op_of("model.layers.3.self_attn.k_proj") == "layers.3.attn.qkv"
    assert op_of("model.layers.3.block_sparse_moe.experts.7.w2") == "layers.3.mlp.down"
    assert op_of("model.layers.3.block_sparse_moe.gate") == "layers.3.moe.router"
    assert op_of("model.decoder.layers.1.self_attn.out_proj") == "layers.1.attn.o"
    assert op_of("model.layers.0.input_layernorm") is None


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError, match="no config.json"):
        load_workload(tmp_path)
    f = tmp_path / "bad.safetensors"
    f.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    with pytest.raises(ConfigError, match="header truncated"):
        read_header(f)
    write_header(f, {"w": ("F16", [2, 2])}, with_data=True)
    assert read_header(f)["w"].shape == (2, 2)
    f.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00[]")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        read_header(f)


@pytest.mark.parametrize("field,value,words", [
    ("num_key_value_heads", "8", "field 'num_key_value_heads' = '8'"),
    ("num_hidden_layers", -12, "field 'num_hidden_layers' = -12"),
    ("hidden_size", 4096.0, "field 'hidden_size' = 4096.0"),
    ("attention_bias", "false", "field 'attention_bias' = 'false': expected true or false"),
    ("vocab_size", None, "field 'vocab_size' = None"),
])
def test_hf_config_fields_type_checked(tmp_path, field, value, words):
    cfg = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
           "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 256, field: value}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError) as e:
        load_workload(tmp_path)
    assert words in str(e.value) and "config.json" in str(e.value)


def test_opt_and_moe_fields(tmp_path):
    opt = {"model_type": "opt", "hidden_size": 64, "num_attention_heads": 4, "ffn_dim": 128,
           "num_hidden_layers": 2, "vocab_size": 256, "max_position_embeddings": None}
    (tmp_path / "config.json").write_text(json.dumps(opt))
    with pytest.raises(ConfigError, match="'max_position_embeddings' = None"):
        load_workload(tmp_path)
    moe = {**opt, "model_type": "mixtral", "intermediate_size": 128, "num_local_experts": 4,
           "num_experts_per_tok": "2"}
    (tmp_path / "config.json").write_text(json.dumps(moe))
    with pytest.raises(ConfigError, match="'num_experts_per_tok' = '2'"):
        load_workload(tmp_path)


@pytest.mark.parametrize("q,words", [
    ({"quant_method": "gptq", "bits": 4, "modules_to_not_convert": 5},
     "'modules_to_not_convert' = 5"),
    ({"quant_method": "compressed-tensors", "ignore": ["re:(["],
      "config_groups": {"g": {"weights": {"num_bits": 8}, "targets": ["Linear"]}}},
     "not a valid regular expression"),
    ({"quant_method": "compressed-tensors", "config_groups": [{"weights": {"num_bits": 8}}]},
     "'config_groups' must be a non-empty mapping"),
    ({"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": [8]}}},
     "expected a mapping of quantization arguments"),
    ({"quant_method": "gptq", "bits": 4, "sym": "false"}, "'sym' = 'false'"),
    ({"quant_method": "gptq", "bits": 4, "group_size": "128"}, "'group_size' = '128'"),
])
def test_quantization_config_type_checked(q, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        quant_policy(q, "config.json: quantization_config")


def test_index_holding_a_list_or_escaping_paths(tmp_path):
    write_header(tmp_path / "outside.safetensors", {"x.weight": ("F16", [4, 4])})
    d = tmp_path / "ckpt"
    d.mkdir()
    index = d / "model.safetensors.index.json"
    index.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="weight_map"):
        read_checkpoint(d)
    for bad in ("../outside.safetensors", str(tmp_path / "outside.safetensors"),
                "sub/../../outside.safetensors"):
        index.write_text(json.dumps({"weight_map": {"x.weight": bad}}))
        with pytest.raises(ConfigError, match="inside the checkpoint folder"):
            read_checkpoint(d)


def test_safetensors_header_longer_than_file(tmp_path):
    p = tmp_path / "m.safetensors"
    p.write_bytes(struct.pack("<Q", 50 * 2 ** 20) + b"{}")
    with pytest.raises(ConfigError, match="truncated"):
        read_header(p)
