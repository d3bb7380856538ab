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


# kernel-name patterns of data/<gpu>/kernels_train.csv -> the Elementwise fn they run
KERNEL_FNS = {"multi_tensor_apply": "adam_fused", "batch_norm_collect_statistics":
              "batchnorm_stats", "batch_norm_backward_reduce": "batchnorm_grad_reduce",
              "batch_norm_backward_elemt": "batchnorm_grad", "SoftMaxForward": "log_softmax",
              "SoftMaxBackward": "log_softmax_grad"}


def _row_of_config(config: str, rows: list[TrainRow]) -> TrainRow:
    parts = config.split("/")
    for r in rows:
        key = ([r.model, str(r.layers), str(r.batch), str(r.seq), r.mode] if r.family == "llm"
               else [r.model, str(r.batch), r.mode])
        if parts == key:
            return r
    raise KeyError(config)


def fit_kernel_efficiencies(gpu: str = "h100") -> dict[str, float]:
    """Achieved bandwidth of each training-kernel class relative to the model's streaming
    bandwidth: measured kernel time (less the fixed time per kernel) over the operands' bytes at
    ``mem_bandwidth_Bps * mem_efficiency``, summed over the profiled steps of FIT rows only.
    ``sgd_fused`` takes ``adam_fused``'s value (the same multi-tensor kernel; the vision FIT
    steps' SGD kernels are too short to fit)."""
    import hwsim  # lazy: the package imports the families
    hw = hwsim.load_arch(f"{gpu}-sxm")
    p = hw.params
    rows = load_rows(gpu)
    meas: dict[tuple, float] = {}
    with open(DATA_ROOT / gpu / "kernels_train.csv", newline="") as f:
        for k in csv.DictReader(f):
            fn = next((v for pat, v in KERNEL_FNS.items() if pat in k["kernel"]), None)
            if fn is not None:
                meas[(k["config"], fn)] = meas.get((k["config"], fn), 0.0) + float(k["us"]) * 1e-6
    ideal: dict[str, float] = {}
    spent: dict[str, float] = {}
    for config in sorted({c for c, _ in meas}):
        row = _row_of_config(config, rows)
        if not row.fit:
            continue
        ops = [o for o in train_workload(row).ops if getattr(o, "fn", "") in KERNEL_FNS.values()]
        for fn in {getattr(o, "fn") for o in ops}:
            if (config, fn) not in meas:
                continue
            mine = [o for o in ops if o.fn == fn]
            ideal[fn] = ideal.get(fn, 0.0) + sum(o.bytes for o in mine) / (
                p.mem_bandwidth_Bps * p.mem_efficiency)
            spent[fn] = spent.get(fn, 0.0) + meas[(config, fn)] - len(mine) * p.memkernel_overhead_s
    out = {fn: round(min(1.0, ideal[fn] / spent[fn]), 4) for fn in sorted(ideal)}
    if "adam_fused" in out:
        out["sgd_fused"] = out["adam_fused"]
    return out
