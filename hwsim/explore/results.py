"""An exploration's results: trials as rows, the feasible Pareto front, hypervolume, exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from optuna.trial import TrialState

from .hypervolume import hypervolume, pareto_mask
from .space import Space


class ExploreResult:
    """Trials of a study as rows, the feasible Pareto front, hypervolume history, exports, plots."""

    def __init__(self, study, space: Space, storage_url: str):
        self.study, self.space, self.storage_url = study, space, storage_url
        self.objectives = list(space.objectives)
        self.rows = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            h = t.user_attrs.get("hwsim", {})
            feasible = all(v <= 0 for v in h.get("constraints", [0.0]))
            self.rows.append({"trial": t.number, "feasible": feasible, **h.get("metrics", {}),
                              **_flat_design(h.get("design", {}))})

    def _signed(self, rows) -> np.ndarray:
        s = [1 if d == "minimize" else -1 for d in self.space.objectives.values()]
        return np.array([[r[k] * si for k, si in zip(self.objectives, s)] for r in rows], float)

    def pareto(self) -> list[dict]:
        """Feasible, non-dominated designs, sorted by the first objective; each distinct design
        once (samplers re-propose designs; the first trial of each is kept)."""
        seen: set = set()
        feas = []
        for r in self.rows:
            key = tuple(sorted((k, str(v)) for k, v in r.items()
                               if k.startswith(("w.", "hw.")) or k in ("a", "kv")))
            if r["feasible"] and key not in seen:
                seen.add(key)
                feas.append(r)
        if not feas:
            return []
        mask = pareto_mask(self._signed(feas))
        return sorted([r for r, k in zip(feas, mask) if k], key=lambda r: r[self.objectives[0]])

    def hypervolume_history(self) -> list[float]:
        """Hypervolume of the feasible front after each trial (objectives normalized to [0, 1]
        by the observed ranges; reference point 1.1)."""
        feas = [r for r in sorted(self.rows, key=lambda r: r["trial"])]
        if not feas or len(self.objectives) > 3:
            return []
        pts = self._signed(feas)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        norm = (pts - lo) / np.where(hi > lo, hi - lo, 1.0)
        ref = np.full(len(self.objectives), 1.1)
        out, front, hv = [], np.empty((0, len(self.objectives))), 0.0
        for r, p in zip(feas, norm):
            # keep only the running front: a dominated newcomer leaves the hypervolume unchanged
            if r["feasible"] and not np.any(np.all(front <= p, axis=1)):
                front = np.vstack([front[~np.all(p <= front, axis=1)], p])
                hv = hypervolume(front, ref)
            out.append(hv)
        return out

    def table(self, limit: int = 30) -> str:
        front = self.pareto()
        cols = self.objectives + [c for c in self.space.constraints if c not in self.objectives]
        dcols = [k for k in (front[0] if front else {}) if k.startswith(("w.", "a", "kv", "hw."))
                 and k not in cols]
        head = ["trial"] + cols + dcols
        lines = ["  ".join(f"{h:>12s}" for h in head)]
        for r in front[:limit]:
            lines.append("  ".join(f"{_fmt(r.get(h)):>12s}" for h in head))
        note = (f"{len(front)} Pareto-optimal of {len(self.rows)} designs "
                f"({sum(r['feasible'] for r in self.rows)} feasible)")
        if "accuracy_proxy" in cols:
            note += "; accuracy_proxy is a PROXY (relative quantization error), not accuracy"
        return "\n".join(lines + [note])

    def to_csv(self, path) -> None:
        import csv
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.rows)

    def to_json(self, path) -> None:
        import json
        Path(path).write_text(json.dumps({"objectives": self.space.objectives,
                                          "pareto": self.pareto(),
                                          "hypervolume": self.hypervolume_history()}, indent=1))

    def save(self, out) -> list[Path]:
        """Write trials.csv, pareto.json and the plots into ``out``; returns the paths."""
        from .plots import plot_all
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        self.to_csv(o / "trials.csv")
        self.to_json(o / "pareto.json")
        return [o / "trials.csv", o / "pareto.json"] + plot_all(self, o)


def _flat_design(d: dict) -> dict:
    out = {}
    for k, v in (d.get("weights") or {}).items():
        out[f"w.{k}"] = v
    if "activations" in d:
        out["a"] = d["activations"]
        out["kv"] = d.get("kv")
    for k, v in (d.get("hardware") or {}).items():
        out[f"hw.{k}"] = v
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


__all__ = ["ExploreResult"]
