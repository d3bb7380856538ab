"""The technology library: fitted rules and published cost ratios."""

from __future__ import annotations

from .._paths import read_yaml
from . import Check, provider


_TECH_MISSES = {
    "45nm.int_mult(8).area_um2": "Horowitz's (unverified) multiplier areas grow 12.4x from 8 to 32 "
                                 "bits, not 16x: one quadratic rule cannot meet both rows",
}


@provider("tech")
def _tech_checks() -> list[Check]:
    """The technology library's fitted rules against the published table rows they were fitted
    to (a one- or two-parameter rule per component cannot hit every row), the 7 nm table, and
    the FP8-vs-INT8 MAC cost ratio of the inference literature."""
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


