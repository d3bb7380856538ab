"""Memory capacity, systems, collectives and tensor/pipeline parallelism."""

import math

import pytest

import hwsim
from hwsim.errors import ConfigError, UnknownNameError
from hwsim.systems import collectives as C
from hwsim.systems.interconnect import link
from hwsim.systems.parallel import ParallelModel, min_tp, shard_config, llm_config
from hwsim.systems.system import load_system


def test_llama70b_fp16_does_not_fit_one_h100_and_needs_two():
    wl = hwsim.load_workload("llama-2-70b", phase="decode", batch=1, context=2048)
    rep = hwsim.evaluate(wl, hwsim.load_arch("h100-sxm"))
    # 68.98e9 parameters x 2 bytes + 2048 tokens x 80 layers x 2 x 8 x 128 x 2 bytes of KV
    assert rep.memory.weights_bytes == pytest.approx(wl.num_params * 2)
    assert rep.memory.kv_bytes == pytest.approx(2049 * 80 * 2 * 8 * 128 * 2)
    assert 137e9 < rep.memory_bytes < 140e9 and rep.fits is False
    assert min_tp("llama-2-70b", "h100-sxm", context=2048) == 2
    assert hwsim.evaluate(hwsim.load_workload("llama-2-7b"), hwsim.load_arch("h100-sxm")).fits


def test_paged_kv_rounds_to_blocks_and_int8_kv_halves():
    pm = ParallelModel("llama-2-7b", "h100-sxm")
    assert pm.memory(1, 17, paged=True).kv_bytes == pytest.approx(32 * pm.kv_bytes_per_token)
    assert pm.memory(1, 17).kv_bytes == pytest.approx(17 * pm.kv_bytes_per_token)
    pm8 = ParallelModel("llama-2-7b", "h100-sxm", kv="int8")
    assert pm8.kv_bytes_per_token == pytest.approx(pm.kv_bytes_per_token / 2)


def test_max_batch_is_the_largest_that_fits():
    pm = ParallelModel("llama-2-7b", "h100-sxm")
    b = pm.max_batch(4096)
    cap = hwsim.load_arch("h100-sxm").params.mem_capacity_bytes
    assert pm.memory(b, 4096).total_bytes <= cap < pm.memory(b + 1, 4096).total_bytes


def test_tp_shards_weights_and_kv_and_adds_all_reduces():
    s = load_system("dgx-h100")
    one, four = (ParallelModel("llama-2-70b", s, tp=t) for t in (1, 4))
    assert four.weight_bytes == pytest.approx(one.weight_bytes / 4, rel=0.01)
    assert four.kv_bytes_per_token == pytest.approx(one.kv_bytes_per_token / 4)
    st1, st4 = one.step(8, 8, [(8, 1, 1024)]), four.step(8, 8, [(8, 1, 1024)])
    assert st1.comm_s == 0 and st4.comm_s > 0
    # 2 all-reduces per layer of 8 x 8192 fp16 activations + the logits all-gather
    ar = s.all_reduce_s(8 * 8192 * 2, 4)
    assert st4.comm_s == pytest.approx(2 * 80 * ar + s.all_gather_s(8 * 32000 * 2.0, 4))
    assert st4.latency_s < st1.latency_s / 2   # decode: weight streaming splits 4 ways


def test_kv_heads_replicate_beyond_their_count():
    cfg = llm_config("llama-2-70b")  # 8 KV heads
    assert shard_config(cfg, 8).kv_heads == 1
    with pytest.raises(ConfigError, match="tp = 3: must divide the 64 attention heads"):
        shard_config(cfg, 3)


def test_pipeline_splits_layers_and_rejects_too_many_stages():
    s = load_system("dgx-h100")
    pm = ParallelModel("llama-2-7b", s, pp=4)
    assert pm.stage_layers == 8
    assert pm.step(1, 1, [(1, 1, 100)]).comm_s > 0
    with pytest.raises(ConfigError, match="pp = 40: more pipeline stages than the 32 layers"):
        ParallelModel("llama-2-7b", load_system("h100-sxm", devices=64), pp=40)
    with pytest.raises(ConfigError, match="more devices than the 8"):
        ParallelModel("llama-2-7b", s, tp=8, pp=2)


def test_ring_all_reduce_alpha_beta():
    lk = link("nvlink4")
    big = 1 << 30
    t = C.all_reduce_s(big, 8, lk, algorithm="ring")
    # alpha-beta, Simple protocol: base + 2(n-1) hops + 2(n-1)/n S / (B eff)
    alpha = C.BASE_LAT_S["Simple"] + 14 * 0.6e-6 * C.HOP_SCALE["Simple"]
    assert t == pytest.approx(alpha + 2 * 7 / 8 * big / (450e9 * C.SIMPLE_EFF), rel=1e-9)
    assert C.all_reduce_s(8, 8, lk) < 20e-6            # latency-bound: tens of microseconds
    assert C.all_reduce_s(big, 1, lk) == 0.0
    assert C.all_reduce_s(big, 8, lk, nvls=True) < t   # NVLS beats the ring at 1 GiB
    with pytest.raises(ConfigError, match="nvls needs"):
        C.all_reduce_s(big, 8, lk, algorithm="nvls")


def test_systems_and_bad_names():
    s = load_system("dgx-a100")
    assert s.devices == 8 and s.intra.name == "nvlink3" and not s.switch.nvls
    assert load_system("h100-sxm", devices=2).intra.name == "nvlink4"
    assert load_system("l40s", devices=2).intra.name == "pcie4"   # no NVLink board: PCIe
    with pytest.raises(UnknownNameError, match="interconnect 'nvlink9'"):
        load_system("h100-sxm", 2, intra_node="nvlink9")
    with pytest.raises(UnknownNameError, match="system or arch"):
        load_system("dgx-h1000")
    # across nodes: hierarchical, slower than within one node
    big = load_system("h100-sxm", devices=16)
    assert big.all_reduce_s(1 << 26, 16) > big.all_reduce_s(1 << 26, 8)


def test_cli_eval_refuses_what_does_not_fit_and_runs_tp(capsys):
    from hwsim.cli import main
    assert main(["eval", "llama-2-70b", "--arch", "h100-sxm"]) == 2   # checked before costing
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "needs 139 GB" in err and "85 GB" in err and "--tp 2" in err
    assert main(["eval", "llama-2-70b", "--arch", "h100-sxm", "--ignore-memory"]) == 0
    out, err = capsys.readouterr()
    assert "warning: does not fit" in err and "tokens/s" in out
    assert main(["eval", "llama-2-70b", "--arch", "h100-sxm", "--tp", "4"]) == 0
    out = capsys.readouterr().out
    assert "tp=4" in out and "-> fits" in out
    assert main(["eval", "llama-2-70b", "--arch", "dgx-h100"]) == 2   # a system preset, tp=1
    assert "smallest tensor-parallel degree that fits: --tp 2" in capsys.readouterr().err
    assert main(["eval", "llama-2-70b", "--arch", "dgx-h100", "--ignore-memory"]) == 0
    out = capsys.readouterr().out
    assert "DOES NOT FIT" in out and "--tp 2" in out
    assert main(["eval", "llama-2-70b", "--arch", "h100-sxm", "--tp", "3"]) == 2
    assert "must divide the 64 attention heads" in capsys.readouterr().err
