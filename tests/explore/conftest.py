import pytest

SPACE = {
    "name": "t",
    "workload": {"name": "llama-2-7b", "phase": "decode", "batch": 1, "context": 512},
    "arch": "lut-tc",
    "hardware": {"tiles": {"int": [4, 32], "log": True}},
    "precision": {"granularity": "group", "groups": ["attn.qkv", "attn.o", "mlp.up", "mlp.down"],
                  "weights": {"choices": ["int2_g128", "int3_g128", "int4_g128"]},
                  "activations": {"choices": ["int8"]}, "kv": {"choices": ["fp16", "fp8_e4m3"]}},
    "objectives": {"latency_s": "minimize", "accuracy_proxy": "minimize"},
    "constraints": {"area_mm2": {"max": 2.0}},
}


@pytest.fixture
def space():
    import copy
    return copy.deepcopy(SPACE)
