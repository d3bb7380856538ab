"""Plots of hwsim results (matplotlib, Agg backend): Pareto fronts, rooflines with a workload's ops
placed on them, stacked latency / energy / area breakdowns, model-vs-measured scatter of a
validation family, and quantization error vs storage bits per format.

>>> import hwsim, hwsim.plot as hp
>>> rep = hwsim.evaluate(hwsim.load_workload("llama-2-7b"), hwsim.load_arch("h100-sxm"))
>>> hp.save(hp.roofline(rep), "roofline.png")                 # doctest: +SKIP

Every function returns the matplotlib Figure. The figures live in :mod:`hwsim.plot.figures`, which
is imported on first use (matplotlib takes seconds to import; the CLI only needs it for ``plot``).
The command line: ``hwsim plot roofline|breakdown|area|pareto|validation|formats ... --out FILE``.
"""

from __future__ import annotations

import importlib

from .cli import load_study

__all__ = ["PALETTE", "MARKERS", "label", "save", "distinct", "pareto_rows", "pareto", "compute_roofs",
           "roofline", "group_breakdown", "breakdown", "area_breakdown", "validation",
           "format_errors", "format_comparison", "load_study"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module(f"{__name__}.figures"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
