"""``gpu-train``: whole training steps (forward, backward, optimizer, one CUDA graph) measured
with ``benchmarks/gpu/train.py`` on an H100 (``data/h100/train.csv``, preset ``h100-sxm``) and an
H200 (``data/h200/train.csv``, ``h200-sxm``; the same 34 configurations) against hwsim's
``backward="implicit"`` training graphs.

Validation checks use held-out rows only (models none of whose rows fitted anything:
``fit_train.FIT_MODELS`` are excluded, on both GPUs); consistency checks cover the fit rows and
the fitted kernel rates (``model.TRAIN_KERNEL_BYTES_PER_CLK_PER_SM``, refitted from the committed
kernels of both GPUs)."""

from __future__ import annotations

from functools import lru_cache

from ...validate import Check, provider

SRC = "hwsim/families/gpu/data/{gpu}/train.csv (gpu-train 1.0, benchmarks/gpu/train.py)"
FIT = ("model.TRAIN_KERNEL_BYTES_PER_CLK_PER_SM: fit_train.fit_kernel_rates on the eager-step "
       "kernels of the FIT rows (llama-2-7b, resnet18, mobilenetv2) in data/h100/kernels_train.csv "
       "and data/h200/kernels_train.csv (strided_copy and column_sum on llama-2-7b's only)")
GPUS = {"h100": "h100-sxm", "h200": "h200-sxm"}
MAPE_TARGET = 0.15        # issue #22: held-out training-step latency MAPE
FAMILY_TARGET = 0.25      # issue #22: no model family off by more than 25%
ENERGY_TARGET = 0.22      # issue #22: energy was 22% MAPE on the data; not worse
HELDOUT_FAMILIES = {"llama-3-8b": ("llama-3-8b",), "tinyllama-1.1b": ("tinyllama-1.1b",),
                    "resnet": ("resnet34", "resnet50", "resnet101"),
                    "vit": ("vit-b16", "vit-l16")}
# no known misses: the ViT steps (34-44% slow before the eager kernels of
# workload/training_eager.py) are within their targets since then; the energy MAPE (18-22%
# before memkernel_sm_power_w, fitted on data/h100/power.csv, not on any step) is 8-9%
_MISSES: dict[str, str] = {}


@lru_cache(maxsize=2)
def _errors(gpu: str = "h100") -> dict[str, tuple[str, bool, float, float | None]]:
    """label -> (model, fit row, signed relative latency error, signed relative energy error or
    None where the row has no energy) of the prediction on ``GPUS[gpu]``."""
    import hwsim
    from .fit_train import load_rows, train_workload
    hw = hwsim.load_arch(GPUS[gpu])
    out = {}
    for r in load_rows(gpu):
        rep = hwsim.evaluate(train_workload(r), hw)
        out[r.label] = (r.model, r.fit, rep.latency_s / r.step_s - 1,
                        rep.energy_j / r.energy_j - 1 if r.energy_j else None)
    return out


def _mape(fit: bool, gpu: str = "h100", models: tuple[str, ...] | None = None) -> float:
    e = [abs(v) for m, f, v, _ in _errors(gpu).values()
         if f == fit and (models is None or m in models)]
    return sum(e) / len(e)


def _energy_mape(fit: bool, gpu: str = "h100") -> float:
    e = [abs(v) for _, f, _, v in _errors(gpu).values() if f == fit and v is not None]
    return sum(e) / len(e)


def _max_abs(models: tuple[str, ...], gpu: str = "h100") -> float:
    return max(abs(v) for m, f, v, _ in _errors(gpu).values() if not f and m in models)


def _refit_gap() -> float:
    from .model import TRAIN_KERNEL_BYTES_PER_CLK_PER_SM as committed
    from .fit_train import fit_kernel_rates
    new = fit_kernel_rates()
    if set(new) != set(committed):
        return float("inf")
    return max(abs(new[k] / committed[k] - 1) for k in committed)


def _gpu_checks(gpu: str) -> list[Check]:
    """The held-out and fit-row checks of one GPU's rows; the H100's keep their original ids."""
    pre, name, src = ("" if gpu == "h100" else f"{gpu}."), gpu.upper(), SRC.format(gpu=gpu)
    out = [Check("gpu-train", f"{pre}heldout.mape", f"{name} training-step latency MAPE, held-out "
                 "rows (8B-GQA, 1.1B-GQA, ResNet-34/50/101, ViT-B/16, ViT-L/16)", src,
                 MAPE_TARGET, "rel. error", lambda: _mape(False, gpu), mode="max")]
    for fam, models in HELDOUT_FAMILIES.items():
        cid = f"heldout.{fam}.max_abs"
        out.append(Check("gpu-train", pre + cid, f"{name} training step, largest |error| of the "
                         f"held-out {fam} rows", src, FAMILY_TARGET, "rel. error",
                         (lambda m=models: _max_abs(m, gpu)), mode="max",
                         known_miss=_MISSES.get(pre + cid, "")))
    out.append(Check("gpu-train", f"{pre}heldout.energy_mape", f"{name} training-step energy MAPE "
                     "(NVML, J per step), held-out rows", src, ENERGY_TARGET, "rel. error",
                     lambda: _energy_mape(False, gpu), mode="max",
                     known_miss=_MISSES.get(f"{pre}heldout.energy_mape", "")))
    out.append(Check("gpu-train", f"{pre}fit.mape", f"{name} training-step latency MAPE on the fit "
                     "rows (Llama-2-7B-shaped, ResNet-18, MobileNetV2)", src, MAPE_TARGET,
                     "rel. error", lambda: _mape(True, gpu), mode="max", kind="consistency",
                     fitted_on=FIT))
    return out


@provider("gpu-train")
def _train_checks() -> list[Check]:
    try:
        from .fit_train import load_rows
        for gpu in GPUS:
            load_rows(gpu)
    except OSError:  # installed without the data folder
        return []
    out = [c for gpu in GPUS for c in _gpu_checks(gpu)]
    out.append(Check("gpu-train", "fit.kernel_rate_refit", "committed training-kernel SM-side "
                     "rates equal their refit from the committed kernels (both GPUs)",
                     SRC.format(gpu="h100 and h200"), 1e-3, "rel. difference", _refit_gap,
                     mode="max", kind="consistency", fitted_on=FIT))
    return out
