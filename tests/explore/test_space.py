import pytest

from hwsim.errors import ConfigError
from hwsim.explore import Evaluator, explore, load_space


def test_yaml_example_loads():
    from pathlib import Path
    sp = load_space(Path(__file__).parents[2] / "experiments/spaces/llama_lut_precision.yaml")
    assert sp.arch == "lut-tc" and "accuracy_proxy" in sp.objectives


@pytest.mark.parametrize("patch,match", [
    (lambda s: s["precision"]["weights"].update(choices=[]), "choices is empty"),
    (lambda s: s["precision"]["weights"].update(choices=["int99"]), "int99"),
    (lambda s: s.update(objectives={"speed": "minimize"}), "unknown objective"),
    (lambda s: s.update(objectives={}), "at least one objective"),
    (lambda s: s.update(constraints={"area_mm2": {"min": 3, "max": 1}}), "min 3.0 > max 1.0"),
    (lambda s: s.update(colour="red"), "colour"),
    (lambda s: s["hardware"].update(tiles={"int": [8, 2]}), "low <= high"),
    (lambda s: s["precision"].update(weights={}), "at least one family"),
])
def test_bad_spaces_fail_with_the_field(space, patch, match):
    patch(space)
    with pytest.raises(ConfigError, match=match):
        load_space(space)


@pytest.mark.parametrize("patch,match", [
    (lambda s: s["hardware"].update(bogus={"choices": [1]}), "bogus"),
    (lambda s: s["precision"].update(groups=["mlp.sideways"]), "mlp.sideways"),
    (lambda s: (s.update(arch="h100-sxm", constraints={}), s.pop("hardware"),
                s["precision"].update(activations={"choices": ["nvfp4"]})), "does not run"),
    (lambda s: (s.update(arch="h100-sxm"), s.pop("hardware"), s["precision"].update(
        weights={"choices": ["fp16"]}, activations={"choices": ["fp16"]}, kv=None)),
     "no area model"),
])
def test_problems_found_before_any_trial(space, patch, match):
    patch(space)
    with pytest.raises(Exception, match=match):
        explore(space, 5, storage="memory", progress=False)


def test_conditional_format_parameters(space):
    space["precision"]["weights"] = {"int": {"bits": [2, 4], "group": [0, 128]},
                                     "float": {"exp_bits": [2, 3], "man_bits": [1, 2]}}
    space["arch"] = "mac-tc"
    space.pop("hardware")
    space["precision"]["activations"] = {"choices": ["fp16"]}
    space["precision"]["kv"] = None
    space["objectives"] = {"energy_j": "minimize", "accuracy_proxy": "minimize"}
    space["constraints"] = {}
    res = explore(space, 40, storage="memory", seed=0, progress=False)
    import optuna
    for t in res.study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        fams = {k: v for k, v in t.params.items() if k.endswith(".family")}
        for k, fam in fams.items():
            base = k[: -len(".family")]
            # exponent bits only exist for float formats, integer bits only for ints
            assert (f"{base}.exp_bits" in t.params) == (fam == "float")
            assert (f"{base}.bits" in t.params) == (fam == "int")


def test_identical_layers_cost_once(space):
    ev = Evaluator(load_space(space))
    assert len(ev.templates) < 20 < len(ev.workload)  # 32 layers collapse into templates


@pytest.mark.parametrize("patch,match", [
    (lambda s: s["hardware"].update(tiles={"int": [4, 64], "step": -4}), "step"),
    (lambda s: s["hardware"].update(tiles={"int": [4, 64], "step": 0}), "step"),
    (lambda s: s["hardware"].update(tiles={"int": [4, 64], "log": True, "step": 4}), "log"),
    (lambda s: s["hardware"].update(x={"float": [1e9, float("inf")]}), "float"),
    (lambda s: s.update(constraints={"area_mm2": {"max": float("nan")}}), "area_mm2.max"),
    (lambda s: s["workload"].update(image_size=0), "image_size"),
    (lambda s: s.update(proxy={"sensitivity": {"mlp.down": float("nan")}}), "sensitivity"),
    (lambda s: s["hardware"].update(tiles={"choices": [8, float("nan")]}), "finite"),
])
def test_out_of_range_space_fields_fail_with_the_field(space, patch, match):
    patch(space)
    with pytest.raises(ConfigError, match=match):
        load_space(space)


@pytest.mark.parametrize("patch,match", [
    # a later choice the arch cannot run, not only the first one
    (lambda s: s["precision"].update(weights={"choices": ["int4_g128", "fp16"]}), "fp16"),
    (lambda s: s["hardware"].update(tiles={"choices": [8, 0]}), "hardware.tiles = 0"),
])
def test_every_choice_is_checked_before_any_trial(space, patch, match):
    patch(space)
    with pytest.raises(ConfigError, match=match):
        explore(space, 5, storage="memory", progress=False)


def test_many_domain_values_are_checked_one_at_a_time(space):
    """Past CHECK_ALL combinations each value is tried with the others at their first."""
    from hwsim.explore.evaluator import CHECK_ALL
    space["hardware"]["tiles"] = {"choices": [4, 8, 16, 32, 64, 128, 0]}
    space["precision"]["kv"] = {"choices": ["fp16", "fp8_e4m3", "int8", "int4"]}
    sp = load_space(space)
    ev = Evaluator(sp)
    assert 3 * 7 * 4 > CHECK_ALL
    with pytest.raises(ConfigError, match="hardware.tiles = 0"):
        ev.check()


def test_bad_tensor_files_are_clean_errors(space, tmp_path):
    import numpy as np
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    obj = tmp_path / "obj.npz"
    np.savez(obj, **{"mlp.up": np.array([{"a": 1}, None], dtype=object)})
    nan = tmp_path / "nan.npz"
    np.savez(nan, **{"mlp.up": np.array([[1.0, np.nan]])})
    for f in (bad, obj, nan):
        space["proxy"] = {"tensors": str(f)}
        with pytest.raises(ConfigError, match="proxy.tensors"):
            Evaluator(load_space(space))


def test_non_text_space_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="UTF-8|not a YAML text file"):
        load_space(f)
