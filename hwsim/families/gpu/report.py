"""``hwsim validate gpu``: the GPU model and the datasheet roofline against measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError
from . import fit as gpu_fit

DATA_ROOT = Path(__file__).resolve().parent / "data"
TARGETS = {"gemm_mape": 0.10, "gemm_p90": 0.20, "attention_mape": 0.15, "w4a16_mape": 0.15,
           "energy_rel": 0.15}  # issue #4's targets on shapes not used for fitting


def default_data(arch: str) -> Path:
    d = DATA_ROOT / arch.split("-")[0]
    if not d.is_dir():
        raise ConfigError(f"no committed measurements for {arch!r} under {DATA_ROOT}; pass --data "
                          "DIR (made with benchmarks/gpu/measure.py --out DIR)")
    return d


def evaluated_samples(hw, data: dict, transfer: bool = False) -> list:
    """The samples an error is reported on: the held-out side of :func:`gpu_fit.split`, or, for
    ``transfer`` (data of a GPU never used for fitting), every distinct kernel."""
    if transfer:  # conv.csv is fitted on this GPU itself (gpu_fit.CONV_FIT_MODELS): keep its split
        return gpu_fit.split(hw, [s if s.kind == "conv" else
                                  gpu_fit.Sample(**{**s.__dict__, "fit": False})
                                  for s in data["samples"]]).heldout
    return gpu_fit.split(hw, data["samples"]).heldout


def heldout_summary(arch: str, data_dir: str | Path | None = None, transfer: bool = False) -> dict:
    """Held-out errors per GEMM dtype, attention, W4A16, memory-bound kernels and energy.
    ``transfer``: the data were not used for fitting at all (another GPU), so every distinct
    kernel counts."""
    import hwsim
    hw = hwsim.load_arch(arch)
    data = gpu_fit.load_measurements(data_dir or default_data(arch))
    samples = evaluated_samples(hw, data, transfer)
    pred = gpu_fit.predict(hw, samples)
    roof = gpu_fit.predict(gpu_fit.roofline_of(hw), samples)
    meas = np.array([s.seconds for s in samples])
    out = {}
    for key in sorted({s.dtype if s.kind == "gemm" else s.kind for s in samples}):
        idx = [i for i, s in enumerate(samples) if (s.dtype if s.kind == "gemm" else s.kind) == key]
        e, r = np.abs(pred[idx] / meas[idx] - 1), np.abs(roof[idx] / meas[idx] - 1)
        worst = idx[int(np.argmax(e))]
        out[key] = dict(n=len(idx), mape=float(e.mean()), p90=float(np.percentile(e, 90)),
                        roof_mape=float(r.mean()), roof_p90=float(np.percentile(r, 90)),
                        worst=samples[worst].label,
                        worst_error=float(pred[worst] / meas[worst] - 1))
    en = [e for e in gpu_fit.energy_errors(hw, data) if transfer or not e["fit"]]
    if en:
        out["energy"] = dict(n=len(en), max_abs=max(abs(e["rel_error"]) for e in en),
                             mape=float(np.mean([abs(e["rel_error"]) for e in en])))
    return out


def family_table(arch: str, data_dir: str | Path | None = None) -> list[dict]:
    """MAPE per (kind/dtype, shape family) on the fit set and the held-out set side by side, so
    a held-out figure dominated by easy shapes shows as such."""
    import hwsim
    hw = hwsim.load_arch(arch)
    data = gpu_fit.load_measurements(data_dir or default_data(arch))
    sp = gpu_fit.split(hw, data["samples"])
    rows: dict[tuple, dict] = {}
    for side, samples in (("fit", sp.fit), ("held-out", sp.heldout)):
        if not samples:
            continue
        e = np.abs(gpu_fit.predict(hw, samples) / np.array([s.seconds for s in samples]) - 1)
        for s, err in zip(samples, e):
            key = (s.dtype if s.kind == "gemm" else s.kind, gpu_fit.shape_family(s))
            rows.setdefault(key, {"fit": [], "held-out": []})[side].append(float(err))
    out = []
    for (what, fam), v in sorted(rows.items()):
        out.append(dict(what=what, family=fam,
                        **{f"{side}_{stat}": (fn(v[side]) if v[side] else None)
                           for side in ("fit", "held-out")
                           for stat, fn in (("n", len), ("mape", lambda x: float(np.mean(x))))}))
    return out


def report(arch: str, data_dir: str | Path | None = None) -> str:
    import hwsim
    d = Path(data_dir) if data_dir else default_data(arch)
    hw = hwsim.load_arch(arch)
    data = gpu_fit.load_measurements(d)
    fitted_here = Path(str(hw.params.fit_source).split(";")[0]).name == d.name
    lines = [f"{arch} vs measurements in {d}",
             f"model fitted on: {hw.params.fit_source or '(not stated)'}"
             + ("" if fitted_here else "  -> every sample here is a transfer test (not fitted)")]
    if fitted_here:
        sp = gpu_fit.split(hw, data["samples"])
        lines += ["", f"split: {len(sp.fit)} fitted, {len(sp.heldout)} held out, "
                  f"{len(sp.dropped)} dropped (duplicate kernels, fitted configurations, or the "
                  "same prediction as a fitted sample)", "",
                  f"{'kind/dtype':10s} {'shape family':13s} {'fit n':>5s} {'fit MAPE':>8s}   "
                  f"{'held n':>6s} {'held MAPE':>9s}"]
        for r in family_table(arch, d):
            f = (f"{r['fit_n']:5d} {100 * r['fit_mape']:7.1f}%" if r["fit_n"] else f"{'-':>5s} "
                 f"{'-':>8s}")
            h = (f"{r['held-out_n']:6d} {100 * r['held-out_mape']:8.1f}%" if r["held-out_n"]
                 else f"{'-':>6s} {'-':>9s}")
            lines.append(f"{r['what']:10s} {r['family']:13s} {f}   {h}")
    lines += ["", ("held-out" if fitted_here else "transfer") + " summary (targets: GEMM MAPE <= "
              "10%, p90 <= 20%; attention, W4A16 and memory-bound kernels MAPE <= 15%; energy "
              "within 15%):"]
    for k, v in heldout_summary(arch, d, transfer=not fitted_here).items():
        if k == "energy":
            lines.append(f"  energy   n={v['n']:2d}  max |error| {100 * v['max_abs']:5.1f}%")
        else:
            lines.append(f"  {k:9s} n={v['n']:3d}  MAPE {100 * v['mape']:5.1f}%  p90 "
                         f"{100 * v['p90']:5.1f}%   (roofline {100 * v['roof_mape']:5.1f}% / "
                         f"{100 * v['roof_p90']:5.1f}%)  worst {v['worst']} "
                         f"{100 * v['worst_error']:+.0f}%")
    lines += ["", "energy per call vs NVML (sustained ~2 s runs):"]
    for e in gpu_fit.energy_errors(hw, data):
        tag = "fit" if e["fit"] and fitted_here else "held-out" if fitted_here else "transfer"
        lines.append(f"  {e['label']:30s} measured {e['measured_j']:.4g} J  model {e['model_j']:.4g}"
                     f" J  {100 * e['rel_error']:+5.1f}%  ({tag})")
    return "\n".join(lines)
