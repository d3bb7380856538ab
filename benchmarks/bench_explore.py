"""Exploration throughput: llama-2-7b decode with per-layer-group precision.

    python benchmarks/bench_explore.py [--trials 2000] [--csv benchmarks/results/bench_explore.csv]

The CSV (committed) is what README's throughput figures are generated from.

1. The evaluator alone (what hwsim adds per design), on the LUT core and the calibrated GPU model.
2. End to end through optuna (NSGA-II) with in-memory, journal-file and SQLite storage, and with
   2 worker processes on SQLite — optuna's storage cost per trial, not hwsim, bounds these.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from hwsim.explore import Design, Evaluator, explore, load_space

SPACE = Path(__file__).resolve().parents[1] / "experiments/spaces/llama_lut_precision.yaml"


def evaluator_rate(arch: str, n: int) -> float:
    sp = load_space(SPACE).model_dump(by_alias=True, exclude_none=True)
    if arch != "lut-tc":
        sp.update(arch=arch, hardware={}, constraints={})
        sp["precision"].update(weights={"choices": ["int4_g128", "int8", "fp16"]},
                               activations={"choices": ["fp16"]}, kv={"choices": ["fp16", "fp8_e4m3"]})
    ev = Evaluator(load_space(sp))
    rng = random.Random(0)
    ch = sp["precision"]["weights"]["choices"]
    designs = [Design({"*": ch[0], **{k: rng.choice(ch) for k in ev.keys}},
                      sp["precision"]["activations"]["choices"][0],
                      rng.choice(sp["precision"]["kv"]["choices"]),
                      {"tiles": rng.choice([4, 8, 16, 32, 64])} if sp["hardware"] else {})
               for _ in range(n)]
    t0 = time.perf_counter()
    for d in designs:
        ev.evaluate(d)
    return n / (time.perf_counter() - t0) * 60


def e2e_rate(storage: str, n: int, workers: int = 1) -> float:
    t0 = time.perf_counter()
    explore(SPACE, n, storage=storage, seed=0, progress=False, workers=workers,
            study_name=f"bench-{time.time_ns()}")
    return n / (time.perf_counter() - t0) * 60


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--csv", default=str(Path(__file__).resolve().parent / "results"
                                         / "bench_explore.csv"))
    a = ap.parse_args()
    rows = []
    print("evaluator only (designs/min, one core):")
    for arch in ("lut-tc", "h100-sxm"):
        r = evaluator_rate(arch, a.trials)
        rows.append(("evaluator", arch, a.trials, 1, r))
        print(f"  {arch:10s} {r:10.0f}")
    d = Path(tempfile.mkdtemp())
    print("end to end through optuna NSGA-II (designs/min):")
    for label, st, n, w in (("in-memory", "memory", a.trials, 1),
                            ("journal file", f"journal:///{d}/j.log", a.trials // 2, 1),
                            ("sqlite", f"sqlite:///{d}/s.db", a.trials // 8, 1),
                            ("sqlite, 2 workers", f"sqlite:///{d}/s2.db", a.trials // 8, 2)):
        r = e2e_rate(st, n, w)
        rows.append(("end-to-end", label, n, w, r))
        print(f"  {label:18s} {r:10.0f}")
    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["stage", "setting", "trials", "workers", "designs_per_min", "cpus", "python"])
        for row in rows:
            wr.writerow([*row[:4], f"{row[4]:.0f}", os.cpu_count(), platform.python_version()])
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
