"""Exploration throughput: hwsim against bare optuna, back to back in one run.

    python benchmarks/bench_explore.py [--trials 3000] [--repeat 3]
        [--csv benchmarks/results/bench_explore.csv]

Space: experiments/spaces/llama_lut_precision.yaml (llama-2-7b decode, per-group weight formats,
KV format and the LUT tile count). For each storage, the same NSGA-II sampler (seed 0, optuna's
default population) runs

* **bare optuna**: ``study.optimize`` of a trivial objective that suggests the same parameters
  and sets the same one constraint (constant values), so the optuna work per trial is the same;
* **hwsim in-process**: :func:`hwsim.explore.explore` (space checks, evaluation, results);
* **hwsim CLI** (persistent storages): ``python -m hwsim.cli explore SPACE`` as a user runs it,
  wall time including interpreter start-up and imports; the default storage is the journal file.

Each pair runs back to back and the best of ``--repeat`` is kept for each side, so load on a
shared machine hits both alike; the CSV records the ratio hwsim / bare optuna and the load
average at the start.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]
SPACE = ROOT / "experiments/spaces/llama_lut_precision.yaml"
GROUPS = ["attn.qkv", "attn.o", "mlp.up", "mlp.down"]


def _storage(kind: str, d: Path):
    tag = time.time_ns()
    if kind == "memory":
        return "memory", optuna.storages.InMemoryStorage()
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend
        p = d / f"j{tag}.journal"
        return f"journal:///{p}", optuna.storages.JournalStorage(JournalFileBackend(str(p)))
    url = f"sqlite:///{d / f's{tag}.db'}"
    return url, url


def _objective(trial):
    for g in GROUPS:
        trial.suggest_categorical(f"w.{g}", ["int2_g128", "int3_g128", "int4_g128"])
    trial.suggest_categorical("a", ["int8"])
    trial.suggest_categorical("kv", ["fp16", "fp8_e4m3"])
    trial.suggest_int("hw.tiles", 4, 64, log=True)
    trial.set_constraint("area_mm2<=2", -1.0)
    return 1.0, 1.0, 1.0


def bare_optuna(kind: str, n: int, d: Path) -> float:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _, st = _storage(kind, d)
    t0 = time.perf_counter()
    study = optuna.create_study(storage=st, directions=["minimize"] * 3,
                                sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(_objective, n_trials=n)
    return time.perf_counter() - t0


def hwsim_inprocess(kind: str, n: int, d: Path) -> float:
    from hwsim.explore import explore
    url, _ = _storage(kind, d)
    t0 = time.perf_counter()
    explore(SPACE, n, storage=url, seed=0, progress=False, study_name=f"b{time.time_ns()}")
    return time.perf_counter() - t0


def hwsim_cli(kind: str, n: int, d: Path) -> float:
    url, _ = _storage(kind, d)
    cmd = [sys.executable, "-m", "hwsim.cli", "explore", str(SPACE), "--trials", str(n),
           "--seed", "0", "--no-progress", "--study", f"c{time.time_ns()}"]
    if kind != "journal":  # journal: the CLI's default storage, in the working folder
        cmd += ["--storage", url]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=d, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--csv", default=str(ROOT / "benchmarks/results/bench_explore.csv"))
    a = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    load = os.getloadavg()[0]
    cases = [("memory", "in-process", hwsim_inprocess, a.trials),
             ("journal", "in-process", hwsim_inprocess, a.trials),
             ("journal", "cli", hwsim_cli, a.trials),
             ("sqlite", "in-process", hwsim_inprocess, a.trials // 10),
             ("sqlite", "cli", hwsim_cli, a.trials // 10)]
    rows = []
    for kind, how, fn, n in cases:
        bare = hw = float("inf")
        for _ in range(a.repeat):  # alternate, so a load spike hits both sides
            bare = min(bare, bare_optuna(kind, n, d))
            hw = min(hw, fn(kind, n, d))
        r = {"storage": kind, "hwsim_path": how, "trials": n,
             "hwsim_trials_per_min": round(n / hw * 60), "optuna_trials_per_min":
             round(n / bare * 60), "ratio_hwsim_over_optuna": round(bare / hw, 3)}
        rows.append(r)
        print(f"{kind:8s} {how:10s} {n:5d} trials: hwsim {r['hwsim_trials_per_min']:>8,}/min  "
              f"bare optuna {r['optuna_trials_per_min']:>8,}/min  ratio {r['ratio_hwsim_over_optuna']:.2f}")
    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "repeat", "load_avg_1min", "cpus", "python",
                                           "optuna"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "repeat": a.repeat, "load_avg_1min": round(load, 2),
                        "cpus": os.cpu_count(), "python": platform.python_version(),
                        "optuna": optuna.__version__})
    print(f"wrote {a.csv} (load average at start {load:.2f} on {os.cpu_count()} cpus)")


if __name__ == "__main__":
    main()
