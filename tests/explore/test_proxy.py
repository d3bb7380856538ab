import numpy as np
import pytest

from hwsim.explore.proxy import AccuracyProxy, relative_error, synthetic_tensor


@pytest.mark.parametrize("kind", ["weights", "activations"])
def test_four_bit_ranking_matches_the_literature_on_outlier_heavy_tensors(kind):
    """At 4 bits, group-scaled int and MX/NVFP4 beat per-tensor int on LLM tensors with outlier
    channels (LLM.int8(), SmoothQuant, OCP MX and NVFP4 motivations)."""
    x = synthetic_tensor(kind, "llm")
    per_tensor = relative_error(x, "int4")
    for better in ("int4_g128", "mxfp4", "nvfp4"):
        assert relative_error(x, better) < per_tensor / 2
    assert relative_error(x, "nvfp4") < relative_error(x, "mxfp4")  # finer scales win


def test_more_bits_lower_error():
    x = synthetic_tensor("weights", "llm")
    e = [relative_error(x, f"int{b}_g128") for b in (2, 3, 4, 8)]
    assert all(a > b for a, b in zip(e, e[1:]))


def test_user_tensors_and_sensitivity(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "t.npz"
    np.savez(p, **{"mlp.down": rng.standard_normal((16, 64)), "act:mlp.down": rng.standard_normal((8, 64))})
    prox = AccuracyProxy("llm", p, sensitivity={"mlp.down": 3.0})
    assert prox.tensor("mlp.down", "weights").shape == (16, 64)
    a = prox.score({"mlp.down": ("int4", 100), "mlp.up": ("int4", 100)}, {})
    b = AccuracyProxy("llm", p).score({"mlp.down": ("int4", 100), "mlp.up": ("int4", 100)}, {})
    assert a != b


def test_bad_proxy_input(tmp_path):
    from hwsim.errors import ConfigError
    with pytest.raises(ConfigError, match="no such file"):
        AccuracyProxy("llm", tmp_path / "nope.npz")
    with pytest.raises(ConfigError, match="profile"):
        AccuracyProxy("rnn")
    with pytest.raises(ConfigError, match="sensitivity"):
        AccuracyProxy("llm", sensitivity={"x": -1})


def test_proxy_is_identical_across_processes():
    """Synthetic tensors must not depend on Python's per-process hash randomization."""
    import subprocess
    import sys
    code = ("from hwsim.explore.proxy import AccuracyProxy; "
            "print(AccuracyProxy('llm').score({'mlp.down': ('int3_g128', 1), "
            "'attn.qkv': ('int2_g128', 1)}, {'mlp.down': 'int8'}))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout
            for seed in (1, 2, 3)}
    assert len(outs) == 1 and outs.pop().strip()
