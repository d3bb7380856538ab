"""How much the LUT Tensor Core results depend on the one unsourced component cost: a 2:1 mux
bit priced as a fraction of an adder bit (``mux2_per_adder_bit``, 0.5 in the bundled tables).

    python benchmarks/lut_mux_sensitivity.py      # prints the table README shows

The LUT tile's table-select muxes are its largest cost, so its absolute area and power move
almost in proportion; the ratios against UNPU (which has the same muxes) move little.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

PAPER = {"area_um2": 11991.29, "power_mw": 16.22, "unpu_ratio_area": 17271.71 / 11991.29}
FRACTIONS = (0.25, 0.5, 1.0)


def _tech(fraction: float):
    from hwsim.tech import load
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.yaml"
        p.write_text(yaml.safe_dump({"name": f"28nm-mux{fraction}", "node_nm": 28,
                                     "mux2_per_adder_bit": {"value": fraction,
                                                            "source": "sensitivity"}}))
        return load(p)


def rows() -> list[dict]:
    from hwsim.families.tile import lut_tile
    out = []
    for f in FRACTIONS:
        t = _tech(f)
        kw = dict(table_format=None)
        lut = lut_tile(t, 2, 64, 4, "int8", 2, symmetric=True, negation_removal=True,
                       precompute_in_unit=False, **kw)
        unpu = lut_tile(t, 2, 64, 4, "int8", 2, symmetric=False, negation_removal=False,
                        precompute_in_unit=True, **kw)
        mux_a = sum(v for k, v in lut.area_um2.items() if "mux" in k or "select" in k)
        mux_e = sum(v for k, v in lut.energy_pj.items() if "mux" in k or "select" in k)
        out.append(dict(fraction=f, area_um2=lut.total_area_um2, power_mw=lut.total_energy_pj,
                        area_err=lut.total_area_um2 / PAPER["area_um2"] - 1,
                        power_err=lut.total_energy_pj / PAPER["power_mw"] - 1,
                        unpu_ratio_area=unpu.total_area_um2 / lut.total_area_um2,
                        mux_area_share=mux_a / lut.total_area_um2,
                        mux_energy_share=mux_e / lut.total_energy_pj))
    return out


def markdown() -> str:
    lines = ["| 2:1 mux bit / adder bit | LUT-TC tile area | vs paper | power at 1 GHz | vs paper "
             "| UNPU / LUT-TC area (paper 1.440×) | mux share of area / energy |",
             "|---|---|---|---|---|---|---|"]
    for r in rows():
        lines.append(f"| {r['fraction']:g}{' (bundled)' if r['fraction'] == 0.5 else ''} | "
                     f"{r['area_um2']:,.0f} µm² | {100 * r['area_err']:+.0f}% | "
                     f"{r['power_mw']:.1f} mW | {100 * r['power_err']:+.0f}% | "
                     f"{r['unpu_ratio_area']:.3f}× | {100 * r['mux_area_share']:.0f}% / "
                     f"{100 * r['mux_energy_share']:.0f}% |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
