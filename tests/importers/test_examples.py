"""The shipped example inputs (examples/) import: ZigZag's unmodified tpu_like.yaml (with its
``systolic_dimensions``) gives the design the hand-written mirror describes; presets' default
formats (``defaults`` in the arch YAML, else a datapath's own formats) are what the CLI uses."""

from pathlib import Path

import pytest

import hwsim
from hwsim._paths import read_yaml
from hwsim.arch import arch_defaults
from hwsim.errors import ConfigError, UnknownNameError
from hwsim.importers.zigzag import zigzag_spec

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"


def test_unmodified_zigzag_tpu_like_matches_the_mirror():
    text = (EX / "tpu_like.yaml").read_text()
    assert "systolic_dimensions: [D1, D2]" in text  # zigzag-dse 3.9.1's file, as shipped
    spec = zigzag_spec(EX / "tpu_like.yaml")
    mirror = read_yaml(ROOT / "hwsim/families/mac_array/data/tpu_like_hwsim.yaml")["params"]
    for k in ("rows", "cols", "dataflow", "input_buffer_bytes", "weight_buffer_bytes",
              "output_buffer_bytes", "mem_bandwidth_Bps"):
        assert spec["params"][k] == mirror[k], k
    assert "systolic along D1, D2" in spec["description"]


def test_systolic_dimensions_must_be_array_dimensions(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text((EX / "tpu_like.yaml").read_text().replace("systolic_dimensions: [D1, D2]",
                                                             "systolic_dimensions: [D3]"))
    with pytest.raises(ConfigError, match="systolic_dimensions.*D3"):
        zigzag_spec(p)


def test_timeloop_eyeriss_like_imports():
    hw = hwsim.load_arch(EX / "eyeriss_like" / "arch.yaml")
    assert (hw.params.rows, hw.params.cols, hw.params.technology) == (12, 14, "65nm")


@pytest.mark.parametrize("arch,want", [
    ("mac-tc-int8", {"weights": "int8", "activations": "int8"}),
    ("flightllm-u280", {"weights": "int4_g128", "activations": "int8"}),  # inherited
    ("bitmod-ant-gen", {"weights": "ant4", "activations": "fp16"}),       # inherited
    ("h100-sxm", {}), ("dgx-h100", {}),                                   # fp16 runs / a system
    (str(EX / "tpu_like.yaml"), {"weights": "int8", "activations": "int8"}),  # datapath formats
])
def test_arch_defaults(arch, want):
    assert arch_defaults(arch) == want


def test_every_default_runs_its_presets_workloads():
    """A preset's default formats run a CNN and an LLM decode step (what the docs show)."""
    from hwsim.arch import list_archs
    for a in list_archs():
        d = arch_defaults(a)
        if not d:
            continue
        hw = hwsim.load_arch(a)
        for wl in ("resnet18", "llama-2-7b"):
            assert hwsim.evaluate(hwsim.load_workload(wl, **d), hw).latency_s > 0, (a, wl)


def test_llm_stream_defaults_to_fp16_under_fp8_activations_only():
    """GPU FP8 recipes keep the residual stream 16-bit; int8 and explicit streams are kept."""
    ops = {op.name: op for op in hwsim.load_workload(
        "llama-2-7b", weights="fp8_e4m3", activations="fp8_e4m3").ops}
    assert ops["layers.0.attn.qkv"].activations == "fp8_e4m3"
    assert ops["layers.0.attn.qkv"].out == "fp16"
    assert ops["layers.0.attn.residual"].activations == "fp16"
    int8 = {op.name: op for op in hwsim.load_workload(
        "llama-2-7b", weights="int8", activations="int8").ops}
    assert int8["layers.0.attn.residual"].activations == "int8"
    fp8 = {op.name: op for op in hwsim.load_workload(
        "llama-2-7b", weights="fp8_e4m3", activations="fp8_e4m3", stream="fp8_e4m3").ops}
    assert fp8["layers.0.attn.residual"].activations == "fp8_e4m3"


def test_eager_fp8_llm_quantizes_each_gemm_input():
    wl = hwsim.load_workload("llama-2-7b", phase="prefill", context=128, weights="fp8_e4m3",
                             activations="fp8_e4m3", fusion="eager")
    quant = [op for op in wl.ops if op.name.endswith(".quant") and op.layer == 0]
    assert [op.name for op in quant] == [f"layers.0.{g}.quant" for g in
                                         ("attn.qkv", "attn.o", "mlp.up", "mlp.down")]
    assert all(op.activations == "fp16" and op.out == "fp8_e4m3" for op in quant)


def test_bad_defaults_are_named(tmp_path):
    p = tmp_path / "x.yaml"
    base = (ROOT / "arch" / "mac-tc-int8.yaml").read_text()
    p.write_text(base.replace("defaults: {weights: int8, activations: int8}",
                              "defaults: {weight: int8}"))
    with pytest.raises(ConfigError, match="defaults.*weights, activations, kv"):
        arch_defaults(p)
    p.write_text(base.replace("defaults: {weights: int8, activations: int8}",
                              "defaults: {weights: int9x}"))
    with pytest.raises(UnknownNameError):
        arch_defaults(p)
