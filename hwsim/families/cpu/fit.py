"""Per-device calibration of the CPU presets on T-MAC's published decode throughput, with the
fit rows and the held-out rows kept disjoint (paper-claims.md §4, microsoft/T-MAC
docs/profiling_data.md and README).

Fitted per device (:data:`FIT`, the rows of :data:`checks.FIT_PARAMS <.checks.FIT_PARAMS>`):
``kernel_efficiency['dequant']`` on its llama.cpp W4 (Q4_0) 1-thread row,
``kernel_efficiency['lut']`` on its T-MAC W4 1-thread row (Surface Laptop 7 has no W4 1-thread
row: its T-MAC W2 1-thread row), and, where the table has a multi-thread row, the CPU's achievable
bandwidth on the llama.cpp W4 row at the most threads (M2-Ultra: its per-cluster bandwidth, two
clusters at 8 threads). Each is solved with brentq so that hwsim reproduces that one row; the
arch YAMLs carry the values. Every other row of the tables is held out (validation in
``hwsim validate cpu``).

:func:`fit_all` is the family's calibration entry point; ``experiments/cpu_tmac_fit.py`` writes
its results (CSV and a plot).
"""

from __future__ import annotations

from scipy.optimize import brentq

from . import checks as V

FIT = V.FIT_PARAMS   # device -> [(parameter, (threads, system, model))], solved in order
# brentq brackets: efficiencies are fractions of the ideal issue rate; bandwidths 1 GB/s-1 TB/s
# (every CPU of the table lies inside)
BOUNDS = {"kernel_efficiency": (0.02, 1.0), "cpu_bandwidth_Bps": (1e9, 1e12),
          "cluster_bandwidth_Bps": (1e9, 1e12), "sync_cycles_per_thread": (0.0, 1e6)}


def overrides(values: dict) -> dict:
    """``{"kernel_efficiency.lut": x, "cpu_bandwidth_Bps": y}`` -> load_arch keyword overrides."""
    ov: dict = {}
    for k, v in values.items():
        if k.startswith("kernel_efficiency."):
            ov.setdefault("kernel_efficiency", {})[k.split(".", 1)[1]] = v
        else:
            ov[k] = v
    return ov


def published(device: str, threads: int, system: str, model: str) -> float:
    """The published tokens/s of one row (profiling table, else the README's device rows)."""
    if (device, threads) in V.TABLE and (system, model) in V.TABLE[(device, threads)]:
        return V.TABLE[(device, threads)][(system, model)]
    for d, th, s, m, ref, src in V.README_ROWS:
        if (d, th, s, m) == (device, threads, system, model) and "abstract" not in src:
            return ref
    raise KeyError((device, threads, system, model))


def fit_device(device: str) -> dict:
    """Solve the device's fitted parameters one by one (each on its own row)."""
    values: dict = {}
    for param, (th, s, m) in FIT[device]:
        ref = published(device, th, s, m)
        lo, hi = BOUNDS[param.split(".")[0]]

        def f(x, param=param, th=th, s=s, m=m):
            ov = overrides({**values, param: x})
            return V.decode_with(device, th, s, m, ov)["tokens_per_s"] - ref
        values[param] = brentq(f, lo, hi, xtol=1e-6 * hi if "Bps" in param else 1e-5)
    return values


def fit_all(devices=None) -> dict[str, dict]:
    """The family's calibration entry point: ``{device: {parameter: value}}`` for ``devices``
    (default: every device of :data:`FIT`)."""
    return {d: fit_device(d) for d in (FIT if devices is None else devices)}


def row(device: str, threads: int, system: str, model: str, fits: dict) -> dict:
    """One published row against hwsim with the device's fitted values: published and hwsim
    tokens/s, relative error, and whether the row fitted a parameter or is held out."""
    ref = published(device, threads, system, model)
    got = V.decode_with(device, threads, system, model,
                        overrides(fits.get(device, {})))["tokens_per_s"]
    fitted = (threads, system, model) in [r for _, r in FIT.get(device, [])]
    return {"device": device, "threads": threads, "system": system, "model": model,
            "published": ref, "hwsim": round(got, 3), "error": round(got / ref - 1, 4),
            "kind": "fit (consistency)" if fitted else "held out (validation)"}


def rows(fits: dict) -> list[dict]:
    """:func:`row` of every published decode row (:func:`checks.all_rows <.checks.all_rows>`)."""
    return [row(d, th, s, m, fits) for d, th, s, m in V.all_rows()]
