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


def _gpu_vs_measured(ns):
    import hwsim
    assert len(ns["measured"]) == 12
    m = ns["mape"]
    # like-for-like (eager) beats fused beats the roofline bound against eager measurements
    assert m["eager"] < m["fused"] < m["roofline"]
    p = ns["predicted"]
    for (arch, w, b) in ns["measured"]:
        assert p[arch, w, b, "roofline"] >= p[arch, w, b, "fused"] >= p[arch, w, b, "eager"]
    wl = ns["decode_workload"]("int4", 8, 2048, "eager")
    assert p["h200-sxm", "int4", 8, "eager"] == pytest.approx(
        hwsim.evaluate(wl, hwsim.load_arch("h200-sxm")).tokens_per_s)
    assert ns["below_roof"] is True
    assert sum(ns["shares"].values()) == pytest.approx(1.0)
    assert len(ns["results"]) > 0 and all(r.check.family == "gpu-decode" for r in ns["results"])


def _formats_explorer(ns):
    s = ns["sqnr"]
    assert s["int4_g128"] > s["int4"] + 3 and s["int4_g32"] > s["int4_g128"]
    # NVFP4 (fp8 scale per 16) resolves outlier blocks better than MXFP4 (power-of-2 per 32)
    assert s["nvfp4"] > s["mxfp4"]
    assert s["fp8_e4m3"] > s["nvfp4"] and s["int8"] > s["int4"]
    rows = {r["format"]: r for r in ns["rows"]}
    front = ns["front"]
    assert [rows[f]["storage_bits"] for f in front] == sorted(rows[f]["storage_bits"]
                                                              for f in front)
    assert [s[f] for f in front] == sorted(s[f] for f in front)
    sw = ns["sweep"]
    # the other channels under per-tensor int4 lose their levels as outliers grow; small blocks
    # keep them (fewer elements share an outlier's scale)
    assert sw["int4"][-1] < sw["int4"][0] - 5
    assert sw["nvfp4"][-1] > sw["mxfp4"][-1] > sw["int4_g128"][-1] > sw["int4"][-1]
    t = ns["tps"]
    assert t["int4_g128"] > t["fp8_e4m3"] > t["fp16"]


def _pareto_exploration(ns):
    import hwsim.plot as hp
    res = ns["res"]
    assert len(res.rows) == 60
    front = ns["front2d"]
    keys = [hp.figures._design_key(r) for r in front]
    assert len(keys) == len(set(keys)) > 0
    feas = [r for r in res.rows if r["feasible"]]
    for f in front:  # nothing feasible dominates a front design
        assert not any(ns["beats"](r, f) for r in feas)
    assert len(ns["distinct_designs"]) <= len(feas)
    u = ns["uniform"]
    for (w, kv, t) in u:
        if w == "int3_g128":  # fewer weight bits: faster and a larger quantization error
            lo, hi = u["int2_g128", kv, t], u["int4_g128", kv, t]
            assert lo["latency_s"] < u[w, kv, t]["latency_s"] < hi["latency_s"]
            assert lo["accuracy_proxy"] > u[w, kv, t]["accuracy_proxy"] > hi["accuracy_proxy"]
    assert set(ns["beaten"]) == set(u)


def _lut_tensor_core(ns):
    t = ns["tops"]
    # one pass per weight bit-plane on the LUT core; the MAC core's speed ignores weight width
    assert t["lut-tc", "int2"] == pytest.approx(2 * t["lut-tc", "int4"])
    assert t["lut-tc", "binary"] == pytest.approx(4 * t["lut-tc", "int4"])
    assert t["mac-tc-int8", "int2"] == pytest.approx(t["mac-tc-int8", "int4"])
    for name, a in ns["area"].items():
        assert a == pytest.approx(ns[{"lut-tc": "lut", "mac-tc": "mac",
                                      "mac-tc-int8": "mac8"}[name]].area_mm2)
    reps = ns["reps"]
    assert all(r.energy_j > 0 for r in reps)
    assert ns["fig"].results and all(r.check.family == "lut" for r in ns["results"])


CHECKS = {"quickstart.ipynb": _quickstart, "lut_tensor_core.ipynb": _lut_tensor_core, "gpu_vs_measured.ipynb": _gpu_vs_measured,
          "formats_explorer.ipynb": _formats_explorer,
          "pareto_exploration.ipynb": _pareto_exploration}


# notebooks that take more than a few seconds run with the slow tests (CI runs those too)
SLOW = {"gpu_vs_measured.ipynb"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.name in SLOW
                                  else p for p in NOTEBOOKS], ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_computes_what_it_should(path):
    ns = run_notebook(path)
    assert path.name in CHECKS, f"{path.name}: add its checks to tests/test_notebooks.py"
    CHECKS[path.name](ns)
