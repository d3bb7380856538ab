"""Known-design registry: each check compares a hwsim value with a published or measured one.

The same registry drives ``hwsim validate`` and the pytest regression tests
(``tests/validate/``), so a model change that breaks a reproduced result fails CI.

Each hardware family registers its checks with :func:`provider` from its own package
(``hwsim/families/<family>/checks.py``, listed in its ``Family.check_modules``); checks that are
not about one family (technology tables, workloads, systems) live in this package. All are
imported when the registry is first read. A provider's name is a *validation group* (a family
may have several: ``gpu``, ``gpu-decode``, ``gpu-prefill`` ...).

Every check says what kind of evidence it is:

* ``kind="validation"``: the reference is independent published or measured data, none of which
  was used to fit or set any parameter of the model being checked.
* ``kind="consistency"``: the model or a preset against its own sources (a rule against the rows
  it was fitted through, a preset's peaks against the datasheet numbers it was derived from).
  Consistency checks catch typos and regressions; they are not evidence of accuracy and never
  count in a summary of the model's error.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import textwrap
from dataclasses import dataclass
from typing import Callable

from ..errors import ConfigError, UnknownNameError

KINDS = ("validation", "consistency")


@dataclass(frozen=True)
class Check:
    """One known-design comparison.

    ``mode="rel"``: hwsim's value must be within ``rel_tol`` (relative) of ``reference``.
    ``mode="max"``: hwsim's value (an error statistic such as a MAPE) must not exceed
    ``reference``. ``known_miss`` states why a check currently fails; the test suite expects it
    to fail (strict xfail), so fixing the model forces the entry to be updated. ``kind`` is
    ``"validation"`` or ``"consistency"`` (module docstring); ``fitted_on`` names the data a
    consistency check's rule was fitted to or derived from.
    """

    family: str
    id: str
    description: str
    source: str
    reference: float
    unit: str
    compute: Callable[[], float]
    rel_tol: float = 0.0
    mode: str = "rel"
    known_miss: str = ""
    kind: str = "validation"
    fitted_on: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"check {self.family}:{self.id}: field 'kind' = {self.kind!r}: "
                              f"expected one of {', '.join(KINDS)}")
        if self.mode not in ("rel", "max"):
            raise ConfigError(f"check {self.family}:{self.id}: field 'mode' = {self.mode!r}: "
                              "expected 'rel' or 'max'")

    def run(self) -> "Result":
        value = float(self.compute())
        if self.mode == "max":
            return Result(self, value, value - self.reference, value <= self.reference + 1e-12)
        err = (value - self.reference) / self.reference if self.reference else math.inf
        return Result(self, value, err, abs(err) <= self.rel_tol + 1e-12)


@dataclass(frozen=True)
class Result:
    check: Check
    value: float
    rel_error: float
    passed: bool


_PROVIDERS: dict[str, Callable[[], list[Check]]] = {}
_loaded = False


def provider(family: str):
    """Register a function returning the checks of a family."""
    def deco(fn):
        _PROVIDERS[family] = fn
        return fn
    return deco


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for m in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{m.name}")
        _loaded = True
    from ..families import check_module_names  # each family's own checks (plug-ins too)
    for name in check_module_names():
        importlib.import_module(name)  # cached after the first time


def groups() -> list[str]:
    """The validation groups (a hardware family may have several: gpu, gpu-decode ...)."""
    _load_all()
    return sorted(_PROVIDERS)


families = groups  # the former name (it listed validation groups, not hardware families)


def checks(family: str | None = None, kind: str | None = None) -> list[Check]:
    """The registered checks, optionally of one family and/or one kind."""
    _load_all()
    if family is not None and family not in _PROVIDERS:
        raise UnknownNameError("validation group", family, groups())
    if kind is not None and kind not in KINDS:
        raise UnknownNameError("check kind", kind, list(KINDS))
    fams = [family] if family else groups()
    out = [c for f in fams for c in _PROVIDERS[f]()]
    return [c for c in out if kind is None or c.kind == kind]


def run(family: str | None = None, kind: str | None = None) -> list[Result]:
    return [c.run() for c in checks(family, kind)]


def summary(results: list[Result]) -> dict:
    """Counts over *validation* checks only (consistency checks are not evidence of accuracy):
    how many, how many pass, known misses, unexpected failures, and the worst relative error of
    a ``rel`` check (with its id)."""
    val = [r for r in results if r.check.kind == "validation"]
    rel = [r for r in val if r.check.mode == "rel" and math.isfinite(r.rel_error)]
    worst = max(rel, key=lambda r: abs(r.rel_error), default=None)
    return {"validation": len(val), "passed": sum(r.passed for r in val),
            "known_misses": sum(1 for r in val if not r.passed and r.check.known_miss),
            "failed": sum(1 for r in val if not r.passed and not r.check.known_miss),
            "consistency": len(results) - len(val),
            "worst_rel_error": abs(worst.rel_error) if worst else None,
            "worst_id": f"{worst.check.family}:{worst.check.id}" if worst else None}


def summary_line(results: list[Result]) -> str:
    s = summary(results)
    worst = (f"; worst |error| {100 * s['worst_rel_error']:.1f}% ({s['worst_id']})"
             if s["worst_id"] else "")
    return (f"validation: {s['passed']}/{s['validation']} checks within tolerance"
            + (f", {s['known_misses']} known misses" if s["known_misses"] else "")
            + (f", {s['failed']} FAILED" if s["failed"] else "") + worst
            + f"; plus {s['consistency']} consistency checks (not counted)")


def _row(r: Result) -> list[str]:
    c = r.check
    ok = "yes" if r.passed else ("known miss" if c.known_miss else "NO")
    src = c.source + (f" — miss: {c.known_miss}" if c.known_miss and not r.passed else "")
    if c.mode == "max":
        return [c.family, c.id, c.kind, f"<= {c.reference:.4g}", f"{r.value:.4g}", c.unit, "", "",
                ok, src]
    return [c.family, c.id, c.kind, f"{c.reference:.6g}", f"{r.value:.6g}", c.unit,
            f"{100 * r.rel_error:+.2f}%", f"±{100 * c.rel_tol:g}%", ok, src]


def to_table(results: list[Result], markdown: bool = False, wide: bool = False,
             width: int | None = None) -> str:
    """Validation checks first, then consistency checks, each group as a table. Text tables fit
    ``width`` columns (default 120; ``wide``: the sources too, 200): the check id, then the
    source, are cut with "..." where a line would be longer. Markdown keeps every cell whole."""
    head = ["family", "check", "kind", "reference", "hwsim", "unit", "error", "tolerance", "ok",
            "source"]
    ordered = ([r for r in results if r.check.kind == "validation"]
               + [r for r in results if r.check.kind == "consistency"])
    rows = [_row(r) for r in ordered]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    width = width or (200 if wide else 120)
    if not wide:
        head, rows = head[:-1], [r[:-1] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    for col in ((9, 1) if wide else (1,)):  # shrink the source first, then the check id
        over = sum(widths) + 2 * (len(widths) - 1) - width
        if over > 0 and col < len(widths):
            widths[col] = max(len(head[col]), widths[col] - over)
    fmt = lambda r: "  ".join(_cut(c, w).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
                     + [""] + textwrap.wrap(summary_line(results), width))


def _cut(text: str, w: int) -> str:
    return text if len(text) <= w else text[:max(0, w - 3)] + "..."
