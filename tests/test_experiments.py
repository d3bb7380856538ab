import importlib.util
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_roofline_decode_experiment(tmp_path):
    rows = _load("roofline_decode_throughput").run(tmp_path)
    assert (tmp_path / "decode_throughput.png").stat().st_size > 1000
    by = {(r["arch"], r["weights"], r["batch"]): r["tokens_per_s"] for r in rows}
    # more bandwidth and narrower weights never lower the roofline's decode throughput
    assert by[("h200-sxm", "fp16", 1)] > by[("h100-sxm", "fp16", 1)]
    assert by[("h100-sxm", "int4_g128", 1)] > by[("h100-sxm", "int8", 1)] > by[("h100-sxm", "fp16", 1)]
    # it is the datasheet roofline: an upper bound on the calibrated model
    import hwsim
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=8, weights="fp16",
                             activations="fp16")
    assert by[("h100-sxm", "fp16", 8)] > hwsim.evaluate(wl, hwsim.load_arch("h100-sxm")).tokens_per_s


def test_mixed_precision_dominates_uniform_on_the_lut_core(tmp_path):
    res, uni, dom = _load("mixed_precision_lut").run(150, tmp_path, seed=0)
    assert any(d["beats_uniform"] == "int3_g32" for d in dom)
    assert (tmp_path / "mixed_vs_uniform.png").stat().st_size > 1000
