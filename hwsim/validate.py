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
    """One known-design comparison.

    ``mode="rel"``: hwsim's value must be within ``rel_tol`` (relative) of ``reference``.
    ``mode="max"``: hwsim's value (an error statistic such as a MAPE) must not exceed
    ``reference``. ``known_miss`` states why a check currently fails; the test suite expects it
    to fail (strict xfail), so fixing the model forces the entry to be updated.
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


def _row(r: Result) -> list[str]:
    c = r.check
    ok = "yes" if r.passed else ("known miss" if c.known_miss else "NO")
    if c.mode == "max":
        return [c.family, c.id, f"<= {c.reference:.4g}", f"{r.value:.4g}", c.unit, "", "", ok,
                c.source + (f" — miss: {c.known_miss}" if c.known_miss and not r.passed else "")]
    return [c.family, c.id, f"{c.reference:.6g}", f"{r.value:.6g}", c.unit,
            f"{100 * r.rel_error:+.2f}%", f"±{100 * c.rel_tol:g}%", ok, c.source]


def to_table(results: list[Result], markdown: bool = False) -> str:
    head = ["family", "check", "reference", "hwsim", "unit", "error", "tolerance", "ok", "source"]
    rows = [_row(r) for r in results]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    n_ok = sum(r.passed for r in results)
    n_known = sum(1 for r in results if not r.passed and r.check.known_miss)
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
                     + ["", f"{n_ok}/{len(results)} checks within tolerance"
                        + (f", {n_known} known misses" if n_known else "")])


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


# Issue #4 misses, measured on the committed data (hwsim validate gpu): stated, not hidden.
_GPU_MISSES = {
    ("h100-sxm", "int8", "mape"): "odd shapes: cuBLASLt picks erratic int8 kernels (3000x5000x2000 "
                                  "runs 4x slower than aligned neighbours); 70B-layer shapes alone: 9.5%",
    ("h100-sxm", "fp32", "p90"): "SIMT fp32 at M=16..64 is slower than the tile model predicts",
    ("h200-sxm", "int8", "mape"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "int8", "p90"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "fp32", "p90"): "SIMT fp32 at M=16..64, as on H100",
    ("h200-sxm", "tf32", "mape"): "transfer: tf32 odd and square shapes",
    ("h100-sxm", "memop", "mape"): "small embedding lookups and PyTorch's RMSNorm/softmax kernels "
                                   "(25-29%); streaming elementwise kernels are within 10%",
    ("h200-sxm", "memop", "mape"): "as on H100, plus GELU at small sizes",
    ("h200-sxm", "tf32", "p90"): "transfer: tf32 odd and square shapes",
}


@provider("gpu")
def _gpu_checks() -> list[Check]:
    """The calibrated GPU model against the committed measurements: H100 held-out shapes (not
    used for fitting) and the whole H200 data set (transfer, no refit)."""
    from functools import lru_cache

    from .models import gpu_report

    out = []
    for arch, transfer in (("h100-sxm", False), ("h200-sxm", True)):
        try:
            d = gpu_report.default_data(arch)
        except Exception:  # installed without the repository's benchmarks/ folder
            continue
        summ = lru_cache(maxsize=1)(lambda a=arch, t=transfer, dd=d:
                                    gpu_report.heldout_summary(a, dd, transfer=t))
        what = "all samples (transfer)" if transfer else "held-out samples"
        src = f"benchmarks/gpu/data/{d.name} ({what})"
        T = gpu_report.TARGETS
        for key in ("bf16", "fp16", "fp8", "int8", "tf32", "fp32", "attention", "w4a16", "memop"):
            # the issue sets MAPE and p90 targets for GEMMs, MAPE only for attention and W4A16;
            # memory-bound kernels (memop) are held to the attention/W4A16 target
            lim = T["gemm_mape"] if key not in ("attention", "w4a16", "memop") else \
                T["attention_mape"]
            stats = [("mape", lim)] + ([] if key in ("attention", "w4a16", "memop") else
                                       [("p90", T["gemm_p90"])])
            for stat, limit in stats:
                out.append(Check("gpu", f"{arch}.{key}.{stat}", f"{arch} {key} latency {stat}",
                                 src, limit, "rel. error",
                                 (lambda s=summ, k=key, st=stat: s()[k][st]), mode="max",
                                 known_miss=_GPU_MISSES.get((arch, key, stat), "")))
        out.append(Check("gpu", f"{arch}.energy.max_abs", f"{arch} GEMM energy vs NVML", src,
                         T["energy_rel"], "rel. error", (lambda s=summ: s()["energy"]["max_abs"]),
                         mode="max"))
    return out


_TECH_MISSES = {
    "45nm.int_mult(8).area_um2": "Horowitz's (unverified) multiplier areas grow 12.4x from 8 to 32 "
                                 "bits, not 16x: one quadratic rule cannot meet both rows",
}


@provider("tech")
def _tech_checks() -> list[Check]:
    """The technology library's fitted rules against the published table rows they were fitted
    to (a one- or two-parameter rule per component cannot hit every row), the 7 nm table, and
    the FP8-vs-INT8 MAC cost ratio of the inference literature."""
    from .tech import library as L

    out = []
    for node in ("45nm", "7nm"):
        t = L.load(node)
        table = read_yaml(L.DATA / f"{node}.yaml")
        for r in table.get("ops", []):
            kw = {k: v for k, v in r.items() if k in ("bits", "exp_bits", "man_bits")}
            label = r["component"] + "(" + ",".join(f"{v}" for v in kw.values()) + ")"
            for metric in ("energy_pj", "area_um2"):
                if r.get(metric) is None:
                    continue
                fn = t.energy_pj if metric == "energy_pj" else t.area_um2
                cid = f"{node}.{label}.{metric}"
                out.append(Check("tech", cid, f"{node} {label} {metric}",
                                 r.get("source", ""), float(r[metric]), metric.split("_")[-1],
                                 (lambda f=fn, c=r["component"], k=kw: f(c, **k)), 0.15,
                                 known_miss=_TECH_MISSES.get(cid, "")))
        for cap, e in ((8192, 10.0), (32768, 20.0), (1048576, 100.0)):
            if node == "45nm":
                out.append(Check("tech", f"45nm.sram_read(64b,{cap}B)", "SRAM 64-bit read",
                                 "E1 Horowitz ISSCC'14 (32 KB, 1 MB unverified)", e, "pJ",
                                 (lambda t=t, c=cap: t.energy_pj("sram_read", bits=64,
                                                                 capacity_bytes=c)), 0.15))
    t = L.load("45nm")
    src = "van Baalen et al., FP8 versus INT8 for efficient deep learning inference, arXiv 2303.17951"
    for metric, miss in (("energy_pj", ""), ("area_um2", "Horowitz's FP adder area (unverified; 20x "
                                               "an int adder of equal width) dominates the FP8 MAC")):
        fn = t.energy_pj if metric == "energy_pj" else t.area_um2
        ratio = (lambda f=fn: f("mac", a="fp8_e4m3", w="fp8_e4m3", acc="fp16")
                 / f("mac", a="int8", w="int8"))
        out.append(Check("tech", f"45nm.fp8_vs_int8_mac.{metric}", "FP8 (fp16 acc) / INT8 MAC",
                         src + ": FP 50-180% less efficient", 2.8, "ratio", ratio, mode="max",
                         known_miss=miss))
        out.append(Check("tech", f"45nm.fp8_vs_int8_mac_min.{metric}", "FP8 / INT8 MAC (lower)",
                         src, -1.5, "-ratio", (lambda r=ratio: -r()), mode="max"))
    return out


_LUT_ABS_MISS = ("absolute: components from 45 nm Horowitz/Aladdin tables scaled ideally to 28 nm "
                 "cost more than the paper's TSMC 28 nm HPC+ synthesis in the LUT's muxes and "
                 "registers (the MAC tile from the same library meets A100's TC areas within 5%)")


@provider("lut")
def _lut_checks() -> list[Check]:
    """LUT Tensor Core (Mo et al., ISCA'25) figures against hwsim's component model at 28 nm,
    1 GHz (Table 2) and 28 nm normalized A100 SMs at 1.41 GHz (Table 1). Sources:
    ../shared/reference/paper-claims.md §1."""
    from .models.tile import lut_tile, mac_tile
    from .tech import load

    t = load("28nm")
    steps = {"unpu": dict(symmetric=False, negation_removal=False, precompute_in_unit=True),
             "reinterp": dict(symmetric=True, negation_removal=False, precompute_in_unit=True),
             "negrm": dict(symmetric=True, negation_removal=True, precompute_in_unit=True),
             "lut_tc": dict(symmetric=True, negation_removal=True, precompute_in_unit=False)}
    tile = {k: (lambda c=c: lut_tile(t, 2, 64, 4, "int8", 2, table_format=None, **c))
            for k, c in steps.items()}
    T2 = "LUT Tensor Core Table 2 (W_INT2 A_INT8 512-MAC tile, 28 nm) [L3]"
    paper = {"unpu": (17271.71, 23.39), "reinterp": (13116.60, 17.98), "negrm": (12780.05, 17.37),
             "lut_tc": (11991.29, 16.22)}
    out = []
    for step in ("reinterp", "negrm", "lut_tc"):
        for i, (metric, attr) in enumerate((("area", "total_area_um2"),
                                            ("power", "total_energy_pj"))):
            ref = paper["unpu"][i] / paper[step][i]
            out.append(Check("lut", f"table2.unpu_over_{step}.{metric}",
                             f"UNPU / {step} {metric}", T2, ref, "ratio",
                             (lambda s=step, a=attr: getattr(tile["unpu"](), a)
                              / getattr(tile[s](), a)), 0.20))
    out.append(Check("lut", "table2.lut_tc.area_um2", "LUT TC tile area", T2, paper["lut_tc"][0],
                     "um2", lambda: tile["lut_tc"]().total_area_um2, 0.20, known_miss=_LUT_ABS_MISS))
    out.append(Check("lut", "table2.lut_tc.power_mw", "LUT TC tile power at 1 GHz", T2,
                     paper["lut_tc"][1], "mW", lambda: tile["lut_tc"]().total_energy_pj, 0.20,
                     known_miss="absolute power: register energy (Aladdin 40 nm, 0.009 pJ/bit) "
                                "for tables, weights and 128 accumulators dominates"))
    # Table 1: per-SM tensor-core area of an A100 normalized to 28 nm / 1.41 GHz
    T1 = "LUT Tensor Core Table 1 (A100 SM, normalized to 28 nm, 1.41 GHz) [L3]"
    sm_hz = 1.41e9 * 108
    int8_sm = lambda: mac_tile(t, 8, 4, 16, "int8", "int8").total_area_um2 / 512 * 2048 / 1e6  # noqa: E731
    fp16_sm = lambda: mac_tile(t, 8, 4, 16, "fp16", "fp16").total_area_um2 / 512 * 1024 / 1e6  # noqa: E731
    lut_sm = lambda mult: (tile["lut_tc"]().total_area_um2 * (312e12 * mult / sm_hz / 512)  # noqa: E731
                           / 1e6)
    out += [Check("lut", "table1.a100_fp16_tc_area_per_sm", "A100 FP16 TC area / SM (MAC model)",
                  T1, 0.975, "mm2", fp16_sm, 0.20),
            Check("lut", "table1.a100_int8_tc_area_per_sm", "A100 INT8 TC area / SM (MAC model)",
                  T1, 0.312, "mm2", int8_sm, 0.20),
            Check("lut", "table1.lut4x_area_per_sm", "A100-LUT-4X TC area / SM", T1, 0.187, "mm2",
                  lambda: lut_sm(4), 0.20, known_miss=_LUT_ABS_MISS),
            Check("lut", "table1.lut8x_area_per_sm", "A100-LUT-8X TC area / SM", T1, 0.373, "mm2",
                  lambda: lut_sm(8), 0.20, known_miss=_LUT_ABS_MISS),
            Check("lut", "table1.density_lut8x_over_fp16", "compute density LUT-8X / FP16 TC", T1,
                  61.95 / 2.96, "ratio",
                  lambda: (2496 / (lut_sm(8) * 108)) / (312 / (fp16_sm() * 108)), 0.20,
                  known_miss="follows from the LUT tile's excess absolute area"),
            Check("lut", "table1.density_lut4x_over_int8", "compute density LUT-4X / INT8 TC", T1,
                  61.84 / 17.73, "ratio",
                  lambda: (1248 / (lut_sm(4) * 108)) / (624 / (int8_sm() * 108)), 0.20,
                  known_miss="follows from the LUT tile's excess absolute area")]
    w1a8 = lambda: lut_tile(t, 2, 64, 4, "int8", 1, symmetric=True, negation_removal=True,  # noqa: E731
                            precompute_in_unit=False, table_format=None)
    out.append(Check("lut", "table3.tops_per_w_w1a8", "LUT TC energy efficiency W_INT1 A_INT8",
                     "LUT Tensor Core Table 3 (28 nm, 0.9 V) [L3]", 63.78, "TOPS/W",
                     lambda: 2 * 512 / w1a8().total_energy_pj, 0.20,
                     known_miss="register energy dominates (see table2.lut_tc.power_mw)"))
    return out
