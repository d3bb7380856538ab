"""Whole training steps on a GPU: the measured steps of ``benchmarks/gpu/train.py``
(``data/<gpu>/train.csv``) rebuilt as hwsim workloads and priced by the GPU model, with the
fit / held-out split the ``gpu-train`` checks use.

Each row becomes the same graph the script runs: Llama-style decoders through
:func:`~hwsim.workload.llm.build_llm` (eager graph, ``layers`` decoder layers, LM head over every
token), torchvision networks through the CNN/ViT builders, then
:func:`~hwsim.workload.training.to_training` with ``backward="implicit"`` (cuDNN / cuBLAS /
FlashAttention-2 kernels, fused optimizer), AdamW for the LLMs and SGD for the vision models,
``master_weights="fp32"`` for the ``amp`` rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ...workload.cnn import build_mobilenetv2, build_resnet, build_vit
from ...workload.graph import Precision, Workload
from ...workload.llm import LLMConfig, build_llm
from ...workload.training import to_training

DATA_ROOT = Path(__file__).resolve().parent / "data"
# the HF config.json fields of the three decoder shapes benchmarks/gpu/train.py builds
LLM_SHAPES = {
    "llama-2-7b": dict(hidden_size=4096, intermediate_size=11008, num_attention_heads=32,
                       num_key_value_heads=32, vocab_size=32000),
    "llama-3-8b": dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                       num_key_value_heads=8, vocab_size=128256),
    "tinyllama-1.1b": dict(hidden_size=2048, intermediate_size=5632, num_attention_heads=32,
                           num_key_value_heads=4, vocab_size=32000),
}
VIT = {"vit-b16": {}, "vit-l16": dict(hidden=1024, layers=24, heads=16, mlp=4096,
                                      name="vit-l16")}
# Fit rows: one decoder shape (7B, MHA) and two CNNs. Held out: every other model (8B-GQA,
# 1.1B-GQA, ResNet-34/50/101, ViT-B/16, ViT-L/16): no shared model, shape or row.
FIT_MODELS = frozenset({"llama-2-7b", "resnet18", "mobilenetv2"})


@dataclass(frozen=True)
class TrainRow:
    model: str
    family: str
    layers: int
    batch: int
    seq: int
    mode: str
    fwd_s: float
    step_s: float
    energy_j: float | None

    @property
    def label(self) -> str:
        shape = f"L{self.layers}.b{self.batch}.s{self.seq}" if self.family == "llm" \
            else f"b{self.batch}"
        return f"{self.model}.{shape}.{self.mode}"

    @property
    def fit(self) -> bool:
        return self.model in FIT_MODELS


def load_rows(gpu: str = "h100") -> list[TrainRow]:
    """The rows of ``data/<gpu>/train.csv``."""
    out = []
    with open(DATA_ROOT / gpu / "train.csv", newline="") as f:
        for r in csv.DictReader(f):
            out.append(TrainRow(r["model"], r["family"], int(r["layers"] or 0),
                                int(r["batch"]), int(r["seq"] or 0), r["mode"],
                                float(r["fwd_s"]), float(r["step_s"]),
                                float(r["energy_j_per_step"]) if r["energy_j_per_step"] else None))
    return out


def forward_workload(row: TrainRow) -> Workload:
    """The forward pass the row's step runs (bf16 compute)."""
    prec = Precision("bf16", "bf16")
    if row.family == "llm":
        cfg = dict(LLM_SHAPES[row.model], model_type="llama", num_hidden_layers=row.layers,
                   hidden_act="silu", tie_word_embeddings=False)
        return build_llm(LLMConfig.from_hf(cfg, name=row.model), "prefill", row.batch, row.seq,
                         prec, "eager")
    if row.model.startswith("resnet"):
        return build_resnet(int(row.model[6:]), row.batch, precision=prec)
    if row.model == "mobilenetv2":
        return build_mobilenetv2(row.batch, precision=prec)
    return build_vit(row.batch, precision=prec, **VIT[row.model])


def train_workload(row: TrainRow) -> Workload:
    return to_training(forward_workload(row), "adam" if row.family == "llm" else "sgd",
                       backward="implicit", master_weights="fp32" if row.mode == "amp" else None)


# kernel-name patterns of data/<gpu>/kernels_train.csv -> the Elementwise fn they run (a pattern
# counts only in a config whose graph has that fn: ``BinaryFunctor<c10::BFloat16, ...`` is ReLU's
# threshold_backward in the ResNet steps)
KERNEL_FNS = {"multi_tensor_apply": "adam_fused", "batch_norm_collect_statistics":
              "batchnorm_stats", "batch_norm_backward_reduce": "batchnorm_grad_reduce",
              "batch_norm_backward_elemt": "batchnorm_grad", "SoftMaxForward": "log_softmax",
              "SoftMaxBackward": "log_softmax_grad", "max_pool_backward": "pool_grad",
              "hardtanh_backward": "relu6_grad",
              "BinaryFunctor<c10::BFloat16, c10::BFloat16, c10::BFloat16": "relu_grad",
              # TensorIterator's non-vectorized path copying a transposed view (training_eager)
              "elementwise_kernel<128, 4, at::native::gpu_kernel_impl_nocast<at::native::"
              "direct_copy_kernel_cuda": "strided_copy",
              # a bf16 sum over rows: RMSNorm's weight gradient in the Llama steps
              "reduce_kernel<128, 4, at::native::ReduceOp<c10::BFloat16, at::native::"
              "func_wrapper_t<c10::BFloat16, at::native::sum_functor": "column_sum"}
# kernel classes with no FIT-row samples of their own that run the kernel of another class (see
# model.TRAIN_KERNEL_BYTES_PER_CLK_PER_SM): alias -> fitted class
ALIASES = {"sgd_fused": "adam_fused", "bias_grad": "column_sum", "norm_param_grad": "column_sum"}
FIT_GPUS = ("h100", "h200")
BPC_BOUNDS = (0.01, 1024.0)  # bytes / SM clock / SM searched; the upper end means "HBM-bound"


def _row_of_config(config: str, rows: list[TrainRow]) -> TrainRow:
    parts = config.split("/")
    for r in rows:
        key = ([r.model, str(r.layers), str(r.batch), str(r.seq), r.mode] if r.family == "llm"
               else [r.model, str(r.batch), r.mode])
        if parts == key:
            return r
    raise KeyError(config)


def measured_kernel_s(gpu: str) -> dict[tuple[str, str], float]:
    """(config, fn) -> summed time (s) of the kernels of ``fn`` in ``data/<gpu>/kernels_train.csv``."""
    meas: dict[tuple[str, str], float] = {}
    with open(DATA_ROOT / gpu / "kernels_train.csv", newline="") as f:
        for k in csv.DictReader(f):
            fn = next((v for pat, v in KERNEL_FNS.items() if pat in k["kernel"]), None)
            if fn is not None:
                meas[(k["config"], fn)] = meas.get((k["config"], fn), 0.0) + float(k["us"]) * 1e-6
    return meas


def _fit_samples(gpus=FIT_GPUS) -> dict[str, list[tuple[float, float, float, list[float]]]]:
    """fn -> [(measured s, fixed s, SM clocks x SMs, [HBM s of each op])] over the FIT rows' configs
    that have both the fn's ops and its kernels, on every GPU of ``gpus``."""
    import hwsim  # lazy: the package imports the families
    out: dict[str, list] = {}
    for gpu in gpus:
        p = hwsim.load_arch(f"{gpu}-sxm").params
        rows, meas = load_rows(gpu), measured_kernel_s(gpu)
        for config in sorted({c for c, _ in meas}):
            row = _row_of_config(config, rows)
            if not row.fit:
                continue
            ops = [o for o in train_workload(row).ops if getattr(o, "fn", "") in KERNEL_FNS.values()]
            for fn in sorted({o.fn for o in ops}):
                if (config, fn) not in meas:
                    continue
                mine = [o for o in ops if o.fn == fn]
                hbm = [o.bytes / (p.mem_bandwidth_Bps * p.mem_efficiency) for o in mine]
                out.setdefault(fn, []).append((meas[(config, fn)], len(mine) * p.memkernel_overhead_s,
                                               p.sms * p.max_clock_hz, hbm, [o.bytes for o in mine]))
    return out


def _fit_one(samples: list) -> float:
    """The bytes/clock/SM minimizing the squared log error of every sample's summed kernel time."""
    import math
    from scipy.optimize import minimize_scalar

    def loss(log_bpc: float) -> float:
        bpc = math.exp(log_bpc)
        err = 0.0
        for meas, fixed, clk_sms, hbm, nbytes in samples:
            pred = fixed + sum(max(h, b / (clk_sms * bpc)) for h, b in zip(hbm, nbytes))
            err += math.log(pred / meas) ** 2
        return err
    # a grid first (the loss is flat above the rate where every kernel is HBM-bound), then a
    # bounded refinement around the best grid point
    lo, hi = (math.log(b) for b in BPC_BOUNDS)
    grid = [lo + (hi - lo) * i / 200 for i in range(201)]
    k = min(range(len(grid)), key=lambda i: (loss(grid[i]), -i))
    a, b = grid[max(0, k - 1)], grid[min(len(grid) - 1, k + 1)]
    r = minimize_scalar(loss, bounds=(a, b), method="bounded", options={"xatol": 1e-7})
    bpc = float(f"{math.exp(r.x):.4g}")
    return 0.0 if bpc >= 0.99 * BPC_BOUNDS[1] else bpc  # 0: HBM-bound, no SM-side limit


def fit_kernel_rates(gpus=FIT_GPUS) -> dict[str, float]:
    """SM-side throughput of each training-kernel class (``model.TRAIN_KERNEL_BYTES_PER_CLK_PER_SM``):
    per fn, the one bytes/clock/SM that makes ``max(HBM time, SM time) + fixed time`` summed over
    its kernels best match the measured sum (squared log error) on the FIT rows' profiled steps of
    every GPU in ``gpus`` (the H100 and the H200 share the die, not the HBM: both together separate
    the two limits). ``ALIASES`` take their source class's value: ``sgd_fused`` ``adam_fused``'s
    (the same multi-tensor kernel; the vision FIT steps' SGD kernels are too short to fit),
    ``bias_grad`` and ``norm_param_grad`` ``column_sum``'s
    (the FIT steps' bias gradients are launch-bound classifier biases; no FIT model has a
    LayerNorm)."""
    fitted = {fn: _fit_one(s) for fn, s in sorted(_fit_samples(gpus).items())}
    out = {fn: v for fn, v in fitted.items() if v > 0}  # absent: HBM-bound (no SM-side limit)
    for alias, src in ALIASES.items():
        if src in out:
            out[alias] = out[src]
    return out
