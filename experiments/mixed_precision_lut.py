"""Worked example: mixed per-stage weight precision on the LUT Tensor Core dominates uniform
precision (ResNet-18, batch 8).

    python experiments/mixed_precision_lut.py [--trials 400] [--out results/mixed_precision_lut]

Runs NSGA-II over experiments/spaces/resnet18_lut_mixed.yaml (3^6 per-stage assignments), evaluates
the three uniform designs, and plots the front with the uniform points. Writes
``mixed_vs_uniform.png``, ``trials.csv``, ``dominating.csv`` (mixed designs that beat a uniform
one on both latency and the accuracy proxy; a design the sampler proposed twice is listed once)
and ``summary.csv`` (what README quotes). The proxy is parameter-weighted relative weight
quantization error on synthetic CNN tensors plus activation error: a proxy, not accuracy.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from hwsim.explore import Design, Evaluator, explore, load_space
from hwsim.explore.plots import plot_pareto_2d

SPACE = Path(__file__).resolve().parent / "spaces" / "resnet18_lut_mixed.yaml"


def uniform_points(space):
    ev = Evaluator(space)
    out = {}
    for f in space.precision.weights.choices:
        m = ev.evaluate(Design({"*": f, **{k: f for k in ev.keys}}, "int8", "int8", {}))
        out[f] = (m["latency_s"], m["accuracy_proxy"])
    return out


def run(trials: int, out: Path, seed: int = 0):
    space = load_space(SPACE)
    res = explore(space, trials, storage="memory", seed=seed, progress=False)
    uni = uniform_points(space)
    dominating, seen = [], set()
    for r in res.rows:
        chosen = {v for k, v in r.items() if k.startswith("w.") and k != "w.*"}
        key = tuple(sorted((k, v) for k, v in r.items() if k.startswith("w.")))
        if len(chosen) < 2 or key in seen:
            continue
        seen.add(key)
        for f, (lat, prox) in uni.items():
            if (r["latency_s"] <= lat and r["accuracy_proxy"] <= prox
                    and (r["latency_s"] < lat or r["accuracy_proxy"] < prox)):
                dominating.append({"beats_uniform": f, **r})
    out.mkdir(parents=True, exist_ok=True)
    res.to_csv(out / "trials.csv")
    if dominating:
        with open(out / "dominating.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(dominating[0]))
            w.writeheader()
            w.writerows(dominating)
    distinct = {tuple(sorted((k, v) for k, v in r.items() if k.startswith("w.")))
                for r in res.rows}
    with open(out / "summary.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["trials", "distinct_designs", "uniform", "uniform_latency_s", "uniform_proxy",
                    "distinct_mixed_dominating", "best_latency_s", "best_proxy"])
        for f, (lat, prox) in uni.items():
            beaten = [d for d in dominating if d["beats_uniform"] == f]
            best = min(beaten, key=lambda d: d["accuracy_proxy"]) if beaten else None
            w.writerow([len(res.rows), len(distinct), f, lat, prox, len(beaten),
                        best["latency_s"] if best else "", best["accuracy_proxy"] if best else ""])
    pts = [(lat, prox) for lat, prox in uni.values()]
    plot_pareto_2d(res, "latency_s", "accuracy_proxy", out / "mixed_vs_uniform.png",
                   highlight=[("uniform precision (int2/3/4_g32)", pts, "k^")])
    return res, uni, dominating


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"
                                         / "mixed_precision_lut"))
    a = ap.parse_args()
    res, uni, dom = run(a.trials, Path(a.out))
    for f, (lat, prox) in uni.items():
        beaten = [d for d in dom if d["beats_uniform"] == f]
        best = min(beaten, key=lambda d: d["accuracy_proxy"]) if beaten else None
        line = f"uniform {f}: {lat * 1e3:.3f} ms, proxy {prox:.4f}"
        if best:
            line += (f"  <- dominated by {len(beaten)} mixed designs, e.g. "
                     f"{best['latency_s'] * 1e3:.3f} ms, proxy {best['accuracy_proxy']:.4f}")
        print(line)
