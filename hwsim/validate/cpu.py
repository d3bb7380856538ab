"""CPU family: T-MAC (Wei et al., EuroSys'25) vs llama.cpp decode throughput and energy.

Sources: ../shared/reference/paper-claims.md §4; microsoft/T-MAC ``docs/profiling_data.md`` (token
generation, llama.cpp b2794 vs T-MAC, per device and thread count), README (Surface Laptop 7 rows,
abstract numbers) and ``assets/e2e_power.png`` (figure-read M2-Ultra power).

Fitted (kind="consistency"): the kernel efficiency (``cpu.KERNEL_EFFICIENCY``) on M2-Ultra
llama.cpp W4 1 thread; M2-Ultra's ``cluster_bandwidth_Bps`` on M2-Ultra llama.cpp W4 8 threads;
M2-Ultra's ``core_power_w`` and ``lane_op_energy_pj`` on the M2-Ultra W4 power pair. Every other row
is validation.
"""

from __future__ import annotations

from functools import lru_cache

from . import Check, provider

PROFILING = "T-MAC docs/profiling_data.md (llama.cpp b2794) [T2]"
README = "T-MAC README [T2]"
POWER = "T-MAC assets/e2e_power.png, figure-read ±5% [T3]"

# Weight formats per system and model. llama.cpp: Q2_K for BitNet and W2, Q4_0 for W4 (README), the
# output matrix in Q6_K (llama.cpp's quantize default for the output tensor), embeddings in the
# model's type. T-MAC: BitNet 2-bit per-tensor, W2/W4 group-128 with zero points (GPTQ /
# EfficientQAT), the output matrix at the model's bits, the token embedding left fp16 (README).
FORMATS = {("llama.cpp", "bitnet"): "q2_k", ("llama.cpp", "w2"): "q2_k", ("llama.cpp", "w4"): "q4_0",
           ("t-mac", "bitnet"): "int2", ("t-mac", "w2"): "int2_g128_zp",
           ("t-mac", "w4"): "int4_g128_zp"}
CONTEXT = 128  # llama-bench tg128-like: generated tokens attend to a short context


@lru_cache(maxsize=None)
def decode(arch: str, threads: int, system: str, model: str) -> dict:
    """One decode token: tokens/s, CPU power (W, without DRAM) and energy (J/token, without DRAM)
    of ``system`` ("llama.cpp" | "t-mac") running ``model`` ("bitnet" | "w2" | "w4")."""
    import hwsim
    from ..workload.graph import Precision

    w = FORMATS[(system, model)]
    lut = system == "t-mac"
    hw = hwsim.load_arch(arch, threads=threads, kernel="lut" if lut else "dequant")
    prec = Precision(w, "fp16", "fp16", overrides={"lm_head": {"weights": w if lut else "q6_k"},
                                                   "embed": {"weights": "fp16" if lut else w}})
    wl = hwsim.load_workload("bitnet-b1.58-3b" if model == "bitnet" else "llama-2-7b",
                             phase="decode", context=CONTEXT, precision=prec)
    rep = hwsim.evaluate(wl, hw)
    t = rep.latency_s
    e_cpu = sum(r.cost.breakdown.get("static_j", 0) + r.cost.breakdown.get("dynamic_j", 0)
                for r in rep.rows)
    return {"tokens_per_s": 1 / t, "power_w": e_cpu / t, "j_per_token": e_cpu}


# (device, threads) -> {(system, model): tokens/s}   [T2 profiling_data.md]
TABLE = {
    ("m2-ultra", 1): {("llama.cpp", "bitnet"): 6.49, ("t-mac", "bitnet"): 22.08,
                      ("llama.cpp", "w2"): 3.82, ("t-mac", "w2"): 16.68,
                      ("llama.cpp", "w4"): 5.65, ("t-mac", "w4"): 8.97},
    ("m2-ultra", 4): {("llama.cpp", "bitnet"): 22.09, ("t-mac", "bitnet"): 54.46},
    ("m2-ultra", 8): {("llama.cpp", "w2"): 22.06, ("t-mac", "w2"): 51.01,
                      ("llama.cpp", "w4"): 31.57, ("t-mac", "w4"): 35.65},
    ("jetson-agx-orin-cpu", 1): {("llama.cpp", "bitnet"): 1.62, ("t-mac", "bitnet"): 8.18,
                                 ("llama.cpp", "w2"): 0.79, ("t-mac", "w2"): 4.36,
                                 ("llama.cpp", "w4"): 1.04, ("t-mac", "w4"): 2.46},
    ("jetson-agx-orin-cpu", 12): {("llama.cpp", "bitnet"): 12.34, ("t-mac", "bitnet"): 26.02,
                                  ("llama.cpp", "w2"): 7.08, ("t-mac", "w2"): 15.62,
                                  ("llama.cpp", "w4"): 7.42, ("t-mac", "w4"): 8.09},
    ("rpi5", 1): {("llama.cpp", "bitnet"): 1.37, ("t-mac", "bitnet"): 8.03,
                  ("llama.cpp", "w2"): 0.66, ("t-mac", "w2"): 4.40,
                  ("llama.cpp", "w4"): 0.85, ("t-mac", "w4"): 2.42},
    ("rpi5", 2): {("llama.cpp", "bitnet"): 2.71, ("t-mac", "bitnet"): 11.09,
                  ("llama.cpp", "w2"): 1.31, ("t-mac", "w2"): 5.92,
                  ("llama.cpp", "w4"): 1.63, ("t-mac", "w4"): 3.35},
    ("surface-book-3", 1): {("llama.cpp", "bitnet"): 5.65, ("t-mac", "bitnet"): 12.65,
                            ("llama.cpp", "w2"): 2.70, ("t-mac", "w2"): 6.77,
                            ("llama.cpp", "w4"): 2.50, ("t-mac", "w4"): 3.74},
    ("surface-book-3", 4): {("llama.cpp", "bitnet"): 14.85, ("t-mac", "bitnet"): 28.60,
                            ("llama.cpp", "w2"): 7.50, ("t-mac", "w2"): 16.82,
                            ("llama.cpp", "w4"): 6.52, ("t-mac", "w4"): 9.34},
}
# README [T2]: Surface Laptop 7 (BitNet 1/4 cores; NPU comparison at in=out=1024, "Better
# Performance" mode); abstract [T1]: BitNet on M2-Ultra 1 and 8 cores (the later, faster release)
README_ROWS = [("surface-laptop-7", 1, "t-mac", "bitnet", 20.0, README),
               ("surface-laptop-7", 4, "t-mac", "bitnet", 48.0, README),
               ("surface-laptop-7", 1, "t-mac", "w2", 9.3, README + " (vs NPU table)"),
               ("surface-laptop-7", 4, "t-mac", "w2", 28.4, README + " (vs NPU table)"),
               ("surface-laptop-7", 2, "t-mac", "w4", 12.6, README + " (vs NPU table)"),
               ("surface-laptop-7", 4, "t-mac", "w4", 18.7, README + " (vs NPU table)"),
               ("m2-ultra", 1, "t-mac", "bitnet", 30.0, "T-MAC abstract [T1]"),
               ("m2-ultra", 8, "t-mac", "bitnet", 71.0, "T-MAC abstract [T1]")]

FIT_ROWS = {("m2-ultra", 1, "llama.cpp", "w4"): "cpu.KERNEL_EFFICIENCY (both kernels)",
            ("m2-ultra", 8, "llama.cpp", "w4"): "m2-ultra cluster_bandwidth_Bps"}

# Why rows miss (checked: each listed row fails at 20 %, every other row passes)
_DEQ_CORE = ("llama.cpp's kernels on this core run far below the instruction-issue rate that "
             "M2-Ultra reaches (efficiency fitted there, 0.93): narrower front-ends, scalar "
             "per-block scale work and horizontal-add latency are not in our instruction count; "
             "a per-microarchitecture efficiency would need data we only have as these targets")
_Q2K = ("llama.cpp Q2_K is slower than Q4_0 per token on M2 (3.82 vs 5.65 tok/s) although it "
        "reads fewer bytes: our count of its inner loop (11.4 lane-instructions / 32 weights vs "
        "11 for Q4_0) misses its per-16-element scale and min handling")
_BITNET = ("T-MAC's BitNet-3B rows run at 0.65x of its Llama-2-7B W2 per-weight rate; the "
           "BitNet sub-layer norms and per-token activation quantization are not in the workload "
           "and not in the model")
_ORIN_BW = ("all 12-thread Orin rows imply the CPU complex streams only ~30 GB/s (W4: 7.4-8.1 "
            "tok/s x 3.8 GB) of 204.8 GB/s; the preset assumes 75 % of peak for want of a "
            "published CPU bandwidth")
_X86 = ("Ice Lake runs both kernels at a small fraction of the AVX2 issue rate the model "
        "assumes (clock under sustained load below the 3.7 GHz turbo, AVX2 port conflicts)")
_LUT_CORE = ("T-MAC on this core runs below the issue rate M2-Ultra reaches (efficiency fitted "
             "there); no independent per-core efficiency data")
_SL7 = ("Surface Laptop 7 README rows were taken in 'Better Performance' mode, where the README "
        "says clocks throttle; the preset uses the 3.4 GHz all-core clock")

MISSES = {
    "m2-ultra.1t.llama.cpp.bitnet": _Q2K, "m2-ultra.1t.t-mac.bitnet": _BITNET,
    "m2-ultra.1t.llama.cpp.w2": _Q2K, "m2-ultra.4t.llama.cpp.bitnet": _Q2K,
    "m2-ultra.4t.t-mac.bitnet": _BITNET, "m2-ultra.8t.llama.cpp.w2": _Q2K,
    "m2-ultra.8t.t-mac.w2": ("8-thread W2 reaches 97 GB/s effective; the fitted per-cluster "
                             "bandwidth (62.8 GB/s x 2) over-predicts it"),
    "surface-laptop-7.1t.t-mac.bitnet": _SL7, "surface-laptop-7.4t.t-mac.bitnet": _SL7,
    "surface-laptop-7.1t.t-mac.w2": _SL7, "surface-laptop-7.4t.t-mac.w2": _SL7,
    "surface-laptop-7.4t.t-mac.w4": _SL7,
    "m2-ultra.8t.t-mac.bitnet.abstract": _BITNET,
}


def _miss(cid: str, device: str, threads: int, system: str, model: str) -> str:
    if cid in MISSES:
        return MISSES[cid]
    if device == "jetson-agx-orin-cpu" and threads == 12:
        return _ORIN_BW
    if device == "surface-book-3":
        return _X86
    if system == "llama.cpp":
        return _DEQ_CORE
    if model == "bitnet":
        return _BITNET
    return _LUT_CORE


def _row_id(device, threads, system, model):
    return f"{device}.{threads}t.{system}.{model}"


@provider("cpu")
def _cpu_checks() -> list[Check]:
    out: list[Check] = []
    rows = [(d, th, s, m, ref, PROFILING) for (d, th), r in TABLE.items() for (s, m), ref in r.items()]
    for d, th, s, m, ref, src in rows + README_ROWS:
        cid = _row_id(d, th, s, m) + (".abstract" if "abstract" in src else "")
        fit = FIT_ROWS.get((d, th, s, m))
        desc = f"{'BitNet-3B' if m == 'bitnet' else 'Llama-2-7B ' + m.upper()} decode, {s}, {d}, {th} thread(s)"
        calc = (lambda d=d, th=th, s=s, m=m: decode(d, th, s, m)["tokens_per_s"])
        if fit:
            out.append(Check("cpu", cid, desc, src, ref, "tok/s", calc, 0.01, kind="consistency",
                             fitted_on=f"this row fits {fit}"))
            continue
        miss = _KNOWN_FAIL.get(cid)
        out.append(Check("cpu", cid, desc, src, ref, "tok/s", calc, 0.20,
                         known_miss=_miss(cid, d, th, s, m) if miss else ""))
    # energy (figure-read, multi-threaded: 8 threads for Llama-2-7B as in the table, 4 for BitNet)
    power = {("llama.cpp", "w4"): (50.5, 1.60), ("t-mac", "w4"): (45.5, 1.27),
             ("llama.cpp", "w2"): (40.5, 1.84), ("t-mac", "w2"): (36.5, 0.72),
             ("llama.cpp", "bitnet"): (37.8, 0.90), ("t-mac", "bitnet"): (31.3, 0.44)}
    for (s, m), (p_w, j) in power.items():
        th = 4 if m == "bitnet" else 8
        cid = f"m2-ultra.power.{s}.{m}"
        calc_p = (lambda s=s, m=m, th=th: decode("m2-ultra", th, s, m)["power_w"])
        calc_e = (lambda s=s, m=m, th=th: decode("m2-ultra", th, s, m)["j_per_token"])
        if m == "w4":
            out.append(Check("cpu", cid, f"M2-Ultra CPU power, {s} Llama-2-7B W4, 8 threads", POWER,
                             p_w, "W", calc_p, 0.01, kind="consistency",
                             fitted_on="this pair fits m2-ultra core_power_w, lane_op_energy_pj"))
            continue
        for key, ref, unit, calc in (("power", p_w, "W", calc_p), ("energy", j, "J/token", calc_e)):
            cid = f"m2-ultra.{key}.{s}.{m}"
            miss = _KNOWN_FAIL.get(cid)
            out.append(Check("cpu", cid, f"M2-Ultra CPU {key}, {s} {m}, {th} threads", POWER, ref,
                             unit, calc, 0.20,
                             known_miss=(_ENERGY_MISS if miss else "")))
    return out


_ENERGY_MISS = ("power is activity-based (busy cores + vector instructions): where the throughput "
                "of the same run is over-predicted (Q2_K, BitNet rows) so are the instruction rate "
                "and power, and energy per token is under-predicted; the figure does not state its "
                "thread counts (8 assumed for Llama-2-7B, 4 for BitNet)")

# rows that miss at 20 % with the current model (a test fails if one passes: update both)
_KNOWN_FAIL: dict[str, bool] = {k: True for k in (
    'm2-ultra.1t.llama.cpp.bitnet',
    'm2-ultra.1t.t-mac.bitnet',
    'm2-ultra.1t.llama.cpp.w2',
    'm2-ultra.4t.llama.cpp.bitnet',
    'm2-ultra.4t.t-mac.bitnet',
    'm2-ultra.8t.llama.cpp.w2',
    'm2-ultra.8t.t-mac.w2',
    'jetson-agx-orin-cpu.1t.llama.cpp.bitnet',
    'jetson-agx-orin-cpu.1t.t-mac.bitnet',
    'jetson-agx-orin-cpu.1t.llama.cpp.w2',
    'jetson-agx-orin-cpu.1t.t-mac.w2',
    'jetson-agx-orin-cpu.1t.llama.cpp.w4',
    'jetson-agx-orin-cpu.12t.llama.cpp.bitnet',
    'jetson-agx-orin-cpu.12t.t-mac.bitnet',
    'jetson-agx-orin-cpu.12t.llama.cpp.w2',
    'jetson-agx-orin-cpu.12t.t-mac.w2',
    'jetson-agx-orin-cpu.12t.llama.cpp.w4',
    'jetson-agx-orin-cpu.12t.t-mac.w4',
    'rpi5.1t.llama.cpp.bitnet',
    'rpi5.1t.t-mac.bitnet',
    'rpi5.1t.llama.cpp.w2',
    'rpi5.1t.t-mac.w2',
    'rpi5.1t.llama.cpp.w4',
    'rpi5.1t.t-mac.w4',
    'rpi5.2t.llama.cpp.bitnet',
    'rpi5.2t.t-mac.bitnet',
    'rpi5.2t.llama.cpp.w2',
    'rpi5.2t.llama.cpp.w4',
    'surface-book-3.1t.llama.cpp.bitnet',
    'surface-book-3.1t.t-mac.bitnet',
    'surface-book-3.1t.llama.cpp.w2',
    'surface-book-3.1t.t-mac.w2',
    'surface-book-3.1t.llama.cpp.w4',
    'surface-book-3.1t.t-mac.w4',
    'surface-book-3.4t.llama.cpp.bitnet',
    'surface-book-3.4t.t-mac.bitnet',
    'surface-book-3.4t.llama.cpp.w2',
    'surface-book-3.4t.t-mac.w2',
    'surface-book-3.4t.llama.cpp.w4',
    'surface-book-3.4t.t-mac.w4',
    'surface-laptop-7.1t.t-mac.bitnet',
    'surface-laptop-7.4t.t-mac.bitnet',
    'surface-laptop-7.1t.t-mac.w2',
    'surface-laptop-7.4t.t-mac.w2',
    'surface-laptop-7.2t.t-mac.w4',
    'surface-laptop-7.4t.t-mac.w4',
    'm2-ultra.8t.t-mac.bitnet.abstract',
    'm2-ultra.power.llama.cpp.w2',
    'm2-ultra.energy.llama.cpp.w2',
    'm2-ultra.power.t-mac.w2',
    'm2-ultra.power.llama.cpp.bitnet',
    'm2-ultra.energy.llama.cpp.bitnet',
    'm2-ultra.power.t-mac.bitnet',
    'm2-ultra.energy.t-mac.bitnet',
)}
