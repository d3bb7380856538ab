"""Exact hypervolume for minimization problems with 2 or 3 objectives (small fronts)."""

from __future__ import annotations

import numpy as np


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """True for points no other point dominates (all objectives minimized)."""
    p = np.asarray(points, dtype=float)
    n = len(p)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if keep[i]:
            dom = np.all(p <= p[i], axis=1) & np.any(p < p[i], axis=1)
            if dom.any():
                keep[i] = False
    return keep


def hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Volume dominated by ``points`` and bounded by ``ref`` (minimization)."""
    p = np.asarray(points, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if p.size == 0:
        return 0.0
    p = p[np.all(p < ref, axis=1)]
    if len(p) == 0:
        return 0.0
    p = p[pareto_mask(p)]
    d = p.shape[1]
    if d == 1:
        return float(ref[0] - p[:, 0].min())
    if d == 2:
        p = p[np.argsort(p[:, 0])]
        hv, y = 0.0, ref[1]
        for x0, y0 in p:
            if y0 < y:
                hv += (ref[0] - x0) * (y - y0)
                y = y0
        return float(hv)
    if d == 3:
        p = p[np.argsort(p[:, 2])]
        hv = 0.0
        for i in range(len(p)):
            z_next = p[i + 1, 2] if i + 1 < len(p) else ref[2]
            hv += hypervolume(p[: i + 1, :2], ref[:2]) * (z_next - p[i, 2])
        return float(hv)
    raise ValueError(f"hypervolume: {d} objectives; exact computation is implemented for 1-3")
