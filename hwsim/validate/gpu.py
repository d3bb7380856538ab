"""The calibrated GPU model against measurements it was not fitted to."""

from __future__ import annotations

from . import Check, provider


# Misses on the held-out / transfer samples of gpu_fit.split (hwsim validate gpu --arch ...),
# stated rather than hidden. Reasons name the shapes; the figures are in the validate output.
_GPU_MISSES = {
    ("h100-sxm", "int8", "mape"): "held-out odd shapes: cuBLASLt runs 8192x1000x8192 and 4176^3 "
                                  "int8 far slower than the tile model predicts; the held-out "
                                  "70B-layer shapes alone are within target",
    ("h100-sxm", "fp32", "p90"): "SIMT fp32 kernels at M=16..64 (small-M family) are slower than "
                                 "the tile model predicts",
    ("h100-sxm", "memop", "mape"): "small embedding lookups and PyTorch's RMSNorm and softmax "
                                   "kernels; add, GELU and SiLU*mul are within target",
    ("h200-sxm", "int8", "mape"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "int8", "p90"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "fp32", "mape"): "SIMT fp32 at M=16..64, as on H100 (crossed the target when "
                                  "duplicate kernels were deduplicated, without a model change)",
    ("h200-sxm", "fp32", "p90"): "SIMT fp32 at M=16..64, as on H100",
    ("h200-sxm", "tf32", "mape"): "transfer: tf32 odd and square shapes",
    ("h200-sxm", "tf32", "p90"): "transfer: tf32 odd and square shapes",
    ("h200-sxm", "memop", "mape"): "as on H100, plus GELU at small sizes",
}


@provider("gpu")
def _gpu_checks() -> list[Check]:
    """The calibrated GPU model against the committed measurements: the H100 held-out set of
    ``gpu_fit.split`` (disjoint from the fit: no shared kernel, configuration or prediction) and
    every distinct H200 kernel (transfer, no refit). Validation checks: no parameter saw them."""
    from functools import lru_cache

    from ..models import gpu_report

    out = []
    for arch, transfer in (("h100-sxm", False), ("h200-sxm", True)):
        try:
            d = gpu_report.default_data(arch)
        except Exception:  # installed without the repository's benchmarks/ folder
            continue
        summ = lru_cache(maxsize=1)(lambda a=arch, t=transfer, dd=d:
                                    gpu_report.heldout_summary(a, dd, transfer=t))
        what = "every distinct kernel (transfer)" if transfer else "held-out samples"
        src = f"benchmarks/gpu/data/{d.name} ({what})"
        T = gpu_report.TARGETS
        for key in ("bf16", "fp16", "fp8", "int8", "tf32", "fp32", "attention", "w4a16", "memop"):
            # the issue sets MAPE and p90 targets for GEMMs, MAPE only for attention and W4A16;
            # memory-bound kernels (memop) are held to the attention/W4A16 target
            lim = T["gemm_mape"] if key not in ("attention", "w4a16", "memop") else \
                T["attention_mape"]
            stats = [("mape", lim)] + ([] if key in ("attention", "w4a16", "memop") else
                                       [("p90", T["gemm_p90"])])
            for stat, limit in stats:
                out.append(Check("gpu", f"{arch}.{key}.{stat}", f"{arch} {key} latency {stat}",
                                 src, limit, "rel. error",
                                 (lambda s=summ, k=key, st=stat: s()[k][st]), mode="max",
                                 known_miss=_GPU_MISSES.get((arch, key, stat), "")))
        out.append(Check("gpu", f"{arch}.energy.max_abs", f"{arch} GEMM energy vs NVML", src,
                         T["energy_rel"], "rel. error", (lambda s=summ: s()["energy"]["max_abs"]),
                         mode="max"))
    return out


