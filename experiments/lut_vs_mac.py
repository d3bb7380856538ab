"""LUT Tensor Core vs MAC tensor core at 28 nm, 1 GHz (hwsim's component model): compute area,
peak throughput, compute density (TOPS/mm²) and energy per op of a compute-bound GEMM
(M = N = K = 4096) for weights of 1 to 4 bits (and 8 bits on the MAC core) with fp16 or int8
activations.

Designs: ``lut-tc`` (Mo et al., ISCA'25 tile: 2x64x4, 8 tiles) and the MAC baselines ``mac-tc``
(fp16 multipliers, 32x32) and ``mac-tc-int8`` (int8 multipliers). The MAC cores run narrow weights
on their full-width multiplier (no speedup from fewer weight bits); the LUT core takes one pass
per weight bit-plane. Compute area excludes SRAM buffers, as the paper's tile comparison does.
Energy per op includes each preset's SRAM and DRAM traffic (lut-tc: HBM2, mac-tc: DDR3), so it
compares whole cores, not bare datapaths. How far the LUT component model is from the paper's
synthesis is in ``hwsim validate lut`` (the absolute mux/register areas are known misses; relative
steps agree).

    python experiments/lut_vs_mac.py [--out experiments/results/lut_vs_mac] [--quick]

Writes ``lut_vs_mac.csv`` and ``lut_vs_mac.png``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hwsim  # noqa: E402
from hwsim.errors import UnsupportedError  # noqa: E402
from hwsim.plot import MARKERS, PALETTE, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ["lut-tc", "mac-tc", "mac-tc-int8"]
WEIGHTS = ["binary", "int2", "int3", "int4", "int8"]
ACTS = ["fp16", "int8"]
SHAPE = dict(M=4096, N=4096, K=4096)


def _compute_area_mm2(hw, act: str) -> float:
    """Area without the SRAM buffers (the tile / PE array the paper compares); the LUT core's
    tables and accumulators are sized for the activation format."""
    br = hw.area_breakdown_um2(act=act) if hw.family == "lut" else hw.area_breakdown_um2()
    return sum(v for k, v in br.items() if k != "sram" and not k.endswith("_buffer")) / 1e6


def run(out: Path, quick: bool = False) -> list[dict]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights = ["int2", "int4"] if quick else WEIGHTS
    rows = []
    for name in DESIGNS:
        hw = hwsim.load_arch(name)
        for act in ACTS:
            area = _compute_area_mm2(hw, act)
            for w in weights:
                op = hwsim.ops.Gemm(**SHAPE, weights=w, activations=act)
                try:
                    c = hw.cost(op)
                except UnsupportedError as e:
                    rows.append(dict(design=name, activations=act, weights=w,
                                     compute_area_mm2=area, tops=None, tops_per_mm2=None,
                                     pj_per_op=None, compute_path="", unsupported=str(e)))
                    continue
                tops = op.flops / c.latency_s / 1e12
                rows.append(dict(design=name, activations=act, weights=w, compute_area_mm2=area,
                                 tops=tops, tops_per_mm2=tops / area,
                                 pj_per_op=c.energy_j / op.flops * 1e12,
                                 compute_path=c.compute_path, unsupported=""))
    with open(out / "lut_vs_mac.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        wr.writeheader()
        wr.writerows({k: (f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v))
                      for k, v in r.items()} for r in rows)
    save(_figure(rows, weights), out / "lut_vs_mac.png")
    return rows


def _figure(rows, weights):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, lab in ((axes[0], "tops_per_mm2", "compute density (TOPS / mm², no SRAM)"),
                         (axes[1], "pj_per_op", "energy per op, 4096³ GEMM (pJ)")):
        i = 0
        for d in DESIGNS:
            for act in ACTS:
                pts = [(weights.index(r["weights"]), r[key]) for r in rows
                       if r["design"] == d and r["activations"] == act and r[key] is not None]
                if not pts:
                    continue
                ax.plot(*zip(*pts), marker=MARKERS[i], color=PALETTE[i], label=f"{d}, A={act}")
                i += 1
        ax.set_xticks(range(len(weights)), weights)
        ax.set(xlabel="weight format", ylabel=lab, yscale="log")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    axes[0].set_title("LUT vs MAC tensor core, 28 nm, 1 GHz", fontsize=9)
    fig.tight_layout()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "experiments/results/lut_vs_mac")
    ap.add_argument("--quick", action="store_true", help="int2 and int4 weights only")
    a = ap.parse_args()
    rows = run(a.out, a.quick)
    print(f"wrote {len(rows)} rows to {a.out}")


if __name__ == "__main__":
    main()
