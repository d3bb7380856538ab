"""Per-device calibration of the CPU presets on T-MAC's published decode throughput, with the
fit rows and the held-out rows kept disjoint (paper-claims.md §4, microsoft/T-MAC
docs/profiling_data.md and README).

    python experiments/cpu_tmac_fit.py [--out experiments/results/cpu_tmac_fit]

The fitting is :mod:`hwsim.families.cpu.fit` (the family's calibration entry point): per device,
the kernel efficiencies and, where the table has a multi-thread row, the achievable bandwidth, each
solved with brentq on its own row; the arch YAMLs carry the values printed here. Every other row
of the tables is held out (validation in ``hwsim validate cpu``). Writes ``fit.csv`` (the fitted
values), ``rows.csv`` (every row: published, hwsim, error, fit or held-out) and
``model_vs_published.png``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from hwsim.families.cpu import checks as V  # noqa: E402
from hwsim.families.cpu import fit as F  # noqa: E402
from hwsim.plot import save  # noqa: E402


def run(out: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    fits = {d: F.fit_device(d) for d in tqdm(F.FIT, desc="fit")}
    with open(out / "fit.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["device", "parameter", "value", "fit_row"])
        for d, params in F.FIT.items():
            for p, row in params:
                w.writerow([d, p, f"{fits[d][p]:.4g}", "%dt %s %s" % row])
    rows = [F.row(d, th, s, m, fits) for d, th, s, m in tqdm(V.all_rows(), desc="rows")]
    with open(out / "rows.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    lim = [0.5, 150]
    ax.fill_between(lim, [x * 0.8 for x in lim], [x * 1.2 for x in lim], color="0.9", zorder=0)
    ax.plot(lim, lim, "k-", lw=0.8, zorder=1)
    for kind, mk in (("fit (consistency)", "s"), ("held out (validation)", "o")):
        for sysname, col in (("llama.cpp", "tab:orange"), ("t-mac", "tab:blue")):
            sel = [r for r in rows if r["kind"] == kind and r["system"] == sysname]
            fit = kind.startswith("fit")
            ax.scatter([r["published"] for r in sel], [r["hwsim"] for r in sel], marker=mk,
                       s=60 if fit else 25, facecolors="none" if fit else col, edgecolors=col,
                       label=f"{sysname}, {kind}", zorder=2)
    ax.set(xscale="log", yscale="log", xlim=lim, ylim=lim, xlabel="published tokens/s",
           ylabel="hwsim tokens/s", title="CPU decode: hwsim vs T-MAC tables (band: ±20%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, out / "model_vs_published.png")
    return rows, fits


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parent / "results" / "cpu_tmac_fit")
    rows, fits = run(ap.parse_args().out)
    for d, v in fits.items():
        print(d, {k: f"{x:.4g}" for k, x in v.items()})
    held = [r for r in rows if r["kind"].startswith("held")]
    ok = sum(abs(r["error"]) <= 0.2 for r in held)
    print(f"held-out rows within 20%: {ok}/{len(held)}")
    for r in rows:
        print(f"{r['device']:20s} {r['threads']:2d}t {r['system']:9s} {r['model']:6s} "
              f"{r['published']:7.2f} {r['hwsim']:7.2f} {100 * r['error']:+6.0f}%  {r['kind']}")
