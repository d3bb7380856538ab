"""Plots of an exploration (matplotlib, Agg): Pareto fronts, parallel coordinates, hypervolume."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LABEL = {"accuracy_proxy": "accuracy proxy (rel. quant. error, lower is better)",
         "latency_s": "latency (s)", "energy_j": "energy (J)", "area_mm2": "area (mm²)",
         "memory_bytes": "memory (bytes)", "tokens_per_s": "tokens/s"}


def plot_pareto_2d(res, x: str, y: str, path, highlight=None) -> Path:
    rows = res.rows
    front = res.pareto()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    feas = [r for r in rows if r["feasible"]]
    infe = [r for r in rows if not r["feasible"]]
    if infe:
        ax.scatter([r[x] for r in infe], [r[y] for r in infe], s=8, c="0.8", label="infeasible")
    ax.scatter([r[x] for r in feas], [r[y] for r in feas], s=8, c="tab:blue", alpha=0.4,
               label="designs")
    ax.scatter([r[x] for r in front], [r[y] for r in front], s=22, c="tab:red",
               label=f"Pareto ({len(res.objectives)} objectives)")
    for lab, pts, style in (highlight or []):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=lab, ms=8)
    ax.set(xlabel=LABEL.get(x, x), ylabel=LABEL.get(y, y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_pareto_3d(res, keys, path) -> Path:
    front = res.pareto()
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    allp = np.array([[r[k] for k in keys] for r in res.rows if r["feasible"]])
    if len(allp):
        ax.scatter(*allp.T, s=5, c="tab:blue", alpha=0.3)
    if front:
        fp = np.array([[r[k] for k in keys] for r in front])
        ax.scatter(*fp.T, s=20, c="tab:red")
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    ax.set_zlabel(keys[2])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_parallel(res, path) -> Path:
    """Parallel coordinates over the design choices and objectives of the feasible designs
    (at most 1000, the Pareto front first)."""
    front = res.pareto()
    ids = {r["trial"] for r in front}
    rows = (front + [r for r in res.rows if r["feasible"] and r["trial"] not in ids])[:1000]
    cols = [k for k in (rows[0] if rows else {}) if k.startswith(("w.", "a", "kv", "hw."))]
    cols += res.objectives
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(cols)), 4))
    if rows:
        mat, ticks = [], []
        for c in cols:
            vals = [r.get(c) for r in rows]
            if all(isinstance(v, (int, float)) for v in vals):
                v = np.array(vals, float)
                ticks.append(None)
            else:
                cats = sorted({str(x) for x in vals})
                v = np.array([cats.index(str(x)) for x in vals], float)
                ticks.append(cats)
            lo, hi = v.min(), v.max()
            mat.append((v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5))
        mat = np.array(mat)
        color = mat[-1]
        for j in range(mat.shape[1]):
            ax.plot(range(len(cols)), mat[:, j], color=plt.cm.viridis(color[j]), alpha=0.25, lw=0.8)
        for i, t in enumerate(ticks):
            if t:
                for k, lab in enumerate(t):
                    ax.text(i, k / max(1, len(t) - 1), lab, fontsize=6, ha="center")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=30, ha="right", fontsize=7)
    ax.set_yticks([])
    ax.set_title("designs (colour: last objective)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_hypervolume(res, path) -> Path | None:
    hv = res.hypervolume_history()
    if not hv:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(hv) + 1), hv)
    ax.set(xlabel="trial", ylabel="hypervolume (normalized)", title="convergence")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_all(res, out: Path) -> list[Path]:
    o = res.objectives
    paths = []
    if len(o) >= 2:
        paths.append(plot_pareto_2d(res, o[0], o[1], out / "pareto.png"))
    if len(o) >= 3:
        paths.append(plot_pareto_3d(res, o[:3], out / "pareto3d.png"))
    paths.append(plot_parallel(res, out / "parallel.png"))
    hv = plot_hypervolume(res, out / "hypervolume.png")
    if hv:
        paths.append(hv)
    return paths
