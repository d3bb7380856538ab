"""hwsim against its peers, each on its own public path, timed side by side in one run.

    python benchmarks/bench_peers.py [--genz-python PY] [--zigzag-python PY] [--procs 15]
                                     [--zigzag-resnet18] [--baseline CHECKOUT] [--csv FILE]

Cases (each tool computes the same thing):

* ``decode-7b``: one llama-2-7b decode step, batch 1, 2048 cached tokens, 16-bit weights and
  activations, on an H100. hwsim: ``hwsim.load_workload("llama-2-7b", phase="decode", batch=1,
  context=2048)`` then ``hwsim.evaluate(wl, hw)`` with ``hw = hwsim.load_arch("h100-sxm")``;
  GenZ (pip ``genz-llm``): ``decode_moddeling(model="meta-llama/Llama-2-7B", batch_size=1,
  input_tokens=2048, output_tokens=1, system_name=system_configs["H100_GPU"], bits="bf16")``.
* ``zigzag-llama-2-7b-layer`` (and ``zigzag-resnet18`` with ``--zigzag-resnet18``: ZigZag takes
  minutes): the cases of benchmarks/zigzag/compare.py -- ZigZag 3.9.1's ``tpu_like`` array and
  ``get_hardware_performance_zigzag`` against hwsim's mirror of it
  (``hwsim/families/mac_array/data/tpu_like_hwsim.yaml``) with ``evaluate``.

What is timed, for every tool alike:

* **cold**: the first call in a new Python process. Before the clock starts the process has
  imported the tool and loaded the hardware description (hwsim: ``import hwsim`` and
  ``load_arch``; GenZ: ``import GenZ`` and its ``system_configs``; ZigZag: ``import zigzag``):
  that set-up is reported in its own column and is not part of the ratio. Everything else --
  reading the workload preset, building the graph, costing -- runs with every cache empty.
  Each tool runs in ``--procs`` new processes (ZigZag: one); the table gives the median and the
  best.
* **warm**: the same call repeated in that process (hwsim: a new workload and a fresh cost memo
  each time; what persists is each tool's process-level caches), median over the repeats.

Peers are not hwsim dependencies: each runs in its own interpreter (``--genz-python``,
``--zigzag-python``; a missing one is skipped and said so). To install them:

    python3 -m venv .venv-genz && .venv-genz/bin/pip install genz-llm
    python3 -m venv .venv-zigzag && .venv-zigzag/bin/pip install zigzag-dse==3.9.1 six

Bare optuna against hwsim's exploration is measured by benchmarks/bench_explore.py.

Writes benchmarks/results/bench_peers.csv; README blocks ``perf``, ``peers`` and ``zigzag`` are
generated from it by benchmarks/readme.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "bench_peers.csv"
TPU_LIKE = ROOT / "hwsim" / "families" / "mac_array" / "data" / "tpu_like_hwsim.yaml"
WARM = 30  # repeats of the warm call per process

# Each snippet prints one JSON line: set-up seconds, the cold call's seconds (and its parts),
# the warm calls' seconds and the value the tool computed.
HWSIM_DECODE = """
import json, time
t0 = time.perf_counter()
import hwsim
hw = hwsim.load_arch("h100-sxm")
setup = time.perf_counter() - t0

def call():
    t0 = time.perf_counter()
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048)
    t1 = time.perf_counter()
    r = hwsim.evaluate(wl, hw)
    t2 = time.perf_counter()
    return r, t1 - t0, t2 - t1

r, build, ev = call()
warm = [sum(call()[1:]) for _ in range(WARM)]
print(json.dumps(dict(setup_s=setup, cold_s=build + ev, cold_build_s=build, cold_evaluate_s=ev,
                      warm_s=warm, value=r.latency_s, ops=len(r.rows))))
"""

GENZ_DECODE = """
import json, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
from GenZ import decode_moddeling
from Systems.system_configs import system_configs
setup = time.perf_counter() - t0

def call():
    t0 = time.perf_counter()
    out = decode_moddeling(model="meta-llama/Llama-2-7B", batch_size=1, input_tokens=2048,
                           output_tokens=1, Bb=1, system_name=system_configs["H100_GPU"],
                           bits="bf16", tensor_parallel=1, pipeline_parallel=1, debug=False)
    return out, time.perf_counter() - t0

out, cold = call()
warm = [call()[1] for _ in range(WARM)]
print(json.dumps(dict(setup_s=setup, cold_s=cold, warm_s=warm, value=out["Latency"] / 1e3)))
"""

HWSIM_MAC = """
import json, time
t0 = time.perf_counter()
import hwsim
from hwsim.families.mac_array.checks import workload
hw = hwsim.load_arch(TPU_LIKE)
setup = time.perf_counter() - t0

def call():
    t0 = time.perf_counter()
    rep = hwsim.evaluate(workload(LABEL), hw)
    return rep, time.perf_counter() - t0

rep, cold = call()
warm = [call()[1] for _ in range(5)]
cycles = sum(r.cost.latency_s for r in rep.rows
             if r.op.type in ("Gemm", "Conv2d")) * hw.params.clock_hz
print(json.dumps(dict(setup_s=setup, cold_s=cold, warm_s=warm, value=cycles)))
"""

ZIGZAG_RUN = """
import json, logging, sys, tempfile, time
from pathlib import Path
logging.disable(logging.WARNING)
t0 = time.perf_counter()
import zigzag
from zigzag.api import get_hardware_performance_zigzag
setup = time.perf_counter() - t0
d = Path(zigzag.__file__).parent / "inputs"
spec = json.loads(sys.stdin.read())
wl = str(d / "workload/resnet18.onnx") if spec["label"] == "resnet18" else spec["layers"]
t0 = time.perf_counter()
energy_pj, cycles, _ = get_hardware_performance_zigzag(
    wl, str(d / "hardware/tpu_like.yaml"), str(d / "mapping/tpu_like.yaml"), opt="energy",
    dump_folder=tempfile.mkdtemp(), loma_show_progress_bar=False)
cold = time.perf_counter() - t0
print(json.dumps(dict(setup_s=setup, cold_s=cold, warm_s=[], value=float(cycles))))
"""


def _run(python: str, code: str, stdin: str = "", root: Path = ROOT) -> dict:
    """One new process of ``python`` running ``code`` (hwsim imported from ``root``); its JSON
    line."""
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as cwd:  # peers may write files where they run
        res = subprocess.run([python, "-c", code], input=stdin, capture_output=True, text=True,
                             cwd=cwd, env=env)
    if res.returncode:
        raise RuntimeError(res.stderr.strip()[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def _measure(python: str, code: str, procs: int, stdin: str = "", root: Path = ROOT) -> dict:
    """``code`` in ``procs`` new processes: cold (first call) and warm figures across them."""
    runs = [_run(python, code, stdin, root) for _ in range(procs)]
    cold = sorted(r["cold_s"] for r in runs)
    warm = [w for r in runs for w in r["warm_s"]]
    out = dict(procs=procs, cold_median_s=statistics.median(cold), cold_best_s=cold[0],
               warm_median_s=statistics.median(warm) if warm else None,
               setup_median_s=statistics.median(r["setup_s"] for r in runs),
               value=runs[0]["value"])
    for part in ("cold_build_s", "cold_evaluate_s"):
        if part in runs[0]:
            out[part.replace("_s", "_median_s")] = statistics.median(r[part] for r in runs)
    return out


def _version(python: str, dist: str) -> str:
    code = f"from importlib.metadata import version; print(version({dist!r}))"
    res = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return res.stdout.strip() or "?"


def _rows(a) -> list[dict]:
    rows = []
    hw_code = HWSIM_DECODE.replace("WARM", str(WARM))
    print(f"decode-7b: hwsim in {a.procs} new processes ...", flush=True)
    rows.append(dict(case="decode-7b", tool="hwsim", version=_version(sys.executable, "hwsim"),
                     **_measure(sys.executable, hw_code, a.procs)))
    if a.baseline:  # another checkout of hwsim, e.g. before a change, in the same run
        print(f"decode-7b: hwsim from {a.baseline} in {a.procs} new processes ...", flush=True)
        rev = subprocess.run(["git", "-C", a.baseline, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() or a.baseline
        rows.append(dict(case="decode-7b", tool="hwsim-baseline", version=rev,
                         **_measure(sys.executable, hw_code, a.procs, root=Path(a.baseline))))
    if a.genz_python:
        print(f"decode-7b: GenZ in {a.genz_procs} new processes ...", flush=True)
        rows.append(dict(case="decode-7b", tool="GenZ",
                         version=_version(a.genz_python, "genz-llm"),
                         **_measure(a.genz_python, GENZ_DECODE.replace("WARM", str(WARM)),
                                    a.genz_procs)))
    else:
        print("GenZ skipped: no --genz-python")
    labels = ["llama-2-7b-layer"] + (["resnet18"] if a.zigzag_resnet18 else [])
    if not a.zigzag_python:
        print("ZigZag skipped: no --zigzag-python")
        return rows
    sys.path.insert(0, str(ROOT / "benchmarks" / "zigzag"))
    from compare import llama_layers_zigzag  # the layer list compare.py gives ZigZag
    from hwsim.families.mac_array.checks import TOKENS
    for label in labels:
        case = f"zigzag-{label}"
        code = HWSIM_MAC.replace("TPU_LIKE", repr(str(TPU_LIKE))).replace("LABEL", repr(label))
        print(f"{case}: hwsim in {a.procs} new processes, ZigZag in one ...", flush=True)
        rows.append(dict(case=case, tool="hwsim", version=_version(sys.executable, "hwsim"),
                         **_measure(sys.executable, code, a.procs)))
        spec = json.dumps({"label": label, "layers": llama_layers_zigzag(TOKENS)})
        rows.append(dict(case=case, tool="ZigZag", version=_version(a.zigzag_python,
                                                                     "zigzag-dse"),
                         **_measure(a.zigzag_python, ZIGZAG_RUN, 1, spec)))
    return rows


def _default_python(name: str) -> str | None:
    p = ROOT / name / "bin" / "python"
    return str(p) if p.exists() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--genz-python", default=_default_python(".venv-genz"),
                    help="interpreter with genz-llm installed (default .venv-genz)")
    ap.add_argument("--zigzag-python", default=_default_python(".venv-zigzag"),
                    help="interpreter with zigzag-dse installed (default .venv-zigzag)")
    ap.add_argument("--procs", type=int, default=15, help="new processes per hwsim case")
    ap.add_argument("--genz-procs", type=int, default=7, help="new processes for GenZ")
    ap.add_argument("--zigzag-resnet18", action="store_true",
                    help="also ZigZag on ResNet-18 (minutes)")
    ap.add_argument("--baseline", help="another hwsim checkout timed on decode-7b too (its root)")
    ap.add_argument("--csv", default=str(OUT))
    a = ap.parse_args()
    rows = _rows(a)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
               f"load {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    base = {r["case"]: r for r in rows if r["tool"] == "hwsim"}
    for r in rows:
        h = base[r["case"]]
        r["cold_ratio"] = r["cold_median_s"] / h["cold_median_s"]
        r["warm_ratio"] = (r["warm_median_s"] / h["warm_median_s"]
                           if r["warm_median_s"] and h["warm_median_s"] else None)
        r["machine"] = machine
    fields = ["case", "tool", "version", "procs", "cold_median_s", "cold_best_s",
              "cold_build_median_s", "cold_evaluate_median_s", "warm_median_s",
              "setup_median_s", "cold_ratio", "warm_ratio", "value", "machine"]
    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()
                        if k in fields})
    for r in rows:
        print(f"{r['case']:26s} {r['tool']:7s} cold {1e3 * r['cold_median_s']:10.3f} ms "
              f"(best {1e3 * r['cold_best_s']:.3f})  warm "
              + (f"{1e3 * r['warm_median_s']:10.3f} ms" if r["warm_median_s"] else "         —")
              + f"  x hwsim: cold {r['cold_ratio']:.1f}"
              + (f", warm {r['warm_ratio']:.1f}" if r["warm_ratio"] else ""))
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
