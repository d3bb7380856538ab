"""GPUs with LUT tensor cores (family ``lut_gpu``) against the LUT Tensor Core paper's Table 1
(Mo et al., ISCA'25; hwsim/reference/paper-claims.md §1, [L3] Table 1, secondary source:
a full translation of the camera-ready text).

What was set from what (so the check kinds are honest):

* ``tensor_efficiency`` (0.7441): the H100 fp16 fit of ``hwsim.families.gpu.fit``; no Table 1 data.
* ``lut_tiles_per_sm``: from the "4X"/"8X" definition, which the paper's peak column encodes, so
  the peak checks are consistency checks.
* ``attention_kernel="unfused"``: chosen on the two MAC baseline rows at BS1 SEQ2048. Their
  latencies split into a part that halves with the INT8 peak (79.3 ms at FP16) and a part that
  does not (27.4 ms = 106.71 - 79.3; at BS1024 SEQ1 it is 2.3 ms). hwsim's flash kernel costs 4.7
  ms at SEQ2048 and the unfused one (scores materialized) 25.4 ms, so the paper's simulator runs
  attention unfused. Those two rows are consistency checks (``fitted_on``); the LUT rows at SEQ2048
  are held out. BS1024 SEQ1 attention reads one cached token, the same in both kernels, so every
  BS1024 row is validation.
* The H100 rows (paper-claims.md §1.1) are all held out: the presets took only their peak (the
  4X/8X definition, consistency) and nothing else from them; the attention kernel was chosen on
  the A100 rows. The issue's target, LUT-4X / LUT-8X speedups over the H100 FP8 tensor cores at
  both shapes, is four ``table1.speedup_h100-lut-*`` checks at 20%.
* Area and density come from the tile models (``hwsim.families.tile``) at 28 nm, none fitted on
  Table 1 (the LUT tile is the one whose Table 2 area ``lut`` checks already report as a miss).
"""

from __future__ import annotations

from functools import lru_cache

from ... import formats as _formats
from ...validate import Check, provider

SRC = "LUT Tensor Core Table 1 (28 nm, 1.41 GHz) [L3], paper-claims.md §1"
# (arch, workload, weights, activations) -> (BS1 SEQ2048 ms, BS1024 SEQ1 ms, peak T, area/SM mm2,
# density TOPS/mm2), all [L3] Table 1
TABLE1 = {
    "a100-fp16-tc": (("a100-tc", "llama-3b", "fp16", "fp16"), (106.71, 41.15, 312, 0.975, 2.96)),
    "a100-int8-tc": (("a100-tc", "bitnet-b1.58-3b", "int2", "int8"), (67.06, 21.70, 624, 0.312, 17.73)),
    "a100-lut-4x": (("a100-lut-4x", "bitnet-b1.58-3b", "int2", "int8"), (42.49, 11.41, 1248, 0.187, 61.84)),
    "a100-lut-8x": (("a100-lut-8x", "bitnet-b1.58-3b", "int2", "int8"), (38.02, 7.47, 2496, 0.373, 61.95)),
}
# H100 rows of Table 1 [L3] (paper-claims.md §1.1: two translations of the camera-ready agree digit
# for digit). The baseline runs FP8 weights (W_FP8 A_FP8); the LUT rows W_INT2 A_FP8. Only the LUT
# rows carry the footnote's "*" = "Double Register Modeling" (see _DRM_MISS).
SRC_H100 = "LUT Tensor Core Table 1, H100 rows (28 nm, 1.41 GHz) [L3], paper-claims.md §1.1"
H100_TABLE1 = {
    "h100-fp8-tc": (("h100-tc", "bitnet-b1.58-3b", "fp8_e4m3", "fp8_e4m3"),
                    (38.20, 12.30, 1525, 0.918, 12.59)),
    "h100-lut-4x": (("h100-lut-4x", "bitnet-b1.58-3b", "int2", "fp8_e4m3"),
                    (28.70, 9.90, 1525, 0.488, 23.69)),
    "h100-lut-8x": (("h100-lut-8x", "bitnet-b1.58-3b", "int2", "fp8_e4m3"),
                    (23.48, 5.97, 3049, 0.909, 25.40)),
}
ATTENTION_FIT_ROWS = ("a100-fp16-tc", "a100-int8-tc")
ATTENTION_FIT = ("attention_kernel='unfused' chosen on the A100 FP16/INT8 TC rows at BS1 SEQ2048 "
                 "(their peak-independent 27.4 ms)")
_AREA_MISS = ("the LUT tile model (45 nm Horowitz/Aladdin components scaled to 28 nm) is 39% "
              "larger than the paper's TSMC 28 nm synthesis (lut check table2.lut_tc.area_um2: "
              "16,667 vs 11,991 um2 per M2N64K4 tile); muxes and table registers dominate")


def table1_arch(arch: str):
    """The preset as Table 1 runs it (unfused attention, see the module docstring)."""
    from ...arch import load_arch
    return load_arch(arch, attention_kernel="unfused")


@lru_cache(maxsize=None)
def table1_latency_s(arch: str, workload: str, weights: str, activations: str, batch: int,
                     seq: int, attention_kernel: str = "unfused") -> float:
    """hwsim's latency of one BS x SEQ forward pass (prefill) on a Table 1 configuration."""
    from ...arch import load_arch
    from ...evaluate import evaluate
    from ...workload import load_workload
    wl = load_workload(workload, phase="prefill", batch=batch, context=seq, weights=weights,
                       activations=activations)
    return evaluate(wl, load_arch(arch, attention_kernel=attention_kernel)).latency_s


def _peak(arch: str, act: str, weights: str) -> float:
    """Peak (TOPS) of the datapath the row's GEMMs run on: the LUT rows' arrays at W_INT2, the
    INT8 row's int8 tensor cores (W_INT2 dequantized), the FP16 row's fp16 tensor cores."""
    return table1_arch(arch).peak_ops_per_s(act, weights) / 1e12


def _area(arch: str, act: str) -> float:
    """Tensor-core area / SM for the row's activation format (LUT tables built for it; a MAC
    GPU's datapath of that format, fp8_e4m3 -> fp8)."""
    hw = table1_arch(arch)
    return hw.tc_area_per_sm_mm2(act if hw.params.tensor_core == "lut"
                                 else _formats.get(act).compute_key)


def _density(arch: str, act: str) -> float:
    hw = table1_arch(arch)
    if hw.params.tensor_core == "lut":
        return hw._lut_peak_ops_per_s(2) / 1e12 / (_area(arch, act) * hw.sms)
    return hw.compute_density_tops_per_mm2(_formats.get(act).compute_key)


@provider("lut_gpu")
def _lut_gpu_checks() -> list[Check]:
    out = []
    for row, ((arch, wl, w, a), (l2048, l1024, peak, area, dens)) in TABLE1.items():
        lut = "lut" in arch
        fitted = row in ATTENTION_FIT_ROWS
        out.append(Check(
            "lut_gpu", f"table1.{row}.bs1_seq2048_ms", f"{arch} {wl} W{w} A{a} BS1 SEQ2048",
            SRC, l2048, "ms",
            (lambda a_=arch, wl_=wl, w_=w, x_=a: 1e3 * table1_latency_s(a_, wl_, w_, x_, 1, 2048)),
            0.20, kind="consistency" if fitted else "validation",
            fitted_on=ATTENTION_FIT if fitted else ""))
        out.append(Check(
            "lut_gpu", f"table1.{row}.bs1024_seq1_ms", f"{arch} {wl} W{w} A{a} BS1024 SEQ1",
            SRC, l1024, "ms",
            (lambda a_=arch, wl_=wl, w_=w, x_=a: 1e3 * table1_latency_s(a_, wl_, w_, x_, 1024, 1)),
            0.20))
        out.append(Check(
            "lut_gpu", f"table1.{row}.peak_tops", f"{arch} peak ({'W_INT2' if lut else a})", SRC,
            peak, "TOPS", (lambda a_=arch, x_=a, w_=w: _peak(a_, x_, w_)), 0.01, kind="consistency",
            fitted_on=("lut_tiles_per_sm from the 4X/8X definition the peak column encodes" if lut
                       else "arch/a100-sxm.yaml datasheet rates at 1.41 GHz")))
        out.append(Check(
            "lut_gpu", f"table1.{row}.tc_area_per_sm_mm2", f"{arch} tensor-core area / SM", SRC,
            area, "mm2", (lambda a_=arch, x_=a: _area(a_, x_)), 0.20,
            known_miss=_AREA_MISS if lut else ""))
        out.append(Check(
            "lut_gpu", f"table1.{row}.density_tops_per_mm2", f"{arch} tensor-core compute density",
            SRC, dens, "TOPS/mm2", (lambda a_=arch, x_=a: _density(a_, x_)), 0.20,
            known_miss=("follows from the LUT tile's excess area (tc_area_per_sm_mm2)" if lut
                        else "")))
    out += _h100_checks()
    # the headline end-to-end speedup, 5.51x = 41.15 / 7.47 (derived in paper-claims.md §1)
    fp16 = TABLE1["a100-fp16-tc"][0]
    lut8 = TABLE1["a100-lut-8x"][0]
    out.append(Check(
        "lut_gpu", "table1.speedup_lut8x_over_fp16_bs1024", "A100-LUT-8X BitNet over A100 FP16 "
        "LLAMA-3B, BS1024 SEQ1", SRC + " (5.51x derived)", 41.15 / 7.47, "ratio",
        lambda: table1_latency_s(*fp16, 1024, 1) / table1_latency_s(*lut8, 1024, 1), 0.20))
    return out


# Why hwsim's FP8 TC is too fast at BS1 SEQ2048 (measured: python -m hwsim.families.lut_gpu.checks)
_DRM_MISS = ("the paper runs its FP8 TC GEMMs at about half the rate of its LUT* rows: H100-LUT-4X "
             "has the FP8 TC's peak (1525 T) and the same non-GEMM kernels, yet Table 1 puts the "
             "FP8 TC 9.50 ms (33%) slower at BS1 SEQ2048, where every weight GEMM is compute-bound "
             "(hwsim: FP8 vs INT2 weight bytes on the same tensor cores change the pass by 0.02 "
             "ms); if LUT-4X and LUT-8X share their non-GEMM time (2 x 23.48 - 28.70 = 18.26 ms), "
             "the FP8 TC's GEMMs take 19.94 ms against LUT-4X's 10.44. Only the LUT rows carry "
             "Table 1's '*' = Double Register Modeling (2x registers, which §4.3 shows lifts large-"
             "tile GEMMs toward peak); hwsim runs every tensor datapath at one measured efficiency "
             "(tensor_efficiency 0.7441) with no register limit, so FP8 TC and LUT-4X tie")
_FP8_AREA_MISS = ("hwsim's 28 nm FP8 MAC tile (hwsim.families.tile.mac_tile) charges the FP16 tile's "
                  "alignment shifters and fp32 accumulators in full (211 of its 355 um2 per MAC); "
                  "Table 1 implies 224 um2 per MAC in all (0.918 mm2 / 4096 MAC/clk/SM)")
_KNOWN = {("h100-fp8-tc", "bs1_seq2048_ms"): _DRM_MISS,
          ("h100-fp8-tc", "tc_area_per_sm_mm2"): _FP8_AREA_MISS,
          ("h100-fp8-tc", "density_tops_per_mm2"): "follows from the FP8 MAC tile's excess area "
                                                   "(tc_area_per_sm_mm2)"}
# the LUT-4X BS1 SEQ2048 speedup inherits the FP8 TC row's miss
_SPEEDUP_KNOWN = {("h100-lut-4x", 1, 2048): "the FP8 TC's BS1 SEQ2048 latency is 23% fast (table1."
                                             "h100-fp8-tc.bs1_seq2048_ms): " + _DRM_MISS}
# Since LLM builds keep the residual stream 16-bit under FP8 activations (graph.llm_precision,
# issue #22 item 4: measured on eager FP8 layers, data/h200-shapes/prefill_shapes.csv), the
# non-GEMM time both rows share grew, and the two LUT-8X speedups fell from -19.4% / -10.5% to
# -20.5% / -20.2%: the same too-fast FP8 TC GEMMs, now with a larger shared denominator.
_LUT8X_SPEEDUP = ("the FP8 TC's GEMMs run at the LUT rows' efficiency in hwsim but at about half "
                  "of it in the paper (see table1.h100-fp8-tc.bs1_seq2048_ms); with "
                  "the 16-bit residual stream of LLM builds the shared non-GEMM time is larger "
                  "and the ratio falls just past 20%")
_SPEEDUP_KNOWN[("h100-lut-8x", 1, 2048)] = _LUT8X_SPEEDUP
_SPEEDUP_KNOWN[("h100-lut-8x", 1024, 1)] = _LUT8X_SPEEDUP


def _h100_row_checks(row: str) -> list[Check]:
    """One H100 row of Table 1: latencies, area and density are validation (nothing in the
    presets was set from them); the peak is consistency (the LUT rows' ``lut_tiles_per_sm`` is
    the 4X/8X definition the peak encodes; the FP8 TC's is the H100 datasheet rate at 1.41 GHz)."""
    (arch, wl, w, a), (l2048, l1024, peak, area, dens) = H100_TABLE1[row]
    lbl = f"{arch} {wl} W{w} A{a}"
    lat = (lambda b, s: (lambda: 1e3 * table1_latency_s(arch, wl, w, a, b, s)))
    miss = (lambda metric: _KNOWN.get((row, metric), ""))
    lut = "lut" in arch
    return [
        Check("lut_gpu", f"table1.{row}.bs1_seq2048_ms", f"{lbl} BS1 SEQ2048", SRC_H100, l2048,
              "ms", lat(1, 2048), 0.20, known_miss=miss("bs1_seq2048_ms")),
        Check("lut_gpu", f"table1.{row}.bs1024_seq1_ms", f"{lbl} BS1024 SEQ1", SRC_H100, l1024,
              "ms", lat(1024, 1), 0.20, known_miss=miss("bs1024_seq1_ms")),
        Check("lut_gpu", f"table1.{row}.peak_tops", f"{arch} peak (W{w} A{a})", SRC_H100, peak,
              "TOPS", lambda: _peak(arch, a, w), 0.01, kind="consistency",
              fitted_on=("lut_tiles_per_sm from the 4X/8X definition the peak column encodes"
                         if lut else "arch/h100-sxm.yaml datasheet FP8 rate at 1.41 GHz")),
        Check("lut_gpu", f"table1.{row}.tc_area_per_sm_mm2", f"{arch} tensor-core area / SM "
              "(FP8)", SRC_H100, area, "mm2", lambda: _area(arch, a), 0.20,
              known_miss=miss("tc_area_per_sm_mm2")),
        Check("lut_gpu", f"table1.{row}.density_tops_per_mm2", f"{arch} tensor-core compute "
              "density (FP8)", SRC_H100, dens, "TOPS/mm2", lambda: _density(arch, a), 0.20,
              known_miss=miss("density_tops_per_mm2")),
    ]


def h100_speedup(row: str, batch: int, seq: int) -> float:
    """hwsim's speedup of a LUT row over the H100 FP8 TC row (W_FP8 A_FP8), one BS x SEQ pass."""
    return (table1_latency_s(*H100_TABLE1["h100-fp8-tc"][0], batch, seq)
            / table1_latency_s(*H100_TABLE1[row][0], batch, seq))


def _h100_speedup_checks() -> list[Check]:
    """Issue #22 item 2: LUT-4X / LUT-8X over the FP8 tensor cores, both shapes, within 20%.

    Margin at BS1024 SEQ1 (measured): 1.39 of the FP8 TC's 10.60 ms is its lm_head, whose vocab
    (32002, 2-byte aligned in FP8) takes the host's fitted misalignment penalty; the same GEMM
    costs 0.195 ms on LUT-4X. Priced as on LUT-4X, the two BS1024 speedups would be 1.000 and
    1.636 (-19.5%, -20.6%): the paper's lower FP8 TC GEMM rate (_DRM_MISS) is not modeled there
    either, and the alignment penalty, a measured H100 effect, is what holds them within 20%."""
    out = []
    base = H100_TABLE1["h100-fp8-tc"][1]
    for row in ("h100-lut-4x", "h100-lut-8x"):
        ref = H100_TABLE1[row][1]
        for i, (b, s) in enumerate(((1, 2048), (1024, 1))):
            out.append(Check(
                "lut_gpu", f"table1.speedup_{row}_over_fp8_tc.bs{b}_seq{s}",
                f"{row.upper()} (W_INT2 A_FP8) over H100 FP8 TC (W_FP8 A_FP8), BitNet b1.58 3B "
                f"BS{b} SEQ{s}", SRC_H100 + f" (derived: {base[i]} / {ref[i]} ms)",
                base[i] / ref[i], "ratio", (lambda r=row, b_=b, s_=s: h100_speedup(r, b_, s_)),
                0.20, known_miss=_SPEEDUP_KNOWN.get((row, b, s), "")))
    return out


def _h100_checks() -> list[Check]:
    return [c for row in H100_TABLE1 for c in _h100_row_checks(row)] + _h100_speedup_checks()


if __name__ == "__main__":  # the H100 rows and the cause numbers the known misses state
    for _row, ((_arch, _wl, _w, _a), _ref) in H100_TABLE1.items():
        _got = [1e3 * table1_latency_s(_arch, _wl, _w, _a, 1, 2048),
                1e3 * table1_latency_s(_arch, _wl, _w, _a, 1024, 1)]
        print(f"{_row}: BS1 SEQ2048 {_got[0]:.2f} ms (paper {_ref[0]}), "
              f"BS1024 SEQ1 {_got[1]:.2f} ms (paper {_ref[1]})")
    for _row in ("h100-lut-4x", "h100-lut-8x"):
        print(f"{_row} speedup over FP8 TC: BS1 SEQ2048 {h100_speedup(_row, 1, 2048):.3f}, "
              f"BS1024 SEQ1 {h100_speedup(_row, 1024, 1):.3f}")
    _fp8 = 1e3 * table1_latency_s("h100-tc", "bitnet-b1.58-3b", "fp8_e4m3", "fp8_e4m3", 1, 2048)
    _int2 = 1e3 * table1_latency_s("h100-tc", "bitnet-b1.58-3b", "int2", "fp8_e4m3", 1, 2048)
    print(f"h100-tc BS1 SEQ2048, FP8 weights {_fp8:.2f} ms vs INT2 weights dequantized "
          f"{_int2:.2f} ms (weight bytes alone)")
    _tc = table1_arch("h100-tc")
    from ..tile import mac_tile
    _m = mac_tile(_tc.tech, 8, 4, 16, "fp8", "fp8")
    print("FP8 MAC tile um2/MAC: total %.0f, align shifters + accumulators %.0f" % (
        _m.total_area_um2 / 512,
        (_m.area_um2["align_shifters"] + _m.area_um2["accumulators"]) / 512))
