"""How fast the analytical path is: llama-2-7b decode (all layers) on one arch.

    python benchmarks/bench_evaluate.py [--arch h100-sxm] [--repeat 200] [--csv FILE]

Prints the median time of ``evaluate`` (graph already built) with a fresh op-cost memo per call,
the time of building the graph, and the time of a cold first call.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
from pathlib import Path
import time

import hwsim


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="h100-sxm")
    ap.add_argument("--workload", default="llama-2-7b")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--csv", default=str(Path(__file__).resolve().parent / "results"
                                         / "bench_evaluate.csv"),
                    help="where to write the figures (README is generated from this file)")
    a = ap.parse_args()
    hw = hwsim.load_arch(a.arch)
    t0 = time.perf_counter()
    wl = hwsim.load_workload(a.workload, phase="decode", batch=1, context=2048,
                             weights="int4_g128", activations="fp16")
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    hwsim.evaluate(wl, hw)
    t_cold = time.perf_counter() - t0
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        hwsim.evaluate(wl, hw)  # fresh memo each call: every distinct op is costed again
        times.append(time.perf_counter() - t0)
    print(f"{a.workload} decode, {len(wl)} ops on {a.arch}:")
    print(f"  build graph      {1e3 * t_build:8.2f} ms")
    print(f"  evaluate (cold)  {1e3 * t_cold:8.2f} ms")
    print(f"  evaluate median  {1e3 * statistics.median(times):8.2f} ms  "
          f"(p90 {1e3 * sorted(times)[int(0.9 * len(times))]:.2f} ms, n={a.repeat})")

    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["workload", "arch", "ops", "build_ms", "cold_ms", "median_ms", "cpus",
                    "python"])
        w.writerow([a.workload, a.arch, len(wl), f"{1e3 * t_build:.2f}", f"{1e3 * t_cold:.2f}",
                    f"{1e3 * statistics.median(times):.3f}", os.cpu_count(),
                    platform.python_version()])
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
