"""Timeloop/Accelergy v0.4 architecture YAML -> a ``mac_array`` arch spec.

Schema (Timeloop v4 input formats, https://timeloop.csail.mit.edu/v4/input-formats/design, and
the ``timeloop-accelergy-exercises`` cheat sheet ``workspace/cheatsheets/3_architecture.yaml``):
``architecture: {version: 0.4, nodes: [...]}``, nodes tagged ``!Container`` (a level, optional
``spatial: {meshX, meshY}`` fan-out and ``attributes`` inherited by what it contains),
``!Component`` (``class``, ``attributes``: ``depth`` entries x ``width`` bits per entry,
``datawidth``, ``read_bandwidth``/``write_bandwidth`` in bits per cycle, optional ``spatial``,
``constraints.dataspace.keep``/``bypass`` of ``Inputs``/``Weights``/``Outputs``) and
``!Parallel`` (sibling components at one level). Nodes are listed outermost first: the backing
store (``DRAM``), buffers, the PE fan-out, PE-local storage and the MAC.

Mapping onto ``mac_array``:

* ``rows`` x ``cols``: the product of ``meshY`` x ``meshX`` fan-outs above the MAC.
* ``input/weight/output_buffer_bytes``: the largest on-chip storage keeping Inputs / Weights /
  Outputs (``depth x width`` bits times its instances, split equally among the dataspaces it
  keeps).
* ``dataflow``: the dataspace of the largest PE-local storage that keeps exactly one dataspace
  (Weights -> weight stationary, Outputs -> output stationary, Inputs -> input stationary), else
  the caller passes ``dataflow``.
* ``mem_bandwidth_Bps``: the DRAM's ``read_bandwidth`` (else its ``width``) bits per cycle x
  ``clock_hz`` / 8; ``clock_hz`` from ``global_cycle_seconds`` if an attribute sets it,
  else 1 GHz (said so in the description).
* ``technology``: the ``technology`` attribute (e.g. ``45nm``), else 45 nm (said so).
* formats: the MAC's ``multiplier_width`` (``datawidth``) -> ``intN`` for ``intmac``-like
  classes, ``fp16``/``fp32``/``bf16`` for classes naming ``fp``; others are an UnsupportedError.

Energies come from Accelergy's tables, which the arch YAML does not contain; hwsim prices actions
from its own technology table. Attribute values written as expressions (``depth: 12 * 34``),
Jinja templates and v0.3 ``subtree`` specs are errors naming them (render / convert them with
timeloopfe first). Unknown top-level keys other than ``problem``/``mapper``/``mapping``/
``variables``/``components``/``constraints`` are errors.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from .._paths import read_text
from ..errors import ConfigError, UnsupportedError

TAGS = ("!Container", "!Component", "!Parallel", "!Hierarchical", "!Nothing")
IGNORED_TOP = {"problem", "mapper", "mapping", "variables", "components", "constraints",
               "globals"}
DATASPACES = ("Inputs", "Weights", "Outputs")
_STATIONARY = {"Weights": "weight_stationary", "Outputs": "output_stationary",
               "Inputs": "input_stationary"}
_STORAGE = re.compile(r"sram|regfile|register|storage|buffer|dram|spad|reg", re.I)
_COMPUTE = re.compile(r"mac|compute|multiplier", re.I)


class _Loader(yaml.SafeLoader):
    pass


def _tagged(tag):
    def construct(loader, node):
        if isinstance(node, yaml.MappingNode):
            d = loader.construct_mapping(node, deep=True)
        elif isinstance(node, yaml.SequenceNode):
            d = {"nodes": loader.construct_sequence(node, deep=True)}
        else:
            d = {}
        return {"_tag": tag, **d}
    return construct


for _t in TAGS:
    _Loader.add_constructor(_t, _tagged(_t))


def read_timeloop(path: str | Path) -> dict:
    p = Path(path)
    text = read_text(p, "Timeloop YAML")
    if "{{" in text or "{%" in text:
        raise UnsupportedError(f"{p}: Jinja templating ({{{{ ... }}}}) is not rendered by hwsim; "
                               "render the spec first (timeloopfe)")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader with node tags
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a YAML mapping at the top level")
    return data


def _flatten(nodes, where):
    """(node, fan-out above and including it) for each component, outermost first."""
    out, fan = [], [1, 1]  # meshX, meshY products
    for i, n in enumerate(nodes):
        if not isinstance(n, dict) or "_tag" not in n:
            raise ConfigError(f"{where}.nodes[{i}]: expected a !Container, !Component or "
                              f"!Parallel node, got {n!r}")
        sp = n.get("spatial") or {}
        extra = sorted(set(sp) - {"meshX", "meshY"})
        if extra:
            raise UnsupportedError(f"{where}.nodes[{i}] ({n.get('name')}): spatial field(s) "
                                   f"{extra}; meshX and meshY are supported")
        fan = [fan[0] * int(sp.get("meshX", 1)), fan[1] * int(sp.get("meshY", 1))]
        if n["_tag"] == "!Container":
            out.append(("container", n, tuple(fan)))
        elif n["_tag"] == "!Component":
            out.append(("component", n, tuple(fan)))
        elif n["_tag"] in ("!Parallel", "!Hierarchical"):
            for kind, c, f in _flatten(n.get("nodes") or [], f"{where}.nodes[{i}]"):
                out.append((kind, c, (f[0] * fan[0], f[1] * fan[1])))
    return out


def _num(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UnsupportedError(f"{what} = {v!r}: only numbers are read (expressions are not "
                               "evaluated; render the spec with timeloopfe first)")
    return v


def timeloop_spec(path: str | Path, given: dict | None = None) -> dict:
    """The ``mac_array`` arch spec of a Timeloop v0.4 architecture YAML (module docstring)."""
    p = Path(path)
    data = read_timeloop(p)
    given = dict(given or {})
    arch = _architecture(p, data)
    flat = _flatten(arch.get("nodes") or [], f"{p}: architecture")
    storages, (mac, mac_attrs, (mesh_x, mesh_y)) = _components(p, flat)
    dram = next((s for s in storages if s["dram"]), None)
    if dram is None:
        raise UnsupportedError(f"{p}: no DRAM component; mac_array needs a backing store")
    onchip = [s for s in storages if s is not dram]
    buffers = _buffers(p, onchip)
    notes, defaulted = [], []
    if "dataflow" in given:
        dataflow = given["dataflow"]
    else:
        dataflow, held = _dataflow(p, onchip, (mesh_x, mesh_y))
        notes.append(f"dataflow {dataflow}: the largest PE-local storage keeps {held}")
    freq = _frequency(p, given, mac_attrs, defaulted)
    bw_bits = _dram_bandwidth_bits(p, dram)
    tech = mac_attrs.get("technology")
    if tech is None:
        tech = "45nm"
        defaulted.append("technology (45nm)")
    fmt = _mac_format(p, mac, mac_attrs)
    dram_kind = _dram_kind(dram["attrs"], notes)
    params = dict(technology=tech, clock_hz=freq, rows=mesh_y, cols=mesh_x,
                  dataflow=dataflow, activation_format=fmt, weight_format=fmt,
                  input_buffer_bytes=buffers["Inputs"], weight_buffer_bytes=buffers["Weights"],
                  output_buffer_bytes=buffers["Outputs"], mem_bandwidth_Bps=bw_bits * freq / 8,
                  dram_kind=dram_kind, vector_ops_per_s=mesh_x * freq)
    defaulted.append("vector_ops_per_s (one op per column per cycle)")
    top = next((n for k, n, _ in flat if k == "container"), {})
    desc = (f"imported from Timeloop {p.name}: {mesh_y}x{mesh_x} MACs, storage "
            f"{', '.join(s['name'] for s in onchip)}, DRAM {dram['name']}. "
            + " ".join(n + "." for n in notes)
            + f" Not in the file, defaulted: {', '.join(defaulted)}. Energies: hwsim's "
            "technology table (the Accelergy tables are not part of the arch YAML).")
    return dict(name=str(top.get("name", p.stem)) if top else p.stem, family="mac_array",
                description=desc, source=f"Timeloop v0.4 architecture {p}", params=params)


def _architecture(p: Path, data: dict) -> dict:
    """The ``architecture`` mapping, refusing what the v0.4 reader would misread."""
    extra = sorted(set(data) - IGNORED_TOP - {"architecture"})
    if extra:
        raise ConfigError(f"{p}: unknown top-level key(s) {', '.join(extra)}; expected "
                          f"architecture (and optionally {', '.join(sorted(IGNORED_TOP))})")
    if "sparse_optimizations" in data.get("architecture", {}):
        raise UnsupportedError(f"{p}: sparse_optimizations are not modelled by mac_array")
    arch = data["architecture"]
    if "subtree" in arch:
        raise UnsupportedError(f"{p}: architecture.subtree is the v0.3 format; v0.4 'nodes' is "
                               "supported (convert with timeloopfe)")
    version = arch.get("version")
    if str(version) not in ("0.4",):
        raise UnsupportedError(f"{p}: architecture.version = {version!r}; 0.4 is supported")
    return arch


def _components(p: Path, flat: list) -> tuple[list[dict], tuple]:
    """Storage levels (with the attributes their containers pass down) and the one MAC
    (node, attributes, fan-out)."""
    inherited: dict = {}
    storages, macs = [], []
    for kind, n, fan in flat:
        attrs = {**inherited, **(n.get("attributes") or {})}
        if kind == "container":
            inherited = attrs
            continue
        cls = str(n.get("class", "")) + " " + str(n.get("subclass", ""))
        name = n.get("name", "?")
        if _COMPUTE.search(cls) and not _STORAGE.search(cls.replace("smartbuffer", "")):
            macs.append((n, attrs, fan))
        elif _STORAGE.search(cls):
            ds = (n.get("constraints") or {}).get("dataspace") or {}
            keep = ds.get("keep_only") or ds.get("keep")
            bypass = set(ds.get("bypass") or [])
            keep = [d for d in (keep or DATASPACES) if d not in bypass]
            storages.append(dict(name=name, cls=cls.strip(), attrs=attrs, fan=fan, keep=keep,
                                 dram="dram" in cls.lower()))
        else:
            raise UnsupportedError(f"{p}: component {name!r} of class {cls.strip()!r} is neither "
                                   "storage (SRAM/regfile/register/DRAM/buffer classes) nor "
                                   "compute (mac classes)")
    if len(macs) != 1:
        raise UnsupportedError(f"{p}: {len(macs)} compute components "
                               f"({', '.join(m[0].get('name', '?') for m in macs)}); mac_array "
                               "needs exactly one MAC")
    return storages, macs[0]


def _buffers(p: Path, onchip: list[dict]) -> dict[str, int]:
    """Bytes of the largest on-chip storage per dataspace, all instances, a storage shared by
    several dataspaces split equally among them."""
    buffers = {}
    for ds in DATASPACES:
        sizes = []
        for s in onchip:
            if ds in s["keep"]:
                a = s["attrs"]
                depth = _num(a.get("depth", 1), f"{p}: {s['name']}.attributes.depth")
                width = _num(a.get("width", a.get("datawidth", 8)),
                             f"{p}: {s['name']}.attributes.width")
                inst = s["fan"][0] * s["fan"][1]
                sizes.append(depth * width * inst / len(s["keep"]) / 8)
        if not sizes:
            raise UnsupportedError(f"{p}: no on-chip storage keeps {ds}; mac_array needs an "
                                   "input, weight and output buffer")
        buffers[ds] = int(max(sizes))
    return buffers


def _dataflow(p: Path, onchip: list[dict], mesh: tuple) -> tuple[str, str]:
    """(dataflow, dataspace): what the largest single-dataspace PE-local storage keeps is what
    stays in the PE."""
    local = [s for s in onchip if s["fan"] == mesh and len(s["keep"]) == 1]
    cap = {}
    for s in local:
        a = s["attrs"]
        cap[s["keep"][0]] = max(cap.get(s["keep"][0], 0),
                                _num(a.get("depth", 1), f"{s['name']}.depth")
                                * _num(a.get("width", 8), f"{s['name']}.width"))
    ranked = sorted(cap.items(), key=lambda kv: -kv[1])
    if not ranked or len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise ConfigError(f"{p}: cannot tell the dataflow (PE-local single-dataspace "
                          f"storage: {cap or 'none'}); pass dataflow='weight_stationary'|"
                          "'output_stationary'|'input_stationary'")
    return _STATIONARY[ranked[0][0]], ranked[0][0]


def _frequency(p: Path, given: dict, mac_attrs: dict, defaulted: list[str]) -> float:
    cyc = mac_attrs.get("global_cycle_seconds")
    if "clock_hz" in given:
        return given["clock_hz"]
    if cyc:
        return 1.0 / _num(cyc, f"{p}: global_cycle_seconds")
    defaulted.append("clock_hz (1 GHz)")
    return 1.0e9


def _dram_bandwidth_bits(p: Path, dram: dict):
    """DRAM bits per cycle: its read bandwidth, else its width."""
    da = dram["attrs"]
    bw_bits = da.get("read_bandwidth") or da.get("width")
    if bw_bits is None:
        raise ConfigError(f"{p}: DRAM {dram['name']!r} has neither read_bandwidth nor width; "
                          "cannot derive mem_bandwidth_Bps")
    return _num(bw_bits, f"{p}: {dram['name']}.attributes.read_bandwidth")


def _mac_format(p: Path, mac: dict, mac_attrs: dict) -> str:
    bits = int(_num(mac_attrs.get("multiplier_width", mac_attrs.get("datawidth", 8)),
                    f"{p}: {mac.get('name')}.attributes.multiplier_width"))
    mcls = str(mac.get("class", "")).lower() + str(mac.get("subclass", "")).lower()
    if "fp" in mcls or "float" in mcls:
        fmt = {16: "fp16", 32: "fp32", 8: "fp8_e4m3"}.get(bits)
    elif "int" in mcls or mcls.strip() in ("mac", "compute"):
        fmt = f"int{bits}"
    else:
        fmt = None
    if fmt is None:
        raise UnsupportedError(f"{p}: MAC {mac.get('name')!r} class {mcls!r} with "
                               f"{bits}-bit multipliers has no hwsim format (intmac N bits, "
                               "fpmac 8/16/32 bits)")
    return fmt


def _dram_kind(da: dict, notes: list[str]) -> str:
    """hwsim's DRAM energy row for the DRAM's ``type`` (noted when it is a stand-in)."""
    dkind = str(da.get("type", "ddr3")).lower()
    dram_kind = {"lpddr4": "ddr3", "ddr4": "ddr3", "hbm2": "hbm2", "gddr5": "gddr5",
                 "ddr3": "ddr3"}.get(dkind, "ddr3")
    if dram_kind != dkind:
        notes.append(f"DRAM type {dkind} priced as {dram_kind} (hwsim's DRAM energy rows: "
                     "hbm2, gddr5, ddr3)")
    return dram_kind
