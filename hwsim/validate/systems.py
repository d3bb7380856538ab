"""LLM serving systems: generation throughput / first-token latency against TensorRT-LLM's
published static-batching benchmarks, and NCCL all-reduce bandwidth.

Every number here is independent of hwsim's fit: the GPU models are calibrated on single-kernel
microbenchmarks (hwsim/families/gpu/data), the collective efficiencies on the NCCL maintainers'
NVLink-4 figures (nccl-tests issue #212; see hwsim/systems/collectives.py). None of the data below
set any parameter, so these are ``validation`` checks. Tolerance ±25% for every row (the bar was
set after the first comparison run; no model parameter was changed in response to it).

TensorRT-LLM tables (gptSessionBenchmark, static batching: prefill of the whole batch, then
``output`` generation steps -- exactly :func:`hwsim.generate`):

* ``trtllm-0.5``: docs/source/performance.md on branch release/0.5.0 (2023-10), H100 FP8
  (``--enable_fp8 --fp8_kv_cache``: fp8 weights, activations and KV), "Throughput (out tok/s)",
  taken as the whole system's output tokens/s; first-token latency tables at batch 1 (H100 FP8,
  A100 FP16).
* ``trtllm-0.6.1``: the same file as updated for v0.6.1 (2023-12, commit 138f96d), H100 FP8 in
  "out tok/s/GPU" and A100 FP16 whose header reads "out tok/s" -- read as per GPU too: the total
  reading would put LLaMA 70B TP4 at batch 1280 four times below the A100's weight-streaming
  and compute bounds.

"LLaMA 7B / 70B" are Llama-2 7B / 70B (the 70B with 8 KV heads, GQA).

NCCL all-reduce bus bandwidth: users' nccl-tests runs reported in NVIDIA/nccl-tests issues #149
(8x A100, NVLink 3), #272 (8x H200, NVLS) and #309 (8x H100, ring). The two NVLink-4 rows are
independent measurements but of the same regime as the maintainer statement the efficiencies
were fitted to (#212: ring ~370 GB/s, NVLS ~480 GB/s busbw), so they confirm that statement more
than they test the model elsewhere; the A100 row is a different link generation.
"""

from __future__ import annotations

from functools import lru_cache

from . import Check, provider

TOL = 0.25
_V05 = ("NVIDIA/TensorRT-LLM docs/source/performance.md, branch release/0.5.0 "
        "(gptSessionBenchmark, static batching)")
_V061 = ("NVIDIA/TensorRT-LLM docs/source/performance.md updated for v0.6.1 (commit 138f96d; "
         "gptSessionBenchmark, static batching)")
FP8 = dict(weights="fp8_e4m3", activations="fp8_e4m3", kv="fp8_e4m3")
FP16 = dict(weights="fp16", activations="fp16", kv="fp16")

# (id, system, model, formats, batch, tp, input, output, reference, per_gpu, source)
THROUGHPUT = [
    ("trtllm-0.5.h100.7b.b64.128-128", "dgx-h100", "llama-2-7b", FP8, 64, 1, 128, 128, 9193, False, _V05),
    ("trtllm-0.5.h100.7b.b64.128-2048", "dgx-h100", "llama-2-7b", FP8, 64, 1, 128, 2048, 5367, False, _V05),
    ("trtllm-0.5.h100.7b.b64.2048-128", "dgx-h100", "llama-2-7b", FP8, 64, 1, 2048, 128, 2058, False, _V05),
    ("trtllm-0.5.h100.7b.b32.2048-2048", "dgx-h100", "llama-2-7b", FP8, 32, 1, 2048, 2048, 2230, False, _V05),
    ("trtllm-0.5.h100.70b.tp4.b64.128-128", "dgx-h100", "llama-2-70b", FP8, 64, 4, 128, 128, 3317, False, _V05),
    ("trtllm-0.5.h100.70b.tp4.b64.128-2048", "dgx-h100", "llama-2-70b", FP8, 64, 4, 128, 2048, 2616, False, _V05),
    ("trtllm-0.5.h100.70b.tp4.b64.2048-128", "dgx-h100", "llama-2-70b", FP8, 64, 4, 2048, 128, 843, False, _V05),
    ("trtllm-0.5.h100.70b.tp4.b64.2048-2048", "dgx-h100", "llama-2-70b", FP8, 64, 4, 2048, 2048, 1583, False, _V05),
    ("trtllm-0.6.1.h100.7b.b768.128-128", "dgx-h100", "llama-2-7b", FP8, 768, 1, 128, 128, 19694, True, _V061),
    ("trtllm-0.6.1.h100.7b.b112.128-2048", "dgx-h100", "llama-2-7b", FP8, 112, 1, 128, 2048, 6818, True, _V061),
    ("trtllm-0.6.1.h100.7b.b80.2048-128", "dgx-h100", "llama-2-7b", FP8, 80, 1, 2048, 128, 2244, True, _V061),
    ("trtllm-0.6.1.h100.7b.b48.2048-2048", "dgx-h100", "llama-2-7b", FP8, 48, 1, 2048, 2048, 2740, True, _V061),
    ("trtllm-0.6.1.h100.70b.tp2.b1024.128-128", "dgx-h100", "llama-2-70b", FP8, 1024, 2, 128, 128, 2657, True, _V061),
    ("trtllm-0.6.1.h100.70b.tp4.b480.128-2048", "dgx-h100", "llama-2-70b", FP8, 480, 4, 128, 2048, 1486, True, _V061),
    ("trtllm-0.6.1.h100.70b.tp2.b96.2048-128", "dgx-h100", "llama-2-70b", FP8, 96, 2, 2048, 128, 306, True, _V061),
    ("trtllm-0.6.1.h100.70b.tp2.b64.2048-2048", "dgx-h100", "llama-2-70b", FP8, 64, 2, 2048, 2048, 547, True, _V061),
    ("trtllm-0.6.1.a100.7b.b384.128-128", "dgx-a100", "llama-2-7b", FP16, 384, 1, 128, 128, 5586, True, _V061),
    ("trtllm-0.6.1.a100.7b.b60.128-2048", "dgx-a100", "llama-2-7b", FP16, 60, 1, 128, 2048, 1928, True, _V061),
    ("trtllm-0.6.1.a100.7b.b52.2048-128", "dgx-a100", "llama-2-7b", FP16, 52, 1, 2048, 128, 591, True, _V061),
    ("trtllm-0.6.1.a100.7b.tp2.b64.2048-2048", "dgx-a100", "llama-2-7b", FP16, 64, 2, 2048, 2048, 782, True, _V061),
    ("trtllm-0.6.1.a100.70b.tp4.b1280.128-128", "dgx-a100", "llama-2-70b", FP16, 1280, 4, 128, 128, 670, True, _V061),
    ("trtllm-0.6.1.a100.70b.tp4.b240.128-2048", "dgx-a100", "llama-2-70b", FP16, 240, 4, 128, 2048, 525, True, _V061),
    ("trtllm-0.6.1.a100.70b.tp4.b120.2048-128", "dgx-a100", "llama-2-70b", FP16, 120, 4, 2048, 128, 79, True, _V061),
]

# (id, system, model, formats, tp, input, first-token latency ms), batch 1, TensorRT-LLM v0.5
TTFT = [
    ("trtllm-0.5.h100.7b.ttft.128", "dgx-h100", "llama-2-7b", FP8, 1, 128, 7),
    ("trtllm-0.5.h100.7b.ttft.2048", "dgx-h100", "llama-2-7b", FP8, 1, 2048, 36),
    ("trtllm-0.5.h100.70b.tp4.ttft.128", "dgx-h100", "llama-2-70b", FP8, 4, 128, 26),
    ("trtllm-0.5.h100.70b.tp4.ttft.2048", "dgx-h100", "llama-2-70b", FP8, 4, 2048, 109),
    ("trtllm-0.5.a100.7b.ttft.128", "dgx-a100", "llama-2-7b", FP16, 1, 128, 16),
    ("trtllm-0.5.a100.7b.ttft.2048", "dgx-a100", "llama-2-7b", FP16, 1, 2048, 133),
    ("trtllm-0.5.a100.70b.tp4.ttft.128", "dgx-a100", "llama-2-70b", FP16, 4, 128, 47),
    ("trtllm-0.5.a100.70b.tp4.ttft.2048", "dgx-a100", "llama-2-70b", FP16, 4, 2048, 377),
]

_GQA = ("Llama-2-70B decode with GQA: hwsim's attention reads each KV head once; TensorRT-LLM "
        "before its XQA kernel (announced 2024-01-30: '2.4x more Llama-70B throughput') "
        "apparently did not -- with KV read per query head "
        "(ParallelModel(kv_per_query_head=True), benchmarks/systems_compare.py) the H100 rows "
        "come within -6..+29% and the A100 rows 13-30% low; a hypothesis, not a fit. Measured on "
        "an H200 (benchmarks/gpu/shapes.py, data/h200-shapes, gpu-shapes checks): the 70B "
        "TP-shard GEMMs (fp8 and bf16, TP 1-8) are modelled within ~5-11% MAPE and decode "
        "attention within ~5% whether KV is read per KV head or per query head (6-8x slower), "
        "and on an H100 (data/h100-shapes/decode_shapes.csv) whole eager 70B decode layers of "
        "one TP rank (TP 2/4/8, batch 16/64, 2048 cached tokens, fp8 and bf16) within ~2%, "
        "so neither the GEMMs at shard shapes, the attention model nor the per-rank layer "
        "explains the gap: it lies outside one rank's kernels (all-reduce latency, the "
        "runtime's per-step work), which one lent GPU cannot measure")
_TTFT = ("H100 FP8 first-token latency at 128 prompt tokens: hwsim ~42% low while the 2048-token "
         "rows agree within 23%. Measured on an H200 (data/h200-shapes/prefill_shapes.csv): "
         "eager FP8 Llama layers at 128 tokens are modelled within 5%, so the gap is per-step "
         "runtime overhead outside the kernel model (TensorRT-LLM v0.5 engine launch, "
         "context-phase setup), which no kernel measurement here can price")
_SMALL = ("7B, batch 64, 128 in / 128 out: hwsim 26% fast; short steps where per-step runtime "
          "overhead outside the kernel model weighs most (cause not established)")
KNOWN_MISS = {
    "trtllm-0.5.h100.70b.tp4.b64.128-128": _GQA,
    "trtllm-0.5.h100.70b.tp4.b64.128-2048": _GQA,
    "trtllm-0.5.h100.70b.tp4.b64.2048-128": _GQA,
    "trtllm-0.5.h100.70b.tp4.b64.2048-2048": _GQA,
    "trtllm-0.6.1.h100.70b.tp2.b1024.128-128": _GQA,
    "trtllm-0.6.1.h100.70b.tp4.b480.128-2048": _GQA,
    "trtllm-0.6.1.h100.70b.tp2.b64.2048-2048": _GQA,
    "trtllm-0.6.1.a100.70b.tp4.b240.128-2048": _GQA,
    "trtllm-0.5.h100.7b.b64.128-128": _SMALL,
    "trtllm-0.5.h100.7b.ttft.128": _TTFT,
    "trtllm-0.5.h100.70b.tp4.ttft.128": _TTFT,
    "trtllm-0.5.a100.7b.ttft.128": ("A100 FP16 7B at 128 prompt tokens: hwsim 27% low; short "
                                     "prefill where per-step runtime overhead outside the "
                                     "kernel model weighs most (cause not established)"),
}


@lru_cache(maxsize=None)
def _system(name):
    from ..systems.system import load_system
    return load_system(name)


def _throughput(system, model, fm, batch, tp, i, o, per_gpu):
    from ..systems.generate import generate
    g = generate(model, _system(system), batch=batch, tp=tp, input_len=i, output_len=o, **fm)
    return g.output_tokens_per_s_per_device if per_gpu else g.output_tokens_per_s


def _ttft_ms(system, model, fm, tp, i):
    from ..systems.generate import generate
    return 1e3 * generate(model, _system(system), batch=1, tp=tp, input_len=i, output_len=1,
                          **fm).ttft_s


def _busbw(link="nvlink3", size=1 << 30, nvls=False, algorithm="auto"):
    from ..systems import collectives as C
    t = C.all_reduce_s(size, 8, link, nvls=nvls, algorithm=algorithm)
    return C.bus_bandwidth_Bps("all_reduce", size, 8, t) / 1e9


_NIM = ("NVIDIA NIM for LLMs benchmarking guide 1.0.0, 'Performance': Llama-3.3-70b-instruct, "
        "NIM 1.8.0, 2x H100 80G, fp8, TP2, 5000 input / 500 output tokens, AIPerf at fixed "
        "concurrency (docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance)")
# concurrency: (TTFT ms, ITL ms, output tokens/s); the 100-client TTFT is left out: at that load
# the server queues (KV memory full) and a client's TTFT grows with the benchmark's length.
NIM_ROWS = {1: (406.77, 18.58, 51.67), 5: (546.7, 21.83, 218.48), 25: (688.69, 38.75, 623.4),
            50: (834.51, 59.73, 814.37), 100: (None, 92.91, 917.26)}


@lru_cache(maxsize=None)
def _nim(concurrency: int) -> tuple[float, float, float]:
    """hwsim's closed-loop serving run of the NIM benchmark: Llama-3.3-70B (Llama-2-70B's
    shape with the 128,256-token vocabulary), fp8, TP2 on two H100 SXM; 4C+4 requests, the
    first C (the start-up burst) left out of the latencies. (The warm-up exclusion was added
    after a first run showed burst-inflated TTFTs; no model parameter was changed.)"""
    import dataclasses

    from ..systems import llm_config, serve
    from ..systems.system import load_system
    cfg = dataclasses.replace(llm_config("llama-2-70b"), name="llama-3.3-70b", vocab=128256)
    r = serve(cfg, load_system("h100-sxm", 2), tp=2, concurrency=concurrency,
              n_requests=4 * concurrency + 4, warmup=concurrency, input_len=5000,
              output_len=500, weights="fp8_e4m3", activations="fp8_e4m3", kv="fp8_e4m3")
    p = r.percentiles()
    return 1e3 * p["ttft_s_mean"], 1e3 * p["tpot_s_mean"], r.output_tokens_per_s


NIM_MISS = {}


@provider("systems")
def _checks() -> list[Check]:
    out = []
    for cid, s, m, fm, b, tp, i, o, ref, per_gpu, src in THROUGHPUT:
        unit = "out tok/s/GPU" if per_gpu else "out tok/s"
        out.append(Check("systems", cid, f"{m} on {s} tp={tp} batch {b}, {i} in / {o} out, "
                         f"{fm['weights']}", src, float(ref), unit,
                         (lambda a=(s, m, fm, b, tp, i, o, per_gpu): _throughput(*a)), TOL,
                         known_miss=KNOWN_MISS.get(cid, "")))
    for cid, s, m, fm, tp, i, ref in TTFT:
        out.append(Check("systems", cid, f"{m} on {s} tp={tp} batch 1, first-token latency at "
                         f"{i} input tokens, {fm['weights']}", _V05, float(ref), "ms",
                         (lambda a=(s, m, fm, tp, i): _ttft_ms(*a)), TOL,
                         known_miss=KNOWN_MISS.get(cid, "")))
    out.append(Check("systems", "nccl.a100x8.allreduce.busbw.1GiB",
                     "8x A100 80GB (NVLink 3 via NVSwitch) all-reduce bus bandwidth at 1 GiB",
                     "NVIDIA/nccl-tests issue #149 (HPE Apollo 6500, 8x A100 80GB NVLink, NCCL "
                     "2.18: 'busbw of ~200 GB/s')", 200.0, "GB/s", _busbw, TOL))
    for c, (ttft, itl, thr) in NIM_ROWS.items():
        for j, (name, ref, unit) in enumerate((("ttft", ttft, "ms"), ("itl", itl, "ms"),
                                               ("throughput", thr, "out tok/s"))):
            if ref is None:
                continue
            cid = f"nim.llama70b.h100x2.tp2.fp8.c{c}.{name}"
            out.append(Check("systems", cid, f"serve(): Llama-3.3-70B fp8 on 2x H100 TP2, "
                             f"{c} concurrent clients, 5000 in / 500 out: mean {name}",
                             _NIM, float(ref), unit, (lambda c=c, j=j: _nim(c)[j]), TOL,
                             known_miss=NIM_MISS.get(cid, "")))
    # Same NVLink-4 fabric as the maintainer statement the efficiencies were fitted to
    # (nccl-tests #212): independent measurements, but of the regime the fit describes.
    out.append(Check("systems", "nccl.h200x8.allreduce.nvls.busbw.4GiB",
                     "8x H200 (NVLink 4, NVSwitch gen 3, NVLS) all-reduce peak bus bandwidth",
                     "NVIDIA/nccl-tests issue #272 (8x H200, NCCL 2.20.3, -e 4G: 'peak bandwidth "
                     "of 475 GB/s')", 475.0, "GB/s",
                     lambda: _busbw("nvlink4", 4 << 30, nvls=True), TOL))
    out.append(Check("systems", "nccl.h100x8.allreduce.ring.busbw",
                     "8x H100 HGX all-reduce bus bandwidth with NVLS disabled (ring), 16 GB",
                     "NVIDIA/nccl-tests issue #309 (HGX H100: 'Once I disable NVLS, i got 368.76 "
                     "GB/s')", 368.76, "GB/s",
                     lambda: _busbw("nvlink4", 16 << 30, algorithm="ring"), TOL))
    return out
