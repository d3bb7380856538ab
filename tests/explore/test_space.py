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
