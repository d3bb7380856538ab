"""Number formats: element formats (int, minifloat, binary, ternary, bipolar-INT) and scaled
formats built from them (per-tensor, per-group, OCP MX blocks, NVFP4).

Design: an element format only knows how to round *already scaled* values onto its grid
(``round_elements``). Scaling is a separate concern handled by the format classes that own a scale
(per tensor, per group of K, per MX block). All rounding is round-to-nearest-even (``np.rint``) with
saturation to the largest finite magnitude, as OCP's "saturating" conversion mode specifies.

Sources for the format parameters: hwsim/reference/known-designs.md §6 — IEEE 754 (fp16, fp32),
OCP OFP8 rev 1.0 (fp8_e4m3 max 448, no inf; fp8_e5m2 max 57344), OCP MX v1.0 (fp6/fp4 elements,
32-element blocks, E8M0 scale, MXINT8 = int8 with implicit 2^-6), NVIDIA NVFP4 (E2M1 elements,
16-element blocks, E4M3 block scale, FP32 tensor scale), TFLite quantization spec (affine int).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import HwsimError


@dataclass(frozen=True)
class QTensor:
    """A quantized array.

    ``codes`` are element values on the element format's grid (so ``codes`` of fp8_e4m3 are the
    representable fp8 values, of int8 the integers -127..127), laid out in blocks
    ``(..., n_blocks, block)`` for block/group formats. ``scale`` and ``zero_point`` broadcast
    against ``codes``; ``shape`` is the original array's shape.
    """

    codes: np.ndarray
    scale: np.ndarray | float
    zero_point: np.ndarray | float
    shape: tuple[int, ...]
    format: str


def _as_float_array(x, fmt_name: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise HwsimError(f"{fmt_name}.quantize: x must be a numeric array ({e})") from None
    if a.size and not np.all(np.isfinite(a)):
        raise HwsimError(f"{fmt_name}.quantize: x contains NaN or infinity; expected finite values")
    return a


_MAX_SCALED = 1e300  # beyond this, sums and spans of per-tensor scale computations overflow


def _check_scalable(a: np.ndarray, name: str) -> None:
    amax = float(np.max(np.abs(a))) if a.size else 0.0
    if amax > _MAX_SCALED:
        raise HwsimError(f"{name}.quantize: |x| reaches {amax:.3g}; computing its scale would "
                         f"overflow float64 - rescale the input to |x| <= {_MAX_SCALED:g}")


def round_minifloat(v: np.ndarray, man_bits: int, emin: int, max_value: float) -> np.ndarray:
    """Round to the nearest value of a sign/exponent/mantissa grid (RNE, saturating).

    ``emin`` is the exponent of the smallest normal binade; below it the spacing stays
    2^(emin - man_bits) (subnormals).
    """
    a = np.minimum(np.abs(v), max_value)  # values beyond max saturate; clamping first also
    # keeps a / step * step from overflowing for |v| near float64's limit
    _, e = np.frexp(a)  # a = m * 2^e with m in [0.5, 1)  ->  binade exponent is e - 1
    step = np.ldexp(1.0, np.maximum(e - 1, emin) - man_bits)
    q = np.minimum(np.rint(a / step) * step, max_value)
    return np.copysign(q, v)


_TINY = float(np.finfo(np.float64).tiny)


class NumberFormat:
    """Base class. Subclasses set ``name``, ``bits``, ``storage_bits``, ``max_value``."""

    name: str
    bits: int
    kind: str  # "int", "float", "binary", "ternary", "bipolar", "group", "mx", "nvfp4"

    @property
    def storage_bits(self) -> float:
        """Bits stored per element, including amortized scale / zero-point overhead."""
        return float(self.bits)

    @property
    def compute_key(self) -> str:
        """The hardware datapath this format runs on (``fp16``, ``fp8``, ``int8``, ``int4`` ...)."""
        raise NotImplementedError

    @property
    def is_float(self) -> bool:
        return False

    def grid(self) -> np.ndarray:
        """Sorted representable element values (only for element formats of at most 8 bits)."""
        raise HwsimError(f"{self.name}: grid() is defined for element formats of at most 8 bits")

    def quantize(self, x) -> QTensor:
        raise NotImplementedError

    def dequantize(self, q: QTensor) -> np.ndarray:
        if not isinstance(q, QTensor):
            raise HwsimError(f"{self.name}.dequantize expects the QTensor returned by quantize(), "
                             f"got {type(q).__name__}")
        y = (q.codes - q.zero_point) * q.scale
        return _unblock(y, q.shape)

    def quantize_dequantize(self, x) -> np.ndarray:
        """Round-trip ``x`` through the format (fake quantization)."""
        return self.dequantize(self.quantize(x))

    def __repr__(self) -> str:
        return f"NumberFormat({self.name!r}, bits={self.bits}, storage_bits={self.storage_bits:g})"


# --------------------------------------------------------------------------- element formats


@dataclass(frozen=True, repr=False)
class FloatFormat(NumberFormat):
    """Sign / exponent / mantissa float with ``exp_bits`` E and ``man_bits`` M.

    ``special``: ``"ieee"`` (top exponent reserved for inf/NaN: fp16, bf16, fp32, fp8_e5m2),
    ``"fn"`` (OCP E4M3: only the all-ones code is NaN, no inf) or ``"none"`` (every code finite:
    OCP MX fp6/fp4). ``container_bits`` is what one element occupies in memory (tf32: 32).
    """

    name: str
    exp_bits: int
    man_bits: int
    special: str = "none"
    bias: int | None = None
    container_bits: int | None = None
    kind: str = field(default="float", init=False)

    def __post_init__(self):
        if self.exp_bits < 1 or self.man_bits < 0:
            raise HwsimError(f"{self.name}: exponent bits must be >= 1 and mantissa bits >= 0 "
                             f"(got E={self.exp_bits}, M={self.man_bits})")
        if self.special not in ("ieee", "fn", "none"):
            raise HwsimError(f"{self.name}: special={self.special!r}; expected ieee, fn or none")

    @property
    def bits(self) -> int:  # type: ignore[override]
        return 1 + self.exp_bits + self.man_bits

    @property
    def storage_bits(self) -> float:
        return float(self.container_bits or self.bits)

    @property
    def is_float(self) -> bool:
        return True

    @property
    def exp_bias(self) -> int:
        return self.bias if self.bias is not None else 2 ** (self.exp_bits - 1) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return 1 - self.exp_bias

    @property
    def emax(self) -> int:
        """Exponent of the largest binade that holds finite values."""
        top = 2 ** self.exp_bits - 1
        return (top - 1 if self.special == "ieee" else top) - self.exp_bias

    @property
    def max_value(self) -> float:
        m = self.man_bits
        if self.special == "fn":  # the all-ones mantissa of the top binade is NaN
            frac = 2.0 - 2.0 ** (1 - m) if m > 0 else None
            if frac is None:
                return 2.0 ** (self.emax - 1)
            return frac * 2.0 ** self.emax
        return (2.0 - 2.0 ** -m) * 2.0 ** self.emax

    @property
    def min_normal(self) -> float:
        return 2.0 ** self.emin

    @property
    def min_subnormal(self) -> float:
        return 2.0 ** (self.emin - self.man_bits)

    @property
    def compute_key(self) -> str:
        return {"tf32": "tf32", "bf16": "bf16", "fp16": "fp16", "fp32": "fp32"}.get(
            self.name, f"fp{self.bits}")

    def round_elements(self, v: np.ndarray) -> np.ndarray:
        return round_minifloat(v, self.man_bits, self.emin, self.max_value)

    def grid(self) -> np.ndarray:
        if self.bits > 8:
            return super().grid()
        m = self.man_bits
        pos = [k * self.min_subnormal for k in range(2 ** m)]  # zero and subnormals
        for e in range(self.emin, self.emax + 1):
            pos += [(1 + k / 2 ** m) * 2.0 ** e for k in range(2 ** m)]
        pos = np.array([p for p in pos if p <= self.max_value])
        return np.unique(np.concatenate([-pos, pos]))

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        return QTensor(self.round_elements(a), 1.0, 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class IntFormat(NumberFormat):
    """N-bit integer with one scale per tensor.

    ``symmetric``: scale = absmax / (2^(N-1)-1), zero point 0, codes in ±(2^(N-1)-1) (TFLite
    weights). Otherwise affine: scale = (max - min) / (2^N - 1) over a range that includes 0, and an
    integer zero point so that 0.0 is exact (Jacob et al. CVPR'18); ``signed`` picks the code range.
    """

    name: str
    n_bits: int
    signed: bool = True
    symmetric: bool = True
    kind: str = field(default="int", init=False)

    def __post_init__(self):
        if not 1 <= self.n_bits <= 32:
            raise HwsimError(f"{self.name}: integer bits must be in 1..32, got {self.n_bits}")
        if self.symmetric and (not self.signed or self.n_bits < 2):
            raise HwsimError(f"{self.name}: a symmetric integer format must be signed with >= 2 bits")

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.n_bits

    @property
    def qmin(self) -> int:
        if self.symmetric:
            return -(2 ** (self.n_bits - 1) - 1)
        return -(2 ** (self.n_bits - 1)) if self.signed else 0

    @property
    def qmax(self) -> int:
        return 2 ** (self.n_bits - 1) - 1 if self.signed else 2 ** self.n_bits - 1

    @property
    def max_value(self) -> float:
        """Largest code magnitude (values are codes × scale)."""
        return float(max(self.qmax, -self.qmin))

    @property
    def compute_key(self) -> str:
        return f"int{self.n_bits}"

    def grid(self) -> np.ndarray:
        if self.bits > 8:
            return super().grid()
        lo = -(2 ** (self.n_bits - 1)) if self.signed else 0
        return np.arange(lo, self.qmax + 1, dtype=np.float64)

    def _scale_zp(self, lo: np.ndarray, hi: np.ndarray):
        """Scale and zero point for ranges [lo, hi] (arrays broadcast over groups)."""
        if self.symmetric:
            amax = np.maximum(np.abs(lo), np.abs(hi))
            # floor at the smallest normal double: amax / qmax of a subnormal input underflows to 0
            scale = np.where(amax > 0, np.maximum(amax / self.qmax, _TINY), 1.0)
            return scale, np.zeros_like(scale)
        lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        steps = 2 ** self.n_bits - 1
        span = (hi / steps - lo / steps) * steps  # divided first: hi - lo can overflow near 1.8e308
        # a hair under span / (2^N - 1) so the top of the range always reaches qmax, and the zero
        # point from the same quotient lo / scale the codes use, so lo lands exactly on qmin:
        # both ends saturate and quantizing the dequantized array gives the same scale and codes
        scale = np.where(span > 0, np.maximum(span / (2 ** self.n_bits - 1) * (1 - 2.0 ** -40),
                                              _TINY), 1.0)
        return scale, self._zero_point(lo, scale)

    def _zero_point(self, lo, scale):
        return np.clip(self.qmin - np.rint(lo / scale), self.qmin, self.qmax)

    def round_codes(self, v: np.ndarray, zp) -> np.ndarray:
        return np.clip(np.rint(v) + zp, self.qmin, self.qmax)

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        if a.size == 0:
            return QTensor(a.copy(), 1.0, 0.0, a.shape, self.name)
        _check_scalable(a, self.name)
        scale, zp = self._scale_zp(np.asarray(a.min()), np.asarray(a.max()))
        return QTensor(self.round_codes(a / scale, zp), float(scale), float(zp), a.shape, self.name)


@dataclass(frozen=True, repr=False)
class BinaryFormat(NumberFormat):
    """1-bit sign quantizer {-1, +1} × mean|x| (XNOR-Net's optimal per-tensor scale)."""

    name: str = "binary"
    kind: str = field(default="binary", init=False)
    bits: int = field(default=1, init=False)
    max_value: float = field(default=1.0, init=False)

    @property
    def compute_key(self) -> str:
        return "int1"

    def grid(self) -> np.ndarray:
        return np.array([-1.0, 1.0])

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        scale = float(np.mean(np.abs(a))) if a.size else 1.0
        return QTensor(np.where(a >= 0, 1.0, -1.0), scale or 1.0, 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class TernaryFormat(NumberFormat):
    """Ternary {-1, 0, +1} × α with TWN's threshold Δ = 0.7·mean|x| and α = mean of |x| > Δ
    (Li & Liu, "Ternary Weight Networks", 2016); BitNet b1.58 weights are ternary."""

    name: str = "ternary"
    kind: str = field(default="ternary", init=False)
    bits: int = field(default=2, init=False)
    max_value: float = field(default=1.0, init=False)

    @property
    def storage_bits(self) -> float:
        return math.log2(3)  # 1.58 bits: five ternary digits pack into one byte (3^5 = 243 ≤ 256)

    @property
    def compute_key(self) -> str:
        return "int2"

    def grid(self) -> np.ndarray:
        return np.array([-1.0, 0.0, 1.0])

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        if a.size == 0:
            return QTensor(a.copy(), 1.0, 0.0, a.shape, self.name)
        _check_scalable(a, self.name)
        delta = 0.7 * np.mean(np.abs(a))
        big = np.abs(a) > delta
        alpha = float(np.mean(np.abs(a[big]))) if big.any() else 1.0
        return QTensor(np.where(big, np.sign(a), 0.0), alpha, 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class BipolarIntFormat(NumberFormat):
    """Bipolar-INT: N bits b_i ∈ {-1, +1}, value Σ 2^i b_i — the odd integers in ±(2^N - 1), no zero.

    Used for arbitrary-precision GEMM on binary tensor cores (APNN-TC style bit decomposition).
    """

    name: str
    n_bits: int
    kind: str = field(default="bipolar", init=False)

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.n_bits

    @property
    def max_value(self) -> float:
        return float(2 ** self.n_bits - 1)

    @property
    def compute_key(self) -> str:
        return f"bipolar{self.n_bits}"

    def grid(self) -> np.ndarray:
        m = 2 ** self.n_bits - 1
        return np.arange(-m, m + 1, 2, dtype=np.float64)

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        amax = float(np.max(np.abs(a))) if a.size else 0.0
        scale = max(amax / self.max_value, _TINY) if amax > 0 else 1.0
        codes = np.clip(2 * np.rint((a / scale - 1) / 2) + 1, -self.max_value, self.max_value)
        return QTensor(codes, scale, 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class FixedPointFormat(NumberFormat):
    """Signed N-bit integer with an implicit scale 2^-frac_bits (the MXINT8 element: 2^-6)."""

    name: str
    n_bits: int
    frac_bits: int
    kind: str = field(default="fixed", init=False)

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.n_bits

    @property
    def max_value(self) -> float:  # symmetric clamp, as the MX reference code does
        return (2 ** (self.n_bits - 1) - 1) / 2 ** self.frac_bits

    @property
    def emax(self) -> int:
        return math.floor(math.log2(self.max_value))

    @property
    def compute_key(self) -> str:
        return f"int{self.n_bits}"

    def round_elements(self, v):
        q = 2.0 ** self.frac_bits
        return np.clip(np.rint(v * q), -(q * self.max_value), q * self.max_value) / q

    def grid(self) -> np.ndarray:
        return np.arange(-(2 ** (self.n_bits - 1)), 2 ** (self.n_bits - 1)) / 2.0 ** self.frac_bits

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        return QTensor(self.round_elements(a), 1.0, 0.0, a.shape, self.name)


# --------------------------------------------------------------------------- scaled formats


def _block(a: np.ndarray, size: int) -> np.ndarray:
    """(..., L) -> (..., ceil(L/size), size), zero-padded: blocks run along the last axis."""
    a = np.atleast_1d(a)
    n = a.shape[-1]
    pad = (-n) % size
    if pad:
        a = np.concatenate([a, np.zeros(a.shape[:-1] + (pad,))], axis=-1)
    return a.reshape(a.shape[:-1] + (a.shape[-1] // size, size))


def _unblock(y, shape: tuple[int, ...]) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.shape == shape:
        return y
    if not shape:  # 0-d input
        return y.reshape(-1)[0].reshape(())
    flat = y.reshape(y.shape[:-2] + (-1,))
    return flat[..., : shape[-1]].reshape(shape)


def _round_scale_up(scale: np.ndarray, fmt: FloatFormat, amax: np.ndarray, qmax: float):
    """Round a scale to ``fmt`` without letting amax/scale exceed qmax (which would clip the
    largest element by more than half a step)."""
    s = fmt.round_elements(scale)
    too_small = s * qmax < amax
    if np.any(too_small):  # step to the next value up on the scale format's grid (also subnormal)
        _, e = np.frexp(s)
        ulp = np.ldexp(1.0, np.maximum(e - 1, fmt.emin) - fmt.man_bits)
        s = np.where(too_small, fmt.round_elements(s + ulp), s)
    return np.where(s > 0, s, fmt.min_subnormal)


class _ScaledElement:
    """Formats that scale an ``element`` format: element facts delegate to it."""

    element: NumberFormat

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.element.bits

    @property
    def max_value(self) -> float:
        return self.element.max_value

    @property
    def compute_key(self) -> str:
        return self.element.compute_key

    def grid(self) -> np.ndarray:
        return self.element.grid()


@dataclass(frozen=True, repr=False)
class GroupFormat(_ScaledElement, NumberFormat):
    """Integer elements with one scale (fp16 by default) per group of ``group`` consecutive
    elements along the last axis, optionally with an integer zero point per group (AWQ/GPTQ style).

    Symmetric groups are idempotent (quantizing the dequantized array changes nothing) whenever the
    fp16 scale is a normal number. Affine groups (zero point) are not exactly: the fp16-rounded
    scale can leave the group's top value one code short of qmax, and re-quantizing then picks a
    scale one fp16 step smaller, moving values by less than half a grid step.
    """

    name: str
    element: IntFormat
    group: int
    scale_format: FloatFormat
    kind: str = field(default="group", init=False)

    @property
    def zero_point(self) -> bool:
        return not self.element.symmetric

    @property
    def storage_bits(self) -> float:
        extra = self.scale_format.storage_bits + (self.element.bits if self.zero_point else 0)
        return self.element.bits + extra / self.group

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        b = _block(a, self.group)
        lo, hi = b.min(axis=-1, keepdims=True), b.max(axis=-1, keepdims=True)
        scale, zp = self.element._scale_zp(lo, hi)
        if self.element.symmetric:
            scale = _round_scale_up(scale, self.scale_format, np.maximum(-lo, hi), self.element.qmax)
        else:
            scale = _round_scale_up(scale, self.scale_format, hi - np.minimum(lo, 0),
                                    2 ** self.element.bits - 1)
            zp = self.element._zero_point(np.minimum(lo, 0), scale)
        return QTensor(self.element.round_codes(b / scale, zp), scale, zp, a.shape, self.name)


E8M0_MIN_EXP, E8M0_MAX_EXP = -127, 127  # OCP MX v1.0: E8M0 encodes 2^-127 .. 2^127 (0xFF = NaN)


@dataclass(frozen=True, repr=False)
class MXFormat(_ScaledElement, NumberFormat):
    """OCP Microscaling block format: ``block`` elements share an E8M0 power-of-two scale
    X = 2^(floor(log2 amax) - emax_elem); elements are ``element`` values of x / X (saturating)."""

    name: str
    element: FloatFormat | FixedPointFormat
    block: int = 32
    kind: str = field(default="mx", init=False)

    @property
    def storage_bits(self) -> float:
        return self.element.bits + 8 / self.block

    @property
    def is_float(self) -> bool:
        return isinstance(self.element, FloatFormat)

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        b = _block(a, self.block)
        amax = np.max(np.abs(b), axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            e = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1.0))), E8M0_MIN_EXP)
        shared = np.clip(e - self.element.emax, E8M0_MIN_EXP, E8M0_MAX_EXP)
        scale = np.ldexp(1.0, shared.astype(np.int64))
        return QTensor(self.element.round_elements(b / scale), scale, 0.0, a.shape, self.name)


@dataclass(frozen=True, repr=False)
class NVFP4Format(_ScaledElement, NumberFormat):
    """NVIDIA NVFP4: E2M1 elements, one E4M3 scale per 16 elements and one FP32 scale per tensor.

    Tensor scale S = amax / (448·6); block scale s_b = e4m3(amax_b / (6·S)); element = e2m1(x / (s_b·S)).
    """

    name: str
    element: FloatFormat
    block_scale: FloatFormat
    block: int = 16
    kind: str = field(default="nvfp4", init=False)

    @property
    def storage_bits(self) -> float:
        return self.element.bits + self.block_scale.bits / self.block

    @property
    def is_float(self) -> bool:
        return True

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        b = _block(a, self.block)
        emax, smax = self.element.max_value, self.block_scale.max_value
        amax_t = float(np.max(np.abs(b))) if b.size else 0.0
        tensor_scale = max(amax_t / (smax * emax), _TINY) if amax_t > 0 else 1.0
        amax_b = np.max(np.abs(b), axis=-1, keepdims=True)
        sb = self.block_scale.round_elements(amax_b / (emax * tensor_scale))
        scale = np.where(sb > 0, sb, 1.0) * tensor_scale
        codes = np.where(sb > 0, self.element.round_elements(b / scale), 0.0)
        return QTensor(codes, scale, 0.0, a.shape, self.name)
