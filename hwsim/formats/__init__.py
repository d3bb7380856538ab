"""Number-format registry: ``hwsim.formats.get(name)`` resolves every format name hwsim knows.

Names (see ``names()`` for the full list):

* ``intN`` (symmetric, N = 2..16), ``intN_asym`` (affine, zero point), ``uintN`` (affine, unsigned)
* ``intN_gK`` / ``uintN_gK`` / ``intN_gK_zp`` — group of K with an fp16 scale (and zero point)
* ``binary``, ``ternary``, ``bipolar_intN``
* ``fp4_e2m1`` (``fp4``), ``fp6_e2m3``, ``fp6_e3m2``, ``fp8_e4m3`` (``fp8``), ``fp8_e5m2``, ``fp16``,
  ``bf16``, ``tf32``, ``fp32`` and any ``fpN_eXmY`` / ``eXmY`` minifloat (all codes finite)
* ``mxfp4``, ``mxfp6_e2m3``, ``mxfp6_e3m2``, ``mxfp8_e4m3``, ``mxfp8_e5m2``, ``mxint8``, ``nvfp4``

>>> from hwsim import formats
>>> f = formats.get("fp8_e4m3")
>>> f.bits, f.storage_bits, f.max_value
(8, 8.0, 448.0)
"""

from __future__ import annotations

import functools
import re

from ..errors import HwsimError, UnknownNameError
from .base import (BinaryFormat, BipolarIntFormat, FixedPointFormat, FloatFormat, GroupFormat,
                   IntFormat, MXFormat, NumberFormat, NVFP4Format, QTensor, TernaryFormat)
from .metrics import mse, quantization_error, sqnr_db
from . import mixture as _mixture  # BitMoD / ANT / OliVe weight types
from .gguf import GGUF_TYPES, GGUFFormat, gguf_format  # llama.cpp quantization types

__all__ = ["get", "names", "NumberFormat", "QTensor", "FloatFormat", "IntFormat", "GroupFormat",
           "MXFormat", "NVFP4Format", "BinaryFormat", "TernaryFormat", "BipolarIntFormat",
           "FixedPointFormat", "mse", "sqnr_db", "quantization_error"]

_FLOATS = {
    # name: (E, M, special, container bits)   sources: known-designs.md §6.1
    "fp4_e2m1": (2, 1, "none", None),
    "fp6_e2m3": (2, 3, "none", None),
    "fp6_e3m2": (3, 2, "none", None),
    "fp8_e4m3": (4, 3, "fn", None),
    "fp8_e5m2": (5, 2, "ieee", None),
    "fp16": (5, 10, "ieee", None),
    "bf16": (8, 7, "ieee", None),
    "tf32": (8, 10, "ieee", 32),  # 19-bit tensor-core format, stored as fp32
    "fp32": (8, 23, "ieee", None),
}
_ALIASES = {"fp4": "fp4_e2m1", "fp8": "fp8_e4m3", "e4m3": "fp8_e4m3", "e5m2": "fp8_e5m2",
            "e2m1": "fp4_e2m1", "half": "fp16", "float16": "fp16", "bfloat16": "bf16",
            "float32": "fp32", "float": "fp32", "mxfp8": "mxfp8_e4m3", "mxfp6": "mxfp6_e3m2",
            "int1": "binary", "bint": "bipolar_int"}
_MX_ELEMENTS = {"mxfp4": "fp4_e2m1", "mxfp6_e2m3": "fp6_e2m3", "mxfp6_e3m2": "fp6_e3m2",
                "mxfp8_e4m3": "fp8_e4m3", "mxfp8_e5m2": "fp8_e5m2"}

_RE_INT = re.compile(r"^(u?)int(\d+)(_asym)?$")
_RE_GROUP = re.compile(r"^(u?)int(\d+)_g(\d+)(_zp)?$")
_RE_FLOAT = re.compile(r"^(?:fp(\d+)_)?e(\d+)m(\d+)$")
_RE_BIPOLAR = re.compile(r"^bipolar_int(\d+)$")


def names() -> list[str]:
    """Canonical format names (patterns such as ``int5_g64`` or ``fp7_e3m3`` also resolve)."""
    out = [f"int{n}" for n in range(2, 17)] + [f"uint{n}" for n in (2, 4, 8, 16)]
    out += ["int8_asym", "int4_asym", "binary", "ternary"] + [f"bipolar_int{n}" for n in range(1, 9)]
    out += list(_FLOATS) + list(_MX_ELEMENTS) + ["mxint8", "nvfp4"]
    out += [f"int{n}_g{g}" for n in (2, 3, 4, 8) for g in (32, 64, 128)]
    out += ["uint4_g128", "int4_g128_zp"]
    out += _mixture.NAMES
    out += list(GGUF_TYPES)
    return out


def get(name: str | NumberFormat) -> NumberFormat:
    """Resolve a format name (or pass a NumberFormat through).

    Raises :class:`hwsim.errors.UnknownNameError` listing close matches for unknown names.
    """
    if isinstance(name, str):  # hot path: ops resolve their formats on every bytes/flops query
        f = _RESOLVED.get(name)
        if f is not None:
            return f
    elif isinstance(name, NumberFormat):
        return name
    if not isinstance(name, str):
        raise HwsimError(f"format must be a name string, got {type(name).__name__} {name!r}")
    key = name.strip().lower()
    f = _get(_ALIASES.get(key, key))
    _RESOLVED[name] = f
    return f


_RESOLVED: dict[str, NumberFormat] = {}


@functools.lru_cache(maxsize=None)
def _get(key: str) -> NumberFormat:
    if key in _FLOATS:
        e, m, special, container = _FLOATS[key]
        return FloatFormat(key, e, m, special, container_bits=container)
    if (mm := _RE_FLOAT.match(key)) is not None:
        total, e, m = mm.groups()
        e, m = int(e), int(m)
        if total is not None and int(total) != 1 + e + m:
            raise HwsimError(f"format {key!r}: fp{total} cannot have E={e} M={m} "
                             f"(1 + {e} + {m} = {1 + e + m} bits)")
        canonical = f"fp{1 + e + m}_e{e}m{m}"
        return FloatFormat(canonical, e, m, "none")
    if (mm := _RE_INT.match(key)) is not None:
        u, n, asym = mm.groups()
        n = int(n)
        _check_int_bits(key, n, 1 if u else 2, hi=32)  # int32: accumulator / GEMM output
        return IntFormat(key, n, signed=not u, symmetric=not (u or asym))
    if (mm := _RE_GROUP.match(key)) is not None:
        u, n, g, zp = mm.groups()
        n, g = int(n), int(g)
        _check_int_bits(key, n, 1 if (u or zp) else 2)
        if g < 1:
            raise HwsimError(f"format {key!r}: group size must be >= 1")
        elem = IntFormat(f"{u}int{n}" + ("_asym" if zp and not u else ""), n, signed=not u,
                         symmetric=not (u or zp))
        return GroupFormat(key, elem, g, _get("fp16"))
    if (mm := _RE_BIPOLAR.match(key)) is not None:
        n = int(mm.group(1))
        _check_int_bits(key, n, 1)
        return BipolarIntFormat(key, n)
    if key == "binary":
        return BinaryFormat()
    if key == "ternary":
        return TernaryFormat()
    if key in _MX_ELEMENTS:
        return MXFormat(key, _get(_MX_ELEMENTS[key]), 32)
    if key == "mxint8":
        return MXFormat(key, FixedPointFormat("int8_q6", 8, 6), 32)
    if key in GGUF_TYPES:
        return gguf_format(key)
    if key == "nvfp4":
        return NVFP4Format(key, _get("fp4_e2m1"), _get("fp8_e4m3"), 16)
    if (mix := _mixture.make(key)) is not None:
        return mix
    raise UnknownNameError("format", key, names())


def _check_int_bits(key: str, n: int, lo: int, hi: int = 16) -> None:
    if not lo <= n <= hi:
        raise HwsimError(f"format {key!r}: integer bits must be in {lo}..{hi}, got {n}")
