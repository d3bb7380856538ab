"""Minifloat vs integer MACs on FPGA fabric (Aggarwal et al., FPL'24; Damsgaard et al., TCAD'25).

The FPL'24 design space: weights and activations in the same 3-8-bit format, ``INTb`` or minifloat
``ExMy`` (1 + x + y = b, x >= 1, y >= 1, every code finite), one LUT-fabric MAC each with an exact
accumulator for n = 4608 (ResNet-18's longest dot product). Cost: LUTs per MAC
(:func:`~hwsim.families.fpga.arithmetic.lut_mac`). Accuracy *proxy* (not an accuracy): relative
quantization error of synthetic CNN weights and activations (``hwsim.explore.proxy``), each tensor
scaled to its absolute maximum (minifloats) or quantized by the integer format's own symmetric scale.

>>> pts = design_points(range(4, 5))
>>> sorted(p["format"] for p in pts)
['fp4_e1m2', 'fp4_e2m1', 'int4']
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ... import formats as _formats
from .arithmetic import lut_mac

FPL24_N = 4608  # ResNet-18 3x3x512 (paper-claims §6)
# the common minifloats Damsgaard et al.'s "same-size" comparison is read against (an assumption:
# the abstract names no formats) and their integer partners
COMMON_PAIRS = (("fp8_e4m3", "int8"), ("fp8_e5m2", "int8"), ("fp6_e2m3", "int6"),
                ("fp6_e3m2", "int6"), ("fp4_e2m1", "int4"))


def formats_of(bits: int) -> list[str]:
    out = [f"int{bits}"]
    out += [f"fp{bits}_e{e}m{bits - 1 - e}" for e in range(1, bits - 1)]
    return out


@lru_cache(maxsize=2)
def _tensors() -> tuple[np.ndarray, np.ndarray]:
    from ...explore.proxy import synthetic_tensor
    return (synthetic_tensor("weights", "cnn", rows=64, cols=512, seed=1),
            synthetic_tensor("activations", "cnn", rows=64, cols=512, seed=2))


def _rel_error(x: np.ndarray, fmt: str) -> float:
    f = _formats.get(fmt)
    if f.is_float:
        s = np.max(np.abs(x)) / f.max_value
        y = f.quantize_dequantize(x / s) * s
    else:
        y = f.quantize_dequantize(x)
    return float(np.mean((x - y) ** 2) / np.mean(x * x))


@lru_cache(maxsize=None)
def accuracy_proxy(fmt: str) -> float:
    """Relative quantization error, weights + activations (lower is better)."""
    w, a = _tensors()
    return _rel_error(w, fmt) + _rel_error(a, fmt)


def design_points(bits=range(3, 9), n: int = FPL24_N) -> list[dict]:
    """One row per format: bits, format, integer?, LUTs, FFs and accumulator bits per MAC, proxy."""
    out = []
    for b in bits:
        for f in formats_of(b):
            m = lut_mac(f, f, n)
            out.append({"bits": b, "format": f, "is_int": f.startswith("int"), "luts": m.lut,
                        "ffs": m.ff, "acc_bits": m.acc_bits, "proxy": accuracy_proxy(f)})
    return out


def pareto(points: list[dict], x: str = "luts", y: str = "proxy") -> list[dict]:
    """Points no other point beats on both ``x`` and ``y`` (lower is better)."""
    from ...explore.hypervolume import pareto_mask
    if not points:
        return []
    keep = pareto_mask([[p[x], p[y]] for p in points])
    return [p for p, k in zip(points, keep) if k]


def minifloat_overheads(pairs=COMMON_PAIRS, n: int = FPL24_N) -> dict[str, float]:
    """Extra LUTs of a minifloat MAC over the same-size integer MAC (0.2 = 20% more)."""
    return {f"{mf}/{i}": lut_mac(mf, mf, n).lut / lut_mac(i, i, n).lut - 1 for mf, i in pairs}


def minifloat_wins(bits=range(4, 9), n: int = FPL24_N) -> float:
    """Share of ``bits`` at which some minifloat has a lower accuracy proxy than the integer of
    the same width (ties -- E1My is an integer grid with a scale -- do not count as wins)."""
    pts = design_points(bits, n)
    wins = 0
    for b in bits:
        i = next(p["proxy"] for p in pts if p["bits"] == b and p["is_int"])
        best = min(p["proxy"] for p in pts if p["bits"] == b and not p["is_int"])
        wins += best < i * (1 - 1e-9)
    return wins / len(bits)


def int_pareto_share(bits=range(3, 9), n: int = FPL24_N) -> float:
    """Share of the integer formats of ``bits`` that lie on the (LUTs, proxy) Pareto front."""
    pts = design_points(bits, n)
    front = {p["format"] for p in pareto(pts)}
    ints = [p["format"] for p in pts if p["is_int"]]
    return sum(f in front for f in ints) / len(ints)
