"""Adaptive and mixture-of-datatype weight formats of bit-serial / mixed-precision accelerators.

* ``bitmod3_g128``, ``bitmod4_g128`` — BitMoD (Chen et al., HPCA'25): every group of 128 weights
  picks, by minimum squared error, one of four extended FP variants: the FP3/FP4 grid whose
  redundant negative zero is reused for one extra value, either a resolution value between the two
  largest magnitudes ("ER", 3 resp. 10 in grid units) or an extra-large value ("EA", 6 resp. 16),
  on the positive or the negative side. Grids: the artifact's ``bitmod_quant/quant_utils/
  quant_weight.py`` (FP3 = {0, ±1, ±2, ±4}, FP4_E2M1 in units of 0.5 = {0, ±1, ±2, ±3, ±4, ±6,
  ±8, ±12}). Storage per weight: element bits + (8-bit group scale + 2-bit selector) / 128. The
  artifact's simulator charges 8 bits per group (4.0625 bits), without the selector. The group
  scale is an unsigned 8-bit fraction of a per-tensor fp32 scale (double quantization; rounded up,
  so no element clips).
* ``bitmod6_g128`` — BitMoD's lossless setting: INT6 per group of 128 with the same 8-bit scale
  (the artifact's 6.0625 bits per weight).
* ``ant4``, ``ant8`` — ANT (Guo et al., MICRO'22): per tensor, the best (minimum squared error) of
  int, flint and power-of-two grids. FLINT4 is the artifact's grid {0, ±1, ±2, ±3, ±4, ±6, ±8, ±16};
  FLINT8 extends the same rule (lower half integers, upper half a unary exponent prefix and the
  remaining bits as mantissa): an assumption, ANT's 8-bit table was not at hand.
* ``olive4``, ``olive8`` — OliVe (Guo et al., ISCA'23): adjacent weights form pairs; a pair with
  an outlier (|x| beyond the int range) keeps the outlier, coded in an "abfloat" (E2M1 / E4M3
  whose smallest value is just above the int range) and sets its partner, the victim, to 0. The
  per-tensor scale is picked among clipping candidates by minimum squared error.

Every format stores codes as real values on its grid; ``dequantize`` is codes x scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import (_TINY, NumberFormat, QTensor, _as_float_array, _block, _check_scalable,
                   _unblock)

_FP3 = [0.0, 1.0, 2.0, 4.0]
_FP4 = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0]
# special values of the extended variants, in grid units (artifact quant_weight.py)
_SPECIAL = {3: {"er": 3.0, "ea": 6.0}, 4: {"er": 10.0, "ea": 16.0}}
GROUP = 128
SCALE_BITS = 8
SELECTOR_BITS = 2


def _symmetric(pos) -> np.ndarray:
    p = np.asarray(pos, float)
    return np.unique(np.concatenate([-p, p]))


def bitmod_variants(bits: int) -> dict[str, np.ndarray]:
    """The four BitMoD grids of a width: fp{bits}_{er,ea}_{pos,neg}."""
    base = _symmetric(_FP3 if bits == 3 else _FP4)
    out = {}
    for kind, v in _SPECIAL[bits].items():
        out[f"fp{bits}_{kind}_pos"] = np.sort(np.append(base, v))
        out[f"fp{bits}_{kind}_neg"] = np.sort(np.append(base, -v))
    return out


def flint_magnitudes(mag_bits: int) -> np.ndarray:
    """ANT flint magnitudes of ``mag_bits`` bits (see module doc); 3 bits -> 0,1,2,3,4,6,8,16."""
    m = mag_bits
    vals = list(range(2 ** (m - 1)))  # lower half: integers
    for j in range(m - 1):  # upper half: j ones after the top bit, then a 0, then r mantissa bits
        r = m - 2 - j
        e = (m - 1) + j
        vals += [2.0 ** e * (1 + k / 2 ** r) for k in range(2 ** r)]
    vals.append(2.0 ** (2 * m - 2))  # all ones
    return np.array(sorted(set(vals)), float)


def _nearest(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Round each value to the nearest grid value (ties to the lower one), vectorized."""
    mid = (grid[1:] + grid[:-1]) / 2
    return grid[np.searchsorted(mid, x, side="left")]


@dataclass(frozen=True, repr=False)
class _GridFormat(NumberFormat):
    name: str
    n_bits: int

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.n_bits

    @property
    def compute_key(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class BitMoDFormat(_GridFormat):
    """BitMoD per-group mixture of extended FP variants (``n_bits`` 3 or 4) or INT6 (lossless)."""

    group: int = GROUP
    kind: str = field(default="mixture", init=False)

    @property
    def variants(self) -> dict[str, np.ndarray]:
        if self.n_bits == 6:
            return {"int6": np.arange(-31.0, 32.0)}
        return bitmod_variants(self.n_bits)

    @property
    def storage_bits(self) -> float:
        sel = SELECTOR_BITS if len(self.variants) > 1 else 0
        return self.n_bits + (SCALE_BITS + sel) / self.group

    @property
    def max_value(self) -> float:
        return float(max(np.abs(g).max() for g in self.variants.values()))

    def grid(self) -> np.ndarray:
        return np.unique(np.concatenate(list(self.variants.values())))

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        b = _block(a, self.group)
        amax = np.max(np.abs(b), axis=-1, keepdims=True)
        best_err = best_codes = best_scale = None
        tensor = float(amax.max()) if amax.size else 0.0
        for g in self.variants.values():
            qmax = float(np.abs(g).max())
            s = _scale8(amax / qmax, tensor / qmax)
            codes = _nearest(b / s, g)
            err = np.sum((codes * s - b) ** 2, axis=-1, keepdims=True)
            if best_err is None:
                best_err, best_codes, best_scale = err, codes, s
            else:
                better = err < best_err
                best_err = np.where(better, err, best_err)
                best_codes = np.where(better, codes, best_codes)
                best_scale = np.where(better, s, best_scale)
        return QTensor(best_codes, best_scale, 0.0, a.shape, self.name)

    def dequantize(self, q: QTensor) -> np.ndarray:
        if not isinstance(q, QTensor):
            return super().dequantize(q)
        return _unblock(q.codes * q.scale, q.shape)


def _scale8(s: np.ndarray, top: float) -> np.ndarray:
    """Group scales as 8-bit unsigned fractions of the tensor's largest group scale, rounded up."""
    if top <= 0:
        return np.ones_like(s)
    top = max(top, _TINY * (2 ** SCALE_BITS))  # subnormal inputs: keep every step representable
    q = np.clip(np.ceil(s / top * (2 ** SCALE_BITS - 1) - 1e-9), 1, 2 ** SCALE_BITS - 1)
    return q * (top / (2 ** SCALE_BITS - 1))


@dataclass(frozen=True, repr=False)
class ANTFormat(_GridFormat):
    """ANT adaptive type: per tensor the best of int / flint / power-of-two ``n_bits`` grids."""

    kind: str = field(default="adaptive", init=False)

    @property
    def variants(self) -> dict[str, np.ndarray]:
        n = self.n_bits
        pot = [0.0] + [2.0 ** i for i in range(2 ** (n - 1) - 1)]
        return {"int": _symmetric(np.arange(2 ** (n - 1))),
                "flint": _symmetric(flint_magnitudes(n - 1)),
                "pot": _symmetric(pot)}

    @property
    def max_value(self) -> float:
        return float(max(np.abs(g).max() for g in self.variants.values()))

    def grid(self) -> np.ndarray:
        return np.unique(np.concatenate(list(self.variants.values())))

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        amax = float(np.max(np.abs(a))) if a.size else 0.0
        best = None
        for g in self.variants.values():
            s = max(amax / float(np.abs(g).max()), _TINY) if amax > 0 else 1.0
            codes = _nearest(a / s, g)
            err = float(np.sum((codes * s - a) ** 2))
            if best is None or err < best[0]:
                best = (err, codes, s)
        return QTensor(best[1], best[2], 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class OliVeFormat(_GridFormat):
    """OliVe outlier-victim pairs: int{n} normal values, abfloat outliers, victims set to 0."""

    kind: str = field(default="outlier_victim", init=False)

    @property
    def normal(self) -> np.ndarray:
        q = 2 ** (self.n_bits - 1) - 1  # -2^(n-1) is the outlier identifier code
        return np.arange(-q, q + 1, dtype=float)

    @property
    def outliers(self) -> np.ndarray:
        e_bits, m_bits = (2, 1) if self.n_bits == 4 else (4, 3)
        base = 2 ** (self.n_bits - 1)  # the smallest abfloat value sits just above the int range
        mags = [base * 2.0 ** e * (1 + k / 2 ** m_bits) for e in range(2 ** e_bits)
                for k in range(2 ** m_bits)]
        return np.array(sorted(mags))

    @property
    def max_value(self) -> float:
        return float(self.outliers.max())

    def grid(self) -> np.ndarray:
        return np.unique(np.concatenate([self.normal, self.outliers, -self.outliers]))

    def _encode(self, a: np.ndarray, s: float) -> np.ndarray:
        b = _block(a / s, 2)
        qmax = self.normal.max()
        big = np.abs(b) > qmax + 0.5
        # in a pair the larger magnitude is the outlier candidate; its partner is the victim
        first_larger = np.abs(b[..., :1]) >= np.abs(b[..., 1:])
        is_out = np.concatenate([first_larger, ~first_larger], axis=-1) & big.any(-1, keepdims=True)
        victim = np.concatenate([~first_larger, first_larger], axis=-1) & big.any(-1, keepdims=True)
        out_mag = _nearest(np.abs(b), np.concatenate([[qmax], self.outliers]))
        codes = np.where(is_out, np.sign(b) * out_mag,
                         np.where(victim, 0.0, np.clip(np.rint(b), -qmax, qmax)))
        return codes

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        amax = float(np.max(np.abs(a))) if a.size else 0.0
        if amax == 0:
            return QTensor(_block(np.zeros_like(a, dtype=float), 2), 1.0, 0.0, a.shape, self.name)
        best = None
        qmax = self.normal.max()
        # the int range covers |x| up to a clipping point; values beyond become outliers (the
        # abfloat range must still hold the largest one)
        for clip in np.quantile(np.abs(a), [0.9, 0.99, 0.999, 0.9999, 1.0]):
            s = max(float(clip) / qmax, amax / self.max_value, _TINY)
            codes = self._encode(a, s)
            err = float(np.sum((_unblock(codes * s, a.shape) - a) ** 2))
            if best is None or err < best[0]:
                best = (err, codes, s)
        return QTensor(best[1], best[2], 0.0, a.shape, self.name)


def make(key: str) -> NumberFormat | None:
    """The format of a name this module owns, or None."""
    return _MAKERS[key]() if key in _MAKERS else None


_MAKERS = {
    "bitmod3_g128": lambda: BitMoDFormat("bitmod3_g128", 3),
    "bitmod4_g128": lambda: BitMoDFormat("bitmod4_g128", 4),
    "bitmod6_g128": lambda: BitMoDFormat("bitmod6_g128", 6),
    "ant4": lambda: ANTFormat("ant4", 4),
    "ant8": lambda: ANTFormat("ant8", 8),
    "olive4": lambda: OliVeFormat("olive4", 4),
    "olive8": lambda: OliVeFormat("olive8", 8),
}
NAMES = list(_MAKERS)

