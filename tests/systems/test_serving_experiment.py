"""experiments/serving_llama70b.py: what its numbers must satisfy, and that the committed CSVs
are what the code produces today (slow: reruns the experiment)."""

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
RESULTS = ROOT / "experiments" / "results" / "serving"


def _exp():
    spec = importlib.util.spec_from_file_location(
        "serving_llama70b", ROOT / "experiments" / "serving_llama70b.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rows():
    return _exp().run_generate()


def test_more_gpus_fit_more_and_run_faster(rows):
    for fmt in ("fp16", "fp8"):
        r = [x for x in rows if x["formats"] == fmt]
        assert [x["gpus"] for x in r] == [1, 2, 4, 8]
        assert all(a["max_batch_ctx2048"] <= b["max_batch_ctx2048"] for a, b in zip(r, r[1:]))
        ok = [x for x in r if x["fits"]]
        assert all(a["output_tokens_per_s"] < b["output_tokens_per_s"]
                   for a, b in zip(ok, ok[1:]))
    by = {(x["formats"], x["gpus"]): x for x in rows}
    assert not by[("fp16", 1)]["fits"] and by[("fp16", 2)]["fits"]
    assert by[("fp8", 1)]["fits"]  # 69 GB of fp8 weights fit one 80 GB H100


def test_committed_generate_csv_is_current(rows):
    with open(RESULTS / "generate.csv") as f:
        committed = list(csv.DictReader(f))
    assert len(committed) == len(rows)
    for c, r in zip(committed, rows):
        for k, v in r.items():
            if isinstance(v, bool) or isinstance(v, str):
                assert c[k] == str(v), k
            else:
                assert float(c[k]) == pytest.approx(v, rel=1e-3), (r["formats"], r["gpus"], k)


@pytest.mark.slow
def test_committed_sweep_csv_is_current(tmp_path):
    reps = _exp().run_sweep(tmp_path, 300)
    with open(RESULTS / "sweep.csv") as f:
        committed = list(csv.DictReader(f))
    for c, r in zip(committed, reps):
        d = r.as_dict()
        for k in ("output_tokens_per_s", "ttft_s_p50", "tpot_s_p99", "preemptions"):
            assert float(c[k]) == pytest.approx(d[k], rel=1e-3), k


def test_readme_blocks_render_from_committed_results():
    spec = importlib.util.spec_from_file_location(
        "systems_readme", ROOT / "benchmarks" / "systems_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ex = mod.serving_example()
    assert ex.count("\n| fp") == 8 and "does not fit" in ex   # fp16 on one H100
    assert mod.serving_sweep().count("\n| ") >= 4
    assert "| hwsim |" in mod.systems_compare()
    assert "decode_step_7b_cold" in mod.systems_speed()
