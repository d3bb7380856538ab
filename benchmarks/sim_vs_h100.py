"""Does the tile-level simulator move the error against the H100 measurements up or down?

    python benchmarks/sim_vs_h100.py [--csv FILE]

For every kernel in ``hwsim/families/gpu/data/h100`` that :func:`hwsim.families.gpu.fit.split` keeps
(fit and held-out sides, as ``hwsim validate gpu`` scores the analytical model), predict its time
with the analytical model (``hw.cost``) and with the simulator (``hwsim.sim.simulate_op`` on the
same cost: the CTA tiling's K-step stream, fill and last-wave drain; attention, W4A16 and memory
kernels run the generic program), and report per (kind/dtype, shape family) and side: the mean
absolute percentage error of each engine, the change, and how many kernels got better / worse.

The GPU model's free parameters were fitted to the *fit* side with the analytical engine, so on
that side the comparison is a consistency check (the simulator was not refitted: any added time
there can only move a fitted optimum); the *held-out* side is validation.
Writes ``benchmarks/results/sim_vs_h100.csv`` (one row per family and side, plus totals).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from tqdm import tqdm

import hwsim
from hwsim.families.gpu import fit as gpu_fit, report as gpu_report
from hwsim.sim import simulate_op


def _ops(op) -> tuple:
    return op if isinstance(op, tuple) else (op,)


def predictions(hw, samples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analytical and simulated seconds per sample and whether the GPU tile program ran
    (1) or only the generic one (0)."""
    ana, sim, tiled = [], [], []
    for s in tqdm(samples, desc="simulating kernels", leave=False):
        a = t = 0.0
        gen = True
        for o in _ops(s.op):
            c = hw.cost(o)
            cs, _ = simulate_op(hw, o, c)
            a += c.latency_s
            t += cs.latency_s
            gen = gen and cs.breakdown["sim_generic"] == 1.0
        ana.append(a)
        sim.append(t)
        tiled.append(0 if gen else 1)
    return np.array(ana), np.array(sim), np.array(tiled)


def table(arch: str = "h100-sxm", data_dir: str | Path | None = None) -> list[dict]:
    hw = hwsim.load_arch(arch)
    data = gpu_fit.load_measurements(data_dir or gpu_report.default_data(arch))
    sp = gpu_fit.split(hw, data["samples"])
    rows = []
    for side, samples in (("fit (consistency)", sp.fit), ("held-out (validation)", sp.heldout)):
        ana, sim, tiled = predictions(hw, samples)
        meas = np.array([s.seconds for s in samples])
        ea, es = np.abs(ana / meas - 1), np.abs(sim / meas - 1)
        groups: dict[tuple, list[int]] = {}
        for i, s in enumerate(samples):
            key = (s.dtype if s.kind == "gemm" else s.kind, gpu_fit.shape_family(s))
            groups.setdefault(key, []).append(i)
        groups[("all", "all")] = list(range(len(samples)))
        for (what, fam), idx in sorted(groups.items()):
            idx = np.array(idx)
            d = es[idx] - ea[idx]
            rows.append(dict(
                side=side, what=what, family=fam, n=len(idx),
                tile_program=int(tiled[idx].sum()),
                analytical_mape=round(float(ea[idx].mean()), 5),
                sim_mape=round(float(es[idx].mean()), 5),
                change_pp=round(100 * float(es[idx].mean() - ea[idx].mean()), 3),
                better=int((d < -1e-12).sum()), worse=int((d > 1e-12).sum()),
                mean_sim_over_analytical=round(float((sim[idx] / ana[idx]).mean()), 5),
                direction=("down" if es[idx].mean() < ea[idx].mean() - 1e-9 else
                           "up" if es[idx].mean() > ea[idx].mean() + 1e-9 else "same")))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="h100-sxm")
    ap.add_argument("--data", default=None)
    ap.add_argument("--csv", default=str(Path(__file__).resolve().parent / "results"
                                         / "sim_vs_h100.csv"))
    a = ap.parse_args()
    rows = table(a.arch, a.data)
    print(f"{'side':22s} {'kind/dtype':10s} {'family':12s} {'n':>4s} {'tiled':>5s} "
          f"{'ana MAPE':>8s} {'sim MAPE':>8s} {'change':>8s} {'better':>6s} {'worse':>5s}")
    for r in rows:
        print(f"{r['side']:22s} {r['what']:10s} {r['family']:12s} {r['n']:4d} "
              f"{r['tile_program']:5d} {100 * r['analytical_mape']:7.2f}% "
              f"{100 * r['sim_mape']:7.2f}% {r['change_pp']:+7.2f}pp {r['better']:6d} "
              f"{r['worse']:5d}  {r['direction']}")
    Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(a.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {a.csv}")


if __name__ == "__main__":
    main()
