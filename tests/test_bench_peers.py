"""benchmarks/bench_peers.py times what it says: its hwsim snippet runs in a new process and
computes the same 7B decode step as the public path here (peers are not installed in the suite)."""

import importlib.util
import sys
from pathlib import Path

import hwsim

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_peers", ROOT / "benchmarks" / "bench_peers.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_hwsim_snippet_times_the_public_decode_step_in_a_new_process():
    r = bench._measure(sys.executable, bench.HWSIM_DECODE.replace("WARM", "2"), procs=1)
    want = hwsim.evaluate(hwsim.load_workload("llama-2-7b", phase="decode", batch=1,
                                              context=2048), hwsim.load_arch("h100-sxm"))
    assert r["value"] == want.latency_s
    assert 0 < r["cold_build_median_s"] + r["cold_evaluate_median_s"] <= r["cold_median_s"] * 1.01
    assert r["cold_median_s"] < 1.0 and r["warm_median_s"] < 1.0 and r["procs"] == 1
