"""Accuracy *proxy* for quantized designs: the relative quantization error of representative
tensors, weighted by parameter count and optional per-group sensitivity. It ranks formats; it is
not a model-accuracy prediction, and every output that shows it says "proxy".

Tensors come from the user (``.npz`` or ``.safetensors``: one array per layer group, named like the
group, e.g. ``mlp.down``; activations as ``act:<group>``) or are synthetic with published
statistics:

* LLM weights: Gaussian rows with log-normal per-input-channel scales and 0.5% outlier input
  channels at 10x (weight outliers are mild; Dettmers et al., LLM.int8(), 2022).
* LLM activations: Gaussian with 1% of feature dimensions at 30x — the systematic outlier
  features of LLM.int8() (magnitudes up to ~20-60x in <1% of dimensions) that SmoothQuant
  (Xiao et al., 2023) migrates into the weights.
* CNN weights: per-output-channel log-normal scales, no outliers; CNN activations: post-ReLU
  half-normal.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import formats as _formats
from ..errors import ConfigError

PROFILES = ("llm", "cnn")


def synthetic_tensor(kind: str, profile: str = "llm", rows: int = 128, cols: int = 1024,
                     seed: int = 0) -> np.ndarray:
    """A representative weight (``kind="weights"``) or activation tensor of a model family."""
    if profile not in PROFILES:
        raise ConfigError(f"proxy profile = {profile!r}: expected one of {', '.join(PROFILES)}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols))
    if kind == "weights":
        x *= rng.lognormal(0.0, 0.3, size=(1, cols) if profile == "llm" else (rows, 1))
        if profile == "llm":
            out = rng.choice(cols, size=max(1, cols // 200), replace=False)
            x[:, out] *= 10.0
        return x
    if profile == "llm":
        out = rng.choice(cols, size=max(1, cols // 100), replace=False)
        x[:, out] *= 30.0
        return x
    return np.abs(x)  # post-ReLU


def relative_error(x: np.ndarray, fmt: str) -> float:
    """Quantization noise power over signal power (1 / SQNR as a ratio)."""
    y = _formats.get(fmt).quantize_dequantize(x)
    p = float(np.mean(x * x))
    return float(np.mean((x - y) ** 2)) / p if p > 0 else 0.0


class AccuracyProxy:
    """Weighted relative quantization error of weights, activations and KV cache."""

    def __init__(self, profile: str = "llm", tensors: str | Path | None = None,
                 sensitivity: dict[str, float] | None = None, seed: int = 0):
        if profile not in PROFILES:
            raise ConfigError(f"proxy.profile = {profile!r}: expected one of {', '.join(PROFILES)}")
        self.profile = profile
        self.seed = seed
        self.sensitivity = dict(sensitivity or {})
        for g, s in self.sensitivity.items():
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 <= s < np.inf:
                raise ConfigError(f"proxy.sensitivity[{g!r}] = {s!r}: expected a number >= 0")
        self.user = _load_tensors(tensors) if tensors else {}
        self._cache: dict[tuple, float] = {}

    def tensor(self, group: str, kind: str) -> np.ndarray:
        key = group if kind == "weights" else f"act:{group}"
        if key in self.user:
            return self.user[key]
        # a stable per-group seed (str hash() is randomized per process)
        return _synthetic_cached(kind, self.profile, self.seed + zlib.crc32(group.encode()) % 1000)

    def error(self, group: str, kind: str, fmt: str) -> float:
        k = (group, kind, fmt)
        e = self._cache.get(k)
        if e is None:
            e = self._cache[k] = relative_error(self.tensor(group, kind), fmt)
        return e

    def score(self, weights: dict[str, tuple[str, int]], activations: dict[str, str],
              kv: str | None = None) -> float:
        """``weights``: group -> (format, parameter count); ``activations``: group -> format.
        Returns the parameter- and sensitivity-weighted mean relative error of weights plus the
        mean relative error of activations (and of the KV cache, if given)."""
        return self.score_items([(g, f, n) for g, (f, n) in weights.items()], activations, kv)

    def score_items(self, weights, activations: dict[str, str], kv: str | None = None) -> float:
        """As :meth:`score`, with weights as (group, format, parameter count) items, so one group
        may appear with several formats (per-layer precision)."""
        num = den = 0.0
        for g, fmt, n in weights:
            s = self.sensitivity.get(g, 1.0) * n
            num += s * self.error(g, "weights", fmt)
            den += s
        w_err = num / den if den else 0.0
        a = [self.sensitivity.get(g, 1.0) * self.error(g, "activations", f)
             for g, f in activations.items()]
        a_err = sum(a) / len(a) if a else 0.0
        kv_err = self.error("kv", "activations", kv) if kv else 0.0
        return w_err + a_err + kv_err


@lru_cache(maxsize=64)
def _synthetic_cached(kind: str, profile: str, seed: int) -> np.ndarray:
    t = synthetic_tensor(kind, profile, seed=seed)
    t.setflags(write=False)
    return t


def _load_tensors(path) -> dict[str, np.ndarray]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"proxy.tensors = {str(p)!r}: no such file")
    if p.suffix not in (".npz", ".safetensors"):
        raise ConfigError(f"proxy.tensors = {str(p)!r}: expected a .npz or .safetensors file")
    try:
        raw = _read_arrays(p)
        out = {str(k): np.asarray(v, dtype=np.float64) for k, v in raw.items()}
    except ConfigError:
        raise
    except Exception as e:  # zip/npy/safetensors readers raise many types for a bad file
        raise ConfigError(f"proxy.tensors = {str(p)!r}: cannot read it as {p.suffix} of numeric "
                          f"arrays ({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})"
                          ) from None
    for k, v in out.items():
        if v.ndim < 1 or v.size == 0 or not np.all(np.isfinite(v)):
            raise ConfigError(f"proxy.tensors = {str(p)!r}: array {k!r} (shape {v.shape}) must be "
                              "non-empty, at least 1-D and finite")
    return out


def _read_arrays(p: Path) -> dict:
    if p.suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:  # object arrays would unpickle code
            return {k: z[k] for k in z.files}
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ConfigError("reading .safetensors needs: pip install safetensors") from None
    return load_file(str(p))
