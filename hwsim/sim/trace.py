"""Timeline export of one simulated op: Chrome trace JSON (opens in Perfetto or
chrome://tracing) and a utilization-over-time plot.

Example::

    write_op_trace(hw, op, "op.trace.json")
    plot_utilization(hw, op, "op_util.png")
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .engine import simulate
from .program import TileProgram


def _runs(hw, op) -> list[tuple[TileProgram, object]]:
    from . import op_programs
    return [(p, simulate(p, trace=True, counterfactual=False)) for p in op_programs(hw, op)]


def chrome_trace(hw, op) -> dict:
    """The op's timeline as a Chrome trace dict: one track per component (load DMA, compute
    unit, store DMA, memory channel -- its spans say the share of bandwidth in use); programs of
    one op (attention's two GEMMs) follow each other. Times in microseconds, as the format
    requires."""
    events, tids, t0 = [], {}, 0.0
    name = op.name or op.type
    for k, (prog, res) in enumerate(_runs(hw, op)):
        for track, label, a, b, *frac in res.spans:
            tid = tids.setdefault(track, len(tids))
            args = {"program": k, "source": prog.source}
            if frac:   # memory channel: share of the bandwidth in use
                label = f"{100 * frac[0]:.0f}% of bandwidth"
                args["bandwidth_fraction"] = frac[0]
            events.append({"name": label, "ph": "X", "pid": 0, "tid": tid,
                           "ts": (t0 + a) * 1e6, "dur": (b - a) * 1e6, "args": args})
        t0 += res.latency_s
    meta = [{"name": "thread_name", "ph": "M", "pid": 0, "tid": tid, "args": {"name": tr}}
            for tr, tid in tids.items()]
    meta.append({"name": "process_name", "ph": "M", "pid": 0, "tid": 0,
                 "args": {"name": f"{name} on {hw.name}"}})
    return {"traceEvents": meta + events, "displayTimeUnit": "ns"}


def write_op_trace(hw, op, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(chrome_trace(hw, op)))
    return path


def utilization(hw, op, bins: int = 200) -> dict[str, np.ndarray]:
    """Busy fraction over time per track: ``{"t_s": bin centers, track: fraction, ...}``; the
    memory channel's is the fraction of its bandwidth in use."""
    runs = _runs(hw, op)
    total = sum(r.latency_s for _, r in runs) or 1.0
    edges = np.linspace(0.0, total, bins + 1)
    out: dict[str, np.ndarray] = {"t_s": (edges[:-1] + edges[1:]) / 2}
    t0 = 0.0
    for _, res in runs:
        for track, _label, a, b, *frac in res.spans:
            u = out.setdefault(track, np.zeros(bins))
            lo = np.clip(edges[:-1], t0 + a, t0 + b)
            hi = np.clip(edges[1:], t0 + a, t0 + b)
            u += (hi - lo) / np.diff(edges) * (frac[0] if frac else 1.0)
        t0 += res.latency_s
    return {k: (np.minimum(v, 1.0) if k != "t_s" else v) for k, v in out.items()}


def plot_utilization(hw, op, path: str | Path, bins: int = 200) -> Path:
    """Plot :func:`utilization` (one line per track) to ``path`` (PNG/SVG/PDF by suffix)."""
    import matplotlib.pyplot as plt  # the caller's backend (headless: matplotlib picks Agg)
    u = utilization(hw, op, bins)
    t = u.pop("t_s")
    fig, ax = plt.subplots(figsize=(8, 3))
    for track, v in u.items():
        ax.plot(t * 1e6, v, label=track, lw=1)
    ax.set_xlabel("time (us)")
    ax.set_ylabel("busy fraction")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"{op.name or op.type} on {hw.name} (simulated)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
