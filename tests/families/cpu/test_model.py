import time

import pytest

import hwsim
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families.cpu.model import KERNELS, LUT_PER_WEIGHT_BIT

PRESETS = ["m2-ultra", "rpi5", "jetson-agx-orin-cpu", "surface-book-3", "surface-laptop-7", "xeon-8480"]


def gemv(w, n=4096, k=4096, m=1):
    return hwsim.ops.Gemm(M=m, N=n, K=k, weights=w, activations="int8")


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_and_cost(name):
    hw = hwsim.load_arch(name)
    assert hw.family == "cpu"
    c = hw.cost(gemv("q4_0"))
    assert c.latency_s > 0 and c.energy_j > 0


def test_threads_above_cores_is_a_config_error_naming_the_field():
    with pytest.raises(ConfigError, match="threads.*exceeds cores = 4"):
        hwsim.load_arch("rpi5", threads=5)


def test_lut_kernel_rejects_fp16_weights_and_names_what_it_runs():
    hw = hwsim.load_arch("rpi5", threads=4, kernel="lut")
    with pytest.raises(UnsupportedError, match=r"lut.*1-4-bit.*got weights=fp16"):
        hw.cost(gemv("fp16"))
    with pytest.raises(UnsupportedError, match="int8"):
        hw.cost(gemv("int8"))


def test_dequant_kernel_rejects_formats_llama_cpp_has_no_kernel_for():
    with pytest.raises(UnsupportedError, match="no kernel for weights=fp8_e4m3"):
        hwsim.load_arch("m2-ultra").cost(gemv("fp8_e4m3"))


def test_single_thread_gemv_hand_computed():
    # q4_0 on M2 (4 pipes, 3.49 GHz): (2 + 9) / 32 lane-instr per weight / 4 pipes / efficiency
    hw = hwsim.load_arch("m2-ultra")
    eff = hw.params.kernel_efficiency["dequant"]
    cyc = 4096 * 4096 * sum(KERNELS["q4_0"]) / 32 / 4 / eff
    c = hw.cost(gemv("q4_0"))
    assert c.breakdown["compute_s"] == pytest.approx(cyc / 3.49e9)
    assert c.bound == "compute"


def test_lut_work_is_linear_in_weight_bits():
    hw = hwsim.load_arch("m2-ultra", kernel="lut")
    t = {b: hw.cost(gemv(f"int{b}_g128")).breakdown["compute_s"] for b in (2, 3, 4)}
    per_bit = 4096 * 4096 * sum(LUT_PER_WEIGHT_BIT) / 4 / hw.params.kernel_efficiency["lut"] / 3.49e9
    assert t[4] - t[3] == pytest.approx(per_bit, rel=1e-9)
    assert t[3] - t[2] == pytest.approx(per_bit, rel=1e-9)


def test_lut_beats_dequant_at_two_bits_on_one_core():
    lut = hwsim.load_arch("rpi5", kernel="lut").cost(gemv("int2_g128")).latency_s
    deq = hwsim.load_arch("rpi5", kernel="dequant").cost(gemv("q2_k")).latency_s
    assert lut < deq


def test_threads_scale_compute_until_the_memory_roof():
    t = {n: hwsim.load_arch("rpi5", threads=n, kernel="lut").cost(gemv("int2_g128", 11008, 4096))
         for n in (1, 2, 4)}
    assert t[2].breakdown["compute_s"] == pytest.approx(t[1].breakdown["compute_s"] / 2, rel=1e-3)
    assert t[1].latency_s > t[2].latency_s >= t[4].latency_s
    # the memory time never drops below bytes over the CPU's bandwidth
    hw = hwsim.load_arch("rpi5", threads=4)
    assert t[4].breakdown["memory_s"] >= gemv("int2_g128", 11008, 4096).bytes / hw.params.cpu_bandwidth_Bps * 0.999


def test_cluster_bandwidth_limits_threads_within_one_cluster():
    one = hwsim.load_arch("m2-ultra", threads=4).bandwidth_Bps()
    two = hwsim.load_arch("m2-ultra", threads=8).bandwidth_Bps()
    assert two == pytest.approx(2 * one)


def test_prefill_costs_about_tokens_times_decode_compute():
    hw = hwsim.load_arch("surface-laptop-7", threads=4, kernel="lut")
    d = hw.cost(gemv("int2_g128")).breakdown["compute_s"]
    p = hw.cost(gemv("int2_g128", m=256)).breakdown["compute_s"]
    assert 200 * d < p < 260 * d


def test_wider_simd_is_faster_and_avx2_dot_needs_two_instructions():
    base = hwsim.load_arch("surface-book-3")
    wide = hwsim.load_arch("surface-book-3", simd_bits=512)
    assert wide.cycles_per_weight("q8_0") < base.cycles_per_weight("q8_0")
    vnni = hwsim.load_arch("surface-book-3", dot_instructions=1)
    assert vnni.cycles_per_weight("q8_0") <= base.cycles_per_weight("q8_0")


def test_decode_of_a_7b_model_is_fast_to_evaluate():
    hw = hwsim.load_arch("m2-ultra", threads=8, kernel="lut")
    wl = hwsim.load_workload("llama-2-7b", phase="decode", context=512, weights="int2_g128_zp")
    t0 = time.perf_counter()
    rep = hwsim.evaluate(wl, hw)
    assert time.perf_counter() - t0 < 0.5
    assert 10 < rep.tokens_per_s < 200


def test_energy_grows_with_threads_at_the_memory_roof():
    op = gemv("q4_0", 11008, 4096)
    e1 = hwsim.load_arch("m2-ultra", threads=8).cost(op).energy_j
    e2 = hwsim.load_arch("m2-ultra", threads=16).cost(op).energy_j
    assert e2 > 0 and e1 > 0


def test_tmac_fit_rows_are_consistency_and_disjoint_from_validation():
    from hwsim.families.cpu import checks as V

    checks = {c.id: c for c in V._cpu_checks()}
    fit_ids = {f"{d}.{th}t.{s}.{m}" for (d, th, s, m) in V.FIT_ROWS}
    assert len(fit_ids) == sum(len(v) for v in V.FIT_PARAMS.values())   # one row per parameter
    for cid in fit_ids:
        assert checks[cid].kind == "consistency" and checks[cid].fitted_on
    held = {cid for cid, c in checks.items() if c.kind == "validation"}
    assert held and not held & fit_ids
    # every device of the table has held-out rows on both kernels
    for d in V.FIT_PARAMS:
        assert any(cid.startswith(d + ".") and ".t-mac." in cid for cid in held)


def test_presets_carry_their_own_fitted_efficiency():
    effs = {d: hwsim.load_arch(d).params.kernel_efficiency
            for d in ("m2-ultra", "jetson-agx-orin-cpu", "rpi5", "surface-book-3")}
    # the narrower cores run llama.cpp's kernels further below their issue rate than M2's
    assert effs["rpi5"]["dequant"] < effs["jetson-agx-orin-cpu"]["dequant"] < \
        effs["m2-ultra"]["dequant"]


@pytest.mark.slow
def test_fit_script_reproduces_the_preset_values():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "experiments" / "cpu_tmac_fit.py"
    spec = importlib.util.spec_from_file_location("cpu_tmac_fit", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    got = mod.fit_device("rpi5")
    eff = hwsim.load_arch("rpi5").params.kernel_efficiency
    assert got["kernel_efficiency.dequant"] == pytest.approx(eff["dequant"], rel=1e-3)
    assert got["kernel_efficiency.lut"] == pytest.approx(eff["lut"], rel=1e-3)


def test_kernel_and_threads_space_on_rpi5():
    from pathlib import Path

    from hwsim.explore import Design, Evaluator, load_space

    sp = load_space(Path(__file__).resolve().parents[3] / "experiments" / "spaces"
                    / "cpu_llama_rpi5.yaml")
    ev = Evaluator(sp)

    def m(w, kernel, threads):
        return ev.evaluate(Design({"*": w, **{k: w for k in ev.keys}}, "int8", "fp16",
                                  {"kernel": kernel, "threads": threads}))

    # T-MAC's lookups beat llama.cpp's Q2_K on one core; with 4 cores both approach the
    # bandwidth roof and the gap narrows
    one = m("int2_g128", "dequant", 1)["latency_s"] / m("int2_g128", "lut", 1)["latency_s"]
    four = m("int2_g128", "dequant", 4)["latency_s"] / m("int2_g128", "lut", 4)["latency_s"]
    assert one > 2.0 and 1.0 < four < one
    # lut work grows with the bits
    assert m("int4_g128", "lut", 1)["latency_s"] > m("int2_g128", "lut", 1)["latency_s"]
