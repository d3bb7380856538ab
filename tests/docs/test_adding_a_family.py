"""docs/adding-a-family.md is a worked example: its Python blocks run here, in order."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "adding-a-family.md"


def _conformance():
    spec = importlib.util.spec_from_file_location(
        "conformance", ROOT / "tests" / "families" / "test_conformance.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_worked_example_runs_end_to_end():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5
    ns = {"conformance": _conformance(), "__name__": "adding_a_family"}
    from hwsim.families import REGISTRY, unregister
    try:
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"{DOC.name} block {i + 1}", "exec"), ns)
            except Exception as e:  # name the block, so the doc is easy to fix
                pytest.fail(f"{DOC.name}, python block {i + 1}: {type(e).__name__}: {e}")
        assert "streamer" in REGISTRY
        hw = ns["hw"]
        assert hw.family == "streamer"
        # the exploration evaluator and sum_costs take the plug-in like any family
        from hwsim.costing import sum_costs
        assert sum_costs(hw, ns["wl"].ops).latency_s == pytest.approx(ns["report"].latency_s)
    finally:
        if "streamer" in REGISTRY:
            unregister("streamer")
