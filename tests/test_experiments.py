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
