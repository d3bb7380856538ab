"""Component-level area/energy of tensor-core tiles, shared by the LUT core and the MAC baseline.

A tile computes an M x N x K slice of a GEMM per step. Every cost comes from a technology table
(:mod:`hwsim.tech`) through a named component, and a breakdown keeps each one so a report can show
where area and energy go. Units: um^2 and pJ per cycle (per step of the tile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import formats as _formats
from ..errors import UnsupportedError


@dataclass
class Breakdown:
    area_um2: dict[str, float] = field(default_factory=dict)
    energy_pj: dict[str, float] = field(default_factory=dict)  # per cycle (one tile step)

    def add(self, name: str, area: float, energy: float) -> None:
        self.area_um2[name] = self.area_um2.get(name, 0.0) + area
        self.energy_pj[name] = self.energy_pj.get(name, 0.0) + energy

    @property
    def total_area_um2(self) -> float:
        return sum(self.area_um2.values())

    @property
    def total_energy_pj(self) -> float:
        return sum(self.energy_pj.values())


def adder(tech, fmt_name: str, metric: str) -> float:
    """An adder for values in ``fmt_name`` (fp formats: FP adder; integers: integer adder)."""
    f = _formats.get(fmt_name)
    fn = tech.energy_pj if metric == "energy" else tech.area_um2
    if f.is_float:
        return fn("fp_add", exp_bits=f.exp_bits, man_bits=f.man_bits)
    return fn("int_add", bits=f.bits)


def acc_format(act: str) -> str:
    """Accumulator of a tensor core for activations ``act``: fp32 for floats, int32 for ints
    (what NVIDIA tensor cores and the LUT Tensor Core RTL use)."""
    return "fp32" if _formats.get(act).is_float else "int32"


def lut_acc_format(act: str, table_fmt: str) -> str:
    """The LUT core's per-output accumulator. Float activations: the table-entry format (the
    authors' RTL accumulates FP16 entries with a DW_fp_add of the same width, C_BIT = A_LUT_BIT,
    Hamerlate/lut_tensor_core fp_lut_array_b_cycle_stage1.sv). Integer activations: int16 (the
    INT RTL is not public; 16 bits hold a 10-bit entry shifted by up to 4 weight bits plus guard
    bits: an assumption)."""
    return table_fmt if _formats.get(act).is_float else "int16"


def table_entry_bits(act: str, k: int, table_format: str | None) -> tuple[str, int]:
    """Format and width of a LUT entry: a sum of up to k activations. Integer activations grow by
    ceil(log2 k) bits unless the table is quantized (``table_format``); float entries keep the
    activation format."""
    if table_format:
        return table_format, _formats.get(table_format).bits
    f = _formats.get(act)
    if f.is_float:
        return act, f.bits
    bits = f.bits + math.ceil(math.log2(k))
    return f"int{bits}", bits


def weight_planes(fmt_name: str) -> int:
    """Bit-planes a LUT datapath needs for a weight format (ternary: 2, binary: 1, intN: N);
    shared by the LUT core (``lut``) and the LUT GPU (``lut_gpu``)."""
    f = _formats.get(fmt_name)
    if f.kind in ("binary",):
        return 1
    if f.kind in ("ternary",):
        return 2
    if f.kind in ("int", "group", "bipolar"):
        return f.bits
    raise UnsupportedError(f"LUT core: weights {fmt_name} are not integer/binary/ternary; a LUT "
                           "core looks up sums for integer weight bit patterns")


def mac_tile(tech, m: int, n: int, k: int, act: str, weight: str) -> Breakdown:
    """M x N dot-product units of length K (a tensor-core-like MAC tile): K multipliers and a
    K-input adder tree per output, then the accumulator adder and register. Mixed formats
    multiply at the wider operand's precision (weights dequantized first)."""
    a, w = _formats.get(act), _formats.get(weight)
    acc = acc_format(act if a.bits >= w.bits else weight)
    wide = act if a.bits >= w.bits else weight
    b = Breakdown()
    mul_e = tech.energy_pj("mac", a=wide, w=wide, acc=acc) - adder(tech, acc, "energy")
    mul_a = tech.area_um2("mac", a=wide, w=wide, acc=acc) - adder(tech, acc, "area")
    outs = m * n
    b.add("multipliers", outs * k * mul_a, outs * k * mul_e)
    wf = _formats.get(wide)
    if wf.is_float:
        # Tensor cores align the K products to the largest exponent and add them in one
        # fixed-point tree, without intermediate normalization or rounding (Fasi et al.,
        # "Numerical behavior of NVIDIA tensor cores", PeerJ CS 2021): K alignment shifters and
        # K-1 integer adders as wide as the accumulator significand plus guard bits.
        width = _formats.get(acc).man_bits + 3 if _formats.get(acc).is_float else 2 * wf.bits
        b.add("align_shifters", outs * k * tech.area_um2("shifter", bits=width),
              outs * k * tech.energy_pj("shifter", bits=width))
        b.add("adder_tree", outs * (k - 1) * tech.area_um2("int_add", bits=width),
              outs * (k - 1) * tech.energy_pj("int_add", bits=width))
    else:
        tree = acc  # integer products summed at accumulator width
        b.add("adder_tree", outs * (k - 1) * adder(tech, tree, "area"),
              outs * (k - 1) * adder(tech, tree, "energy"))
    b.add("accumulators", outs * adder(tech, acc, "area"), outs * adder(tech, acc, "energy"))
    acc_bits = _formats.get(acc).bits
    b.add("acc_registers", tech.area_um2("register", bits=outs * acc_bits),
          tech.energy_pj("register", bits=outs * acc_bits))
    in_bits = (m * k * a.bits + k * n * w.bits)
    b.add("operand_registers", tech.area_um2("register", bits=in_bits),
          tech.energy_pj("register", bits=in_bits))
    return b


def lut_tile(tech, m: int, n: int, k: int, act: str, weight_bits: int, *, symmetric: bool,
             negation_removal: bool, precompute_in_unit: bool, table_format: str | None,
             planes_per_cycle: int = 1) -> Breakdown:
    """A LUT tensor-core tile (Mo et al., ISCA'25) for one cycle processing ``planes_per_cycle``
    weight bit-planes of an M x N x K step.

    * M tables of 2^K entries (2^(K-1) with symmetrization: the weight group's MSB picks the sign)
      hold the sums of K activations for every weight bit pattern; they are shared by the N columns.
    * Each (m, n) output and bit-plane looks up one entry with an E:1 mux, optionally negates it
      (without negation removal), and adds it into its accumulator (the plane's 2^b weight is a
      shift: an exponent add for floats, wiring for integers).
    * Tables are refilled once per K-group of activations and reused for all weight bit-planes;
      precompute in the unit costs one entry-precision add per entry (the DFG builds each entry from
      another), or nothing here when fused into the previous operator.
    """
    if weight_bits < 1:
        raise UnsupportedError(f"LUT tile: weight_bits = {weight_bits}: expected >= 1")
    entries = 2 ** (k - 1) if symmetric else 2 ** k
    tfmt, tbits = table_entry_bits(act, k, table_format)
    acc = lut_acc_format(act, tfmt)
    acc_bits = _formats.get(acc).bits
    p = planes_per_cycle
    cycles_per_refill = max(1, math.ceil(weight_bits / p))
    b = Breakdown()
    b.add("tables", tech.area_um2("register", bits=m * entries * tbits),
          tech.energy_pj("register", bits=m * entries * tbits) / cycles_per_refill)
    lookups = m * n * p
    b.add("muxes", lookups * tech.area_um2("mux", inputs=entries, bits=tbits),
          lookups * tech.energy_pj("mux", inputs=entries, bits=tbits))
    if symmetric and not negation_removal:
        # conditional negation of the looked-up entry (XOR + increment ~ an adder of its width)
        b.add("negation", lookups * adder(tech, tfmt, "area"), lookups * adder(tech, tfmt, "energy"))
    b.add("accumulators", lookups * adder(tech, acc, "area"), lookups * adder(tech, acc, "energy"))
    b.add("acc_registers", tech.area_um2("register", bits=m * n * acc_bits),
          tech.energy_pj("register", bits=m * n * acc_bits))
    wbits = k * n * p
    b.add("weight_registers", tech.area_um2("register", bits=wbits),
          tech.energy_pj("register", bits=wbits))
    if precompute_in_unit:
        adds = m * entries  # per table refill
        b.add("precompute", adds * adder(tech, tfmt, "area"),
              adds * adder(tech, tfmt, "energy") / cycles_per_refill)
    return b
