"""Static-batch generation and the simpy serving simulation."""

import numpy as np
import pytest

import hwsim
from hwsim.errors import ConfigError
from hwsim.systems.generate import generate, prefill_steps
from hwsim.systems.parallel import ParallelModel
from hwsim.systems.serve import (Request, SchedulerConfig, poisson_requests, read_trace, serve)
from hwsim.systems.system import load_system


def test_generate_batch1_decode_matches_evaluate():
    """TPOT at batch 1 equals the single-device decode step hwsim.evaluate gives (same model)."""
    g = generate("llama-2-7b", "h100-sxm", batch=1, input_len=1000, output_len=2)
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=1000)
    rep = hwsim.evaluate(wl, hwsim.load_arch("h100-sxm"))
    assert g.tpot_s == pytest.approx(rep.latency_s, rel=1e-9)
    pre = hwsim.evaluate(hwsim.load_workload("llama-2-7b", phase="prefill", batch=1,
                                             context=1000), hwsim.load_arch("h100-sxm"))
    assert g.ttft_s == pytest.approx(pre.latency_s, rel=1e-9)


def test_generate_interpolation_is_close_to_exact_steps():
    pm = ParallelModel("llama-2-7b", "h100-sxm")
    g = generate("llama-2-7b", "h100-sxm", batch=4, input_len=300, output_len=100, parallel=pm)
    exact = [pm.step(4, 4, [(4, 1, 300 + j)]).latency_s for j in range(1, 100)]
    assert g.step_latency_s == pytest.approx(exact, rel=2e-3)
    assert np.all(np.diff(exact) >= -1e-12)  # context grows -> steps never get cheaper


def test_generate_totals_and_tp_scaling():
    s = load_system("dgx-h100")
    g1 = generate("llama-2-13b", s, batch=16, input_len=512, output_len=64, tp=1)
    g4 = generate("llama-2-13b", s, batch=16, input_len=512, output_len=64, tp=4)
    for g in (g1, g4):
        assert g.latency_s == pytest.approx(g.ttft_s + g.step_latency_s.sum())
        assert g.output_tokens_per_s == pytest.approx(16 * 64 / g.latency_s)
    assert g4.output_tokens_per_s > 2 * g1.output_tokens_per_s
    assert g4.output_tokens_per_s_per_device < g1.output_tokens_per_s_per_device  # comm, overheads
    assert g4.memory.weights_bytes == pytest.approx(g1.memory.weights_bytes / 4, rel=0.01)


def test_generate_refuses_what_does_not_fit(capsys):
    from hwsim.cli import main
    assert generate("llama-2-70b", "h100-sxm", batch=1, input_len=128, output_len=8).fits is False
    assert main(["generate", "llama-2-70b", "--arch", "h100-sxm", "--output-len", "8"]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert main(["generate", "llama-2-70b", "--arch", "h100-sxm", "--tp", "2",
                 "--output-len", "8"]) == 0
    assert "-> fits" in capsys.readouterr().out


def test_prefill_steps_pack_and_chunk():
    assert prefill_steps(10, 1000, 4096) == [(4000, 4, [(4, 1000, 1000)])] * 2 + \
        [(2000, 2, [(2, 1000, 1000)])]
    long = prefill_steps(1, 10000, 4096)
    assert [s[0] for s in long] == [4096, 4096, 1808] and [s[1] for s in long] == [0, 0, 1]
    assert long[-1][2] == [(1, 1808, 10000)]


def test_serve_low_load_matches_generate_and_conserves_tokens():
    """One request at a time: TTFT = its prefill, TPOT = its decode steps (no batching)."""
    reqs = [Request(k, 10.0 * k, 256, 32) for k in range(3)]
    r = serve("llama-2-7b", "h100-sxm", reqs)
    g = generate("llama-2-7b", "h100-sxm", batch=1, input_len=256, output_len=32)
    assert r.ttft_s == pytest.approx([g.ttft_s] * 3, rel=1e-6)
    # serve rounds the decode context up to whole 16-token blocks: slightly slower
    assert r.tpot_s == pytest.approx([g.tpot_s] * 3, rel=0.01)
    assert r.iterations == 3 * 32 and r.preemptions == 0


def test_serve_load_raises_latency_and_throughput():
    lo = serve("llama-2-7b", "h100-sxm", rate_per_s=1, n_requests=60, input_len=256,
               output_len=64)
    hi = serve("llama-2-7b", "h100-sxm", rate_per_s=40, n_requests=60, input_len=256,
               output_len=64)
    assert hi.output_tokens_per_s > 5 * lo.output_tokens_per_s
    assert hi.percentiles()["tpot_s_p50"] > lo.percentiles()["tpot_s_p50"]
    assert hi.timeline[:, 1].max() > lo.timeline[:, 1].max()


def test_serve_preempts_when_the_kv_pool_is_full():
    # 13B fp16 on one 80 GB H100 at 0.5 utilization leaves a small KV pool
    sc = SchedulerConfig(gpu_memory_utilization=0.4)
    r = serve("llama-2-13b", "h100-sxm", rate_per_s=50, n_requests=80, input_len=1024,
              output_len=512, scheduler=sc)
    assert r.preemptions > 0
    assert r.timeline[:, 2].max() <= r.kv_blocks
    assert len(r.e2e_s) == 80 and np.all(r.e2e_s > 0)


def test_serve_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="no KV memory left"):
        serve("llama-2-70b", "h100-sxm", rate_per_s=1, n_requests=2)
    with pytest.raises(ConfigError, match="rate"):
        poisson_requests(3, 0)
    p = tmp_path / "t.csv"
    p.write_text("arrival_s,input_len,output_len\n0.0,12,x\n")
    with pytest.raises(ConfigError, match="row 2"):
        read_trace(p)
    p.write_text("arrival_s,input_len,output_len\n0.5,12,4\n0.0,20,3\n")
    assert [r.input_len for r in read_trace(p)] == [20, 12]


def test_cli_serve_sweep_writes_plot_and_csv(tmp_path, capsys):
    from hwsim.cli import main
    png, out = tmp_path / "s.png", tmp_path / "s.csv"
    assert main(["serve", "llama-2-7b", "--arch", "h100-sxm", "--rates", "1,20", "--requests",
                 "30", "--input-len", "64:256", "--output-len", "32", "--plot", str(png),
                 "--csv", str(out)]) == 0
    assert png.stat().st_size > 1000 and len(out.read_text().splitlines()) == 3


def test_serve_closed_loop_keeps_concurrency_and_skips_warmup():
    r = serve("llama-2-7b", "h100-sxm", concurrency=4, n_requests=12, warmup=4,
              input_len=200, output_len=20)
    assert len(r.requests) == 12 and len(r.ttft_s) == 8
    assert r.timeline[:, 1].max() <= 4            # never more than C requests in flight
    first = sorted(r.requests, key=lambda q: q.arrival_s)[:4]
    assert all(q.arrival_s == 0.0 for q in first)
    assert sorted(q.arrival_s for q in r.requests)[4] > 0   # the next follow completions
    with pytest.raises(ConfigError, match="warmup"):
        serve("llama-2-7b", "h100-sxm", concurrency=2, n_requests=2, warmup=2)


@pytest.mark.parametrize("requests,match", [([], r"requests = \[\]"), ("abc", "list of Request"),
                                            ([Request(0, float("nan"), 8, 8)], "arrival_s"),
                                            ([Request(0, 0.0, 0, 8)], "input_len")])
def test_serve_rejects_bad_request_lists(requests, match):
    with pytest.raises(ConfigError, match=match):
        serve("llama-2-7b", "h100-sxm", requests)


def test_poisson_requests_checks_count_rate_and_seed():
    with pytest.raises(ConfigError, match="at most 1,000,000"):
        poisson_requests(10**12, 1.0)
    with pytest.raises(ConfigError, match="rate"):
        poisson_requests(3, float("inf"))
    with pytest.raises(ConfigError, match="seed = -1"):
        poisson_requests(3, 1.0, seed=-1)


@pytest.mark.parametrize("arrival", ["nan", "inf", "-1"])
def test_trace_arrivals_must_be_finite(tmp_path, arrival):
    p = tmp_path / "t.csv"
    p.write_text(f"arrival_s,input_len,output_len\n0,8,8\n{arrival},8,8\n")
    with pytest.raises(ConfigError, match=f"row 3: arrival_s = '{arrival}'"):
        read_trace(p)
    p.write_bytes(b"arrival_s,input_len,output_len\n\xff\xfe,1,1\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        read_trace(p)


def test_serve_single_token_outputs_have_no_tpot(capsys, tmp_path):
    import json
    from hwsim.cli import main
    r = serve("llama-2-7b", "h100-sxm", rate_per_s=5, n_requests=6, input_len=64, output_len=1)
    assert len(r.tpot_s) == 0 and r.percentiles()["tpot_s_p50"] is None
    assert "TPOT  n/a" in str(r) and "nan" not in str(r)
    js = tmp_path / "s.json"
    assert main(["serve", "llama-2-7b", "--arch", "h100-sxm", "--rate", "5", "--requests", "6",
                 "--output-len", "1", "--json", str(js)]) == 0
    assert json.loads(js.read_text())[0]["tpot_s_p50"] is None   # valid JSON, no NaN


def test_serve_timeline_is_bounded_and_peaks_exact(monkeypatch):
    import sys
    S = sys.modules["hwsim.systems.serve"]  # the package re-exports serve() under this name
    full = serve("llama-2-7b", "h100-sxm", rate_per_s=20, n_requests=30, input_len=64,
                 output_len=40)
    monkeypatch.setattr(S, "TIMELINE_ROWS", 16)
    small = serve("llama-2-7b", "h100-sxm", rate_per_s=20, n_requests=30, input_len=64,
                  output_len=40)
    assert full.iterations > 64 and len(full.timeline) == full.iterations
    assert len(small.timeline) < 16
    assert small.peak_kv_blocks_used == int(full.timeline[:, 2].max())
    assert small.peak_running == int(full.timeline[:, 1].max())
    assert small.as_dict()["peak_kv_blocks_used"] == full.as_dict()["peak_kv_blocks_used"]
    assert small.makespan_s == full.makespan_s


@pytest.mark.slow
def test_serve_100k_requests_stays_under_200_mb():
    """Python heap (tracemalloc) of a 100k-request run: per-request state and a bounded
    timeline only (the unbounded timeline held ~585 MB)."""
    import tracemalloc
    tracemalloc.start()
    r = serve("llama-2-7b", "h100-sxm", rate_per_s=20, n_requests=100_000, input_len=512,
              output_len=128)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(r.e2e_s) == 100_000 and peak < 200e6, peak / 1e6
