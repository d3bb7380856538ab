"""MixPE and Bit Fusion reproduced on hwsim's bitserial model, next to their artifacts' numbers.

    python experiments/bitserial_mixpe_bitfusion.py [--out experiments/results/bitserial_mixpe_bitfusion]

MixPE (github.com/yuzhang712/mixpe_simulator): time and energy of W4A8 / ANT / Bit Fusion / INT8 /
W4A16 normalized to its FP16 array on ViT, ViT-Huge, OPT-6.7B and Llama2-13B (batch 64). Bit Fusion
(github.com/hsharma35/bitfusion): compute cycles and time per image of its eight benchmarks
(batch 16), against its sweep CSV and notebook. All from hwsim.families.bitserial.checks_layers,
which runs the model on the artifacts' own layer lists. Writes ``mixpe.csv``, ``bitfusion.csv`` and
``mixpe_bitfusion.png``. Runs in seconds.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from hwsim.families.bitserial import checks_layers as B
from hwsim.plot import save

OUT = Path(__file__).resolve().parent / "results" / "bitserial_mixpe_bitfusion"


def run(out: Path = OUT) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    mixpe = [{"design": a, "model": m, "artifact_time": B.MIXPE_TIME[a][i],
              "hwsim_time": B.mixpe_time(a, m), "artifact_energy": B.mixpe_energy_ref(a, m),
              "hwsim_energy": B.mixpe_energy(a, m)}
             for a in B.MIXPE_TIME for i, m in enumerate(B.MIXPE_MODELS)]
    bf = [{"bench": b, "artifact_compute_cycles": B.BITFUSION_COMPUTE[b],
           "hwsim_compute_cycles": B.bitfusion_compute_cycles(b),
           "artifact_ms": B.BITFUSION_MS[b][1], "hwsim_ms": B.bitfusion_ms(b),
           "eyeriss_ms": B.BITFUSION_MS[b][0]} for b in B.BITFUSION_BENCH]
    for path, rows in ((out / "mixpe.csv", mixpe), (out / "bitfusion.csv", bf)):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    _plot(mixpe, bf, out / "mixpe_bitfusion.png")
    return {"mixpe": mixpe, "bitfusion": bf}


def _plot(mixpe: list[dict], bf: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 3.4))
    for key, mark in (("time", "o"), ("energy", "s")):
        a0.scatter([r[f"artifact_{key}"] for r in mixpe], [r[f"hwsim_{key}"] for r in mixpe],
                   marker=mark, label=f"MixPE {key} / FP16")
    a0.plot([0, 1], [0, 1], "k--", lw=0.8)
    a0.set_xlabel("artifact")
    a0.set_ylabel("hwsim")
    a0.set_title("MixPE: normalized to its FP16 array")
    a0.legend(fontsize=8)
    x = np.arange(len(bf))
    a1.bar(x - 0.3, [r["artifact_ms"] for r in bf], 0.2, label="artifact time")
    a1.bar(x - 0.1, [r["hwsim_ms"] for r in bf], 0.2, label="hwsim time")
    a1.bar(x + 0.1, [r["artifact_compute_cycles"] / 16 / 5e5 for r in bf], 0.2,
           label="artifact compute only")
    a1.bar(x + 0.3, [r["hwsim_compute_cycles"] / 16 / 5e5 for r in bf], 0.2,
           label="hwsim compute only")
    a1.set_yscale("log")
    a1.set_xticks(x, [r["bench"] for r in bf], rotation=30, fontsize=8)
    a1.set_ylabel("ms per image (batch 16, 500 MHz)")
    a1.set_title("Bit Fusion 16x32")
    a1.legend(fontsize=7)
    fig.tight_layout()
    save(fig, path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    res = run(ap.parse_args().out)
    worst = max(abs(r["hwsim_time"] / r["artifact_time"] - 1) for r in res["mixpe"])
    print(f"MixPE: {len(res['mixpe'])} normalized times, worst |error| {100 * worst:.3g}%")
    for r in res["bitfusion"]:
        print(f"Bit Fusion {r['bench']:10s} compute {r['hwsim_compute_cycles']:>12.0f} vs "
              f"{r['artifact_compute_cycles']:>12.0f}  time {r['hwsim_ms']:.4f} vs "
              f"{r['artifact_ms']:.4f} ms")
