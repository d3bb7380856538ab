"""Consistency checks of the GPU presets: per-SM rates x SMs x clock against datasheet peaks."""

from __future__ import annotations

from ...validate import Check, provider


@provider("gpu-roofline")
def _roofline_checks() -> list[Check]:
    """Each GPU preset's per-SM rates × SMs × clock must reproduce its datasheet peaks: a typo
    in an arch YAML fails here. Tolerance: 0.5%, or one unit in the third significant digit
    where that is wider, since datasheets truncate (V100S: 130.8 TF from its own clock and unit
    counts is printed as 130)."""
    import math

    from ...arch import arch_spec, list_archs, load_arch

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
                             (lambda hw=hw, p=path: hw.path_peak_ops_per_s(p) / 1e12),
                             max(0.005, 10 ** (math.floor(math.log10(tflops)) - 2) / tflops),
                             kind="consistency",
                             fitted_on=f"arch/{src.name}: clock and per-SM rates set from these "
                                       "datasheet peaks"))
    return out


