"""``engine: sim`` in a space file: each trial costed by the tile-level simulator."""

import pytest

from hwsim.errors import ConfigError
from hwsim.explore import explore
from hwsim.explore.evaluator import Evaluator
from hwsim.explore.space import load_space

SPACE = {
    "name": "sim",
    "workload": {"name": "llama-2-7b", "phase": "decode", "batch": 1, "context": 256},
    "arch": "mac-tc",
    "hardware": {"input_buffer_bytes": {"choices": [65536, 262144, 524288]}},
    "precision": {"granularity": "global", "weights": {"choices": ["fp16"]},
                  "activations": {"choices": ["fp16"]}},
    "objectives": {"latency_s": "minimize", "area_mm2": "minimize"},
}


def test_sim_engine_costs_trials_with_the_simulator():
    ana = Evaluator(load_space(SPACE))
    sim = Evaluator(load_space({**SPACE, "engine": "sim"}))
    for ib in (65536, 524288):
        d = ana.default_design()
        d = type(d)(d.weights, d.activations, d.kv, {"input_buffer_bytes": ib})
        la, ls = ana.evaluate(d)["latency_s"], sim.evaluate(d)["latency_s"]
        assert ls > la                     # fill/drain and stalls only add time
    # the space's choice of buffer now shows in latency beyond the analytical model's view
    assert load_space({**SPACE, "engine": "sim"}).engine == "sim"
    assert load_space(SPACE).engine == "analytical"


def test_explore_runs_with_the_sim_engine():
    res = explore({**SPACE, "engine": "sim"}, 4, storage="memory", seed=1, progress=False)
    assert len(res.study.trials) == 4


def test_bad_engine_names_the_field():
    with pytest.raises(ConfigError, match="field 'engine'"):
        load_space({**SPACE, "engine": "bogus"})
