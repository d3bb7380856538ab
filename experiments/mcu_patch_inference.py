"""Patch-based inference (MCUNetV2) and per-patch mixed precision (QuantMCU) of MobileNetV2 on an
STM32H7 (hwsim ``stm32h7`` preset: 512 KiB activation SRAM, 2 MiB flash).

    python experiments/mcu_patch_inference.py [--out experiments/results/mcu_patch_inference]

For patch stages ending at features.3 / features.6 / features.10 and 1..8 patches per side:
peak activation memory, extra MACs (network-wide) and, where the plan fits, latency and energy on
the preset (int4 weights so that the weights fit the flash). Then QuantMCU's BitOPs reduction
against the int8 patch-based plan for outlier-patch counts 0..16 with int4 / int2 activations in
the other patches (4x4 patches through features.6), next to the paper's 2.2x. Writes
``patches.csv``, ``quantmcu.csv`` and ``patch_inference.png``; runs in about ten seconds.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hwsim  # noqa: E402
from hwsim.errors import ConfigError  # noqa: E402
from hwsim.families.mcu import PatchPrecision, patch_bitops, patch_plan  # noqa: E402
from hwsim.plot import save  # noqa: E402

STAGES = ("features.3.project", "features.6.project", "features.10.project")
QUANTMCU = 2.2   # paper-claims.md §8 (abstract)


def run(out: Path, arch: str = "stm32h7") -> tuple[list[dict], list[dict]]:
    out.mkdir(parents=True, exist_ok=True)
    hw = hwsim.load_arch(arch)
    wl = hwsim.load_workload("mobilenetv2", weights="int4", activations="int8")
    rows = []
    for stage in STAGES:
        for p in range(1, 9):
            pp = patch_plan(wl, stage, p)
            try:
                c = pp.cost(hw)
                lat, en = c.latency_s, c.energy_j
            except ConfigError:
                lat = en = ""
            rows.append({"stage": stage, "patches": p, "n_patches": pp.n_patches,
                         "peak_kib": pp.peak_activation_bytes / 1024,
                         "layer_peak_kib": pp.layer_peak_activation_bytes / 1024,
                         "peak_where": pp.peak_where, "extra_macs": pp.network_overhead,
                         "fits": lat != "", "latency_s": lat, "energy_j": en})
    pp = patch_plan(hwsim.load_workload("mobilenetv2", weights="int8", activations="int8"),
                    "features.6.project", 4)
    base = patch_bitops(pp)
    q = [{"outlier_patches": k, "low": low,
          "bitops_reduction": base / patch_bitops(pp, PatchPrecision(k, low, "int8"))}
         for low in ("int4", "int2") for k in range(17)]
    for name, data in (("patches.csv", rows), ("quantmcu.csv", q)):
        with open(out / name, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(data[0]))
            w.writeheader()
            w.writerows(data)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for stage in STAGES:
        sel = [r for r in rows if r["stage"] == stage]
        a.plot([100 * r["extra_macs"] for r in sel], [r["peak_kib"] for r in sel], "o-",
               label=f"stage to {stage.rsplit('.', 1)[0]}")
        for r in sel:
            a.annotate(str(r["patches"]), (100 * r["extra_macs"], r["peak_kib"]), fontsize=6)
    a.axhline(hw.params.sram_bytes / 1024, color="tab:red", ls="--", label=f"{arch} SRAM")
    a.axhline(rows[0]["layer_peak_kib"], color="0.5", ls=":", label="layer by layer")
    a.set(xscale="symlog", xlim=(0, 2000), xlabel="extra MACs, % of the network (label: patches per side)",
          ylabel="peak activation memory, KiB", title="MobileNetV2-224 int8, MCUNetV2 patches")
    a.legend(fontsize=7)
    for low, col in (("int4", "tab:blue"), ("int2", "tab:green")):
        sel = [r for r in q if r["low"] == low]
        b.plot([r["outlier_patches"] for r in sel], [r["bitops_reduction"] for r in sel], "o-",
               color=col, label=f"other patches {low}")
    b.axhline(QUANTMCU, color="tab:red", ls="--", label="QuantMCU: 2.2x (average)")
    b.set(xlabel="outlier patches at int8 (of 16)", ylabel="BitOPs reduction vs int8 patches",
          title="per-patch precision, 4x4 patches to features.6")
    b.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out / "patch_inference.png")
    return rows, q


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parent / "results" / "mcu_patch_inference")
    rows, q = run(ap.parse_args().out)
    for r in rows:
        print(f"{r['stage']:20s} {r['patches']}x{r['patches']} ({r['n_patches']:2d})  peak {r['peak_kib']:7.1f} KiB "
              f"({r['peak_where']})  +{100 * r['extra_macs']:5.1f}% MACs  "
              + (f"{1e3 * r['latency_s']:.0f} ms" if r["fits"] else "does not fit"))
    for r in q[::4]:
        print(f"QuantMCU {r['low']} {r['outlier_patches']:2d} outlier patches: "
              f"{r['bitops_reduction']:.2f}x")
