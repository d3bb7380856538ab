"""llama.cpp (GGUF) weight quantization types with their real block layouts.

Layouts are those of ggml's ``block_q*`` structs (``ggml-common.h``, llama.cpp; field sizes as
stored on disk):

=========  ===========  ===================================================  =======  ============
name       block        fields per block                                     bytes    bits/weight
=========  ===========  ===================================================  =======  ============
``q4_0``   32           fp16 d; 16 B of 4-bit q; x = d * (q - 8)              18       4.5
``q8_0``   32           fp16 d; 32 int8 q; x = d * q                          34       8.5
``q2_k``   256 = 16x16  16 B scales (4-bit scale | 4-bit min per sub-block);  84       2.625
                        64 B of 2-bit q; fp16 d, fp16 dmin;
                        x = d * sc_j * q - dmin * m_j
``q3_k``   256 = 16x16  32 B high-bit mask; 64 B low 2 bits; 12 B of 6-bit     110      3.4375
                        signed scales; fp16 d; x = d * (sc_j - 32) * (q - 4)
``q4_k``   256 = 8x32   fp16 d, fp16 dmin; 12 B of 6-bit scales and mins;      144      4.5
                        128 B of 4-bit q; x = d * sc_j * q - dmin * m_j
``q6_k``   256 = 16x16  128 B low 4 bits; 64 B high 2 bits; 16 int8 scales;    210      6.5625
                        fp16 d; x = d * sc_j * (q - 32)
``iq4_nl`` 32           fp16 d; 16 B of 4-bit indices into the non-linear      18       4.5
                        table kvalues_iq4nl; x = d * kvalues[q]
=========  ===========  ===================================================  =======  ============

Quantization follows the reference rounding of ``quantize_row_*_ref`` (ggml-quants.c): q4_0/q8_0
scale by the block's signed/absolute maximum; the k-quants fit an affine (scale, min <= 0) or
symmetric scale per sub-block, quantize the sub-block scales (and mins) to 4 or 6 bits against
fp16 super-block scales, and round the elements with the *quantized* scales. llama.cpp refines
the sub-block scales by a small search (``make_qkx2_quants``/``make_qx_quants``); that search is
not reproduced here, so hwsim's error is an upper bound of llama.cpp's on the same data. The
stored layout (and so ``storage_bits``) is exact.

``QTensor`` of these formats: ``codes`` are the stored integers q, shaped ``(..., blocks,
sub_blocks, sub_block)``; ``scale`` is the effective per-sub-block step (d * sc) and
``zero_point`` the per-sub-block *value* offset, so ``x = codes * scale - zero_point``.

>>> from hwsim import formats
>>> formats.get("q2_k").storage_bits
2.625
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import NumberFormat, QTensor, _as_float_array, _block, _check_scalable, _unblock


def _fp16(x):
    """Round to fp16 and back (overflow saturates at 65504; the super-block scales are fp16)."""
    return np.clip(np.asarray(x, dtype=np.float64), -65504, 65504).astype(np.float16).astype(np.float64)


@dataclass(frozen=True, repr=False)
class GGUFFormat(NumberFormat):
    """One llama.cpp quantization type (see the module table).

    ``q_bits``: bits of an element code; ``block``: elements per (super-)block; ``sub``: elements
    per sub-block sharing one scale; ``scale_bits``/``min_bits``: bits of the quantized
    sub-block scale/min (0: none, the block scale is fp16 itself); ``offset``: the constant
    subtracted from codes of symmetric types (q4_0: 8, q3_k: 4, q6_k: 32); ``block_bytes``: the
    struct size in bytes.
    """

    name: str
    q_bits: int
    block: int
    sub: int
    scale_bits: int
    min_bits: int
    offset: int
    block_bytes: int
    kind: str = field(default="gguf", init=False)

    @property
    def bits(self) -> int:  # type: ignore[override]
        return self.q_bits

    @property
    def storage_bits(self) -> float:
        return 8.0 * self.block_bytes / self.block

    @property
    def affine(self) -> bool:
        return self.min_bits > 0

    @property
    def code_range(self) -> tuple[int, int]:
        """Stored integer codes: unsigned 0..2^b-1, except q8_0's signed int8."""
        if not self.affine and self.offset == 0:
            return -(2 ** (self.q_bits - 1)), 2 ** (self.q_bits - 1) - 1
        return 0, 2 ** self.q_bits - 1

    @property
    def max_value(self) -> float:
        """Largest code magnitude after the offset (values are codes x per-sub-block scale)."""
        lo, hi = self.code_range
        return float(max(hi - self.offset, self.offset - lo))

    @property
    def compute_key(self) -> str:
        return f"int{self.q_bits}"

    def grid(self) -> np.ndarray:
        lo, hi = self.code_range
        return np.arange(lo, hi + 1, dtype=np.float64) - self.offset

    # ------------------------------------------------------------------ quantize

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        b = _block(a, self.block)  # (..., nb, block)
        s = b.reshape(b.shape[:-1] + (self.block // self.sub, self.sub))  # (..., nb, ns, sub)
        top = 2 ** self.q_bits - 1
        if self.affine:
            codes, step, zero = self._affine(s, top)
        else:
            codes, step, zero = self._symmetric(s, top)
        return QTensor(codes, step, zero, a.shape, self.name)

    def _symmetric(self, s, top):
        """q4_0 / q8_0 / q3_k / q6_k: x = step * (q - offset).

        With an offset the step is the sub-block's *signed* maximum / -offset, so the largest
        magnitude lands on the code range's longer (negative) end, as ggml's reference does."""
        if self.offset:
            idx = np.argmax(np.abs(s), axis=-1)[..., None]
            want = np.take_along_axis(s, idx, axis=-1) / -self.offset
        else:  # q8_0: d = amax / 127
            want = np.max(np.abs(s), axis=-1, keepdims=True) / (2 ** (self.q_bits - 1) - 1)
        if self.scale_bits == 0:  # one fp16 scale per block (q4_0, q8_0)
            step = _fp16(want)
        else:  # k-quants: signed sub-block scales of scale_bits against an fp16 d per block
            smax = 2 ** (self.scale_bits - 1) - 1
            d = _fp16(np.max(np.abs(want), axis=-2, keepdims=True) / smax)
            with np.errstate(divide="ignore", invalid="ignore"):
                sc = np.where(d > 0, np.clip(np.rint(want / np.where(d > 0, d, 1)), -smax - 1, smax), 0)
            step = d * sc
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(step != 0, np.rint(s / np.where(step != 0, step, 1)), 0) + self.offset
        codes = np.clip(q, *self.code_range)
        step = np.broadcast_to(step, s.shape[:-1] + (1,)).copy()
        return codes, step, step * self.offset

    def _affine(self, s, top):
        """q2_k / q4_k: x = d*sc*q - dmin*m with the sub-block minimum clipped to <= 0."""
        lo = np.minimum(s.min(axis=-1, keepdims=True), 0.0)
        hi = s.max(axis=-1, keepdims=True)
        want_sc, want_m = (hi - lo) / top, -lo  # ideal step and (positive) offset per sub-block
        smax, mmax = 2 ** self.scale_bits - 1, 2 ** self.min_bits - 1
        d = _fp16(np.max(want_sc, axis=-2, keepdims=True) / smax)
        dmin = _fp16(np.max(want_m, axis=-2, keepdims=True) / mmax)
        with np.errstate(divide="ignore", invalid="ignore"):
            sc = np.where(d > 0, np.clip(np.rint(want_sc / np.where(d > 0, d, 1)), 0, smax), 0)
            m = np.where(dmin > 0, np.clip(np.rint(want_m / np.where(dmin > 0, dmin, 1)), 0, mmax), 0)
        step, zero = d * sc, dmin * m
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(step > 0, np.rint((s + zero) / np.where(step > 0, step, 1)), 0)
        return np.clip(q, 0, top), step, zero

    def dequantize(self, q: QTensor) -> np.ndarray:
        if not isinstance(q, QTensor):
            return super().dequantize(q)  # raises the standard error
        y = q.codes * q.scale - q.zero_point
        y = y.reshape(y.shape[:-2] + (self.block,))
        return _unblock(y, q.shape)


# ggml-common.h block structs: (q bits, block, sub-block, scale bits, min bits, offset, bytes)
GGUF_TYPES = {
    "q4_0": (4, 32, 32, 0, 0, 8, 2 + 16),
    "q8_0": (8, 32, 32, 0, 0, 0, 2 + 32),
    "q2_k": (2, 256, 16, 4, 4, 0, 16 + 64 + 2 + 2),
    "q3_k": (3, 256, 16, 6, 0, 4, 32 + 64 + 12 + 2),
    "q4_k": (4, 256, 32, 6, 6, 0, 2 + 2 + 12 + 128),
    "q6_k": (6, 256, 16, 8, 0, 32, 128 + 64 + 16 + 2),
    "iq4_nl": (4, 32, 32, 0, 0, 0, 2 + 16),
}

# ggml-common.h kvalues_iq4nl: the 16 non-linear levels of IQ4_NL (llama.cpp PR #5590)
IQ4NL_VALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113],
                        dtype=np.float64)


@dataclass(frozen=True, repr=False)
class IQ4NLFormat(GGUFFormat):
    """IQ4_NL: blocks of 32 with an fp16 scale, 4-bit codes index a fixed non-linear table
    (``x = d * kvalues[q]``). llama.cpp's quantizer falls back to it for k-quant tensors whose
    row length is not a multiple of 256. Quantization: d = signed block maximum / -127 and the
    nearest level per element (quantize_row_iq4_nl_ref's start point, without its scale search)."""

    @property
    def code_range(self) -> tuple[int, int]:
        return 0, 15

    @property
    def max_value(self) -> float:
        return 127.0

    def grid(self) -> np.ndarray:
        return IQ4NL_VALUES.copy()

    def quantize(self, x) -> QTensor:
        a = _as_float_array(x, self.name)
        _check_scalable(a, self.name)
        s = _block(a, self.block)[..., None, :]  # (..., nb, 1, 32)
        idx = np.argmax(np.abs(s), axis=-1)[..., None]
        d = _fp16(np.take_along_axis(s, idx, axis=-1) / IQ4NL_VALUES[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(d != 0, s / np.where(d != 0, d, 1), 0.0)
        codes = np.argmin(np.abs(r[..., None] - IQ4NL_VALUES), axis=-1).astype(np.float64)
        return QTensor(codes, d, np.zeros_like(d), a.shape, self.name)

    def dequantize(self, q: QTensor) -> np.ndarray:
        if not isinstance(q, QTensor):
            return super().dequantize(q)  # raises the standard error
        y = IQ4NL_VALUES[q.codes.astype(int)] * q.scale
        return _unblock(y.reshape(y.shape[:-2] + (self.block,)), q.shape)


def gguf_format(name: str) -> GGUFFormat:
    return (IQ4NLFormat if name == "iq4_nl" else GGUFFormat)(name, *GGUF_TYPES[name])
