"""Figures of hwsim results (matplotlib; the backend is the caller's): Pareto fronts, rooflines with a workload's
ops placed on them, stacked latency / energy / area breakdowns, model-vs-measured scatter of a
validation family, and a format comparison (quantization error vs storage bits).

Every function returns the :class:`matplotlib.figure.Figure` (save it with :func:`save` or
``fig.savefig``). Axes carry units, values that span decades get log axes, and colours come from
the Okabe-Ito palette, which stays distinguishable under the common colour-vision deficiencies.

>>> import hwsim, hwsim.plot as hp
>>> rep = hwsim.evaluate(hwsim.load_workload("llama-2-7b"), hwsim.load_arch("h100-sxm"))
>>> fig = hp.roofline(rep)                                   # doctest: +SKIP
>>> hp.save(fig, "roofline.png")                             # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib.pyplot as plt  # the backend is the caller's (Jupyter inline, Agg headless)
import numpy as np
from matplotlib.figure import Figure

from ..errors import ConfigError, HwsimError, UnsupportedError  # noqa: E402

# Okabe & Ito (2008), "Color universal design": safe for protan/deutan/tritan viewers
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000", "#999999")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")

LABELS = {"latency_s": "latency (s)", "energy_j": "energy (J)", "area_mm2": "area (mm²)",
          "power_w": "power (W)", "tokens_per_s": "throughput (tokens/s)",
          "memory_bytes": "memory (bytes)", "weight_bytes": "weight memory (bytes)",
          "accuracy_proxy": "accuracy proxy (rel. quant. error, lower is better)",
          "flops": "FLOPs", "bytes": "bytes moved", "storage_bits": "storage (bits / element)",
          "sqnr_db": "SQNR (dB, higher is better)", "rel_error": "relative RMS error"}
# objectives a Pareto plot maximizes unless told otherwise
MAXIMIZE = {"tokens_per_s", "sqnr_db"}


def label(key: str) -> str:
    """Axis label with units for a metric name (the name itself when unknown)."""
    return LABELS.get(key, key)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _fill(i: int) -> dict:
    """Bar style of the i-th stacked part: palette colour, hatched once the palette repeats."""
    return {"color": color(i), "hatch": ("", "//", "..", "xx")[(i // len(PALETTE)) % 4]}


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` (PNG/SVG/PDF by suffix), creating the folder; close it; return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(p, dpi=dpi)
    except (OSError, ValueError) as e:
        raise HwsimError(f"cannot write plot {p}: {e}") from None
    plt.close(fig)
    return p


def _log_if_wide(ax, axis: str, values) -> None:
    """Log scale when positive values span more than ~1.5 decades."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if len(v) and np.all(v > 0) and v.max() / v.min() > 30:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


# ------------------------------------------------------------------ Pareto fronts

def _report_row(rep) -> dict:
    """A report's totals as a design row (area where the family has an area model)."""
    row = dict(rep.totals())
    try:
        row["area_mm2"] = rep.hw.area_mm2
    except (UnsupportedError, AttributeError):
        pass
    row.setdefault("label", f"{rep.workload.name} on {rep.hw.name}")
    return row


def _design_key(row: dict) -> tuple:
    """What identifies a design: an exploration trial's choices (``w.*``, ``a``, ``kv``,
    ``hw.*``), else its label, arch, workload and formats — never a trial number or a metric."""
    if "trial" in row:
        keys = sorted(k for k in row if k.startswith(("w.", "hw.")) or k in ("a", "kv"))
    else:
        keys = [k for k in ("label", "arch", "workload", "phase", "batch", "context", "weights",
                            "activations", "kv") if k in row]
    return tuple((k, str(row[k])) for k in keys)


def distinct(rows: Iterable[dict]) -> list[dict]:
    """Each distinct design once (first occurrence kept): samplers re-propose designs, and a
    front that lists one design five times reads as five designs."""
    seen, out = set(), []
    for r in rows:
        k = _design_key(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def pareto_rows(rows: Sequence[dict], objectives: Sequence[str],
                directions: Sequence[str] | None = None) -> list[dict]:
    """The non-dominated distinct designs of ``rows`` (dicts holding each objective), sorted by
    the first objective. ``directions``: ``"minimize"``/``"maximize"`` per objective (default:
    maximize throughput-like metrics in :data:`MAXIMIZE`, minimize the rest)."""
    from ..explore.hypervolume import pareto_mask
    dirs = list(directions or ["maximize" if o in MAXIMIZE else "minimize" for o in objectives])
    if len(dirs) != len(objectives):
        raise ConfigError(f"directions {dirs}: expected one per objective {list(objectives)}")
    rows = [r for r in distinct(rows) if all(_finite(r.get(o)) for o in objectives)]
    if not rows:
        return []
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in dirs])
    pts = np.array([[float(r[o]) for o in objectives] for r in rows]) * sign
    mask = pareto_mask(pts)
    return sorted([r for r, k in zip(rows, mask) if k], key=lambda r: r[objectives[0]])


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _as_rows(source) -> tuple[list[dict], list[str] | None, list[str] | None]:
    """(rows, objectives, directions) from an ExploreResult, a list of Reports or of dicts."""
    if hasattr(source, "rows") and hasattr(source, "objectives") and hasattr(source, "space"):
        dirs = list(source.space.objectives.values())
        return [r for r in source.rows if r.get("feasible", True)], list(source.objectives), dirs
    rows = []
    for s in source:
        if hasattr(s, "totals") and hasattr(s, "hw"):
            rows.append(_report_row(s))
        elif isinstance(s, dict):
            rows.append(s)
        else:
            raise HwsimError(f"pareto: expected an ExploreResult, Reports or dicts, got "
                             f"{type(s).__name__}")
    return rows, None, None


def pareto(source, objectives: Sequence[str] | None = None,
           directions: Sequence[str] | None = None, label_key: str | None = None) -> Figure:
    """Pareto front in 2-D (two objectives) or 3-D (three) of an exploration
    (:class:`hwsim.explore.ExploreResult`, feasible designs) or of a list of Reports / dicts.

    All designs are drawn faintly, the front (each distinct design once) on top; with a list of
    reports each front point is labelled (``label_key``, default ``label``: workload on arch).
    """
    rows, objs, dirs = _as_rows(source)
    objectives = list(objectives or objs or ["latency_s", "energy_j"])
    if directions is None and objs is not None:
        dirs = [dirs[objs.index(o)] if o in objs else None for o in objectives]
        directions = [d or ("maximize" if o in MAXIMIZE else "minimize")
                      for d, o in zip(dirs, objectives)]
    if len(objectives) not in (2, 3):
        raise ConfigError(f"pareto: objectives {objectives}: expected 2 or 3")
    missing = [o for o in objectives if not any(_finite(r.get(o)) for r in rows)]
    if missing:
        have = sorted({k for r in rows for k, v in r.items() if _finite(v)})
        raise ConfigError(f"pareto: no design has a value for {', '.join(missing)}; "
                          f"available: {', '.join(have) or 'none'}")
    front = pareto_rows(rows, objectives, directions)
    pts = [r for r in rows if all(_finite(r.get(o)) for o in objectives)]
    lab = label_key or ("label" if objs is None else None)
    if len(objectives) == 2:
        x, y = objectives
        fig, ax = plt.subplots(figsize=(6, 4.3))
        ax.scatter([r[x] for r in pts], [r[y] for r in pts], s=10, c=PALETTE[8], alpha=0.5,
                   label=f"designs ({len(distinct(pts))} distinct)")
        fx, fy = [r[x] for r in front], [r[y] for r in front]
        ax.plot(fx, fy, "-", color=PALETTE[3], lw=1, alpha=0.6)
        ax.scatter(fx, fy, s=30, c=PALETTE[3], zorder=3, label=f"Pareto front ({len(front)})")
        if lab:
            for r in front:
                ax.annotate(str(r.get(lab, "")), (r[x], r[y]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        _log_if_wide(ax, "x", [r[x] for r in pts])
        _log_if_wide(ax, "y", [r[y] for r in pts])
        ax.set(xlabel=label(x), ylabel=label(y))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    else:
        fig = plt.figure(figsize=(6.5, 5))
        ax = fig.add_subplot(projection="3d")
        allp = np.array([[r[o] for o in objectives] for r in pts], float)
        ax.scatter(*allp.T, s=6, c=PALETTE[8], alpha=0.4, label="designs")
        fp = np.array([[r[o] for o in objectives] for r in front], float)
        ax.scatter(*fp.T, s=24, c=PALETTE[3], label=f"Pareto front ({len(front)})")
        ax.set_xlabel(label(objectives[0]), fontsize=8)
        ax.set_ylabel(label(objectives[1]), fontsize=8)
        ax.set_zlabel(label(objectives[2]), fontsize=8)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.pareto_rows = front  # what was drawn, for callers and tests
    return fig


# ------------------------------------------------------------------ roofline

def _bits(fmt: str | None) -> int | None:
    from .. import formats
    if not fmt:
        return None
    try:
        return int(math.ceil(formats.get(fmt).bits))
    except HwsimError:
        return None


def _bandwidth_Bps(hw) -> float | None:
    bw = hw.summary().mem_bandwidth_Bps
    return float(bw) if bw and bw > 0 else None


def roof_label(op) -> str | None:
    """The roof an op sits under: its (activations x weights) formats; None for ops without
    both (vector ops, attention), which have no compute roof of their own."""
    a, w = getattr(op, "activations", None), getattr(op, "weights", None)
    return f"{a} x {w}" if a and w else None


def compute_roofs(hw, ops=()) -> dict[str, float]:
    """Peak ops/s (1 MAC = 2 ops) for each distinct (activations x weights) pair of ``ops``
    (:meth:`~hwsim.contract.Accelerator.peak_ops_per_s`), keyed by :func:`roof_label`. A pair
    the design states no peak for is left out (the plot then shows the memory roof only)."""
    roofs: dict[str, float] = {}
    for op in ops:
        label = roof_label(op)
        if label is None or label in roofs:
            continue
        try:
            roofs[label] = hw.peak_ops_per_s(op.activations, op.weights)
        except HwsimError:
            continue
    return roofs


def roofline(report, peaks: dict[str, float] | None = None,
             bandwidth_Bps: float | None = None, title: str | None = None) -> Figure:
    """Roofline of ``report.hw`` with every distinct op of the workload placed on it:
    x = arithmetic intensity (FLOPs per byte of its operands), y = achieved FLOP/s (FLOPs /
    modelled latency). Colour = the datapath the model ran the op on, marker = the op's formats,
    marker area ∝ the op's share of total latency. Roofs: peak memory bandwidth (diagonal) and
    the compute peak of each datapath used (``peaks``/``bandwidth_Bps`` override the preset's).

    Ops whose FLOPs are zero (copies, embeddings) cannot sit on a roofline and are counted in
    the legend title instead."""
    rows = report.rows
    bw = bandwidth_Bps or _bandwidth_Bps(report.hw)
    if peaks is None:
        peaks = compute_roofs(report.hw, [r.op for r in rows])
    total = report.latency_s or 1.0
    agg: dict[tuple, dict] = {}
    skipped = 0
    for r in rows:
        if r.op.flops <= 0 or r.op.bytes <= 0 or r.cost.latency_s <= 0:
            skipped += 1
            continue
        fmts = " ".join(f"{k}={v}" for k, v in r.op.formats().items())
        key = (r.op.type, r.op.group or r.op.name, r.cost.compute_path, fmts, r.op.flops,
               r.op.bytes, roof_label(r.op))
        a = agg.setdefault(key, {"flops": r.op.flops, "bytes": r.op.bytes,
                                 "lat": r.cost.latency_s, "share": 0.0})
        a["share"] += r.cost.latency_s / total
    fig, ax = plt.subplots(figsize=(7, 4.8))
    if not agg:
        raise HwsimError(f"roofline: no op of {report.workload.name} has FLOPs and bytes")
    ai = np.array([a["flops"] / a["bytes"] for a in agg.values()])
    perf = np.array([a["flops"] / a["lat"] for a in agg.values()])
    ridge = max((pk / bw for pk in peaks.values()), default=1.0) if bw else 1.0
    xs = np.logspace(math.floor(math.log10(ai.min())) - 0.5,
                     math.ceil(math.log10(max(ai.max(), ridge))) + 1, 200)
    if bw:
        top = max(list(peaks.values()) + [perf.max()])
        ax.plot(xs, np.minimum(xs * bw, top * 1.5), color="0.3", lw=1.2,
                label=f"memory {bw / 1e9:.3g} GB/s")
    for i, (p, peak) in enumerate(sorted(peaks.items(), key=lambda kv: -kv[1])):
        ys = np.minimum(xs * bw, peak) if bw else np.full_like(xs, peak)
        ax.plot(xs, ys, "--", color=color(i), lw=1.2, label=f"{p} peak {_si(peak)}FLOP/s")
    path_col = {p: color(i) for i, p in
                enumerate(sorted(peaks, key=lambda k: -peaks[k]))}
    for p in sorted({k[2] for k in agg}):
        path_col.setdefault(p, color(len(path_col)))
    fmt_mark = {f: MARKERS[i % len(MARKERS)] for i, f in enumerate(sorted({k[3] for k in agg}))}
    for (typ, grp, path, fmts, _, _, _), a in agg.items():
        ax.scatter(a["flops"] / a["bytes"], a["flops"] / a["lat"], marker=fmt_mark[fmts],
                   s=20 + 400 * a["share"], color=path_col[path], edgecolors="black",
                   linewidths=0.4, alpha=0.85, zorder=3)
    # legend entries for datapath colours and format markers
    for p, c in path_col.items():
        if p in {k[2] for k in agg}:
            ax.scatter([], [], color=c, marker="o", label=f"ops on {p or 'default'}")
    for f, m in fmt_mark.items():
        ax.scatter([], [], color="white", edgecolors="black", marker=m, label=f or "no formats")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="arithmetic intensity (FLOP / byte)", ylabel="achieved performance (FLOP/s)",
           title=title or f"{report.workload.name} on {report.hw.name} (marker area ∝ latency)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6.5, loc="lower right",
              title=f"{skipped} zero-FLOP ops not shown" if skipped else None,
              title_fontsize=6.5)
    fig.tight_layout()
    fig.roofline_points = [dict(type=k[0], group=k[1], compute_path=k[2], formats=k[3],
                                roof=k[6], intensity=a["flops"] / a["bytes"],
                                flops_per_s=a["flops"] / a["lat"],
                                latency_share=a["share"]) for k, a in agg.items()]
    fig.roofs = dict(peaks, **({"memory_Bps": bw} if bw else {}))
    return fig


def _si(v: float) -> str:
    for f, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= f:
            return f"{v / f:.3g} {p}"
    return f"{v:.3g} "


# ------------------------------------------------------------------ breakdowns

ENERGY_ROLES = ("compute", "onchip", "offchip", "static")


def group_breakdown(report, metric: str = "latency_s", by: str = "bound") -> dict[str, dict]:
    """``{group: {part: value}}`` of ``report``: ``metric`` (``latency_s`` or ``energy_j``) of
    each layer group split by ``by``: ``"bound"`` (what limits each op: compute, memory ...),
    ``"path"`` (datapath) or ``"component"`` (energy only: the roles of
    :class:`~hwsim.contract.EnergyParts`: compute, onchip, offchip, static). Parts sum to the
    group's total."""
    if metric not in ("latency_s", "energy_j"):
        raise ConfigError(f"breakdown: metric = {metric!r}: expected latency_s or energy_j")
    if by not in ("bound", "path", "component"):
        raise ConfigError(f"breakdown: by = {by!r}: expected bound, path or component")
    if by == "component" and metric != "energy_j":
        raise ConfigError("breakdown: by='component' splits energy (metric='energy_j'); latency "
                          "components overlap (an op takes the max of them), split it by 'bound'")
    out: dict[str, dict] = {}
    for r in report.rows:
        g = out.setdefault(r.op.group or r.op.type, {})
        v = getattr(r.cost, metric)
        if by == "component":
            e = r.cost.energy
            parts = {} if e is None else {k: getattr(e, k + "_j") for k in ENERGY_ROLES
                                          if getattr(e, k + "_j") > 0}
            s = sum(parts.values())
            if v - s > 1e-12 * max(v, 1e-30):
                parts["not itemized"] = v - s
        else:
            parts = {(r.cost.bound if by == "bound" else r.cost.compute_path) or "—": v}
        for k, x in parts.items():
            g[k] = g.get(k, 0.0) + x
    return out


def breakdown(reports, metric: str = "latency_s", by: str = "bound",
              labels: Sequence[str] | None = None) -> Figure:
    """Stacked horizontal bars of ``metric`` per layer group, split by ``by`` (see
    :func:`group_breakdown`). One panel per report (several reports: side by side, same x axis,
    so designs compare at a glance)."""
    reports = [reports] if hasattr(reports, "rows") else list(reports)
    if not reports:
        raise HwsimError("breakdown: no reports")
    data = [group_breakdown(r, metric, by) for r in reports]
    parts = list(dict.fromkeys(k for d in data for g in d.values() for k in g))
    groups = list(dict.fromkeys(g for d in data for g in d))
    fig, axes = plt.subplots(1, len(reports), figsize=(3.2 + 3.2 * len(reports),
                                                       1.2 + 0.28 * len(groups)),
                             sharex=True, squeeze=False)
    scale, unit = _unit(metric, max(sum(g.values()) for d in data for g in d.values()))
    for ax, rep, d, lab in zip(axes[0], reports, data,
                               labels or [f"{r.workload.name} on {r.hw.name}" for r in reports]):
        left = np.zeros(len(groups))
        for i, p in enumerate(parts):
            vals = np.array([d.get(g, {}).get(p, 0.0) for g in groups]) / scale
            ax.barh(groups, vals, left=left, label=p, edgecolor="white", lw=0.3, **_fill(i))
            left += vals
        total = getattr(rep, metric) / scale
        tot_scale, tot_unit = _unit(metric, total * scale)
        ax.set(xlabel=f"{metric.split('_')[0]} ({unit})",
               title=f"{lab}\ntotal {total * scale / tot_scale:.3g} {tot_unit}")
        ax.title.set_fontsize(8)
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
    for ax in axes[0]:
        ax.tick_params(axis="y", labelsize=7)
    axes[0][-1].legend(fontsize=7, title=f"split by {by}", title_fontsize=7)
    fig.tight_layout()
    fig.breakdown = data
    return fig


def _unit(metric: str, vmax: float) -> tuple[float, str]:
    base = "s" if metric == "latency_s" else "J"
    for f, p in ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")):
        if vmax >= f:
            return f, p + base
    return 1e-12, "p" + base


def area_breakdown(hws, labels: Sequence[str] | None = None) -> Figure:
    """Stacked bars of each design's area by hardware component (families with an area model:
    ``area_breakdown_um2()``), in mm²."""
    hws = [hws] if not isinstance(hws, (list, tuple)) else list(hws)
    data = []
    for hw in hws:
        data.append({k: v / 1e6 for k, v in hw.area_breakdown_um2().items()})
    parts = list(dict.fromkeys(k for d in data for k in d))
    names = list(labels or [hw.name for hw in hws])
    fig, ax = plt.subplots(figsize=(4 + 1.1 * len(hws), 4))
    bottom = np.zeros(len(hws))
    for i, p in enumerate(parts):
        vals = np.array([d.get(p, 0.0) for d in data])
        ax.bar(names, vals, bottom=bottom, label=p, edgecolor="white", lw=0.3, **_fill(i))
        bottom += vals
    ax.set(ylabel=label("area_mm2"), title="area by component")
    ax.set_ylim(0, bottom.max() * 1.05)
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.breakdown = data
    return fig


# ------------------------------------------------------------------ validation

def validation(family: str | None = None, results=None, kind: str = "validation") -> Figure:
    """Model vs reference of a validation family (or any list of :class:`hwsim.validate.Result`):
    left, hwsim's value against the published/measured one on log-log axes with the y = x line
    and the ±tolerance band of the checks (the widest tolerance shaded lightly, the tightest
    darker); right, the signed relative error of each check, sorted. Known misses are hollow.
    ``kind``: ``"validation"`` (independent data, default), ``"consistency"`` or ``None`` (all).
    Only ``rel`` checks are drawn (``max`` checks bound an error statistic, not a value)."""
    from .. import validate
    res = results if results is not None else validate.run(family, kind)
    rel = [r for r in res if r.check.mode == "rel" and r.check.reference > 0 and r.value > 0
           and (kind is None or r.check.kind == kind)]
    if not rel:
        raise HwsimError(f"validation plot: family {family!r} has no {kind or ''} relative "
                         "checks with positive values")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.3),
                                  gridspec_kw={"width_ratios": [1, 1.3]})
    ref = np.array([r.check.reference for r in rel])
    val = np.array([r.value for r in rel])
    lo, hi = min(ref.min(), val.min()) / 1.5, max(ref.max(), val.max()) * 1.5
    xs = np.logspace(np.log10(lo), np.log10(hi), 50)
    tols = sorted({r.check.rel_tol for r in rel})
    for t, a in dict(((tols[-1], 0.12), (tols[0], 0.22))).items():
        if t > 0:
            ax.fill_between(xs, xs * (1 - t), xs * (1 + t), color=PALETTE[5], alpha=a, lw=0,
                            label=f"±{100 * t:g}% band")
    ax.plot(xs, xs, color="0.3", lw=1, label="hwsim = reference")
    units = sorted({r.check.unit for r in rel})
    for i, u in enumerate(units):
        for miss in (False, True):
            sel = [r for r in rel if r.check.unit == u and (not r.passed) == miss]
            if not sel:
                continue
            c = color(i)
            ax.scatter([r.check.reference for r in sel], [r.value for r in sel], s=22,
                       marker=MARKERS[i % len(MARKERS)],
                       facecolors="none" if miss else c, edgecolors=c,
                       label=f"{u}{' (miss)' if miss else ''} ({len(sel)})")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi),
           xlabel="reference (published / measured, check's unit)", ylabel="hwsim (same unit)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6.5)
    s = validate.summary(rel)
    name = family or "all families"
    ax.set_title(f"{name}: {s['passed']}/{len(rel)} within tolerance", fontsize=9)
    order = sorted(rel, key=lambda r: r.rel_error)
    err = np.array([100 * r.rel_error for r in order])
    cols = [PALETTE[2] if r.passed else (PALETTE[1] if r.check.known_miss else PALETTE[3])
            for r in order]
    ax2.bar(range(len(order)), err, color=cols, width=0.8)
    for t in tols:
        ax2.axhline(100 * t, color="0.5", lw=0.6, ls=":")
        ax2.axhline(-100 * t, color="0.5", lw=0.6, ls=":")
    ax2.set(xlabel="check (sorted by error)", ylabel="hwsim vs reference (%)",
            title="signed relative error (green: within tolerance, orange: known miss)")
    ax2.title.set_fontsize(9)
    if np.abs(err).max() > 100:
        ax2.set_yscale("symlog", linthresh=10)
    ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.results = rel
    return fig


# ------------------------------------------------------------------ formats

def format_errors(formats: Sequence[str], x: np.ndarray | None = None,
                  seed: int = 0) -> list[dict]:
    """Per format: storage bits per element (with scale overhead), SQNR (dB) and relative RMS
    error of round-tripping ``x`` (default: a synthetic LLM weight tensor with outlier channels,
    :func:`hwsim.explore.synthetic_tensor`)."""
    from .. import formats as F
    from ..formats.metrics import quantization_error
    if x is None:
        from ..explore.proxy import synthetic_tensor
        x = synthetic_tensor("weights", "llm", rows=128, cols=1024, seed=seed)
    x = np.asarray(x, float)
    rms = float(np.sqrt(np.mean(x ** 2))) or 1.0
    out = []
    for name in formats:
        f = F.get(name)
        q = quantization_error(f, x)
        out.append({"format": name, "bits": f.bits, "storage_bits": f.storage_bits,
                    "sqnr_db": q["sqnr_db"], "rel_error": math.sqrt(q["mse"]) / rms})
    return out


def format_comparison(formats: Sequence[str], x: np.ndarray | None = None, seed: int = 0,
                      metric: str = "sqnr_db") -> Figure:
    """Quantization error (``sqnr_db`` or ``rel_error``) against storage bits per element for
    each format on ``x`` (default: synthetic LLM weights with outlier channels). Formats on the
    upper-left envelope give the least error per stored bit."""
    if metric not in ("sqnr_db", "rel_error"):
        raise ConfigError(f"format_comparison: metric = {metric!r}: expected sqnr_db or rel_error")
    rows = format_errors(formats, x, seed)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    families = {}
    for r in rows:
        fam = r["format"].split("_")[0].rstrip("0123456789") or r["format"]
        families.setdefault(fam, len(families))
    for r in rows:
        fam = r["format"].split("_")[0].rstrip("0123456789") or r["format"]
        i = families[fam]
        ax.scatter(r["storage_bits"], r[metric], color=color(i), marker=MARKERS[i % len(MARKERS)],
                   s=36, zorder=3)
        ax.annotate(r["format"], (r["storage_bits"], r[metric]), fontsize=7, xytext=(3, 2),
                    textcoords="offset points")
    front = pareto_rows([dict(r, label=r["format"]) for r in rows], ["storage_bits", metric],
                        ["minimize", "maximize" if metric == "sqnr_db" else "minimize"])
    ax.plot([r["storage_bits"] for r in front], [r[metric] for r in front], "-", color="0.5",
            lw=0.8, label="best error per stored bit")
    if metric == "rel_error":
        ax.set_yscale("log")
    ax.set(xlabel=label("storage_bits"), ylabel=label(metric),
           title="quantization error vs storage (synthetic LLM weights, outlier channels)"
           if x is None else "quantization error vs storage")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.format_rows = rows
    return fig


__all__ = ["PALETTE", "MARKERS", "label", "save", "distinct", "pareto_rows", "pareto", "compute_roofs",
           "roofline", "group_breakdown", "breakdown", "area_breakdown", "validation",
           "format_errors", "format_comparison"]
