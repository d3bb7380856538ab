"""FP16 SIMD vs FP32 on-device training on a PULP cluster (Nadalini et al., arXiv 2305.19167).

    python experiments/mcu_fp16_training.py [--out experiments/results/mcu_fp16_training]

On the ``gap9`` preset (8 cores, shared FPUs, PULP-TrainLib-style im2col + matmul kernels):
per-conv training-step cycles of ResNet-8 in FP32 and FP16 (forward, input gradient, weight
gradient, with their im2col / transpose copies) and end-to-end MAC/clk of ResNet-8 and DS-CNN
training steps, next to the paper's 1.72x / 3.11 / 0.81. Writes ``conv_steps.csv``,
``end_to_end.csv`` and ``fp16_speedup.png``; runs in a few seconds.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hwsim  # noqa: E402
from hwsim.families.mcu import training_macs_per_cycle  # noqa: E402
from hwsim.families.mcu.checks import conv_train_step_cycles  # noqa: E402
from hwsim.plot import save  # noqa: E402

PAPER = {"speedup_max": 1.72, "resnet8": 3.11, "ds-cnn": 0.81}  # paper-claims.md §5


def run(out: Path, arch: str = "gap9") -> tuple[list[dict], list[dict]]:
    out.mkdir(parents=True, exist_ok=True)
    hw = hwsim.load_arch(arch)
    steps = []
    for op in hwsim.load_workload("resnet8").ops:
        if op.type != "Conv2d":
            continue
        c32, c16 = (conv_train_step_cycles(hw, op, f) for f in ("fp32", "fp16"))
        steps.append({"layer": op.name, "macs_fwd": op.macs, "cycles_fp32": round(c32),
                      "cycles_fp16": round(c16), "speedup": c32 / c16})
    e2e = []
    for name in ("resnet8", "ds-cnn"):
        for fmt in ("fp32", "fp16"):
            wl = hwsim.load_workload(name, phase="train", weights=fmt, activations=fmt)
            rep = hwsim.evaluate(wl, hw)
            e2e.append({"workload": name, "format": fmt, "train_macs": wl.macs,
                        "cycles": round(rep.latency_s * hw.params.clock_hz),
                        "macs_per_clk": training_macs_per_cycle(wl, hw),
                        "latency_s": rep.latency_s, "energy_j": rep.energy_j,
                        "paper_macs_per_clk": PAPER[name] if fmt == "fp16" else ""})
    for fname, rows in (("conv_steps.csv", steps), ("end_to_end.csv", e2e)):
        with open(out / fname, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.bar([r["layer"] for r in steps], [r["speedup"] for r in steps], color="tab:blue",
          label="hwsim FP32 / FP16 cycles")
    a.axhline(PAPER["speedup_max"], color="tab:red", ls="--", label="paper: up to 1.72x")
    a.set_ylabel("training-step speedup FP16 over FP32")
    a.tick_params(axis="x", rotation=60, labelsize=7)
    a.legend(fontsize=8)
    labels = [f"{r['workload']}\n{r['format']}" for r in e2e]
    b.bar(labels, [r["macs_per_clk"] for r in e2e], color="tab:green", label="hwsim")
    b.scatter([lbl for lbl, r in zip(labels, e2e) if r["paper_macs_per_clk"] != ""],
              [r["paper_macs_per_clk"] for r in e2e if r["paper_macs_per_clk"] != ""],
              color="tab:red", marker="_", s=600, label="paper (FP16)")
    b.set_ylabel("MAC/clk, whole training step")
    b.legend(fontsize=8)
    fig.suptitle(f"On-device training on {arch} (hwsim) vs Nadalini et al. 2023")
    fig.tight_layout()
    save(fig, out / "fp16_speedup.png")
    return steps, e2e


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parent / "results" / "mcu_fp16_training")
    steps, e2e = run(ap.parse_args().out)
    for r in steps:
        print(f"{r['layer']:20s} fp32 {r['cycles_fp32']:>9d}  fp16 {r['cycles_fp16']:>9d}  "
              f"{r['speedup']:.2f}x")
    for r in e2e:
        print(f"{r['workload']:8s} {r['format']}  {r['macs_per_clk']:.2f} MAC/clk  "
              f"(paper {r['paper_macs_per_clk'] or '-'})")
