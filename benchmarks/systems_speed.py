"""Speed of the systems path against the targets of issue #15.

    python benchmarks/systems_speed.py [--csv FILE]

* a 7B decode step, cold: a fresh ParallelModel (one decoder layer built and costed, attention
  at one context) with the per-process model-config cache cleared before each call, so the
  workload preset is read again every time -- target <= 1 ms;
* ``generate`` of llama-2-7b, batch 1, 128 in / 2048 out, cold (fresh ParallelModel, config
  cache cleared) -- target <= 0.2 s;
* ``serve`` of 1,000 Poisson requests on one H100 -- target <= 10 s on 2 cores.

GenZ and the other peers are timed against hwsim's public path by benchmarks/bench_peers.py.

Writes benchmarks/results/systems_speed.csv (median of repeats; machine named in the rows).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import time
from pathlib import Path

from hwsim.arch import load_arch
from hwsim.systems import ParallelModel, generate, load_system, serve
from hwsim.systems.parallel import _llm_config

OUT = Path(__file__).resolve().parent / "results" / "systems_speed.csv"


def _times(fn, repeat):
    """(best, median) seconds over ``repeat`` calls: on a shared machine the best is the
    uncontended figure, the median what a loaded machine gives."""
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(OUT))
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    sysm = load_system("h100-sxm", 1)
    load_arch("h100-sxm")  # YAML parsing is not what is measured

    def step():
        _llm_config.cache_clear()  # cold: the preset is read and its config built again
        ParallelModel("llama-2-7b", sysm).step(1, 1, [(1, 1, 2049)])

    def gen():
        _llm_config.cache_clear()
        generate("llama-2-7b", sysm, batch=1, input_len=128, output_len=2048)

    rows = [("decode_step_7b_cold", *_times(step, 30), 1e-3),
            ("generate_7b_out2048_cold", *_times(gen, a.repeat), 0.2)]
    t0 = time.perf_counter()
    r = serve("llama-2-7b", sysm, rate_per_s=10, n_requests=1000, input_len=(128, 1024),
              output_len=(64, 256))
    t = time.perf_counter() - t0
    rows.append(("serve_7b_1000_requests", t, t, 10.0))
    print(f"serve: {r.iterations} iterations")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, load "
               f"{os.getloadavg()[0]:.1f}")
    with open(a.csv, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "best_s", "median_s", "target_s", "best_meets_target", "machine"])
        for name, best, med, tgt in rows:
            w.writerow([name, f"{best:.6g}", f"{med:.6g}", tgt if tgt is not None else "",
                        "" if tgt is None else best <= tgt, machine])
            print(f"{name:28s} best {best * 1e3:10.2f} ms  median {med * 1e3:10.2f} ms"
                  + (f"  (target {tgt * 1e3:g} ms: {'met' if best <= tgt else 'MISSED'})"
                     if tgt else ""))
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
