"""Property-based fuzzing of the input boundary (issue 21): malformed arch parameters, HF and
vision workload configs, quantization configs and binary files end either in a clean
:class:`hwsim.HwsimError` or in finite, positive results from :func:`hwsim.evaluate` -- never in
another exception (a traceback from deep inside a model) and never in a NaN, inf or negative
figure.

Deterministic (``derandomize``) with a bounded number of examples so it stays in the fast suite;
``HWSIM_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`` explores further (random seeds)."""

from __future__ import annotations

import json
import math
import os
import struct
import warnings

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from hwsim.arch import load_arch, resolved_spec
from hwsim.errors import HwsimError
from hwsim.evaluate import evaluate
from hwsim.importers.gguf import read_gguf, write_gguf
from hwsim.importers.hf import quant_policy
from hwsim.importers.safetensors import read_checkpoint, read_header
from hwsim.report import Report
from hwsim.workload.graph import Precision
from hwsim.workload.llm import LLMConfig, build_llm
from hwsim.workload.presets import load_workload
from hwsim.workload.tiny import build_resnet8

_DEEP = int(os.environ.get("HWSIM_FUZZ_EXAMPLES", "0"))


def _settings(n: int):
    return settings(max_examples=_DEEP or n, deadline=None, derandomize=not _DEEP,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.function_scoped_fixture])


# a tiny llama (2 layers, hidden 64) in HF spelling: the base every HF mutation starts from
TINY_HF = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4,
           "num_key_value_heads": 2, "intermediate_size": 128, "num_hidden_layers": 2,
           "vocab_size": 256}
# one preset per family (and the GPU roofline model), with a workload it runs
PRESETS = {"h100-sxm": "llm", "a100-lut-4x": "llm", "lut-tc": "llm-int4", "bitfusion": "cnn-int8",
           "mac-tc": "llm", "fpga-int8-systolic": "llm-int8", "stm32h7": "cnn-int8",
           "rpi5": "llm"}


def _workload(kind: str):
    if kind.startswith("llm"):
        prec = {"llm": Precision(), "llm-int4": Precision("int4", "fp16"),
                "llm-int8": Precision("int8", "int8")}[kind]
        return build_llm(LLMConfig.from_hf(TINY_HF, name="tiny"), "decode", 1, 16, prec)
    return build_resnet8(precision=Precision("int8", "int8") if kind == "cnn-int8" else None)


WORKLOADS = {p: _workload(k) for p, k in PRESETS.items()}


def assert_clean_or_sane(fn):
    """Run ``fn``: a HwsimError is a clean refusal; otherwise
    a Report's ops and totals must be finite, latency and energy positive."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            report = fn()
    except HwsimError as e:
        msg = str(e)
        assert msg and "\n" not in msg.strip(), f"multi-line error: {msg!r}"
        return None
    if not isinstance(report, Report):  # a reader's result: it returned, cleanly
        return report
    for row in report.rows:
        c = row.cost
        assert math.isfinite(c.latency_s) and c.latency_s >= 0, (row.op.name, c.latency_s)
        assert math.isfinite(c.energy_j) and c.energy_j >= 0, (row.op.name, c.energy_j)
    assert math.isfinite(report.latency_s) and report.latency_s > 0
    assert math.isfinite(report.energy_j) and report.energy_j > 0
    return report


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_run_their_fuzz_workload(preset):
    """The baseline of the fuzzing: each preset runs its workload unmutated."""
    assert assert_clean_or_sane(lambda: evaluate(WORKLOADS[preset], load_arch(preset)))


BAD_NUMBERS = st.one_of(
    st.sampled_from([0, -1, -0.5, 1e-300, 1e300, 1e30, 2 ** 70, float("nan"), float("inf"),
                     -float("inf"), True, False, "8", "x", None, [], {}, [1.0], {"a": 1}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-2 ** 80, max_value=2 ** 80),
)


def _params(preset: str) -> dict:
    spec, _ = resolved_spec(preset)
    return spec["params"]


def _mutation(preset: str):
    """(field, new value): a numeric field or one entry of a dict-valued field set to a bad
    number, or a dict-valued field given an unknown key."""
    params = _params(preset)
    numeric = sorted(k for k, v in params.items() if isinstance(v, (int, float, dict, list)))
    field = st.sampled_from(numeric)

    def mutate(name):
        v = params[name]
        if isinstance(v, dict) and v:
            key = st.sampled_from(sorted(v) + ["fp5", "nonsense"])
            return st.tuples(st.just(name), st.builds(lambda k, x: {**v, k: x}, key, BAD_NUMBERS))
        return st.tuples(st.just(name), BAD_NUMBERS)
    return field.flatmap(mutate)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_fuzz_arch_params(preset):
    """One arch field per example set to 0, negative, NaN, inf, huge, tiny or a wrong type."""
    wl = WORKLOADS[preset]

    @_settings(40)
    @given(_mutation(preset))
    def run(mut):
        field, value = mut
        assert_clean_or_sane(lambda: evaluate(wl, load_arch(preset, **{field: value})))
    run()


@pytest.mark.parametrize("preset", ["h100-sxm", "b200"])
def test_fuzz_gpu_path_fallback(preset):
    """path_fallback entries naming datapaths that exist, do not, or are not strings."""
    @_settings(25)
    @given(st.dictionaries(st.sampled_from(["fp4", "fp6", "int4", "int1", "fp8", "xx"]),
                           st.one_of(st.sampled_from(["fp8", "int8", "fp16", "fp5", "", "int4"]),
                                     BAD_NUMBERS), max_size=3))
    def run(fallback):
        wl = load_workload("llama-3b", context=64, weights="fp8", activations="fp8")
        assert_clean_or_sane(lambda: evaluate(wl, load_arch(preset, path_fallback=fallback)))
    run()


HF_FIELDS = sorted(TINY_HF) + ["head_dim", "num_local_experts", "num_experts_per_tok",
                               "max_position_embeddings", "word_embed_proj_dim",
                               "attention_bias", "tie_word_embeddings", "hidden_act"]


@_settings(120)
@given(st.sampled_from(HF_FIELDS), BAD_NUMBERS, st.sampled_from(["llama", "opt", "mixtral"]))
def test_fuzz_hf_config(field, value, model_type):
    cfg = {**TINY_HF, "model_type": model_type, field: value}
    if model_type == "mixtral" and field != "num_local_experts":
        cfg.setdefault("num_local_experts", 4)
        cfg.setdefault("num_experts_per_tok", 2)
    hw = load_arch("h100-sxm")
    assert_clean_or_sane(lambda: evaluate(
        build_llm(LLMConfig.from_hf(cfg, source="config.json"), "decode", 1, 16), hw))


QUANT = {"gptq": {"quant_method": "gptq", "bits": 4, "group_size": 128, "sym": True},
         "awq": {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True},
         "bnb": {"quant_method": "bitsandbytes", "load_in_4bit": True},
         "ct": {"quant_method": "compressed-tensors", "ignore": ["lm_head"],
                "config_groups": {"g0": {"targets": ["Linear"],
                                         "weights": {"num_bits": 8, "type": "int"}}}}}
QUANT_BAD = st.one_of(BAD_NUMBERS, st.sampled_from(
    ["re:([", ["re:(["], ["re:.*"], [5], "lm_head", {"a": 1}, [[1]], "false", 4.0]))


@_settings(120)
@given(st.sampled_from(sorted(QUANT)),
       st.sampled_from(["bits", "group_size", "sym", "zero_point", "modules_to_not_convert",
                        "llm_int8_skip_modules", "ignore", "config_groups", "load_in_4bit",
                        "load_in_8bit", "fmt", "lm_head"]), QUANT_BAD)
def test_fuzz_quantization_config(method, field, value):
    q = {**QUANT[method], field: value}
    try:
        policy = quant_policy(q, "config.json: quantization_config")
    except HwsimError:
        return
    for module in ("model.layers.0.mlp.up_proj", "lm_head"):  # patterns must apply cleanly
        policy.excluded(module)
        policy.formats_for(module)


VISION = {"vit": {"kind": "vit", "config": {"patch": 16, "hidden": 64, "layers": 2, "heads": 4,
                                            "mlp": 128, "image_size": 32, "num_classes": 10}},
          "resnet": {"kind": "resnet", "config": {"depth": 18, "image_size": 32}},
          "resnet8": {"kind": "resnet8", "config": {"image_size": 32}}}


@given(st.sampled_from(sorted(VISION)), st.data())
@_settings(80)
def test_fuzz_vision_config(tmp_path_factory, kind, data):
    spec = json.loads(json.dumps(VISION[kind]))
    field = data.draw(st.sampled_from(sorted(spec["config"]) + ["layers", "bogus"]))
    spec["config"][field] = data.draw(BAD_NUMBERS)
    path = tmp_path_factory.mktemp("vision") / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(spec))
    hw = load_arch("h100-sxm")
    assert_clean_or_sane(lambda: evaluate(load_workload(path), hw))


@_settings(60)
@given(st.binary(max_size=300))
def test_fuzz_yaml_bytes(tmp_path_factory, raw):
    """Arbitrary bytes as an arch or workload YAML: a one-line error or a (rejected) mapping."""
    path = tmp_path_factory.mktemp("bytes") / "x.yaml"
    path.write_bytes(raw)
    assert_clean_or_sane(lambda: load_arch(path))
    assert_clean_or_sane(lambda: load_workload(path))


_COUNTS = st.one_of(st.integers(0, 4), st.sampled_from([2 ** 31, 2 ** 40, 2 ** 63, 2 ** 64 - 1]))


@_settings(80)
@given(_COUNTS, _COUNTS, _COUNTS, st.integers(0, 13), st.integers(0, 13), st.binary(max_size=64))
def test_fuzz_gguf_header(tmp_path_factory, n_tensors, n_kv, length, vtype, etype, tail):
    """A GGUF header whose counts and lengths claim up to 2**64 entries (an array of ``etype``
    when ``vtype`` is 9), with random bytes after: bounded by the file size before anything is
    allocated (the unbounded reader called read(2**40))."""
    body = (b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + struct.pack("<Q", 1) + b"k"
            + struct.pack("<I", vtype) + struct.pack("<IQ", etype, length) + tail)
    path = tmp_path_factory.mktemp("gguf") / "x.gguf"
    path.write_bytes(body)
    assert_clean_or_sane(lambda: read_gguf(path))
    assert_clean_or_sane(lambda: load_workload(path))


@_settings(40)
@given(st.dictionaries(st.sampled_from(["llama.block_count", "llama.embedding_length",
                                        "llama.feed_forward_length", "llama.attention.head_count",
                                        "llama.attention.head_count_kv", "llama.vocab_size",
                                        "llama.expert_count", "llama.expert_used_count"]),
                       st.one_of(st.integers(-3, 300), st.booleans(), st.floats(0, 100),
                                 st.text(max_size=3)), max_size=8))
def test_fuzz_gguf_metadata(tmp_path_factory, meta):
    base = {"general.architecture": "llama", "llama.block_count": 2,
            "llama.embedding_length": 64, "llama.feed_forward_length": 128,
            "llama.attention.head_count": 4, "llama.vocab_size": 256}
    path = tmp_path_factory.mktemp("gguf") / "m.gguf"
    write_gguf(path, {**base, **meta}, [])
    hw = load_arch("h100-sxm")
    assert_clean_or_sane(lambda: evaluate(load_workload(path, context=16), hw))


@_settings(60)
@given(st.one_of(st.integers(0, 200), st.sampled_from([2 ** 40, 2 ** 64 - 1])),
       st.one_of(st.binary(max_size=120), st.builds(lambda o: json.dumps(o).encode(),
                                                    st.recursive(st.none() | st.booleans()
                                                                 | st.integers() | st.text(max_size=4),
                                                                 lambda c: st.lists(c, max_size=3)
                                                                 | st.dictionaries(st.text(max_size=4), c, max_size=3),
                                                                 max_leaves=8))))
def test_fuzz_safetensors_header(tmp_path_factory, n, raw):
    path = tmp_path_factory.mktemp("st") / "model.safetensors"
    path.write_bytes(struct.pack("<Q", n) + raw)
    assert_clean_or_sane(lambda: read_header(path))


@_settings(40)
@given(st.one_of(st.just([]), st.just("x"), st.dictionaries(
    st.sampled_from(["weight_map", "metadata"]),
    st.one_of(st.lists(st.text(max_size=5)), st.dictionaries(
        st.text(max_size=4), st.one_of(st.sampled_from(["../x.safetensors", "/etc/passwd",
                                                         "a/../../b", "ok.safetensors", ""]),
                                       BAD_NUMBERS), max_size=3)), max_size=2)))
def test_fuzz_safetensors_index(tmp_path_factory, index):
    d = tmp_path_factory.mktemp("ckpt")
    (d / "model.safetensors.index.json").write_text(json.dumps(index))
    assert_clean_or_sane(lambda: read_checkpoint(d))
