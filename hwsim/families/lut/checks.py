"""LUT Tensor Core (Mo et al., ISCA'25) figures."""

from __future__ import annotations

from ...validate import Check, provider


_LUT_ABS_MISS = ("absolute: components from 45 nm Horowitz/Aladdin tables scaled ideally to 28 nm "
                 "cost more than the paper's TSMC 28 nm HPC+ synthesis in the LUT's muxes and "
                 "registers (the MAC tile from the same library meets A100's TC areas within 5%)")


@provider("lut")
def _lut_checks() -> list[Check]:
    """LUT Tensor Core (Mo et al., ISCA'25) figures against hwsim's component model at 28 nm,
    1 GHz (Table 2) and 28 nm normalized A100 SMs at 1.41 GHz (Table 1). Sources:
    hwsim/reference/paper-claims.md §1."""
    from ..tile import lut_tile, mac_tile
    from ...tech import load

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
    # INT8: the paper's DSE tile M8N4K16 "matches the A100 INT8 tensor-core shape" ([L3] §4.2.2),
    # 4 tensor cores x 512 MACs per SM. FP16 (1024 FMA/clk/SM): NVIDIA publishes no datapath
    # shape, and the area depends on it (the dot-product width K sets the adder tree), so the
    # check takes the worst of the 512-MAC shapes M8 x N x K with K = 4, 8, 16.
    int8_sm = lambda: mac_tile(t, 8, 4, 16, "int8", "int8").total_area_um2 / 512 * 2048 / 1e6  # noqa: E731
    fp16_shape = lambda k: mac_tile(t, 8, 64 // k, k, "fp16", "fp16").total_area_um2 / 512 * 1024 / 1e6  # noqa: E731
    fp16_sm = lambda: fp16_shape(16)  # noqa: E731  (for the density ratios: the INT8 shape)
    fp16_worst = lambda: max((fp16_shape(k) for k in (4, 8, 16)),  # noqa: E731
                             key=lambda a: abs(a / 0.975 - 1))
    lut_sm = lambda mult: (tile["lut_tc"]().total_area_um2 * (312e12 * mult / sm_hz / 512)  # noqa: E731
                           / 1e6)
    out += [Check("lut", "table1.a100_fp16_tc_area_per_sm",
                  "A100 FP16 TC area / SM (MAC model, worst of K = 4/8/16)", T1, 0.975, "mm2",
                  fp16_worst, 0.20,
                  known_miss="the FP16 tile shape is not published: -5% at K=16, +5% at K=8, "
                             "+27% at K=4; and -5% at K=16 holds only under the FP-multiplier "
                             "area rule adopted with this check in commit ca28d3e (the earlier "
                             "rule gives +42%)"),
            Check("lut", "table1.a100_int8_tc_area_per_sm",
                  "A100 INT8 TC area / SM (MAC model, tile M8N4K16 [L3] §4.2.2)", T1, 0.312,
                  "mm2", int8_sm, 0.20),
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
