"""Cross-family format study: llama-2-7b decode (batch 1, context 2048) with MXFP4, NVFP4,
int4 in groups of 128, FP8 (E4M3) and ternary weights on one preset of every hardware family that
can hold the model, plus an fp16 baseline: latency, tokens/s, energy per token, area (families
with an area model) and the weight-quantization proxy.

For each (arch, weight format) the activation format is the first of fp16, bf16, fp8_e4m3, int8
the design accepts (recorded in the ``activations`` column); a design that cannot run the format
at all is listed with the reason the model gives (``unsupported``), not dropped. The proxy is the
relative RMS error of round-tripping a synthetic LLM weight tensor with outlier channels
(hwsim.plot.format_errors) — a proxy for quantization damage, not model accuracy.

    python experiments/format_study.py [--out experiments/results/format_study] [--quick]

Writes ``formats.csv`` and ``formats.png``.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hwsim  # noqa: E402
from hwsim.errors import HwsimError, UnsupportedError  # noqa: E402
from hwsim.plot import PALETTE, format_errors, save  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# one preset per family (plus the FP4-capable B200 and an FP8-minifloat FPGA design)
ARCHS = ["h100-sxm", "b200", "lut-tc", "mac-tc", "bitmod", "flightllm-u280", "fpga-minifloat",
         "rpi5", "xeon-8480", "m2-ultra", "stm32h7"]
FORMATS = ["fp16", "fp8_e4m3", "int4_g128", "mxfp4", "nvfp4", "ternary"]
ACTIVATIONS = ["fp16", "bf16", "fp8_e4m3", "int8"]
QUICK = (["h100-sxm", "lut-tc", "rpi5"], ["fp16", "int4_g128", "nvfp4", "ternary"])


def _area(hw):
    try:
        return hw.area_mm2
    except (UnsupportedError, AttributeError):
        return None


def _run(hw, arch: str, weights: str, act: str, cache: dict):
    """The workload and report with the LLM's default 16-bit stream, else (a design without a
    16-bit datapath, e.g. fpga-minifloat) with the stream in the activation format."""
    try:
        wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
                                 weights=weights, activations=act)
        return wl, hwsim.evaluate(wl, hw, cache=cache.setdefault(arch, {}))
    except HwsimError:
        wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
                                 weights=weights, activations=act, stream=act)
        return wl, hwsim.evaluate(wl, hw, cache=cache.setdefault((arch, act), {}))


def evaluate_one(arch: str, weights: str, cache: dict) -> dict:
    """The first activation format in ACTIVATIONS the design runs ``weights`` with, and the
    costs; or the model's reason for refusing."""
    hw = cache.setdefault(("hw", arch), hwsim.load_arch(arch))
    family = getattr(hw, "family", "")
    reasons = []
    for act in ACTIVATIONS:
        try:
            wl, rep = _run(hw, arch, weights, act, cache)
        except HwsimError as e:
            reasons.append(f"{act}: {e}")
            continue
        return {"arch": arch, "family": family, "weights": weights, "activations": act,
                "latency_s": rep.latency_s, "tokens_per_s": rep.tokens_per_s,
                "energy_per_token_j": rep.energy_j, "area_mm2": _area(hw),
                "weight_bytes": wl.weight_bytes, "unsupported": ""}
    return {"arch": arch, "family": family, "weights": weights, "activations": "",
            "latency_s": None, "tokens_per_s": None, "energy_per_token_j": None,
            "area_mm2": _area(hw), "weight_bytes": None,
            "unsupported": _shortest(reasons)}


def _shortest(reasons: list[str]) -> str:
    # the fp16 attempt's reason usually names the real limit; keep one line
    return min(reasons, key=len).replace("\n", " ")[:300] if reasons else ""


def run(out: Path, quick: bool = False) -> list[dict]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    archs, formats = QUICK if quick else (ARCHS, FORMATS)
    proxy = {r["format"]: r for r in format_errors(formats)}
    cache: dict = {}
    rows = []
    for arch in archs:
        for f in formats:
            r = evaluate_one(arch, f, cache)
            r["storage_bits"] = proxy[f]["storage_bits"]
            r["proxy_rel_error"] = proxy[f]["rel_error"]
            rows.append(r)
    with open(out / "formats.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: (f"{v:.6g}" if isinstance(v, float) else ("" if v is None else v))
                     for k, v in r.items()} for r in rows)
    save(_figure(rows, archs, formats), out / "formats.png")
    return rows


def _figure(rows, archs, formats):
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.9 + 0.42 * len(archs)),
                             gridspec_kw={"width_ratios": [1.2, 1]})
    by = {(r["arch"], r["weights"]): r for r in rows}
    tps = np.array([[by[a, f]["tokens_per_s"] or np.nan for f in formats] for a in archs], float)
    ax = axes[0]
    im = ax.imshow(np.log10(tps), cmap="viridis", aspect="auto")
    for i, a in enumerate(archs):
        for j, f in enumerate(formats):
            r = by[a, f]
            txt = "—" if r["tokens_per_s"] is None else \
                f"{r['tokens_per_s']:.3g}\n{r['activations']}"
            v = tps[i, j]
            dark = math.isnan(v) or v < np.nanmean(tps)
            ax.text(j, i, txt, ha="center", va="center", fontsize=6,
                    color="white" if dark and not math.isnan(v) else "black")
    ax.set_xticks(range(len(formats)), formats, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(archs)), [f"{a} ({by[a, formats[0]]['family']})" for a in archs],
                  fontsize=8)
    ax.set_title("decode tokens/s (cell: value, activation format; — unsupported)", fontsize=9)
    fig.colorbar(im, ax=ax, label="log10 tokens/s")
    ax = axes[1]
    for j, f in enumerate(formats):
        pts = [(by[a, f]["storage_bits"], by[a, f]["energy_per_token_j"]) for a in archs
               if by[a, f]["energy_per_token_j"]]
        if pts:
            ax.scatter(*zip(*pts), label=f, s=22, color=PALETTE[j % len(PALETTE)])
    ax.set(yscale="log", xlabel="weight storage (bits / element)",
           ylabel="energy per token (J)", title="energy per token by weight format (one dot per "
           "arch)")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "experiments/results/format_study")
    ap.add_argument("--quick", action="store_true", help="3 archs x 4 formats")
    a = ap.parse_args()
    rows = run(a.out, a.quick)
    ok = sum(r["tokens_per_s"] is not None for r in rows)
    print(f"{ok}/{len(rows)} (arch, format) pairs ran; wrote {a.out}")


if __name__ == "__main__":
    main()
