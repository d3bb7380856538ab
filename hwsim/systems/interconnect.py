"""Interconnects and switches from the sourced table ``hwsim/systems/interconnects.yaml``.

>>> link("nvlink4").bandwidth_Bps
450000000000.0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .._paths import read_yaml
from ..errors import ConfigError, UnknownNameError

TABLE = Path(__file__).with_name("interconnects.yaml")
KINDS = ("nvlink", "pcie", "network")


@dataclass(frozen=True)
class Interconnect:
    """One link type: per-device bandwidth in one direction and NCCL's per-hop latency."""

    name: str
    bandwidth_Bps: float
    hop_latency_s: float
    kind: str
    description: str = ""
    source: str = ""


@dataclass(frozen=True)
class Switch:
    name: str
    nvls: bool  # in-switch reduction (NVLink SHARP) available to all-reduce
    description: str = ""
    source: str = ""


@lru_cache(maxsize=1)
def _table() -> dict:
    t = read_yaml(TABLE)
    for key in ("interconnects", "switches", "device_defaults"):
        if not isinstance(t.get(key), dict):
            raise ConfigError(f"{TABLE}: field '{key}' must be a mapping")
    return t


def names() -> list[str]:
    return sorted(_table()["interconnects"])


def link(name: str | Interconnect) -> Interconnect:
    """The interconnect ``name`` (``hwsim.systems.interconnect.names()``)."""
    if isinstance(name, Interconnect):
        return name
    rows = _table()["interconnects"]
    if name not in rows:
        raise UnknownNameError("interconnect", str(name), sorted(rows))
    r = rows[name]
    bw, lat, kind = r.get("bandwidth_Bps"), r.get("hop_latency_s"), r.get("kind")
    if not isinstance(bw, (int, float)) or bw <= 0:
        raise ConfigError(f"{TABLE}: interconnects.{name}.bandwidth_Bps = {bw!r}: expected > 0")
    if not isinstance(lat, (int, float)) or lat < 0:
        raise ConfigError(f"{TABLE}: interconnects.{name}.hop_latency_s = {lat!r}: expected >= 0")
    if kind not in KINDS:
        raise ConfigError(f"{TABLE}: interconnects.{name}.kind = {kind!r}: expected one of "
                          f"{', '.join(KINDS)}")
    return Interconnect(name, float(bw), float(lat), kind, r.get("description", ""),
                        r.get("source", ""))


def switch(name: str | None) -> Switch | None:
    if name is None or isinstance(name, Switch):
        return name
    rows = _table()["switches"]
    if name not in rows:
        raise UnknownNameError("switch", str(name), sorted(rows))
    r = rows[name]
    return Switch(name, bool(r.get("nvls", False)), r.get("description", ""), r.get("source", ""))


def device_default(arch_name: str) -> dict | None:
    """The NVLink fabric a device's own 8-GPU baseboard gives it, or None when none is known."""
    d = _table()["device_defaults"].get(arch_name)
    return dict(d) if d else None
