import json

import pytest

import hwsim
from hwsim.errors import ConfigError, HwsimError, UnknownNameError
from hwsim.workload import LLMConfig, Precision, build_llm, load_workload
from hwsim.workload.llm import active_experts


# Exact parameter counts as reported by `sum(p.numel() ...)` of the HF / torchvision models; the
# rounded published figures (model cards, papers) are checked by the validate registry.
@pytest.mark.parametrize("name,params", [
    ("llama-2-7b", 6_738_415_616), ("llama-2-13b", 13_015_864_320), ("llama-2-70b", 68_976_648_192),
    ("llama-3-8b", 8_030_261_248), ("mistral-7b", 7_241_732_096), ("opt-6.7b", 6_658_473_984),
    ("mixtral-8x7b", 46_702_792_704), ("qwen2-7b", 7_615_616_512),
    ("resnet18", 11_689_512), ("resnet50", 25_557_032), ("mobilenetv2", 3_504_872),
    ("vit-b16", 86_567_656),
])
def test_parameter_counts(name, params):
    assert load_workload(name).num_params == params


def test_decode_flops_are_about_two_per_parameter():
    wl = load_workload("llama-2-7b", phase="decode", batch=1, context=16)
    # embeddings are looked up, not multiplied: 2 FLOPs per non-embedding weight, plus attention
    non_embed = wl.num_params - 32000 * 4096
    assert wl.flops == pytest.approx(2 * non_embed, rel=0.01)


def test_prefill_attention_is_causal_and_logits_only_for_last_token():
    wl = load_workload("llama-2-7b", phase="prefill", batch=2, context=1024)
    att = [op for op in wl.ops if op.type == "Attention"][0]
    assert att.q_len == att.kv_len == 1024 and att.causal
    head = [op for op in wl.ops if op.name == "lm_head"][0]
    assert head.M == 2
    assert wl.meta["new_tokens"] == 2048


def test_decode_reads_context_plus_new_token():
    wl = load_workload("llama-3-8b", phase="decode", batch=4, context=4096)
    att = [op for op in wl.ops if op.type == "Attention"][0]
    assert (att.q_len, att.kv_len, att.kv_heads) == (1, 4097, 8)


def test_precision_policy_and_overrides():
    p = Precision("int4_g128", "fp16", kv="fp8", overrides={"lm_head": {"weights": "int8"},
                                                            "layers.0.*": {"weights": "fp16"}})
    wl = load_workload("llama-2-7b", precision=p)
    by = {op.name: op for op in wl.ops}
    assert by["layers.1.mlp.down"].weights == "int4_g128"
    assert by["layers.0.mlp.down"].weights == "fp16"
    assert by["lm_head"].weights == "int8"
    assert by["layers.3.attn.sdpa"].kv == "fp8" and by["layers.3.attn.kv_write"].out == "fp8"
    assert wl.weight_bytes < load_workload("llama-2-7b").weight_bytes / 3


def test_precision_rejects_bad_roles_and_formats():
    with pytest.raises(HwsimError, match="unknown role 'weight'"):
        Precision(overrides={"lm_head": {"weight": "int8"}})
    with pytest.raises(HwsimError, match="precision.weights"):
        Precision(weights="int4_g0x")


def test_moe_active_experts():
    assert active_experts(8, 2, 1) == pytest.approx(2.0)
    assert active_experts(8, 2, 10_000) == pytest.approx(8.0)
    dec = load_workload("mixtral-8x7b", phase="decode", batch=1)
    up = [op for op in dec.ops if op.name == "layers.0.mlp.up"][0]
    assert (up.groups, up.M, up.weight_groups) == (2, 1, 8)
    pre = load_workload("mixtral-8x7b", phase="prefill", context=512)
    up = [op for op in pre.ops if op.name == "layers.0.mlp.up"][0]
    assert up.groups == 8 and up.M == 128


def test_bitnet_defaults_to_ternary_weights():
    wl = load_workload("bitnet-b1.58-3b")
    assert {op.weights for op in wl.ops if op.type == "Gemm"} == {"ternary"}
    assert load_workload("bitnet-b1.58-3b", weights="int8").ops[2].weights == "int8"


def test_hf_config_json(tmp_path):
    cfg = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
           "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}
    p = tmp_path / "tiny" / "config.json"
    p.parent.mkdir()
    p.write_text(json.dumps(cfg))
    wl = load_workload(p)
    assert wl.num_params == 2 * 1000 * 256 + 2 * (4 * 256 ** 2 + 3 * 256 * 512 + 2 * 256) + 256


def test_missing_or_bad_config_fields_are_named(tmp_path):
    with pytest.raises(ConfigError, match="missing field 'hidden_size'"):
        LLMConfig.from_hf({"num_attention_heads": 4})
    with pytest.raises(ConfigError, match="'num_hidden_layers' = -2"):
        LLMConfig.from_hf({"hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 8,
                           "num_hidden_layers": -2, "vocab_size": 10})
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nkind: transformer\n")
    with pytest.raises(ConfigError, match="bad.yaml: field 'kind'"):
        load_workload(bad)
    bad.write_text("kind: resnet\nconfig: {depth: 19}\n")
    with pytest.raises(ConfigError, match="depth = 19"):
        load_workload(bad)
    bad.write_text("kind: llm\nconfig: {hidden_size: 8}\n  - oops")
    with pytest.raises(ConfigError, match="bad.yaml: line"):
        load_workload(bad)


def test_unknown_workload_and_bad_arguments():
    with pytest.raises(UnknownNameError, match="llama-2-7b"):
        load_workload("llama2-7b")
    with pytest.raises(HwsimError, match="batch"):
        load_workload("llama-2-7b", batch=0)
    with pytest.raises(HwsimError, match="phase = 'pretrain'.*'train'"):
        load_workload("llama-2-7b", phase="pretrain")
    with pytest.raises(HwsimError, match="image_size=225"):
        load_workload("vit-b16", image_size=225)


def test_graph_is_a_connected_dag():
    import networkx as nx
    for name in ("resnet50", "llama-2-7b", "mobilenetv2"):
        g = load_workload(name).graph
        assert nx.is_directed_acyclic_graph(g) and nx.is_weakly_connected(g)


def test_workload_api_from_design_doc():
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
                             weights="int4_g128", activations="fp16")
    assert wl.num_params > 6e9 and wl.flops > 1e10


def test_eager_fusion_lists_the_unfused_kernels_of_pytorch_eager():
    """hwsim/families/gpu/data/h100/kernels_fp16_b1.csv: 1418 kernels in one eager decode step; the
    fused graph (one kernel per op) has about a quarter of that."""
    import collections
    fused = hwsim.load_workload("llama-2-7b", phase="decode")
    eager = hwsim.load_workload("llama-2-7b", phase="decode", fusion="eager")
    assert len(fused.ops) < 400 < 1200 < len(eager.ops) < 1418
    per_layer = collections.Counter(o.group for o in eager.ops if o.layer == 0)
    assert per_layer["attn.norm"] == 8 and per_layer["attn.rope"] == 14
    assert per_layer["attn.kv_write"] == 2 and per_layer["mlp.act"] == 2
    # the same weights and attention either way: fusion changes only the memory-bound kernels
    gemm = lambda w: sorted((o.M, o.N, o.K) for o in w.ops if isinstance(o, hwsim.ops.Gemm))
    assert gemm(fused) == gemm(eager)
    # RMSNorm's fp32 intermediates survive the precision policy
    casts = [o for o in eager.ops if o.name == "layers.0.attn_norm.pow"]
    assert casts and casts[0].activations == "fp32"
    q = hwsim.load_workload("llama-2-7b", phase="decode", fusion="eager", weights="int4",
                            activations="int8")
    assert [o for o in q.ops if o.name == "layers.0.attn_norm.pow"][0].activations == "fp32"


def test_fusion_errors_name_the_field():
    with pytest.raises(hwsim.HwsimError, match="fusion = 'compiled'"):
        hwsim.load_workload("llama-2-7b", fusion="compiled")
    with pytest.raises(hwsim.HwsimError, match="only LLM workloads have a fusion setting"):
        hwsim.load_workload("resnet50", fusion="eager")


@pytest.mark.parametrize("field,value", [("heads", 0), ("layers", -12), ("image_size", 0),
                                         ("patch", 0), ("layers", True), ("hidden", "768"),
                                         ("layers", 10 ** 6)])
def test_vision_config_fields_are_checked(tmp_path, field, value):
    """The issue's examples: named as the YAML spells them (config.<field>), not an op's field."""
    spec = {"kind": "vit", "config": {"patch": 16, "hidden": 64, "layers": 2, "heads": 4,
                                      "mlp": 128, field: value}}
    p = tmp_path / "v.yaml"
    p.write_text(json.dumps(spec))
    with pytest.raises(ConfigError) as e:
        load_workload(p)
    assert f"config.{field} = {value!r}" in str(e.value) and str(p) in str(e.value)


@pytest.mark.parametrize("kw", [dict(batch=0), dict(context=1e23), dict(batch=True),
                                dict(image_size=-1)])
def test_load_workload_dimensions(kw):
    with pytest.raises(ConfigError, match=next(iter(kw))):
        load_workload("resnet8", **kw)


def test_build_vit_checks_its_dimensions():
    from hwsim.workload.cnn import build_vit
    with pytest.raises(HwsimError, match="vit.heads = 0"):
        build_vit(heads=0)
