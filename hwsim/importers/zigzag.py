"""ZigZag accelerator YAML -> a ``mac_array`` arch spec.

Schema (ZigZag ``zigzag/parser/accelerator_validator.py`` and ``docs/source/hardware.rst``,
https://github.com/KULeuven-MICAS/zigzag): ``name``; ``operational_array`` with ``dimensions``
(``D1``, ``D2`` ...), ``sizes``, ``unit_energy`` (pJ per MAC), ``unit_area``, optional
``input_precision``, ``systolic_dimensions`` (zigzag-dse 3.9: the dimensions operands move along
from MAC to MAC, as in its bundled ``tpu_like.yaml``) and IMC fields; ``memories``, each with ``size`` (bits), ``r_cost``/``w_cost``
(pJ per access of one port word), ``area``, ``latency``, ``operands`` (``I1`` inputs, ``I2``
weights, ``O`` outputs), ``ports`` (``bandwidth_min``/``bandwidth_max`` in bits per cycle, and an
``allocation``) and ``served_dimensions`` (the array dimensions one instance serves: ``[]`` is
one instance per MAC); optional ``dataflows`` (``D1: ["K, 32"]``: the loop unrolled on a
dimension).

Mapping onto ``mac_array`` (:mod:`hwsim.families.mac_array.model`):

* ``rows``, ``cols`` = the sizes of ``D1``, ``D2`` (a 1-D array has ``cols = 1``; 3-D or IMC arrays
  are an UnsupportedError).
* ``systolic_dimensions``: checked to name array dimensions and listed in the description.
  ``mac_array`` costs the same tiles and stationary operand whether operands are broadcast or
  passed MAC to MAC; the systolic fill/drain skew (rows + cols cycles per tile) is not added.
* ``dataflow``: from ``dataflows`` when given (K and C unrolled -> weight stationary; K with
  OX/OY/B -> output stationary; C with OX/OY/B -> input stationary), else from the operand whose
  per-MAC memory (``served_dimensions: []``) is largest (I2 -> weight, O -> output, I1 -> input
  stationary), else the caller passes ``dataflow``.
* ``input/weight/output_buffer_bytes``: the largest on-chip memory level holding I1 / I2 / O,
  times its instances; a memory shared by several operands is split equally among them (as the
  hand-written mirror ``hwsim/families/mac_array/data/tpu_like_hwsim.yaml`` does). Off-chip: the largest
  memory (or ``mem_type: dram``).
* ``mem_bandwidth_Bps``: the off-chip memory's widest port (bits per cycle) x ``clock_hz`` / 8.
* Not in a ZigZag file, so taken from the caller or defaulted (and said so in the spec's
  description): ``clock_hz`` (1 GHz: ZigZag counts cycles), ``technology`` (28 nm),
  ``activation_format``/``weight_format`` (``int{input_precision}``, else int8 -- ZigZag's
  precisions live in the workload), ``dram_kind`` (ddr3), ``vector_ops_per_s`` (one op per
  column per cycle).

Per-access energies: the ``mac_array`` model prices MACs, SRAM and DRAM from its technology
table, so ZigZag's ``unit_energy``/``r_cost``/``w_cost`` are not used by the cost. They are
returned in ``spec["energies_pj"]`` (pJ per MAC and per bit, ``r_cost / bandwidth_min``) and
listed in the description, never dropped silently. Fields outside the schema are a ConfigError
naming them.
"""

from __future__ import annotations

import math
from pathlib import Path

from .._paths import read_yaml
from ..errors import ConfigError, UnsupportedError

TOP = {"name", "operational_array", "memories", "dataflows"}
ARRAY = {"dimensions", "sizes", "unit_energy", "unit_area", "input_precision", "is_imc",
         "imc_type", "adc_resolution", "bit_serial_precision", "systolic_dimensions"}
MEMORY = {"size", "r_cost", "w_cost", "area", "latency", "mem_type", "auto_cost_extraction",
          "operands", "ports", "served_dimensions", "force_double_buffering",
          "min_r_granularity", "min_w_granularity"}
_STATIONARY = {"I2": "weight_stationary", "O": "output_stationary", "I1": "input_stationary"}


def _unknown(d: dict, allowed: set, where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise ConfigError(f"{where}: unknown ZigZag field(s) {', '.join(extra)}; expected "
                          f"{', '.join(sorted(allowed))}")


def _dataflow_from_unrolling(dataflows: dict, where: str) -> str:
    loops = set()
    for dim, items in dataflows.items():
        for it in items or []:
            loops.add(str(it).split(",")[0].strip().upper())
    pix = loops & {"OX", "OY", "B", "G", "P", "Q"}
    if {"K", "C"} <= loops:
        return "weight_stationary"
    if "K" in loops and pix:
        return "output_stationary"
    if "C" in loops and pix:
        return "input_stationary"
    raise UnsupportedError(f"{where}: dataflows unroll {sorted(loops)}; mac_array maps K x C "
                           "(weight stationary), K x OX/OY/B (output stationary) or C x OX/OY/B "
                           "(input stationary)")


def zigzag_spec(path: str | Path, given: dict | None = None) -> dict:
    """The ``mac_array`` arch spec (``name``, ``family``, ``description``, ``source``,
    ``params``) of a ZigZag hardware YAML; ``given`` params (load_arch overrides) are used
    instead of derived or default ones."""
    p = Path(path)
    data = read_yaml(p)
    given = dict(given or {})
    where = str(p)
    _unknown(data, TOP, where)
    oa, rows, cols, dim_size = _operational_array(data, where)
    levels = _levels(data, oa["dimensions"], dim_size, where)
    offchip = next((lv for lv in levels if lv["dram"]), None) or max(levels,
                                                                      key=lambda lv: lv["bits"])
    onchip = [lv for lv in levels if lv is not offchip]
    buffers = _buffers(onchip, where)
    notes = []
    systolic = _systolic(oa, where)
    if systolic:
        notes.append(f"systolic along {', '.join(systolic)} (costed as the same tiles; "
                     "fill/drain skew not added)")
    if "dataflow" in given:
        dataflow = given["dataflow"]
    elif data.get("dataflows"):
        dataflow = _dataflow_from_unrolling(data["dataflows"], f"{where}: dataflows")
    else:
        dataflow, held = _dataflow_from_memories(onchip, where)
        notes.append(f"dataflow {dataflow}: the largest per-MAC memory holds {held}")
    freq = given.get("clock_hz", 1.0e9)
    prec = oa.get("input_precision")
    fmt_a, fmt_w = (f"int{prec[0]}", f"int{prec[1]}") if prec else ("int8", "int8")
    params = dict(technology="28nm", clock_hz=freq, rows=rows, cols=cols, dataflow=dataflow,
                  activation_format=fmt_a, weight_format=fmt_w,
                  input_buffer_bytes=buffers["I1"], weight_buffer_bytes=buffers["I2"],
                  output_buffer_bytes=buffers["O"],
                  mem_bandwidth_Bps=offchip["bw_bits"] * freq / 8, dram_kind="ddr3",
                  vector_ops_per_s=cols * freq)
    defaulted = [k for k in ("technology", "clock_hz", "dram_kind", "vector_ops_per_s")
                 if k not in given] + ([] if prec else ["activation_format", "weight_format"])
    energies = _energies(oa, levels)
    desc = (f"imported from ZigZag {p.name}: {rows}x{cols} MACs, buffers from "
            f"{', '.join(lv['name'] for lv in onchip)}, off-chip {offchip['name']}. "
            + " ".join(n + "." for n in notes)
            + (f" Not in the ZigZag file, defaulted: {', '.join(defaulted)}." if defaulted else "")
            + (" Per-access energies of the file, not used by mac_array (it prices actions from"
               f" its technology table): {_fmt(energies)}." if energies else ""))
    return dict(name=str(data.get("name", p.stem)), family="mac_array", description=desc,
                source=f"ZigZag hardware YAML {p}", params=params, energies_pj=energies)


def _operational_array(data: dict, where: str) -> tuple[dict, int, int, dict]:
    """(operational_array, rows, cols, size per array dimension)."""
    oa = data.get("operational_array")
    if not isinstance(oa, dict):
        raise ConfigError(f"{where}: field 'operational_array' must be a mapping")
    _unknown(oa, ARRAY, f"{where}: operational_array")
    if oa.get("is_imc"):
        raise UnsupportedError(f"{where}: operational_array.is_imc = true (in-memory computing) "
                               "has no mac_array equivalent")
    dims, sizes = oa.get("dimensions"), oa.get("sizes")
    if not isinstance(dims, list) or not isinstance(sizes, list) or len(dims) != len(sizes) \
            or not 1 <= len(dims) <= 2:
        raise UnsupportedError(f"{where}: operational_array dimensions {dims} / sizes {sizes}: "
                               "mac_array needs one or two array dimensions with one size each")
    return oa, sizes[0], sizes[1] if len(sizes) > 1 else 1, dict(zip(dims, sizes))


def _systolic(oa: dict, where: str) -> list[str]:
    """``operational_array.systolic_dimensions``, each checked to be an array dimension."""
    sd = oa.get("systolic_dimensions") or []
    if not isinstance(sd, list) or not set(sd) <= set(oa["dimensions"]):
        raise ConfigError(f"{where}: operational_array.systolic_dimensions = {sd!r}: expected a "
                          f"list of array dimensions among {oa['dimensions']}")
    return [str(d) for d in sd]


def _levels(data: dict, dims: list, dim_size: dict, where: str) -> list[dict]:
    mems = data.get("memories")
    if not isinstance(mems, dict) or not mems:
        raise ConfigError(f"{where}: field 'memories' must be a non-empty mapping")
    return [_level(name, m, dims, dim_size, f"{where}: memories.{name}")
            for name, m in mems.items()]


def _level(name: str, m, dims: list, dim_size: dict, mw: str) -> dict:
    """One memory: size, operands, instances (one per combination of the array dimensions it
    does not serve), widest port and word (narrowest port) in bits, access costs."""
    if not isinstance(m, dict):
        raise ConfigError(f"{mw}: expected a mapping")
    _unknown(m, MEMORY, mw)
    if m.get("auto_cost_extraction"):
        raise UnsupportedError(f"{mw}: auto_cost_extraction (CACTI) is not run by hwsim; give "
                               "r_cost/w_cost")
    for k in ("size", "operands", "served_dimensions"):
        if k not in m:
            raise ConfigError(f"{mw}: missing field '{k}'")
    served = m["served_dimensions"] or []
    bad = [d for d in served if d not in dim_size]
    if bad:
        raise ConfigError(f"{mw}: served_dimensions {bad} are not array dimensions {dims}")
    instances = math.prod(s for d, s in dim_size.items() if d not in served)
    ports = m.get("ports") or []
    bw = [pt.get("bandwidth_max", pt.get("bandwidth_min", 0)) for pt in ports]
    word = min((pt.get("bandwidth_min") for pt in ports if pt.get("bandwidth_min")),
               default=None)
    return dict(name=name, bits=m["size"], operands=list(m["operands"]),
                instances=instances, per_mac=not served, bw_bits=max(bw, default=0),
                word_bits=word, r_cost=m.get("r_cost"), w_cost=m.get("w_cost"),
                dram=str(m.get("mem_type", "")).lower() == "dram")


def _buffers(onchip: list[dict], where: str) -> dict[str, int]:
    buffers = {}
    for op in ("I1", "I2", "O"):
        holders = [lv["bits"] * lv["instances"] / len(lv["operands"]) / 8 for lv in onchip
                   if op in lv["operands"]]
        if not holders:
            raise UnsupportedError(f"{where}: no on-chip memory holds operand {op}; mac_array "
                                   "needs an input, weight and output buffer")
        buffers[op] = int(max(holders))
    return buffers


def _dataflow_from_memories(onchip: list[dict], where: str) -> tuple[str, str]:
    """(dataflow, operand): the operand with the largest per-MAC memory is the one that stays."""
    per_mac = {}
    for lv in onchip:
        if lv["per_mac"]:
            for op in lv["operands"]:
                per_mac[op] = max(per_mac.get(op, 0), lv["bits"])
    ranked = sorted(per_mac.items(), key=lambda kv: -kv[1])
    if not ranked or len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise ConfigError(f"{where}: cannot tell the dataflow (per-MAC memories: "
                          f"{per_mac or 'none'}); give dataflows in the file or pass "
                          "dataflow='weight_stationary'|'output_stationary'|"
                          "'input_stationary'")
    return _STATIONARY[ranked[0][0]], ranked[0][0]


def _energies(oa: dict, levels: list[dict]) -> dict[str, float]:
    """The file's per-MAC and per-bit access energies (reported, not used by the cost)."""
    energies = {"mac_pj": oa.get("unit_energy")}
    for lv in levels:
        if lv["word_bits"] and lv["r_cost"] is not None:
            energies[f"{lv['name']}_read_pj_per_bit"] = lv["r_cost"] / lv["word_bits"]
        if lv["word_bits"] and lv["w_cost"] is not None:
            energies[f"{lv['name']}_write_pj_per_bit"] = lv["w_cost"] / lv["word_bits"]
    return {k: v for k, v in energies.items() if v is not None}


def _fmt(e: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in e.items())
