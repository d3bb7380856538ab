"""The calibrated GPU model against measurements it was not fitted to."""

from __future__ import annotations

from . import Check, provider


# Issue #4 misses, measured on the committed data (hwsim validate gpu): stated, not hidden.
_GPU_MISSES = {
    ("h100-sxm", "int8", "mape"): "odd shapes: cuBLASLt picks erratic int8 kernels (3000x5000x2000 "
                                  "runs 4x slower than aligned neighbours); 70B-layer shapes alone: 9.5%",
    ("h100-sxm", "fp32", "p90"): "SIMT fp32 at M=16..64 is slower than the tile model predicts",
    ("h200-sxm", "int8", "mape"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "int8", "p90"): "as on H100 (odd shapes), plus small-M int8 kernels",
    ("h200-sxm", "fp32", "p90"): "SIMT fp32 at M=16..64, as on H100",
    ("h200-sxm", "tf32", "mape"): "transfer: tf32 odd and square shapes",
    ("h100-sxm", "memop", "mape"): "small embedding lookups and PyTorch's RMSNorm/softmax kernels "
                                   "(25-29%); streaming elementwise kernels are within 10%",
    ("h200-sxm", "memop", "mape"): "as on H100, plus GELU at small sizes",
    ("h200-sxm", "tf32", "p90"): "transfer: tf32 odd and square shapes",
}


@provider("gpu")
def _gpu_checks() -> list[Check]:
    """The calibrated GPU model against the committed measurements: H100 held-out shapes (not
    used for fitting) and the whole H200 data set (transfer, no refit)."""
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
        what = "all samples (transfer)" if transfer else "held-out samples"
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


