"""The technology library: fitted rules and published cost ratios."""

from __future__ import annotations

from .._paths import read_yaml
from . import Check, provider


_TECH_MISSES = {
    "45nm.int_mult(8).area_um2": "Horowitz's (unverified) multiplier areas grow 12.4x from 8 to 32 "
                                 "bits, not 16x: one quadratic rule cannot meet both rows",
}


# Which rows fitted each rule (hwsim/tech/library.py). A check on one of these rows is a
# consistency check: it shows how well a one- or two-parameter rule passes through its own data.
FIT_ROWS = {
    "int_add": "linear rule, least squares through the 45 nm int_add rows (8/16/32 bit)",
    "int_mult": "a*b rule, one scale least-squares through the 45 nm int_mult rows (8/32 bit)",
    "fp_add": "power law in total bits, two parameters through the 45 nm fp_add rows (fp16/fp32)",
    "fp_mult.energy_pj": "integer significand multiplier + exponent adder + kappa (M+1); kappa "
                         "least-squares through the 45 nm fp_mult energy rows (fp16/fp32)",
    "fp_mult.area_um2": "alpha (M+1)^2 + beta E, two parameters exactly through the 45 nm fp_mult "
                        "area rows (fp16/fp32; adopted in commit ca28d3e together with the A100 "
                        "tensor-core area checks, see hwsim/families/lut/checks.py)",
    "sram_read": "power law in capacity, two parameters through the three 45 nm SRAM rows",
    "7nm": "the 45 nm rule scaled by the geometric mean of this component's 7 nm rows",
}


def _fitted_on(node: str, comp: str, metric: str) -> str:
    if node == "7nm":
        return FIT_ROWS["7nm"]
    return FIT_ROWS.get(f"{comp}.{metric}", FIT_ROWS.get(comp, ""))


@provider("tech")
def _tech_checks() -> list[Check]:
    """The technology library's fitted rules against the table rows they were fitted through
    (consistency: a one- or two-parameter rule per component cannot hit every row), and the
    FP8-vs-INT8 MAC cost ratio of the inference literature (validation: no rule saw it)."""
    from ..tech import library as L

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
                                 known_miss=_TECH_MISSES.get(cid, ""), kind="consistency",
                                 fitted_on=_fitted_on(node, r["component"], metric)))
        for cap, e in ((8192, 10.0), (32768, 20.0), (1048576, 100.0)):
            if node == "45nm":
                out.append(Check("tech", f"45nm.sram_read(64b,{cap}B)", "SRAM 64-bit read",
                                 "E1 Horowitz ISSCC'14 (32 KB, 1 MB unverified)", e, "pJ",
                                 (lambda t=t, c=cap: t.energy_pj("sram_read", bits=64,
                                                                 capacity_bytes=c)), 0.15,
                                 kind="consistency", fitted_on=FIT_ROWS["sram_read"]))
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


