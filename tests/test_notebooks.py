"""Every notebook's code cells run top to bottom without error (no Jupyter needed), and what
they compute is checked against what it must be."""

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def run_notebook(path: Path) -> dict:
    nb = json.loads(path.read_text())
    ns: dict = {"__name__": "__notebook__"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}[cell {i}]", "exec"), ns)
    return ns


# what each notebook must have computed (a notebook without an entry here fails: add one)
def _quickstart(ns):
    import hwsim
    assert ns["rep"].latency_s == pytest.approx(hwsim.evaluate(ns["wl"], ns["hw"]).latency_s)
    t = ns["tokens_per_s"]
    # memory-bound batch-1 decode: fewer stored bits per weight, more tokens/s
    assert t["int4_g128"] > t["int8"] > t["fp16"] > 0
    s = ns["sqnr_db"]
    # 40x outlier channels: per-tensor int4 loses to group and block scaling by a wide margin
    assert s["int4_g128"] > s["int4"] + 6 and s["mxfp4"] > s["int4"] + 6
    assert len(ns["ax"].patches) == len(ns["groups"]) > 0


CHECKS = {"quickstart.ipynb": _quickstart}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_computes_what_it_should(path):
    ns = run_notebook(path)
    assert path.name in CHECKS, f"{path.name}: add its checks to tests/test_notebooks.py"
    CHECKS[path.name](ns)
