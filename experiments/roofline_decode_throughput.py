"""Datasheet-roofline decode throughput of llama-2-7b across GPU presets, batch sizes and weight
formats. This is the *upper bound* the detailed GPU model is measured against; it is not a
prediction of measured tokens/s.

    python experiments/roofline_decode_throughput.py [--out results/roofline_decode]

Writes ``decode_throughput.csv`` and ``decode_throughput.png``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hwsim  # noqa: E402
from hwsim.plot import save  # noqa: E402

ARCHS = ["a100-sxm", "h100-sxm", "h200-sxm", "b200"]
WEIGHTS = ["fp16", "int8", "int4_g128"]
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128]


def run(out: Path, context: int = 2048) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for arch in ARCHS:
        hw = hwsim.load_arch(arch, model="roofline")  # the datasheet roofline, as documented
        memo: dict = {}
        for w in WEIGHTS:
            for b in BATCHES:
                wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=b, context=context,
                                         weights=w, activations="fp16")
                r = hwsim.evaluate(wl, hw, cache=memo)
                rows.append(dict(arch=arch, weights=w, batch=b, context=context,
                                 latency_s=r.latency_s, tokens_per_s=r.tokens_per_s))
    with open(out / "decode_throughput.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    fig, axes = plt.subplots(1, len(WEIGHTS), figsize=(4 * len(WEIGHTS), 3.5), sharey=True)
    for ax, w in zip(axes, WEIGHTS):
        for arch in ARCHS:
            pts = [(r["batch"], r["tokens_per_s"]) for r in rows if r["arch"] == arch and r["weights"] == w]
            ax.plot(*zip(*pts), marker="o", label=arch)
        ax.set(xscale="log", yscale="log", xlabel="batch", title=f"llama-2-7b decode, W={w}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("tokens/s (roofline upper bound)")
    axes[0].legend()
    fig.tight_layout()
    save(fig, out / "decode_throughput.png")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/roofline_decode")
    rows = run(Path(ap.parse_args().out))
    print(f"wrote {len(rows)} rows")
