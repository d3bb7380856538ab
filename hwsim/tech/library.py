"""Technology library: area and energy per action of hardware components by process node.

Reference points live in YAML tables (``data/45nm.yaml``, ``data/7nm.yaml`` or a user's file),
each row with its source. The width dependence of each component is a small fitted rule:

* integer adder: linear in bits (fit to Horowitz's 8/16/32-bit adders);
* integer multiplier: proportional to a_bits x b_bits (quadratic for equal widths; fit to 8/32 bit);
* FP multiplier energy: integer multiplier of the (M+1)-bit significands + (E+1)-bit exponent
  adder + kappa (M+1) for rounding and normalization (kappa fitted to Horowitz's fp16/fp32 rows);
  FP multiplier area: alpha (M+1)^2 + beta E, through both Horowitz area rows. (The area rule
  applied to energy would make an fp8 multiplier cost more than an int8 one, which the FP8-vs-INT8
  literature contradicts; the energy rule misses the fp16 area row by 70%. Each metric uses the
  rule that meets its own rows.)
* FP adder: c (1+E+M)^p (alignment shifter, adder and normalizer grow a bit faster than linear);
* mux / shifter: counted in 2:1 mux bits, one 2:1 mux bit costing ``mux2_per_adder_bit`` (0.5) of an
  adder bit (an assumption: the tables have no mux row; a user table may set its own);
* register: per bit (Aladdin); SRAM read: per bit, a power law in capacity (Horowitz 8 KB..1 MB);
  SRAM area: bitcell area / 0.7 array efficiency (0.7 is an assumption); DRAM and wires: per bit.

Node scaling: a node with its own table (7 nm) uses it, per component, as a scale on the 45 nm
rule's shape. Other nodes scale 45 nm energies by interpolating, in log(node), between 1 at 45 nm
and the 7 nm / 45 nm energy ratio (geometric mean over the rows both tables have); areas scale
as (node / 45)^2 (ideal scaling: an assumption, since the tables give no area at other nodes).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._paths import read_yaml
from ..errors import ConfigError, HwsimError, UnknownNameError

DATA = Path(__file__).resolve().parent / "data"
BASE_NODE = 45
ARRAY_EFFICIENCY = 0.7  # SRAM macro: fraction of area in bitcells (assumption, see module doc)


@dataclass(frozen=True)
class Row:
    component: str
    widths: dict
    energy_pj: float | None
    area_um2: float | None
    source: str


def _rows(table: dict, where: str) -> list[Row]:
    out = []
    for i, r in enumerate(table.get("ops", []) or []):
        if not isinstance(r, dict) or "component" not in r:
            raise ConfigError(f"{where}: ops[{i}] needs a 'component' field")
        w = {k: v for k, v in r.items() if k in ("bits", "exp_bits", "man_bits")}
        out.append(Row(r["component"], w, r.get("energy_pj"), r.get("area_um2"),
                       str(r.get("source", ""))))
    return out


def _shape(component: str, w: dict) -> float:
    """The width-dependent factor of a component's fitted rule (before its fitted scale)."""
    if component == "int_add":
        return float(w["bits"])
    if component == "int_mult":
        return float(w["bits"]) * float(w.get("b_bits", w["bits"]))
    raise KeyError(component)


@dataclass
class Technology:
    """Energy (pJ per action) and area (um^2) of components at one process node.

    >>> t = load("45nm")
    >>> round(t.energy_pj("int_mult", bits=8), 3)
    0.195
    """

    name: str
    node_nm: float
    base: dict
    own: dict = field(default_factory=dict)
    where: str = ""

    def __post_init__(self):
        self._base_rows = _rows(self.base, "45nm table")
        self._own_rows = _rows(self.own, self.where) if self.own else []
        fits = {}
        for metric in ("energy_pj", "area_um2"):
            fits[metric] = self._fit_base(metric)
        self._fit = fits
        self.energy_factor, self.area_factor = self._node_factors()
        # per-component scales of this node's own rows and the SRAM capacity law: fixed for the
        # technology, so computed once here rather than on every query
        self._scales = {(c, m): self._own_scale(c, m) for c in {r.component for r in self._own_rows}
                        for m in ("energy_pj", "area_um2")}
        pts = self.base["sram_read"]
        self._sram_law = tuple(np.polyfit(np.log([p["capacity_bytes"] for p in pts]),
                                          np.log([p["energy_pj"] / p["bits"] for p in pts]), 1))

    # ------------------------------------------------------------------ fitting

    def _points(self, comp, metric, rows):
        return [(r.widths, getattr(r, metric)) for r in rows
                if r.component == comp and getattr(r, metric) is not None]

    def _fit_base(self, metric) -> dict:
        f = {}
        pts = self._points("int_add", metric, self._base_rows)
        if len(pts) >= 2:
            b = np.array([p[0]["bits"] for p in pts], float)
            v = np.array([p[1] for p in pts], float)
            slope, icpt = np.polyfit(b, v, 1)
            f["int_add"] = ("linear", float(icpt), float(slope))
        pts = self._points("int_mult", metric, self._base_rows)
        if pts:
            x = np.array([p[0]["bits"] ** 2 for p in pts], float)
            v = np.array([p[1] for p in pts], float)
            f["int_mult"] = ("prod", float((x * v).sum() / (x * x).sum()))
        pts = self._points("fp_mult", metric, self._base_rows)
        if metric == "area_um2" and len(pts) >= 2:
            A = np.array([[(p[0]["man_bits"] + 1) ** 2, p[0]["exp_bits"]] for p in pts], float)
            v = np.array([p[1] for p in pts], float)
            alpha, beta = np.linalg.lstsq(A, v, rcond=None)[0]
            f["fp_mult"] = ("fpmul_ab", float(alpha), float(beta))
        elif pts and "int_mult" in f and "int_add" in f:
            self._fit = {metric: f}  # the structured rule uses the integer fits just made
            x = np.array([p[0]["man_bits"] + 1 for p in pts], float)
            rest = np.array([v - self._int_parts(metric, w) for w, v in pts], float)
            f["fp_mult"] = ("fpmul", float((x * rest).sum() / (x * x).sum()))
        pts = self._points("fp_add", metric, self._base_rows)
        if len(pts) >= 2:
            x = np.log([1 + p[0]["exp_bits"] + p[0]["man_bits"] for p in pts])
            v = np.log([p[1] for p in pts])
            pw, lc = np.polyfit(x, v, 1)
            f["fp_add"] = ("power", float(math.exp(lc)), float(pw))
        return f

    def _base_value(self, comp: str, metric: str, w: dict) -> float:
        fit = self._fit[metric].get(comp)
        if fit is None:
            raise HwsimError(f"technology {self.name}: no {metric} data for {comp}")
        kind = fit[0]
        if kind == "linear":
            return fit[1] + fit[2] * w["bits"]
        if kind == "prod":
            return fit[1] * w["bits"] * w.get("b_bits", w["bits"])
        if kind == "fpmul_ab":
            return fit[1] * (w["man_bits"] + 1) ** 2 + fit[2] * w["exp_bits"]
        if kind == "fpmul":
            return self._int_parts(metric, w) + fit[1] * (w["man_bits"] + 1)
        return fit[1] * (1 + w["exp_bits"] + w["man_bits"]) ** fit[2]

    def _int_parts(self, metric: str, w: dict) -> float:
        """Significand multiplier plus exponent adder of an FP multiplier."""
        return (self._base_value("int_mult", metric, {"bits": w["man_bits"] + 1})
                + self._base_value("int_add", metric, {"bits": w["exp_bits"] + 1}))

    def _node_factors(self):
        """(energy, area) scale of this node relative to 45 nm, per component where the node's
        own table has rows, else the node-level interpolation."""
        e7 = _ratio_7nm()
        n = float(self.node_nm)
        t = math.log(BASE_NODE / n) / math.log(BASE_NODE / 7.0)
        return math.exp(math.log(e7) * t), (n / BASE_NODE) ** 2

    def _own_scale(self, comp: str, metric: str) -> float | None:
        pts = self._points(comp, metric, self._own_rows)
        if not pts:
            return None
        ratios = [v / self._base_value(comp, metric, w) for w, v in pts]
        return float(np.exp(np.mean(np.log(ratios))))

    def _op(self, comp: str, metric: str, w: dict) -> float:
        base = self._base_value(comp, metric, w)
        s = self._scales.get((comp, metric))
        if s is None:
            s = self.energy_factor if metric == "energy_pj" else self.area_factor
        return base * s

    # ------------------------------------------------------------------ public API

    COMPONENTS = ("int_add", "int_mult", "fp_add", "fp_mult", "fp_fma", "mac", "mux", "shifter",
                  "register", "lut", "sram_read", "sram_write", "sram", "dram", "wire")

    def energy_pj(self, component: str, **kw) -> float:
        """Energy of one action (an add, a multiply, a read of ``bits`` ...) in pJ."""
        return self._eval(component, "energy_pj", kw)

    def area_um2(self, component: str, **kw) -> float:
        """Area of one instance in um^2."""
        return self._eval(component, "area_um2", kw)

    def _eval(self, comp: str, metric: str, kw: dict) -> float:
        if comp not in self.COMPONENTS:
            raise UnknownNameError("technology component", comp, list(self.COMPONENTS))
        fn = getattr(self, "_c_" + comp)
        try:
            v = fn(metric, **kw)
        except TypeError as e:
            raise HwsimError(f"{self.name}: {comp}({', '.join(f'{k}={v}' for k, v in kw.items())})"
                             f": {e}".replace("_c_" + comp + "()", comp)) from None
        return float(v)

    @staticmethod
    def _need(name, value, lo=1):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < lo:
            raise HwsimError(f"{name} = {value!r}: expected a number >= {lo}")
        return value

    def _c_int_add(self, metric, bits):
        return self._op("int_add", metric, {"bits": self._need("bits", bits)})

    def _c_int_mult(self, metric, bits, b_bits=None):
        w = {"bits": self._need("bits", bits), "b_bits": self._need("b_bits", b_bits or bits)}
        return self._op("int_mult", metric, w)

    def _c_fp_add(self, metric, exp_bits, man_bits):
        return self._op("fp_add", metric, {"exp_bits": self._need("exp_bits", exp_bits),
                                           "man_bits": self._need("man_bits", man_bits, 0)})

    def _c_fp_mult(self, metric, exp_bits, man_bits):
        return self._op("fp_mult", metric, {"exp_bits": self._need("exp_bits", exp_bits),
                                            "man_bits": self._need("man_bits", man_bits, 0)})

    def _c_fp_fma(self, metric, exp_bits, man_bits, acc_exp_bits=None, acc_man_bits=None):
        return (self._c_fp_mult(metric, exp_bits, man_bits)
                + self._c_fp_add(metric, acc_exp_bits or exp_bits, acc_man_bits or man_bits))

    def _c_mac(self, metric, a="int8", w="int8", acc=None):
        """A multiply-accumulate unit for activation format ``a``, weight format ``w`` and
        accumulator ``acc`` (default: int32 for integer operands, fp32 for float ones)."""
        from .. import formats
        fa, fw = formats.get(a), formats.get(w)
        floaty = fa.is_float or fw.is_float
        acc = formats.get(acc or ("fp32" if floaty else "int32"))
        if floaty:
            e = max(_exp(fa), _exp(fw))
            m = max(_man(fa), _man(fw))
            mult = self._c_fp_mult(metric, e, m)
        else:
            mult = self._c_int_mult(metric, fa.bits, fw.bits)
        add = (self._c_fp_add(metric, acc.exp_bits, acc.man_bits) if acc.is_float
               else self._c_int_add(metric, acc.bits))
        return mult + add

    def _mux2_bit(self, metric):
        # a fraction of an 8-bit adder's per-bit cost: `mux2_per_adder_bit` of the table (an
        # assumption; a user table may override it)
        return self.base["mux2_per_adder_bit"]["value"] * self._c_int_add(metric, 8) / 8

    def _c_mux(self, metric, inputs, bits):
        self._need("inputs", inputs, 2)
        return (inputs - 1) * self._need("bits", bits) * self._mux2_bit(metric)

    def _c_shifter(self, metric, bits):
        b = self._need("bits", bits, 2)
        return b * math.ceil(math.log2(b)) * self._mux2_bit(metric)

    def _c_register(self, metric, bits):
        r = self.base["register"]
        per = r["energy_pj_per_bit"] if metric == "energy_pj" else r["area_um2_per_bit"]
        f = self.energy_factor if metric == "energy_pj" else self.area_factor
        return self._need("bits", bits) * per * f

    def _c_lut(self, metric, entries, bits):
        """A table of ``entries`` x ``bits`` in registers. Energy: one lookup (read mux and the
        entry's bits); area: storage plus read mux."""
        if metric == "energy_pj":
            return self._c_mux(metric, entries, bits) + self._c_register(metric, bits)
        return self._c_register(metric, entries * bits) + self._c_mux(metric, entries, bits)

    def _sram_per_bit(self, capacity_bytes):
        pw, lc = self._sram_law
        return math.exp(lc) * capacity_bytes ** pw * self.energy_factor

    def _c_sram_read(self, metric, bits, capacity_bytes):
        self._need("capacity_bytes", capacity_bytes, 64)
        if metric == "area_um2":
            return self._c_sram(metric, capacity_bytes)
        return self._need("bits", bits) * self._sram_per_bit(capacity_bytes)

    _c_sram_write = _c_sram_read  # write = read energy (assumption: the tables give reads only)

    def _c_sram(self, metric, capacity_bytes):
        if metric == "energy_pj":
            raise HwsimError("sram has area only; use sram_read / sram_write for energy")
        cell = (self.own.get("sram_bitcell_um2") or {}).get("value")
        if cell is None:
            cell = self.base["sram_bitcell_um2"]["value"] * self.area_factor
        return self._need("capacity_bytes", capacity_bytes, 1) * 8 * cell / ARRAY_EFFICIENCY

    def _c_dram(self, metric, bits, kind="hbm2"):
        if metric == "area_um2":
            raise HwsimError("dram has no on-chip area")
        table = self.base["dram_pj_per_bit"]
        if kind not in table:
            raise UnknownNameError("DRAM kind", kind, list(table))
        return self._need("bits", bits) * table[kind]["value"]  # off-chip: not node-scaled

    def _c_wire(self, metric, bits, length_mm):
        if metric == "area_um2":
            raise HwsimError("wire area is not modelled")
        return (self._need("bits", bits) * self._need("length_mm", length_mm, 0)
                * self.base["wire_pj_per_bit_mm"]["value"] * self.energy_factor)

    def sources(self) -> dict:
        return {**self.base.get("sources", {}), **(self.own.get("sources", {}) or {})}


def _exp(f) -> int:
    return getattr(f, "exp_bits", None) or getattr(getattr(f, "element", None), "exp_bits", 0) or 1


def _man(f) -> int:
    m = getattr(f, "man_bits", None)
    if m is None:
        m = getattr(getattr(f, "element", None), "man_bits", None)
    return m if m is not None else max(f.bits - 1, 0)


@functools.lru_cache(maxsize=1)
def _ratio_7nm() -> float:
    """Geometric mean of 7 nm / 45 nm energies over the rows both published tables have (the
    bundled tables: read once per process)."""
    seven = read_yaml(DATA / "7nm.yaml")
    base_rows = _rows(read_yaml(DATA / "45nm.yaml"), "45nm")
    r = []
    for s in _rows(seven, "7nm"):
        for b in base_rows:
            if b.component == s.component and b.widths == s.widths and s.energy_pj and b.energy_pj:
                r.append(s.energy_pj / b.energy_pj)
    return float(np.exp(np.mean(np.log(r))))


def list_nodes() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.yaml"))


@functools.lru_cache(maxsize=None)
def _parsed(name: str) -> dict:
    return read_yaml(DATA / name)


def _bundled(name: str) -> dict:
    """A bundled table, parsed once per process (every model instance loads its technology;
    exploration builds one per hardware design); a fresh copy, so callers may change it."""
    import copy
    return copy.deepcopy(_parsed(name))


def load(name_or_path: str | Path = "45nm") -> Technology:
    """A technology: ``"45nm"``, ``"7nm"`` (own tables), any ``"<N>nm"`` between 3 and 180
    (45 nm scaled, see the module doc), or the path of a user YAML table. A user table may set
    ``node_nm`` and override ``ops``, ``sram_bitcell_um2`` ...; rows it lacks come from 45 nm.
    """
    base = _bundled("45nm.yaml")
    p = Path(str(name_or_path))
    if p.suffix in (".yaml", ".yml") or p.exists():
        own = read_yaml(p)
        node = own.get("node_nm")
        if not isinstance(node, (int, float)) or not 3 <= node <= 180:
            raise ConfigError(f"{p}: field 'node_nm' = {node!r}: expected a node in nm (3..180)")
        merged = {**base, **{k: v for k, v in own.items() if k not in ("ops", "sources")}}
        return Technology(str(own.get("name", p.stem)), node, merged, own, str(p))
    key = str(name_or_path).strip().lower()
    if key == "45nm":
        return Technology("45nm", 45, base)
    if (DATA / f"{key}.yaml").exists():
        own = _bundled(f"{key}.yaml")
        return Technology(key, own["node_nm"], base, own, str(DATA / f"{key}.yaml"))
    if key.endswith("nm"):
        try:
            node = float(key[:-2])
        except ValueError:
            node = None
        if node is not None and 3 <= node <= 180:
            return Technology(key, node, base)
    raise UnknownNameError("technology", str(name_or_path), list_nodes() + ["<N>nm (3..180)"])
