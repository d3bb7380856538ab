"""Workload presets: parameter and MAC counts against published figures."""

from __future__ import annotations

from .._paths import preset_dir, read_yaml
from . import Check, provider


@provider("workload")
def _workload_checks() -> list[Check]:
    """Parameter and MAC counts of the workload presets against published figures."""
    from ..workload.presets import list_workloads, load_workload

    out = []
    for name in list_workloads():
        spec = read_yaml(preset_dir("workloads") / f"{name}.yaml")
        for metric, pub in (spec.get("published") or {}).items():
            out.append(Check("workload", f"{name}.{metric}", f"{name} {metric}",
                             str(pub.get("source", "")), float(pub["value"]),
                             "params" if metric == "num_params" else "MACs",
                             (lambda n=name, m=metric: getattr(load_workload(n), m)),
                             float(pub.get("rel_tol", 0.0))))
    return out


