"""Llama-2-7B decode tokens/s on H100 and H200: measured (benchmarks/gpu/llm_decode.py) against
hwsim's calibrated GPU model (fused kernels as serving engines run them, and the eager PyTorch
kernel sequence the benchmark actually ran) and the datasheet roofline.

Evidence: *validation*. No llm_decode.csv row was used to fit any parameter (the H100 fit uses
gemm / attention / w4a16 / memops.csv; the H200 preset transfers the H100 fit,
hwsim/families/gpu/checks.py). The benchmark runs PyTorch eager kernels, so ``model_eager`` is the like-
for-like prediction; ``model_fused`` is what a fused serving engine would get; the roofline is an
upper bound.

    python experiments/gpu_decode_vs_measured.py [--out experiments/results/gpu_decode_vs_measured]

Writes ``decode.csv`` (one row per measured configuration), ``summary.csv`` (MAPE per arch and
model) and ``decode.png``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import hwsim  # noqa: E402
from hwsim.plot import PALETTE, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = {"h100-sxm": ROOT / "hwsim/families/gpu/data/h100/llm_decode.csv",
        "h200-sxm": ROOT / "hwsim/families/gpu/data/h200/llm_decode.csv"}
MODELS = {"model_eager": ("default", "eager"), "model_fused": ("default", "fused"),
          "roofline": ("roofline", "fused")}


def _workload(weights: str, batch: int, context: int, fusion: str):
    # the benchmark's int4 case is tinygemm: uint4 in groups of 128 with bf16 activations
    if weights == "int4":
        return hwsim.load_workload("llama-2-7b", phase="decode", batch=batch, context=context,
                                   weights="uint4_g128", activations="bf16", fusion=fusion)
    return hwsim.load_workload("llama-2-7b", phase="decode", batch=batch, context=context,
                               weights=weights, activations=weights, fusion=fusion)


def run(out: Path, quick: bool = False) -> list[dict]:
    """One row per measured (arch, weights, batch); ``quick``: H100 only."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for arch, path in DATA.items():
        if quick and arch != "h100-sxm":
            continue
        hws = {k: hwsim.load_arch(arch, model=m) for k, (m, _) in MODELS.items()}
        with open(path, newline="") as fh:
            for r in csv.DictReader(fh):
                w, b, ctx = r["weights"], int(r["batch"]), int(r["context"])
                row = {"arch": arch, "weights": w, "batch": b, "context": ctx,
                       "measured_tokens_per_s": float(r["tokens_per_s"])}
                for k, (_, fusion) in MODELS.items():
                    rep = hwsim.evaluate(_workload(w, b, ctx, fusion), hws[k])
                    row[f"{k}_tokens_per_s"] = rep.tokens_per_s
                    row[f"{k}_error"] = rep.tokens_per_s / row["measured_tokens_per_s"] - 1
                rows.append(row)
    _write(out / "decode.csv", rows)
    summary = []
    for arch in dict.fromkeys(r["arch"] for r in rows):
        sel = [r for r in rows if r["arch"] == arch]
        for k in MODELS:
            errs = [abs(r[f"{k}_error"]) for r in sel]
            summary.append({"arch": arch, "model": k, "n": len(sel),
                            "mape": sum(errs) / len(errs), "max_abs_error": max(errs)})
    _write(out / "summary.csv", summary)
    save(_figure(rows), out / "decode.png")
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()}
                    for r in rows)


def _figure(rows):
    archs = list(dict.fromkeys(r["arch"] for r in rows))
    weights = list(dict.fromkeys(r["weights"] for r in rows))
    fig, axes = plt.subplots(1, len(archs), figsize=(5 * len(archs), 3.8), squeeze=False,
                             sharey=True)
    style = {"model_eager": ("-", "hwsim (eager kernels)"), "model_fused": ("--", "hwsim (fused)"),
             "roofline": (":", "datasheet roofline")}
    for ax, arch in zip(axes[0], archs):
        for i, w in enumerate(weights):
            sel = sorted((r for r in rows if r["arch"] == arch and r["weights"] == w),
                         key=lambda r: r["batch"])
            bs = [r["batch"] for r in sel]
            ax.scatter(bs, [r["measured_tokens_per_s"] for r in sel], color=PALETTE[i], s=40,
                       zorder=3, label=f"{w}: measured")
            for k, (ls, lab) in style.items():
                ax.plot(bs, [r[f"{k}_tokens_per_s"] for r in sel], ls, color=PALETTE[i],
                        label=f"{w}: {lab}")
        ax.set(xscale="log", yscale="log", xlabel="batch", title=f"llama-2-7b decode on {arch}")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("throughput (tokens/s)")
    axes[0][-1].legend(fontsize=6.5)
    fig.tight_layout()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "experiments/results/gpu_decode_vs_measured")
    ap.add_argument("--quick", action="store_true", help="H100 only")
    a = ap.parse_args()
    rows = run(a.out, a.quick)
    print(f"wrote {len(rows)} rows to {a.out}")


if __name__ == "__main__":
    main()
