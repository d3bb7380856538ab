"""The calibrated GPU model against measurements it was not fitted to."""

from __future__ import annotations

from functools import lru_cache

from ...validate import Check, provider


# Misses on the held-out / transfer samples of gpu_fit.split (hwsim validate gpu --arch ...),
# stated rather than hidden. Reasons name the shapes; the figures are in the validate output.
_GPU_MISSES = {
    ("h100-sxm", "int8", "mape"): "held-out odd shapes: cuBLASLt runs 8192x1000x8192 and 4176^3 "
                                  "int8 far slower than the tile model predicts; the held-out "
                                  "70B-layer shapes alone are within target",
    ("h100-sxm", "tf32", "mape"): "held-out odd shapes (4095^3 tf32 runs 44% slower than the tile "
                                  "model: unaligned tf32 kernels); crossed the target (9.99% -> "
                                  "10.07%) when the fp32 rows left the tensor-path fit (#22)",
    ("h100-sxm", "memop", "mape"): "small embedding lookups and PyTorch's RMSNorm and softmax "
                                   "kernels; add, GELU and SiLU*mul are within target",
    ("h200-sxm", "int8", "mape"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "int8", "p90"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "tf32", "mape"): "transfer: tf32 odd and square shapes",
    ("h200-sxm", "tf32", "p90"): "transfer: tf32 odd and square shapes",
    ("h200-sxm", "memop", "mape"): "as on H100, plus GELU at small sizes",
    ("h200-sxm", "conv", "mape"): "ViT-B/16's patch embedding (16x16 stride 16 over 3 channels): "
                                  "cuDNN runs it at ~12 TFLOP/s, 5-20x slower than the padded "
                                  "implicit GEMM the model assumes; the other held-out shapes are "
                                  "within target",
}


@provider("gpu")
def _gpu_checks() -> list[Check]:
    """The calibrated GPU model against the committed measurements: the H100 held-out set of
    ``gpu_fit.split`` (disjoint from the fit: no shared kernel, configuration or prediction) and
    every distinct H200 kernel (transfer, no refit). Validation checks: no parameter saw them."""
    from . import report as gpu_report

    out = []
    for arch, transfer in (("h100-sxm", False), ("h200-sxm", True)):
        try:
            d = gpu_report.default_data(arch)
        except Exception:  # installed without the repository's benchmarks/ folder
            continue
        summ = lru_cache(maxsize=1)(lambda a=arch, t=transfer, dd=d:
                                    gpu_report.heldout_summary(a, dd, transfer=t))
        what = "every distinct kernel (transfer)" if transfer else "held-out samples"
        src = f"hwsim/families/gpu/data/{d.name} ({what})"
        T = gpu_report.TARGETS
        keys = ("bf16", "fp16", "fp8", "int8", "tf32", "fp32", "attention", "w4a16", "memop")
        if (d / "conv.csv").exists():
            keys += ("conv",)
        for key in keys:
            # the issue sets MAPE and p90 targets for GEMMs, MAPE only for attention and W4A16;
            # memory-bound kernels (memop) and convolutions are held to the attention target
            single = key in ("attention", "w4a16", "memop", "conv")
            lim = T["attention_mape"] if single else T["gemm_mape"]
            stats = [("mape", lim)] + ([] if single else [("p90", T["gemm_p90"])])
            # the SIMT tile rule (model.SIMT_MIN_TILE_M) was chosen after the fp32 rows: the
            # gpu-shapes H100 fp32 rows, measured after it, are its validation
            chosen_after = key == "fp32"
            for stat, limit in stats:
                out.append(Check("gpu", f"{arch}.{key}.{stat}", f"{arch} {key} latency {stat}",
                                 src, limit, "rel. error",
                                 (lambda s=summ, k=key, st=stat: s()[k][st]), mode="max",
                                 known_miss=_GPU_MISSES.get((arch, key, stat), ""),
                                 kind="consistency" if chosen_after else "validation",
                                 fitted_on="the SIMT tile rule (model.SIMT_MIN_TILE_M) was chosen "
                                           "after these rows (#22)" if chosen_after else ""))
        out.append(Check("gpu", f"{arch}.energy.max_abs", f"{arch} GEMM energy vs NVML", src,
                         T["energy_rel"], "rel. error", (lambda s=summ: s()["energy"]["max_abs"]),
                         mode="max"))
    return out




def _decode_workload(weights: str, batch: int, context: int, fusion: str = "eager"):
    """The op graph of benchmarks/gpu/llm_decode.py's step: fp16 weights run fp16 activations;
    its int4 case is tinygemm (uint4, groups of 128, bf16 activations)."""
    from ...workload import load_workload
    if weights == "int4":
        return load_workload("llama-2-7b", phase="decode", batch=batch, context=context,
                             weights="uint4_g128", activations="bf16", fusion=fusion)
    return load_workload("llama-2-7b", phase="decode", batch=batch, context=context,
                         weights=weights, activations=weights, fusion=fusion)


def _decode_kernel_ms(data_dir, weights: str) -> dict:
    """Per-category kernel time (ms) of the profiled eager decode step: cuBLAS GEMM kernels
    (nvjet / cutlass / gemm, and cuBLASLt's split-K reduction), flash attention, the rest."""
    import csv
    out = {"gemm": 0.0, "attention": 0.0, "other": 0.0}
    with open(data_dir / f"kernels_{weights}_b1.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            k = r["kernel"].lower()
            cat = ("gemm" if any(s in k for s in ("nvjet", "gemm", "cutlass", "splitkreduce",
                                                   "tinygemm", "int4"))
                   else "attention" if any(s in k for s in ("flash", "fmha", "sdpa"))
                   else "other")
            out[cat] += float(r["us"]) / 1e3
    return out


def _decode_step(weights: str, arch: str):
    """The eager batch-1 decode step on ``arch`` (its GEMM and attention checks share it)."""
    from ...arch import load_arch
    from ...evaluate import evaluate
    return evaluate(_decode_workload(weights, 1, 2048), load_arch(arch))


def _model_ms(rep, what: str) -> float:
    """GEMM or attention time (ms) of a decode-step report."""
    from ...workload.ops import Attention, Gemm
    cls = Gemm if what == "gemm" else Attention
    return 1e3 * sum(r.cost.latency_s for r in rep.rows if isinstance(r.op, cls))


# Whole decode steps that miss 10% (measured by running the checks), with why.
_EAGER = ("eager step: its 1193 small non-GEMM kernels average 1.5-1.7 us on the profile "
          "against the 1.46 us fitted on contiguous adds (broadcasting RMSNorm/RoPE kernels), the "
          "CUDA graph still leaves 0.2-0.7 ms of gaps between its ~1400 kernels (kernel sum vs "
          "step time), and hwsim's eager graph has 1322 ops; no launch-gap term is modelled")
_TINYGEMM = ("tinygemm W4A16 at M = 1 takes the same 2.08 ms on the H200 as on the H100: it is "
             "not bandwidth-bound there, but the H100-fitted w4a16 term scales with bandwidth")
_HOST_INT4 = ("one host cost per launch (fitted on the fp16 eager step, 26 us) is too slow for "
              "the int4 step, whose 1354 launches take 20-23 us each: the cost differs per op "
              "type (tinygemm's custom op dispatches faster than F.linear)")
_HOST_FUSED = ("compiled step launched from Python: Inductor's region wrappers cost more host "
               "time than their kernel count at 26 us suggests (522 kernels in 11-13 ms), and "
               "hwsim's fused graph has 387 ops; host time per launch is one number")
_DECODE_MISSES = {
    **{f"{a}.eager.{w}.b{b}.tokens_per_s": _EAGER for a, w, b in (
        ("h100-sxm", "fp16", 1), ("h100-sxm", "fp16", 8), ("h100-sxm", "int4", 1),
        ("h100-sxm", "int4", 8), ("h200-sxm", "fp16", 1), ("h200-sxm", "fp16", 8),
        ("h200-sxm", "fp16", 32), ("h200-sxm", "int4", 1), ("h200-sxm", "int4", 8))},
    **{f"h200-sxm.eager.stream.int4.b{b}.tokens_per_s": _HOST_INT4 for b in (1, 8, 32)},
    **{f"h200-sxm.fused.stream.{w}.b{b}.tokens_per_s": _HOST_FUSED
       for w, b in (("fp16", 1), ("fp16", 8), ("int4", 1), ("int4", 8))},
    "h200-sxm.int4.b1.gemm_kernels_ms": _TINYGEMM,
    "h200-sxm.fused.int4.b1.tokens_per_s": _TINYGEMM,
}
# (file, graph) pairs: the eager measurement against the eager graph, the compiled one (per-layer
# torch.compile regions, llm_decode 1.3) against the fused graph
# (the H100's compiled step was first measured with --energy: its tokens/s rows are new data)
_DECODE_RUNS = (("llm_decode.csv", "eager", "graph"), ("llm_decode_compiled.csv", "fused", "graph"),
                ("llm_decode_compiled_energy.csv", "fused", "graph"),
                ("llm_decode_nograph.csv", "eager", "stream"),
                ("llm_decode_compiled_nograph.csv", "fused", "stream"))
# NVML energy per decode step (llm_decode.py --energy, 1.5), measured after memkernel_sm_power_w
# was fitted on power.csv: validation of the energy model on inference
_ENERGY_RUNS = (("llm_decode_energy.csv", "eager"), ("llm_decode_compiled_energy.csv", "fused"))
_W4A16_ENERGY = ("tinygemm W4A16 steps draw 330-520 W where hwsim prices 290-330 W: the W4A16 "
                 "kernel dequantizes int4 weights on the SMs, and hwsim charges it the bf16 "
                 "energy per MAC and the packed bytes only (no SM power for the dequantization); "
                 "the fp16 steps of the same runs are within 11%")


def _decode_energy_checks(arch: str, d) -> list[Check]:
    import csv

    from ...arch import load_arch
    from ...evaluate import evaluate
    from . import report as gpu_report
    out = []
    for fname, fusion in _ENERGY_RUNS:
        if not (d / fname).exists():
            continue
        with open(d / fname, newline="") as fh:
            for r in csv.DictReader(fh):
                w, b, ctx = r["weights"], int(r["batch"]), int(r["context"])
                cid = f"{arch}.{fusion}.{w}.b{b}.energy_j_per_step"
                out.append(Check(
                    "gpu-decode", cid,
                    f"llama-2-7b {w} decode batch {b} energy per step ({fusion}, CUDA graph)",
                    f"hwsim/families/gpu/data/{d.name}/{fname} (NVML energy counter, "
                    f"{r['version']})", float(r["energy_j_per_step"]), "J",
                    (lambda w=w, b=b, c=ctx, f=fusion, a=arch: evaluate(
                        _decode_workload(w, b, c, f), load_arch(a)).energy_j),
                    gpu_report.TARGETS["energy_rel"],
                    known_miss=_W4A16_ENERGY if w == "int4" else ""))
    return out
# host_launch_s is fitted on this row (arch/h100-sxm.yaml): a consistency check
_LAUNCH_FIT = "h200-sxm.eager.stream.fp16.b1.tokens_per_s"


@provider("gpu-decode")
def _decode_checks() -> list[Check]:
    """Llama-2-7B decode (benchmarks/gpu/llm_decode.py, context 2048) on the H100 and H200:
    per-kernel GEMM and attention time of the profiled eager batch-1 step, and whole-step tokens/s
    of the eager step (hwsim fusion="eager") and of the compiled one (fusion="fused"). None of
    these runs was used to fit any parameter (the fit uses gemm/attention/w4a16/memops.csv)."""
    import csv

    from ...arch import load_arch
    from ...evaluate import evaluate
    from . import report as gpu_report

    step = lru_cache(maxsize=None)(_decode_step)  # one step per (weights, GPU) for both checks
    out = []
    for arch in ("h100-sxm", "h200-sxm"):
        try:
            d = gpu_report.default_data(arch)
        except Exception:
            continue
        for w in ("fp16", "int4"):
            if not (d / f"kernels_{w}_b1.csv").exists():
                continue
            meas = _decode_kernel_ms(d, w)
            src = (f"hwsim/families/gpu/data/{d.name}/kernels_{w}_b1.csv (torch.profiler, eager "
                   "batch-1 step)")
            out.append(Check("gpu-decode", f"{arch}.{w}.b1.gemm_kernels_ms",
                             f"llama-2-7b {w} decode GEMM kernel time", src, meas["gemm"], "ms",
                             (lambda w=w, a=arch: _model_ms(step(w, a), "gemm")),
                             gpu_report.TARGETS["gemm_mape"],
                             known_miss=_DECODE_MISSES.get(f"{arch}.{w}.b1.gemm_kernels_ms", "")))
            if meas["attention"] > 0:
                out.append(Check("gpu-decode", f"{arch}.{w}.b1.attention_ms",
                                 f"llama-2-7b {w} decode attention kernel time", src,
                                 meas["attention"], "ms",
                                 (lambda w=w, a=arch: _model_ms(step(w, a), "attention")),
                                 gpu_report.TARGETS["attention_mape"],
                                 known_miss=_DECODE_MISSES.get(f"{arch}.{w}.b1.attention_ms", "")))
        for fname, fusion, launch in _DECODE_RUNS:
            if not (d / fname).exists():
                continue
            with open(d / fname, newline="") as fh:
                rows = list(csv.DictReader(fh))
            for r in rows:
                w, b, ctx = r["weights"], int(r["batch"]), int(r["context"])
                mode = "" if launch == "graph" else ".stream"
                cid = f"{arch}.{fusion}{mode}.{w}.b{b}.tokens_per_s"
                how = "one CUDA-graph step" if launch == "graph" else "kernels launched one by one"
                out.append(Check(
                    "gpu-decode", cid,
                    f"llama-2-7b {w} decode batch {b} tokens/s ({fusion}, launch={launch})",
                    f"hwsim/families/gpu/data/{d.name}/{fname} ({how}, {r['version']})",
                    float(r["tokens_per_s"]), "tokens/s",
                    (lambda w=w, b=b, c=ctx, f=fusion, a=arch, ln=launch: evaluate(
                        _decode_workload(w, b, c, f), load_arch(a, launch=ln)).tokens_per_s),
                    0.10, known_miss=_DECODE_MISSES.get(cid, ""),
                    kind="consistency" if cid == _LAUNCH_FIT else "validation",
                    fitted_on="host_launch_s (arch/h100-sxm.yaml)" if cid == _LAUNCH_FIT else ""))
        out += _decode_energy_checks(arch, d)
    return out


# Whole forward passes that miss 15%, with why (figures in the validate output).
_LARGE = ("batch >= 128: the model is 15-39% fast; per-layer convs are within ~13% there, so the "
          "rest is the eager batch-norm / ReLU / add kernels and, for ViT, tens of ms of GEMMs "
          "back to back at a sustained (power-limited) clock the burst-fitted model does not lower")
_BF16 = ("cuDNN's bf16 kernels for ResNet-18's convs run slower than its fp16 ones "
         "(conv_bf16.csv); the conv parameters are fitted on fp16 only")
_VISION_MISSES = {
    **{f"h200-sxm.{m}.{dt}.b{b}": _LARGE for m, dt, b in (
        ("resnet18", "fp16", 128), ("resnet18", "fp16", 256), ("resnet50", "fp16", 256),
        ("mobilenetv2", "fp16", 128), ("mobilenetv2", "fp16", 256), ("vit-b16", "fp16", 128),
        ("vit-b16", "fp16", 256), ("resnet18", "bf16", 128), ("resnet18", "bf16", 256),
        ("resnet50", "bf16", 128), ("resnet50", "bf16", 256), ("mobilenetv2", "bf16", 128),
        ("mobilenetv2", "bf16", 256), ("vit-b16", "bf16", 128), ("vit-b16", "bf16", 256))},
    "h200-sxm.resnet18.bf16.b8": _BF16, "h200-sxm.resnet18.bf16.b32": _BF16,
}


@provider("gpu-vision")
def _vision_checks() -> list[Check]:
    """Whole torchvision forward passes on the H200 (benchmarks/gpu/conv.py networks*.csv: eager
    graph, CUDA graphs, channels-last) against hwsim's own CNN/ViT graphs. ViT-B/16 is
    validation (its patch-embedding shape is held out; its GEMMs, attention and norms were
    fitted on the H100 only). ResNet-18/50 and MobileNetV2 contain conv shapes the conv
    parameters were fitted on (gpu_fit.CONV_FIT_MODELS): consistency checks."""
    import csv

    from ...arch import load_arch
    from ...evaluate import evaluate
    from . import report as gpu_report
    from ...workload.presets import load_workload

    try:
        d = gpu_report.default_data("h200-sxm")
    except Exception:
        return []
    out = []
    for fname in ("networks.csv", "networks_bf16.csv"):
        if not (d / fname).exists():
            continue
        with open(d / fname, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            m, b, dt = r["model"], int(r["batch"]), r["dtype"]
            held = m == "vit-b16"
            out.append(Check(
                "gpu-vision", f"h200-sxm.{m}.{dt}.b{b}", f"{m} {dt} forward pass, batch {b}",
                f"hwsim/families/gpu/data/h200/{fname} ({r['version']})", float(r["s_per_pass"]) * 1e3,
                "ms", (lambda m=m, b=b, dt=dt: evaluate(
                    load_workload(m, batch=b, weights=dt, activations=dt),
                    load_arch("h200-sxm")).latency_s * 1e3), 0.15,
                kind="validation" if held else "consistency",
                fitted_on="" if held else "conv parameters fitted on this network's conv shapes "
                                          "(hwsim/families/gpu/data/h200/conv.csv, fp16)",
                known_miss=_VISION_MISSES.get(f"h200-sxm.{m}.{dt}.b{b}", "")))
    return out


_PREFILL_MISS = ("the model is ~15% fast on whole eager prefill passes although the H200 GEMMs "
                 "alone transfer within ~9%: the GPU runs these passes power-limited at "
                 "1545-1635 MHz (llm_prefill.csv) and the H100-fitted energy per op puts the "
                 "model's power at ~710 W where the measured passes imply ~610 W; long passes "
                 "are a further 3.4-4.7% slower (sustained column), which no term models yet")


@provider("gpu-prefill")
def _prefill_checks() -> list[Check]:
    """Whole Llama-2-7B eager prefill passes on the H200 (benchmarks/gpu/llm_prefill.py) against
    ``fusion="eager"`` prefill graphs, in a burst after idle and sustained over seconds. No
    parameter was fitted on them."""
    import csv

    from ...arch import load_arch
    from ...evaluate import evaluate
    from . import report as gpu_report
    from ...workload import load_workload

    try:
        d = gpu_report.default_data("h200-sxm")
    except Exception:
        return []
    if not (d / "llm_prefill.csv").exists():
        return []
    with open(d / "llm_prefill.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        T = int(r["context"])
        # one evaluation serves the burst and the sustained check of a context length
        model = lru_cache(maxsize=1)(lambda T=T: 1e3 * evaluate(load_workload(
            "llama-2-7b", phase="prefill", context=T, weights="fp16", activations="fp16",
            fusion="eager"), load_arch("h200-sxm")).latency_s)
        for col in ("burst_s", "sustained_s"):
            out.append(Check("gpu-prefill", f"h200-sxm.prefill.{T}.{col[:-2]}",
                             f"llama-2-7b fp16 eager prefill of {T} tokens ({col[:-2]})",
                             f"hwsim/families/gpu/data/h200/llm_prefill.csv ({r['version']})",
                             float(r[col]) * 1e3, "ms", model, 0.10, known_miss=_PREFILL_MISS))
    return out
