"""Known-design registry: each check compares a hwsim value with a published or measured one.

The same registry drives ``hwsim validate`` and the pytest regression tests
(``tests/test_validate.py``), so a model change that breaks a reproduced result fails CI. Hardware
families add their checks by registering a provider function with :func:`provider`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ._paths import preset_dir, read_yaml
from .errors import UnknownNameError


@dataclass(frozen=True)
class Check:
    """One known-design comparison. ``rel_tol`` is the relative error the model is held to."""

    family: str
    id: str
    description: str
    source: str
    reference: float
    unit: str
    compute: Callable[[], float]
    rel_tol: float

    def run(self) -> "Result":
        value = float(self.compute())
        err = (value - self.reference) / self.reference if self.reference else math.inf
        return Result(self, value, err, abs(err) <= self.rel_tol + 1e-12)


@dataclass(frozen=True)
class Result:
    check: Check
    value: float
    rel_error: float
    passed: bool


_PROVIDERS: dict[str, Callable[[], list[Check]]] = {}


def provider(family: str):
    """Register a function returning the checks of a family."""
    def deco(fn):
        _PROVIDERS[family] = fn
        return fn
    return deco


def families() -> list[str]:
    return sorted(_PROVIDERS)


def checks(family: str | None = None) -> list[Check]:
    if family is not None and family not in _PROVIDERS:
        raise UnknownNameError("validation family", family, families())
    fams = [family] if family else families()
    return [c for f in fams for c in _PROVIDERS[f]()]


def run(family: str | None = None) -> list[Result]:
    return [c.run() for c in checks(family)]


def to_table(results: list[Result], markdown: bool = False) -> str:
    head = ["family", "check", "reference", "hwsim", "unit", "error", "tolerance", "ok", "source"]
    rows = [[r.check.family, r.check.id, f"{r.check.reference:.6g}", f"{r.value:.6g}", r.check.unit,
             f"{100 * r.rel_error:+.2f}%", f"±{100 * r.check.rel_tol:g}%",
             "yes" if r.passed else "NO", r.check.source] for r in results]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    n_ok = sum(r.passed for r in results)
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
                     + ["", f"{n_ok}/{len(results)} checks within tolerance"])


# ------------------------------------------------------------------------------ seed providers


@provider("gpu-roofline")
def _roofline_checks() -> list[Check]:
    """Each GPU preset's per-SM rates × SMs × clock must reproduce its datasheet peaks: a typo
    in an arch YAML fails here. Tolerance 0.5% covers the datasheets' rounding."""
    from .arch import arch_spec, list_archs, load_arch

    out = []
    for name in list_archs():
        spec, src = arch_spec(name)
        if spec.get("family") != "gpu":
            continue
        hw = load_arch(name)
        for path, tflops in (spec.get("datasheet_tflops") or {}).items():
            out.append(Check("gpu-roofline", f"{name}.{path}_peak", f"{name} dense {path} peak",
                             f"datasheet via arch/{src.name} ({spec.get('source', '')})",
                             float(tflops), "TFLOP/s",
                             (lambda hw=hw, p=path: hw.peak_ops_per_s(p) / 1e12), 0.005))
    return out


@provider("workload")
def _workload_checks() -> list[Check]:
    """Parameter and MAC counts of the workload presets against published figures."""
    from .workload.presets import list_workloads, load_workload

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
