"""hwsim.plot: each figure draws what the models computed (checked through the data each figure
keeps), and ``hwsim plot`` writes images from the same arguments as ``hwsim eval``."""

import math

import matplotlib
import pytest

matplotlib.use("Agg")

import hwsim  # noqa: E402
import hwsim.plot as hp  # noqa: E402
from hwsim.cli import main  # noqa: E402
from hwsim.errors import ConfigError, HwsimError, UnsupportedError  # noqa: E402


@pytest.fixture(scope="module")
def decode():
    return hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048)


def test_pareto_rows_dedupes_designs_and_keeps_only_non_dominated():
    rows = [{"trial": 0, "w.mlp": "int4", "hw.t": 8, "latency_s": 1.0, "energy_j": 3.0},
            {"trial": 1, "w.mlp": "int4", "hw.t": 8, "latency_s": 1.0, "energy_j": 3.0},  # again
            {"trial": 2, "w.mlp": "int3", "hw.t": 8, "latency_s": 2.0, "energy_j": 1.0},
            {"trial": 3, "w.mlp": "int8", "hw.t": 8, "latency_s": 2.5, "energy_j": 3.5},  # worse
            {"trial": 4, "w.mlp": "int2", "hw.t": 4, "latency_s": 0.5, "energy_j": float("nan")}]
    front = hp.pareto_rows(rows, ["latency_s", "energy_j"])
    assert [r["w.mlp"] for r in front] == ["int4", "int3"]
    # maximizing throughput flips which design wins
    t = [{"label": "a", "tokens_per_s": 10.0, "energy_j": 1.0},
         {"label": "b", "tokens_per_s": 20.0, "energy_j": 1.0}]
    assert [r["label"] for r in hp.pareto_rows(t, ["tokens_per_s", "energy_j"])] == ["b"]
    with pytest.raises(ConfigError, match="one per objective"):
        hp.pareto_rows(rows, ["latency_s", "energy_j"], ["minimize"])


def test_pareto_of_reports_labels_the_front(decode):
    reps = [hwsim.evaluate(decode, hwsim.load_arch(a)) for a in ("h100-sxm", "h200-sxm", "rpi5")]
    fig = hp.pareto(reps, ["latency_s", "energy_j"])
    names = {r["arch"] for r in fig.pareto_rows}
    # H200: same compute, more HBM bandwidth -> faster decode than H100 for this memory-bound step
    assert reps[1].latency_s < reps[0].latency_s
    assert "h200-sxm" in names and "h100-sxm" not in names
    assert fig.axes[0].get_xlabel() == "latency (s)"
    with pytest.raises(ConfigError, match="no design has a value for area_mm2"):
        hp.pareto(reps, ["latency_s", "area_mm2"])


@pytest.mark.slow
def test_pareto_of_a_stored_study_via_cli(tmp_path):
    from hwsim.explore import explore
    db = f"sqlite:///{tmp_path / 's.db'}"
    res = explore("experiments/spaces/llama_lut_precision.yaml", 8, study_name="t",
                  storage=db, sampler="random", seed=1, progress=False)
    fig = hp.pareto(hp.load_study("t", db))
    keys = [hp.figures._design_key(r) for r in fig.pareto_rows]
    assert len(keys) == len(set(keys)) > 0
    # the same front as the runner's, each design once
    assert set(keys) == {hp.figures._design_key(r) for r in res.pareto()}
    out = tmp_path / "p.png"
    assert main(["plot", "pareto", "--study", "t", "--storage", db, "--objectives", "latency_s",
                 "accuracy_proxy", "--out", str(out)]) == 0
    assert out.stat().st_size > 5000
    assert main(["plot", "pareto", "--study", "nope", "--storage", db, "--out", str(out)]) == 2


def test_roofline_model_ops_sit_on_their_roofs(decode):
    rep = hwsim.evaluate(decode, hwsim.load_arch("h100-sxm", model="roofline"))
    fig = hp.roofline(rep)
    bw = fig.roofs["memory_Bps"]
    assert fig.roofline_points
    on_a_roof = [p for p in fig.roofline_points if p["roof"] in fig.roofs]
    assert on_a_roof
    for p in on_a_roof:  # GEMMs: exactly at the roof of their formats or the memory roof
        roof = min(fig.roofs[p["roof"]], p["intensity"] * bw)
        assert p["flops_per_s"] == pytest.approx(roof, rel=1e-9)
    for p in fig.roofline_points:
        assert p["flops_per_s"] <= p["intensity"] * bw * (1 + 1e-9)
    assert sum(p["latency_share"] for p in fig.roofline_points) <= 1 + 1e-9


def test_calibrated_gpu_ops_stay_under_the_datasheet_roofs(decode):
    rep = hwsim.evaluate(decode, hwsim.load_arch("h100-sxm"))
    fig = hp.roofline(rep)
    bw = fig.roofs["memory_Bps"]
    for p in fig.roofline_points:
        roof = fig.roofs.get(p["roof"], math.inf)
        assert p["flops_per_s"] <= min(roof, p["intensity"] * bw) * 1.001
    assert {"fp16 x int4_g128"} <= set(fig.roofs) or {"fp16 x fp16"} <= set(fig.roofs)


def test_roofs_per_family():
    lut = hwsim.load_arch("lut-tc")
    g = hwsim.ops.Gemm(M=1, N=4096, K=4096, weights="int2", activations="int8")
    g4 = hwsim.ops.Gemm(M=1, N=4096, K=4096, weights="int4", activations="int8")
    r = hp.compute_roofs(lut, [g, g4])
    # a LUT core looks up one weight bit-plane per cycle group: int4 peaks at half int2's
    assert r["int8 x int2"] == pytest.approx(2 * r["int8 x int4"]) \
        if lut.params.planes_per_cycle == 2 else r["int8 x int2"] > r["int8 x int4"]
    rpi = hwsim.load_arch("rpi5")
    q = hwsim.ops.Gemm(M=1, N=4096, K=4096, weights="q4_0", activations="int8")
    assert hp.compute_roofs(rpi, [q]) in ({}, {"int8 x q4_0": rpi.peak_ops_per_s("int8", "q4_0")})
    # an MCU's roof is its inner-loop MAC rate for the operand formats; no op exceeds it
    mcu = hwsim.load_arch("stm32h7")
    fig = hp.roofline(hwsim.evaluate(hwsim.load_workload("resnet8", phase="prefill"), mcu))
    peak = mcu.peak_ops_per_s("int8", "int8")
    assert {k: v for k, v in fig.roofs.items() if k != "memory_Bps"} == {"int8 x int8": peak}
    assert all(p["flops_per_s"] <= peak for p in fig.roofline_points)


def test_breakdown_parts_add_up_to_the_report(decode):
    wl = hwsim.load_workload("llama-2-7b", phase="decode", weights="int4", activations="fp16")
    rep = hwsim.evaluate(wl, hwsim.load_arch("mac-tc"))
    for metric, by in (("latency_s", "bound"), ("latency_s", "path"), ("energy_j", "component")):
        d = hp.group_breakdown(rep, metric, by)
        total = sum(v for g in d.values() for v in g.values())
        assert total == pytest.approx(getattr(rep, metric), rel=1e-9)
    comp = hp.group_breakdown(rep, "energy_j", "component")
    # decode GEMVs stream weights: DRAM dominates the MAC energy of the MLP up-projection
    assert comp["mlp.up"]["offchip"] > comp["mlp.up"]["compute"]
    fig = hp.breakdown([rep, hwsim.evaluate(wl, hwsim.load_arch("lut-tc"))], "energy_j",
                       "component")
    assert len(fig.axes) == 2
    with pytest.raises(ConfigError, match="latency components overlap"):
        hp.group_breakdown(rep, "latency_s", "component")
    with pytest.raises(ConfigError, match="metric"):
        hp.breakdown(rep, "power_w")


def test_area_breakdown_sums_to_the_area_model():
    hws = [hwsim.load_arch("lut-tc"), hwsim.load_arch("mac-tc")]
    fig = hp.area_breakdown(hws)
    for hw, d in zip(hws, fig.breakdown):
        assert sum(d.values()) == pytest.approx(hw.area_mm2, rel=1e-9)
    with pytest.raises(UnsupportedError, match="no area breakdown"):
        hp.area_breakdown(hwsim.load_arch("h100-sxm"))


def test_validation_plot_draws_every_relative_check_of_the_family():
    from hwsim import validate
    res = validate.run("lut")
    fig = hp.validation("lut", results=res)
    rel = [r for r in res if r.check.mode == "rel" and r.check.kind == "validation"]
    assert len(fig.results) == len(rel) > 0
    bars = fig.axes[1].patches
    assert len(bars) == len(rel)
    heights = sorted(100 * r.rel_error for r in rel)
    assert [b.get_height() for b in bars] == pytest.approx(heights)
    with pytest.raises(HwsimError, match="no .*relative checks"):
        hp.validation("gpu", results=[r for r in validate.run("gpu") if r.check.mode == "max"])


def test_format_comparison_orders_formats_by_error():
    fig = hp.format_comparison(["int4", "int4_g128", "nvfp4", "fp8_e4m3", "ternary"])
    by = {r["format"]: r for r in fig.format_rows}
    assert by["int4_g128"]["storage_bits"] == pytest.approx(4 + 16 / 128)
    # outlier channels: per-tensor int4 loses to group/block scaling, 8 bits beat 4
    assert by["int4_g128"]["sqnr_db"] > by["int4"]["sqnr_db"] + 3
    assert by["fp8_e4m3"]["sqnr_db"] > by["nvfp4"]["sqnr_db"]
    assert all(math.isclose(10 ** (-r["sqnr_db"] / 20), r["rel_error"], rel_tol=1e-6)
               for r in fig.format_rows)


def test_cli_plots_take_eval_arguments(tmp_path, capsys):
    out = tmp_path / "r.png"
    assert main(["plot", "roofline", "llama-2-7b", "--arch", "h100-sxm", "--phase", "decode",
                 "--out", str(out)]) == 0
    assert out.stat().st_size > 5000
    out2 = tmp_path / "b.svg"
    assert main(["plot", "breakdown", "llama-2-7b", "--arch", "lut-tc", "--arch", "mac-tc",
                 "--weights", "int4", "--metric", "energy_j", "--by", "component",
                 "--out", str(out2)]) == 0
    assert out2.read_text().startswith("<?xml")
    out3 = tmp_path / "sim.png"   # the simulator engine, as in hwsim eval --engine sim
    assert main(["plot", "breakdown", "llama-2-7b", "--arch", "lut-tc", "--weights", "int4",
                 "--engine", "sim", "--out", str(out3)]) == 0
    assert out3.stat().st_size > 5000
    assert main(["plot", "roofline", "llama-2-7b", "--arch", "h100-sxm", "--arch", "h200-sxm",
                 "--out", str(out)]) == 2
    assert "one --arch" in capsys.readouterr().err
    assert main(["plot", "roofline", "llama-2-7b", "--arch", "h100-sxm", "--batch", "0",
                 "--out", str(out)]) == 2
    assert main(["plot", "formats", "int4", "nope4", "--out", str(out)]) == 2


def test_explore_result_pareto_lists_each_design_once():
    from types import SimpleNamespace

    from hwsim.explore import ExploreResult
    res = ExploreResult.__new__(ExploreResult)
    res.space = SimpleNamespace(objectives={"latency_s": "minimize", "energy_j": "minimize"})
    res.objectives = ["latency_s", "energy_j"]
    d = {"w.mlp": "int4", "a": "int8", "kv": "fp16", "hw.tiles": 8}
    res.rows = [dict(d, trial=0, feasible=True, latency_s=1.0, energy_j=2.0),
                dict(d, trial=3, feasible=True, latency_s=1.0, energy_j=2.0),  # re-proposed
                dict(d, trial=4, feasible=True, **{"w.mlp": "int3"}, latency_s=0.8, energy_j=3.0)]
    front = res.pareto()
    assert [r["trial"] for r in front] == [4, 0]
    assert hp.pareto(res).pareto_rows == front
