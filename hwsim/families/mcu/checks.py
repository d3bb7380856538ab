"""MCU SIMD figures: PULP FP16 training (Nadalini et al. 2023), CMSIS-NN on Cortex-M55 (ExecuTorch
issue #17651), QuantMCU's per-patch mixed precision (Tao et al. 2024) and the DSP/Helium peak MAC rates the presets were set from (known-designs §2.1)."""

from __future__ import annotations

from ...validate import Check, provider

_NADALINI = ("Nadalini et al., arXiv 2305.19167 abstract (paper-claims.md §5); hwsim gap9 preset, "
             "8 cores, PULP-TrainLib-style im2col + MM kernels")
_NAD_MISS = ("the abstract gives neither the clock, the chip nor which layers are trained: its "
             "17.1 ms / 6.4 ms imply only ~20 M / ~2 M MACs per step at 370 MHz (a full ResNet-8 "
             "step is 37 M, DS-CNN 7.7 M), so the measured steps are not the full-network steps "
             "hwsim models; hwsim's idealized inner loops also omit TCDM bank conflicts, load-use "
             "and shared-FPU latency stalls")
_ET = ("pytorch/executorch issue #17651: torchvision MobileNetV2 int8 on Alif E8 HP Cortex-M55, "
       "CMSIS-NN backend, per-op cycles (known-designs.md §2.3 [A14])")
# cycles of the first eight conv ops (features.0 ... features.3.dw) in the table
_ET_CYCLES = (13754047, 13715766, 4915937, 24249462, 10286711, 2791555, 10329014, 15319785)


def conv_train_step_cycles(hw, conv, fmt: str) -> float:
    """Cycles of one training step of one Conv2d: forward, input and weight gradients, with the
    im2col/transpose copies of an explicit-GEMM library."""
    from ...workload.training import backward_ops

    op = conv.with_formats(weights=fmt, activations=fmt, out=fmt)
    ops = [op] + [b.with_formats(weights=fmt, activations=fmt, out=fmt)
                  for b in backward_ops(op)]
    return sum(hw.cost(o).breakdown["cycles"] for o in ops)


def fp16_speedup_max(hw_name: str = "gap9", workload: str = "resnet8") -> float:
    """The largest FP32 / FP16 training-step cycle ratio over the workload's convolutions."""
    from ... import load_arch, load_workload

    hw = load_arch(hw_name)
    convs = [o for o in load_workload(workload).ops if o.type == "Conv2d"]
    return max(conv_train_step_cycles(hw, c, "fp32") / conv_train_step_cycles(hw, c, "fp16")
               for c in convs)


def train_macs_per_clk(workload: str, fmt: str = "fp16", hw_name: str = "gap9") -> float:
    from ... import load_arch, load_workload
    from .planning import training_macs_per_cycle

    wl = load_workload(workload, phase="train", weights=fmt, activations=fmt)
    return training_macs_per_cycle(wl, load_arch(hw_name))


def mv2_m55_cycles() -> float:
    """hwsim cycles of MobileNetV2's first eight convs on a Cortex-M55 (alif-e7 preset with its
    activations in the 4 MiB SRAM0 the 224x224 tensors need, as on the measured board)."""
    from ... import load_arch, load_workload

    hw = load_arch("alif-e7", sram_bytes=4 << 20)
    wl = load_workload("mobilenetv2", weights="int8", activations="int8")
    convs = [o for o in wl.ops if o.type == "Conv2d"][:len(_ET_CYCLES)]
    return sum(hw.cost(o).breakdown["cycles"] for o in convs)


_QUANTMCU = ("QuantMCU, Tao et al., arXiv 2401.13714 abstract (paper-claims.md §8): 2.2x average "
             "computation (BitOPs) reduction vs 8-bit patch-based inference (MCUNetV2-style)")
_QUANTMCU_MISS = ("the abstract gives neither the outlier-patch fraction nor the bit-widths VDQS "
                  "picks per layer; hwsim's best case for the mechanism it models (every patch of "
                  "an MCUNetV2 4x4 stage through features.6 at int4 activations, no outliers, the "
                  "rest of the network at int8) is below 2.2x, so the paper's reduction must also "
                  "come from lower bit-widths after the patch stage, which the abstract does not "
                  "state")


def quantmcu_best_case_reduction(low: str = "int4") -> float:
    """BitOPs of int8 patch-based MobileNetV2 (4x4 patches through features.6) over the same
    plan with every patch's stage in ``low`` activations (the upper bound of per-patch precision)."""
    from ... import load_workload
    from .planning import PatchPrecision, patch_bitops, patch_plan

    pp = patch_plan(load_workload("mobilenetv2", weights="int8", activations="int8"),
                    "features.6.project", 4)
    return patch_bitops(pp) / patch_bitops(pp, PatchPrecision(0, low, "int8"))


def _peak(hw_name: str, a: str, w: str) -> float:
    """MACs per cycle of the kernel's MAC instructions alone (the ISA peak the preset encodes)."""
    from ... import load_arch
    from .model import _recipe
    from ... import formats

    hw = load_arch(hw_name)
    p = hw.params
    fp = hw._fp_path(a, w, "check")
    r = _recipe(p.isa, formats.get(a).bits, formats.get(w).bits, fp)
    per_instr = 4.0 / p.mve_beats_per_cycle if r.vector else (
        p.fma_cycles if r.fma else p.mac_cycles)
    return r.macs / ((r.mac + r.fma) * per_instr)


@provider("mcu")
def _mcu_checks() -> list[Check]:
    out = [
        Check("mcu", "nadalini.conv_train_step.fp16_over_fp32",
              "FP16 SIMD vs FP32 speedup of a Conv2D training step (max over ResNet-8 convs)",
              _NADALINI, 1.72, "x", fp16_speedup_max, 0.20),
        Check("mcu", "nadalini.resnet8.train_macs_per_clk",
              "ResNet-8 training step, 1 sample, FP16, MAC/clk", _NADALINI, 3.11, "MAC/clk",
              lambda: train_macs_per_clk("resnet8"), 0.20, known_miss=_NAD_MISS),
        Check("mcu", "nadalini.dscnn.train_macs_per_clk",
              "DS-CNN training step, 1 sample, FP16, MAC/clk", _NADALINI, 0.81, "MAC/clk",
              lambda: train_macs_per_clk("ds-cnn"), 0.20, known_miss=_NAD_MISS),
        Check("mcu", "executorch17651.mv2_first8_convs.cycles",
              "MobileNetV2 int8 features.0-3 conv cycles on Cortex-M55 (CMSIS-NN)", _ET,
              float(sum(_ET_CYCLES)), "cycles", mv2_m55_cycles, 0.20,
              known_miss="hwsim assumes 1-cycle (TCM) loads; the board keeps MobileNetV2-224's "
                         "up-to-1.4 MB activations in SRAM0 over AXI, and ExecuTorch's per-op "
                         "dispatch and requantization overheads are not modeled: hwsim is "
                         "2-4x fast on every layer, with the measured shape (depthwise slowest "
                         "per MAC) reproduced"),
    ]
    out.append(Check("mcu", "quantmcu.bitops_reduction.best_case_int4",
                     "per-patch int4/int8 activations vs int8 patch-based MobileNetV2, BitOPs",
                     _QUANTMCU, 2.2, "x", quantmcu_best_case_reduction, 0.20,
                     known_miss=_QUANTMCU_MISS))
    ks = "known-designs.md §2.1 (peak MAC/cycle per core and type) [A1][A4][A5]"
    for hw, a, w, ref in (("stm32f4", "int8", "int8", 2.0), ("stm32h7", "int16", "int16", 2.0),
                          ("alif-e7", "int8", "int8", 8.0), ("alif-e7", "int16", "int16", 4.0),
                          ("alif-e7", "fp16", "fp16", 4.0), ("ra8", "fp32", "fp32", 2.0)):
        out.append(Check("mcu", f"{hw}.peak_{a}_macs_per_cycle", f"{hw} {a} MAC-instruction peak",
                         ks, ref, "MAC/cycle", (lambda h=hw, x=a, y=w: _peak(h, x, y)), 0.0,
                         kind="consistency",
                         fitted_on="mac_cycles / mve_beats_per_cycle set from this table"))
    return out
