"""FPGA arithmetic: DSP48E2/DSP58 multiply and low-precision packing, PCIN/PCOUT cascades, LUT-fabric
multipliers/adders/shifters and Kulisch accumulators. Resource counts per multiply-accumulate.

Conventions (all sourced next to the constants below):

* **Accumulator width** (Aggarwal et al., FPL'24 §III, paper-claims.md §6): integers
  ``ra + rb + ceil(log2 n) + 1`` (the A2Q bound the paper quotes; for two signed operands it is one bit
  above the tight ``ra + rb + ceil(log2 n)``); minifloats, exact (Kulisch) accumulation
  ``2^ea + ma + 2^eb + mb + ceil(log2 n) - 1``. The minifloat formula counts every exponent code as
  finite (hwsim's ``fpN_eXmY`` / OCP fp4/fp6 with ``special="none"``) and includes subnormals: it is
  then exact for n a power of two (``tests/models/test_fpga.py`` checks it against the value grids);
  for IEEE-style formats (fp8_e5m2, fp16 ...) whose top binade is reserved it is an upper bound.
  Mixed int x float operands use the same sum of per-operand terms (int: ``r + 1``, float:
  ``2^e + m``) minus one, which reproduces both published formulas.
* **DSP packing** (products per DSP per cycle): DSP48E2 (27x18): two <=8-bit products sharing one
  operand (WP486), four <=4-bit products (WP521; FINN ``mvu_4sx4u``: ceil(PE/4) DSPs); DSP58 (27x24):
  a three-element INT8 (9b x 8b) dot product in INT8 mode (AM004, UG1273; FINN ``mvu_8sx9``), four
  <=4-bit products as on DSP48E2. One product per DSP up to 27x18 / 27x24, tiled beyond.
* **Packed cascades**: products packed into one accumulator word are separated by a fixed lane
  spacing (WP486: the second INT8 operand at 2^18); a chain may accumulate only as many packed
  products as the guard bits hold before a lane spills into its neighbour: floor((2^(s-1) - 1) /
  max|product|) = 7 for INT8 with s = 18. Longer dot products are cut into segments whose sums leave
  the chain into fabric adders. Each packed lane beyond the first needs a correction adder (the
  lower lane's sign borrows from the upper one, WP486). The DSP58 INT8 dot-product mode accumulates
  at full 58-bit width (no correction, no spill).
* **LUT fabric** integer multiplier: ``(2 ceil((W + A) / 6) - 1) (W + A)`` LUT6s (the FINN-R cost
  model, Xilinx/finn ``MatrixVectorActivation.lut_estimation``); a ripple-carry adder or accumulator
  is one LUT per bit (the carry chain sits beside the LUTs). A minifloat MAC is a sign XOR, an
  exponent adder, hidden-bit detection, the (ma+1)x(mb+1) significand multiplier, a barrel shifter
  that places the product in the Kulisch word (one 4:1 mux level -- one LUT6 -- per two select
  bits per output bit) and the add/subtract accumulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ... import formats as _formats
from ...errors import ConfigError, UnsupportedError

# lane spacing (bits) of packed products in the DSP accumulator word
PACK_SPACING_BITS = {2: 18,   # WP486: second INT8 at 2^18 in the 27-bit pre-adder path
                     4: 11}   # assumption: four <=4-bit products in a 48-bit P word -> 48 // 4 = 12, one
#                              bit lost to the sign-extension of the packed pre-adder input
MULT_BITS = {"DSP48E2": (27, 18), "DSP58": (27, 24)}          # UG579; AM004
ACC_BITS = {"DSP48E2": 48, "DSP58": 58}                       # UG579; AM004


@dataclass(frozen=True)
class Operand:
    """A multiplier operand: integer (``bits``) or minifloat (``exp_bits``, ``man_bits``)."""

    name: str
    is_float: bool
    bits: int
    exp_bits: int = 0
    man_bits: int = 0

    @property
    def acc_term(self) -> int:
        """This operand's share of the accumulator width (module docstring)."""
        return 2 ** self.exp_bits + self.man_bits if self.is_float else self.bits + 1

    @property
    def significand_bits(self) -> int:
        return self.man_bits + 1 if self.is_float else self.bits


def operand(fmt: str) -> Operand:
    """The element arithmetic of a format name (scaled formats: their element; the per-group scale
    is applied once per group output, outside the MAC)."""
    f = _formats.get(fmt)
    el = getattr(f, "element", f)
    if el.kind == "float":
        return Operand(f.name, True, el.bits, el.exp_bits, el.man_bits)
    if el.kind == "int":
        return Operand(f.name, False, el.bits)
    if el.kind in ("binary", "bipolar"):
        return Operand(f.name, False, max(1, el.bits))
    if el.kind == "ternary":
        return Operand(f.name, False, 2)
    raise UnsupportedError(f"format {fmt!r} ({el.kind}): FPGA MACs take integer or minifloat "
                           "operands (intN, intN_gK, fpN_eXmY, mx*, nvfp4)")


def _log2n(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n = {n!r}: expected the dot-product length, a positive integer")
    return math.ceil(math.log2(n)) if n > 1 else 0


def accumulator_bits(weights: str, activations: str, n: int) -> int:
    """Bits of an accumulator that sums ``n`` exact products without overflow.

    >>> accumulator_bits("int8", "int8", 4608)      # 8 + 8 + 13 + 1
    30
    >>> accumulator_bits("fp6_e2m3", "fp6_e2m3", 4608)   # 4 + 3 + 4 + 3 + 13 - 1
    26
    """
    a, w = operand(activations), operand(weights)
    return a.acc_term + w.acc_term + _log2n(n) - 1


# --------------------------------------------------------------------------- DSP slices

def products_per_dsp(dsp_type: str, w_bits: int, a_bits: int, packing: bool = True) -> float:
    """Integer products one DSP slice computes per cycle (< 1: DSPs per product for wide operands).
    ``packing=False``: one product per DSP however narrow the operands (no packing, no correction
    logic, no guard-bit limit on the cascade).

    >>> products_per_dsp("DSP48E2", 8, 8), products_per_dsp("DSP58", 8, 8), products_per_dsp("DSP48E2", 4, 4)
    (2, 3, 4)
    """
    if dsp_type not in MULT_BITS:
        raise ConfigError(f"dsp_type = {dsp_type!r}: expected one of {', '.join(MULT_BITS)}")
    lo, hi = sorted((w_bits, a_bits))
    if not packing and hi <= MULT_BITS[dsp_type][0] and lo <= MULT_BITS[dsp_type][1]:
        return 1
    if hi <= 4:
        return 4
    if dsp_type == "DSP58" and lo <= 8 and hi <= 9:
        return 3
    if hi <= 8:
        return 2
    big, small = MULT_BITS[dsp_type]
    if hi <= big and lo <= small:
        return 1
    # signed tiles lose one bit per port to the sign
    return 1.0 / (math.ceil(hi / (big - 1)) * math.ceil(lo / (small - 1)))


def packed_chain_limit(dsp_type: str, w_bits: int, a_bits: int, max_cascade: int,
                       packing: bool = True) -> int:
    """How many DSPs one cascade may accumulate before a packed lane spills (module docstring)."""
    p = products_per_dsp(dsp_type, w_bits, a_bits, packing)
    if p <= 1 or (dsp_type == "DSP58" and p == 3):
        return max_cascade
    spacing = PACK_SPACING_BITS[int(p)]
    max_prod = 2 ** (w_bits - 1) * 2 ** (a_bits - 1)
    return max(1, min(max_cascade, (2 ** (spacing - 1) - 1) // max_prod))


@dataclass(frozen=True)
class ChainPlan:
    """A dot product of length ``n`` on DSP cascades: DSPs, segments and the fabric behind them."""

    dsps: int
    segments: int
    segment_dsps: int
    fabric_adder_luts: int
    correction_luts: int
    ffs: int


def dsp_chain(dsp_type: str, w_bits: int, a_bits: int, n: int, max_cascade: int,
              acc_bits: int, packing: bool = True) -> ChainPlan:
    """Map one length-``n`` dot product (one output) onto PCOUT->PCIN cascades.

    Each DSP contributes ``products_per_dsp`` terms (packed lanes carry *different* outputs that
    share the broadcast operand, so per output a packed DSP counts once per lane); a cascade is
    cut into segments at the packing guard-bit limit and at ``max_cascade``; segment sums are
    added by a fabric adder tree of ``acc_bits`` adders; packed lanes need one correction adder
    each per segment.
    """
    p = products_per_dsp(dsp_type, w_bits, a_bits, packing)
    if p < 1:
        raise UnsupportedError(f"{w_bits}x{a_bits}-bit products need {1 / p:g} DSPs each; "
                               "tiled wide multipliers are not cascaded by this model")
    terms_per_dsp = 3 if (dsp_type == "DSP58" and p == 3) else 1
    lanes = int(p) // terms_per_dsp
    dsps_per_output = math.ceil(n / terms_per_dsp)
    limit = packed_chain_limit(dsp_type, w_bits, a_bits, max_cascade, packing)
    seg = min(limit, dsps_per_output)
    segments = math.ceil(dsps_per_output / seg)
    seg_bits = min(ACC_BITS[dsp_type] // lanes, acc_bits)
    adders = (segments - 1) * acc_bits
    correction = (lanes - 1) * segments * seg_bits // lanes if lanes > 1 else 0
    # dsps shared by `lanes` outputs: per output 1/lanes of each
    return ChainPlan(dsps=math.ceil(dsps_per_output / lanes), segments=segments, segment_dsps=seg,
                     fabric_adder_luts=adders, correction_luts=correction,
                     ffs=adders + (acc_bits if segments > 1 else 0))


# --------------------------------------------------------------------------- LUT fabric

def lut_int_multiplier(w_bits: int, a_bits: int) -> int:
    """LUT6s of a W x A integer multiplier (FINN-R cost model)."""
    s = w_bits + a_bits
    if min(w_bits, a_bits) == 1:  # a 1-bit operand gates the other: one LUT per output bit
        return max(w_bits, a_bits)
    return (2 * math.ceil(s / 6) - 1) * s


def lut_adder(bits: int) -> int:
    """A ripple-carry adder on the carry chain: one LUT per bit."""
    return bits


def lut_shifter(width: int, positions: int) -> int:
    """Barrel shifter placing a ``width``-bit value at one of ``positions`` offsets: each output bit
    is a ``positions``:1 mux; a LUT6 is a 4:1 mux, so one LUT per bit per two select bits."""
    if positions <= 1:
        return 0
    sel = math.ceil(math.log2(positions))
    return width * math.ceil(sel / 2)


@dataclass(frozen=True)
class MACResources:
    """Resources of one multiply-accumulate unit (per product lane; DSP may be fractional)."""

    lut: float
    ff: float
    dsp: float
    acc_bits: int
    impl: str
    breakdown: dict

    def as_dict(self) -> dict:
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp}


def lut_mac(weights: str, activations: str, n: int) -> MACResources:
    """A MAC built from LUTs and FFs only (module docstring)."""
    a, w = operand(activations), operand(weights)
    acc = accumulator_bits(weights, activations, n)
    if not a.is_float and not w.is_float:
        mult = lut_int_multiplier(w.bits, a.bits)
        parts = {"multiplier": mult, "accumulator": lut_adder(acc)}
        ff = a.bits + w.bits + (a.bits + w.bits) + acc  # operand, product and accumulator registers
        return MACResources(sum(parts.values()), ff, 0.0, acc, "lut", parts)
    # minifloat (or mixed) Kulisch MAC; an integer operand is a float with no exponent
    ea, eb = a.exp_bits, w.exp_bits
    sig = lut_int_multiplier(w.significand_bits, a.significand_bits)
    exp_add = lut_adder(max(ea, eb) + 1) if (ea and eb) else 0
    hidden = sum(math.ceil(e / 6) for e in (ea, eb) if e)  # exponent field != 0
    positions = (2 ** ea - 1 if ea else 0) + (2 ** eb - 1 if eb else 0) + 1
    prod_bits = w.significand_bits + a.significand_bits
    shifted = acc - _log2n(n)  # the product's span in the Kulisch word (with sign)
    parts = {"sign": 1, "exponent_add": exp_add, "hidden_bit": hidden, "significand_mult": sig,
             "align_shifter": lut_shifter(shifted, positions), "accumulator": lut_adder(acc)}
    exp_reg = max(ea, eb) + 1 if (ea or eb) else 0
    ff = a.bits + w.bits + (prod_bits + exp_reg + 1) + shifted + acc
    return MACResources(sum(parts.values()), ff, 0.0, acc, "lut", parts)


def dsp_mac(weights: str, activations: str, n: int, dsp_type: str, max_cascade: int) -> MACResources:
    """One product lane of a DSP cascade computing length-``n`` dot products, amortized per MAC."""
    a, w = operand(activations), operand(weights)
    if a.is_float or w.is_float:
        raise UnsupportedError(f"{dsp_type} integer modes cannot multiply {weights} x {activations} "
                               "minifloats; use the LUT fabric (impl='lut')")
    acc = accumulator_bits(weights, activations, n)
    plan = dsp_chain(dsp_type, w.bits, a.bits, n, max_cascade, acc)
    p = products_per_dsp(dsp_type, w.bits, a.bits)
    per = 1.0 / n  # amortize one output's chain over its n MACs
    lut = (plan.fabric_adder_luts + plan.correction_luts) * per
    return MACResources(lut, plan.ffs * per, 1.0 / p, acc, "dsp",
                        {"fabric_adders": plan.fabric_adder_luts * per,
                         "correction": plan.correction_luts * per, "segments": plan.segments})


def default_impl(weights: str, activations: str, dsp_type: str) -> str:
    """Where a MAC goes by default: DSP slices for integers of >= 4 bits, LUT fabric for minifloats
    and 2-3-bit integers (a DSP wastes most of its 27x18 multiplier on them)."""
    a, w = operand(activations), operand(weights)
    if a.is_float or w.is_float or max(a.bits, w.bits) <= 3:
        return "lut"
    return "dsp"


def mac_resources(weights: str, activations: str, n: int, device, impl: str = "auto") -> MACResources:
    """LUT, FF and DSP count of one MAC of ``weights`` x ``activations`` summing length-``n`` dot
    products on ``device`` (a name or :class:`~hwsim.families.fpga.devices.Device`).

    ``impl``: ``"dsp"`` (packed DSP cascades), ``"lut"`` (fabric only) or ``"auto"``
    (:func:`default_impl`).

    >>> r = mac_resources("int8", "int8", 4608, "u280")
    >>> r.dsp, r.impl
    (0.5, 'dsp')
    """
    from .devices import Device, get_device
    dev = device if isinstance(device, Device) else get_device(device)
    if impl == "auto":
        impl = default_impl(weights, activations, dev.dsp_type)
    if impl == "lut":
        return lut_mac(weights, activations, n)
    if impl == "dsp":
        return dsp_mac(weights, activations, n, dev.dsp_type, dev.max_cascade)
    raise ConfigError(f"impl = {impl!r}: expected 'auto', 'dsp' or 'lut'")
