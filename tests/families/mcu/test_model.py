"""MCU SIMD model: kernel cycles by hand, issue models, formats, memory fit, energy."""

import time

import pytest

import hwsim
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.families.mcu import check_fit, memory_plan, training_macs_per_cycle
from hwsim.workload.ops import Conv2d, Gemm

PRESETS = ["stm32f4", "stm32h7", "alif-e7", "ra8", "gap9"]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_and_run_resnet8(name):
    hw = hwsim.load_arch(name)
    assert hw.family == "mcu"
    rep = hwsim.evaluate(hwsim.load_workload("resnet8"), hw)
    assert rep.latency_s > 0 and rep.energy_j == pytest.approx(hw.power_w * rep.latency_s)


def test_m4_inner_loop_by_hand():
    hw = hwsim.load_arch("stm32f4")
    # CMSIS-NN s8 iteration: 6 LDR (7 cycles, one pipelined run), 4 SXTB16, 8 SMLAD, SUBS + B(1+P)
    k = hw.kernel_cycles(2, 2, 4, 1, "int8", "int8")
    assert k.inner == 7 + 4 + 8 + 1 + 2
    assert k.output == 4 * 10 and k.macs == 16


def test_m7_dual_issue_and_helium_beats():
    m7 = hwsim.load_arch("stm32h7")
    # 18 instructions over 2 issue slots (9) vs 8 SMLAD on the one MAC pipe: 9, plus SUBS + branch
    assert m7.kernel_cycles(2, 2, 4, 1, "int8", "int8").inner == 9 + 2
    m55 = hwsim.load_arch("alif-e7")
    # 5 VLDRB + 4 VMLADAVA, dual-beat: loads (10 cycles) overlap the MACs (8); LE loop free
    assert m55.kernel_cycles(1, 4, 16, 1, "int8", "int8").inner == 10
    assert m55.peak_macs_per_cycle() == pytest.approx(6.4)
    faster = hwsim.load_arch("alif-e7", mve_beats_per_cycle=4)
    assert faster.peak_macs_per_cycle() == pytest.approx(12.8)


def test_sub_byte_weights_cost_unpacking_but_save_memory():
    hw = hwsim.load_arch("stm32h7")
    op8 = Conv2d(in_channels=32, out_channels=32, in_h=16, in_w=16, kernel_h=3, kernel_w=3,
                 padding=1, weights="int8", activations="int8")
    op4 = op8.with_formats(weights="int4")
    c8, c4 = hw.cost(op8), hw.cost(op4)
    assert c4.latency_s > c8.latency_s           # SXTB16 + nibble shifts per 4 weights
    assert op4.operand_bytes()["B"] == op8.operand_bytes()["B"] / 2
    assert hw.cost(op8.with_formats(weights="int2")).latency_s > c4.latency_s


def test_formats_the_core_cannot_run():
    with pytest.raises(UnsupportedError, match="fp32"):
        hwsim.load_arch("stm32f4").cost(Gemm(M=4, N=4, K=4, weights="fp16", activations="fp16"))
    hw = hwsim.load_arch("stm32f4", fpus=0)
    with pytest.raises(UnsupportedError, match="no FPU"):
        hw.cost(Gemm(M=4, N=4, K=4, weights="fp32", activations="fp32"))
    # Helium computes fp16; fp16 on a Cortex-M55 is 2x the fp32 lanes
    m55 = hwsim.load_arch("alif-e7")
    g = Gemm(M=64, N=64, K=256, weights="fp16", activations="fp16")
    assert m55.cost(g.with_formats(weights="fp32", activations="fp32")).latency_s > \
        1.5 * m55.cost(g).latency_s


def test_pulp_cores_and_shared_fpus():
    g = Gemm(M=256, N=64, K=256, weights="fp16", activations="fp16")
    full = hwsim.load_arch("gap9", fpus=8)
    shared = hwsim.load_arch("gap9", fpus=2)
    one = hwsim.load_arch("gap9", cores=1, fpus=1)
    assert shared.cost(g).latency_s > full.cost(g).latency_s
    assert one.cost(g).latency_s > 5 * full.cost(g).latency_s
    gi = g.with_formats(weights="int8", activations="int8")
    assert shared.cost(gi).latency_s == pytest.approx(full.cost(gi).latency_s)  # no FP used


def test_op_fit_error_names_memory_need_and_size():
    hw = hwsim.load_arch("stm32h7")
    big = Conv2d(in_channels=16, out_channels=96, in_h=112, in_w=112, kernel_h=1, kernel_w=1,
                 weights="int8", activations="int8")
    with pytest.raises(UnsupportedError, match=r"needs 1372\.0 KiB of SRAM.*sram_bytes = 512 KiB"):
        hw.cost(big)
    with pytest.raises(UnsupportedError, match="flash"):
        hwsim.load_arch("stm32h7", weight_memory_bytes=1024).cost(
            Gemm(M=1, N=256, K=256, weights="int8", activations="int8"))


def test_schedule_peak_memory_and_fit():
    hw = hwsim.load_arch("stm32h7")
    wl = hwsim.load_workload("resnet8")  # int8
    plan = check_fit(wl, hw)
    # stack1: the block input (16x32x32 int8) stays live for the residual add while conv1's
    # output is produced: at least two 16 KiB tensors
    assert plan.peak_activation_bytes >= 2 * 16 * 32 * 32
    assert plan.weight_bytes == pytest.approx(wl.weight_bytes)
    with pytest.raises(ConfigError, match=r"mobilenetv2 needs .* KiB of SRAM.*sram_bytes = 512"):
        check_fit(hwsim.load_workload("mobilenetv2", weights="int8", activations="int8"), hw)
    assert memory_plan(wl).peak_op


def test_training_macs_per_clk_fp16_beats_fp32_on_pulp():
    hw = hwsim.load_arch("gap9")
    f16 = training_macs_per_cycle(hwsim.load_workload("resnet8", phase="train", weights="fp16",
                                                      activations="fp16"), hw)
    f32 = training_macs_per_cycle(hwsim.load_workload("resnet8", phase="train", weights="fp32",
                                                      activations="fp32"), hw)
    assert 1.0 < f16 / f32 < 2.0   # SIMD doubles the inner loop, im2col/copies do not shrink


def test_faster_cores_rank():
    wl = hwsim.load_workload("resnet8")
    lat = {n: hwsim.evaluate(wl, hwsim.load_arch(n)).latency_s for n in PRESETS}
    assert lat["stm32f4"] > lat["stm32h7"] > lat["ra8"]
    assert lat["alif-e7"] > lat["ra8"]   # same Helium, lower clock


def test_llm_on_mcu_is_fast_to_evaluate():
    hw = hwsim.load_arch("ra8", sram_bytes=1 << 40, weight_memory_bytes=1 << 40)
    wl = hwsim.load_workload("llama-2-7b", phase="decode", weights="int8", activations="int8")
    t = time.perf_counter()
    rep = hwsim.evaluate(wl, hw)
    assert time.perf_counter() - t < 1.0 and rep.latency_s > 1.0


def test_bad_param_is_a_config_error():
    with pytest.raises(ConfigError, match="isa"):
        hwsim.load_arch("stm32h7", isa="neon")


def test_fp16_training_experiment(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "experiments" / "mcu_fp16_training.py"
    spec = importlib.util.spec_from_file_location("mcu_fp16_training", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    steps, e2e = mod.run(tmp_path)
    assert (tmp_path / "fp16_speedup.png").stat().st_size > 1000
    assert all(1.0 < r["speedup"] < 2.0 for r in steps)
    by = {(r["workload"], r["format"]): r["macs_per_clk"] for r in e2e}
    assert by[("resnet8", "fp16")] > by[("ds-cnn", "fp16")]   # depthwise layers reuse nothing


def test_int8_int4_space_on_stm32h7():
    from pathlib import Path

    from hwsim.explore import Design, Evaluator, load_space

    sp = load_space(Path(__file__).resolve().parents[3] / "experiments" / "spaces"
                    / "mcu_mobilenetv2_stm32h7.yaml")
    ev = Evaluator(sp)
    m = {f: ev.evaluate(Design({"*": f, **{k: f for k in ev.keys}}, "int8", "int8", {}))
         for f in ("int8", "int4")}
    flash = sp.constraints["memory_bytes"].max
    assert m["int8"]["memory_bytes"] > flash >= m["int4"]["memory_bytes"]
    assert m["int4"]["energy_j"] > m["int8"]["energy_j"]   # unpacking nibbles costs cycles


# ---------------------------------------------------------------------- patch-based inference


def _two_conv_stack(c=8, hw_px=16):
    from hwsim.workload.graph import GraphBuilder

    b = GraphBuilder()
    for i in range(2):
        b.add(Conv2d(name=f"c{i}", in_channels=c, out_channels=c, in_h=hw_px, in_w=hw_px,
                     kernel_h=3, kernel_w=3, padding=1, weights="int8", activations="int8"))
    b.add(Conv2d(name="head", in_channels=c, out_channels=1, in_h=hw_px, in_w=hw_px,
                 kernel_h=1, kernel_w=1, weights="int8", activations="int8"))
    return b.build("stack", {}, None)


def test_patch_halo_recompute_by_hand():
    from hwsim.families.mcu import patch_plan

    wl = _two_conv_stack()
    pp = patch_plan(wl, "c1", 2)
    # c1's 8-row output tile reads rows -1..8 of c0's output: row -1 is padding, so c0 computes 9
    # rows (from 11 input rows, one of them padding) per patch and axis; all 4 patches alike
    assert pp.n_patches == 4 and len(pp.stage_groups) == 1
    assert [(o.in_h, o.out_h, o.in_w, o.out_w) for o in pp.stage_ops] == [(11, 9, 11, 9),
                                                                          (10, 8, 10, 8)]
    assert pp.recompute_macs == 4 * (81 - 64) * 8 * 8 * 9
    assert pp.stage_macs == 2 * 16 * 16 * 8 * 8 * 9
    assert pp.recompute_fraction == pytest.approx(68 / 512)
    assert pp.network_overhead == pytest.approx(pp.recompute_macs / wl.macs)
    assert pp.rest_ops[0].name == "head" and pp.rest_ops[0].in_h == 16
    # one patch (11x11 in + 9x9 out of c0, 8 channels) plus the 16x16 stage output held whole,
    # against the layer-by-layer peak of 16x16 in + 16x16 out (the 1-channel head after the
    # stage needs less: 8x16x16 + 16x16)
    assert pp.peak_activation_bytes == pytest.approx(8 * (11 * 11 + 9 * 9) + 8 * 16 * 16)
    assert pp.peak_where == "patch stage"
    assert pp.layer_peak_activation_bytes == 2 * 8 * 16 * 16
    # 4 per side: border tiles (one halo side is padding) are smaller than interior ones
    p4 = patch_plan(wl, "c1", 4)
    sizes = sorted((n, ops[0].out_h * ops[0].out_w) for n, ops in p4.stage_groups)
    # per axis: 2 border tiles of c0 output 5 rows, 2 interior of 6 -> 4 corner patches of 5x5,
    # 8 edge patches of 5x6 / 6x5, 4 interior of 6x6
    assert sorted(x for n, x in sizes for _ in range(n)) == [25] * 4 + [30] * 8 + [36] * 4
    assert p4.recompute_macs == (4 * 25 + 8 * 30 + 4 * 36 - 256) * 8 * 8 * 9
    assert p4.recompute_fraction > pp.recompute_fraction
    assert patch_plan(wl, "c1", 1).recompute_macs == 0


def test_patches_make_mobilenetv2_fit_stm32h7_at_a_compute_cost():
    from hwsim.families.mcu import patch_plan

    # int4 weights: 1.7 MiB in the 2 MiB flash (int8 would not fit there)
    wl = hwsim.load_workload("mobilenetv2", weights="int4", activations="int8")
    hw = hwsim.load_arch("stm32h7")   # 512 KiB activation SRAM
    with pytest.raises(ConfigError, match="sram_bytes = 512 KiB"):
        check_fit(wl, hw)
    pp = patch_plan(wl, "features.6.project", 4)
    assert pp.peak_activation_bytes < 512 * 1024 < pp.layer_peak_activation_bytes
    pp.check_fit(hw)
    c = pp.cost(hw)
    big = hwsim.load_arch("stm32h7", sram_bytes=1 << 24)
    full = hwsim.evaluate(wl, big)
    assert c.macs == wl.macs + pp.recompute_macs
    assert c.latency_s > full.latency_s            # recomputed halos cost time
    assert c.energy_j == pytest.approx(hw.power_w * c.latency_s)
    # a 2x2 split of the same stage does not fit: the error names memory, need, size, peak
    with pytest.raises(ConfigError, match=r"2x2 patches needs \d+\.\d KiB of SRAM .*peak at"):
        patch_plan(wl, "features.6.project", 2).cost(hw)


def test_patch_plan_errors():
    from hwsim.errors import UnsupportedError
    from hwsim.families.mcu import patch_plan

    wl = _two_conv_stack()
    for bad in (0, 2.0, True):
        with pytest.raises(ConfigError, match="patches = "):
            patch_plan(wl, "c1", bad)
    with pytest.raises(ConfigError, match="'c9' is not an op of stack"):
        patch_plan(wl, "c9", 2)
    with pytest.raises(ConfigError, match="patches = 32 per side.*16x16"):
        patch_plan(wl, "c1", 32)
    vit = hwsim.load_workload("resnet8")
    names = [o.name for o in vit.ops]
    with pytest.raises((UnsupportedError, ConfigError)):
        patch_plan(vit, names[-1], 2)   # the classifier (pooling, Gemm) cannot be tiled


def test_memory_plan_runs_single_input_elementwise_in_place():
    wl = hwsim.load_workload("mobilenetv2", weights="int8", activations="int8")
    rows = dict(memory_plan(wl).per_op_bytes)
    # features.0 (3x224x224 in, 32x112x112 out); its BN and ReLU6 reuse the output buffer
    assert rows["features.0.bn"] == rows["features.0.relu6"] == 32 * 112 * 112


def test_per_patch_precision_bitops_by_hand():
    from hwsim.families.mcu import PatchPrecision, patch_bitops, patch_plan

    wl = _two_conv_stack()
    pp = patch_plan(wl, "c1", 2)            # 4 patches
    stage = sum(o.macs for o in pp.stage_ops)
    head = pp.rest_ops[0].macs * 8 * 8
    assert patch_bitops(pp) == 4 * stage * 64 + head
    # one outlier patch keeps int8 activations, three run int4: 8x8 and 8x4 bit products
    got = patch_bitops(pp, PatchPrecision(1, "int4", "int8"))
    assert got == stage * 64 + 3 * stage * 32 + head
    assert patch_bitops(pp, PatchPrecision(4)) == patch_bitops(pp)
    with pytest.raises(ConfigError, match=r"outlier_patches = 5.*0\.\.4"):
        patch_bitops(pp, PatchPrecision(5))
    with pytest.raises(ConfigError, match="float format"):
        patch_bitops(pp, PatchPrecision(1, "fp16"))
    hw = hwsim.load_arch("stm32h7")
    # CMSIS-NN has no int4-activation kernel: int4 activations are unpacked to the same loop
    assert pp.cost(hw, PatchPrecision(0)).latency_s == pytest.approx(pp.cost(hw).latency_s)


@pytest.mark.slow
def test_patch_inference_experiment(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "experiments" / "mcu_patch_inference.py"
    spec = importlib.util.spec_from_file_location("mcu_patch_inference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows, q = mod.run(tmp_path)
    assert (tmp_path / "patch_inference.png").stat().st_size > 1000
    f6 = [r for r in rows if r["stage"] == "features.6.project"]
    # more patches: less memory, more recompute, until tiles stop shrinking
    assert all(a["peak_kib"] >= b["peak_kib"] and a["extra_macs"] <= b["extra_macs"]
               for a, b in zip(f6, f6[1:]))
    assert not f6[0]["fits"] and f6[3]["fits"]
    int4 = [r["bitops_reduction"] for r in q if r["low"] == "int4"]
    assert int4 == sorted(int4, reverse=True) and int4[-1] == pytest.approx(1.0)


# ---------------------------------------------------------------------- the typed contract


def test_old_frequency_hz_name_loads_with_a_warning_and_the_same_cost():
    from hwsim.families.mcu import MCU

    base = dict(isa="dsp", core="cortex-m4", sram_bytes=1 << 17, weight_memory_bytes=1 << 20,
                supply_v=3.3, run_current_a_per_hz=1e-10)
    new = MCU.from_spec("m4", {**base, "clock_hz": 1e8}, "test")
    with pytest.warns(DeprecationWarning, match="'frequency_hz' is now 'clock_hz'"):
        old = MCU.from_spec("m4", {**base, "frequency_hz": 1e8}, "test")
    assert old.params.clock_hz == 1e8
    g = Gemm(M=8, N=16, K=32, weights="int8", activations="int8")
    assert (old.cost(g).latency_s, old.cost(g).energy_j) == (new.cost(g).latency_s,
                                                            new.cost(g).energy_j)
    with pytest.raises(ConfigError, match="both 'frequency_hz'"):
        MCU.from_spec("m4", {**base, "clock_hz": 1e8, "frequency_hz": 1e8}, "test")


def test_peak_ops_per_s_is_two_ops_per_mac_at_the_clock():
    m55 = hwsim.load_arch("alif-e7")
    assert m55.peak_ops_per_s("int8", "int8") == pytest.approx(2 * 6.4 * 4.0e8)
    assert m55.peak_ops_per_s("fp16", "fp16") == pytest.approx(
        2 * m55.peak_macs_per_cycle("fp16", "fp16") * m55.params.clock_hz)
    with pytest.raises(UnsupportedError, match="fp32"):
        hwsim.load_arch("stm32f4").peak_ops_per_s("fp16", "fp16")


def test_summary():
    s = hwsim.load_arch("gap9").summary()
    assert (s.family, s.name, s.clock_hz) == ("mcu", "gap9", 3.7e8)
    assert s.mem_bandwidth_Bps == 8.0 * 3.7e8           # the cluster DMA
    assert s.mem_capacity_bytes == 1572864               # weights share the L2
    h7 = hwsim.load_arch("stm32h7").summary()
    assert h7.mem_capacity_bytes == 512 * 1024 + 2 * 1024 * 1024 and h7.idle_power_w == 0.0
    assert h7.mem_bandwidth_Bps == 4.0 * 4.8e8           # one 32-bit load per cycle


@pytest.mark.parametrize("name", PRESETS)
def test_typed_cost_parts(name):
    from hwsim.contract import Bound
    from hwsim.families.mcu import MCUCostDetail

    hw = hwsim.load_arch(name, sram_bytes=1 << 30, weight_memory_bytes=1 << 30)
    wl = hwsim.load_workload("mobilenetv2", weights="int8", activations="int8")
    for op in wl.ops:
        c = hw.cost(op)
        t, e = c.time, c.energy
        assert isinstance(c.detail, MCUCostDetail) and isinstance(c.bound, Bound)
        assert max(t.compute_s, t.memory_s) + t.overhead_s == c.latency_s
        assert c.detail.cycles == pytest.approx(c.latency_s * hw.params.clock_hz)
        assert e.total_j == c.energy_j and 0 <= c.utilization <= 1.0001
        assert c.breakdown["cycles"] == c.detail.cycles
