"""Quantization error metrics on arrays."""

from __future__ import annotations

import numpy as np

from ..errors import HwsimError


def _pair(x, y):
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise HwsimError(f"error metrics need arrays of one shape, got {x.shape} and {y.shape}")
    return x, y


def mse(x, y) -> float:
    """Mean squared error between a reference ``x`` and its approximation ``y``."""
    x, y = _pair(x, y)
    return float(np.mean((x - y) ** 2)) if x.size else 0.0


def sqnr_db(x, y) -> float:
    """Signal-to-quantization-noise ratio 10·log10(Σx² / Σ(x-y)²) in dB (inf when exact)."""
    x, y = _pair(x, y)
    noise = float(np.sum((x - y) ** 2))
    signal = float(np.sum(x ** 2))
    if noise == 0:
        return float("inf")
    return 10.0 * np.log10(signal / noise) if signal > 0 else float("-inf")


def quantization_error(fmt, x) -> dict[str, float]:
    """Round-trip ``x`` through ``fmt`` (a name or NumberFormat): MSE, SQNR (dB), max abs error."""
    from . import get

    f = get(fmt)
    y = f.quantize_dequantize(x)
    x = np.asarray(x, dtype=np.float64)
    return {"mse": mse(x, y), "sqnr_db": sqnr_db(x, y),
            "max_abs_error": float(np.max(np.abs(x - y))) if x.size else 0.0}
