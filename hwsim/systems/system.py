"""Systems: ``devices`` copies of one calibrated device model ganged by interconnects.

>>> s = load_system("dgx-h100")
>>> s.devices, s.intra.name, s.switch.nvls
(8, 'nvlink4', True)
>>> load_system("h100-sxm", devices=4).devices
4

Every device costs its own ops with its family's calibrated model (``s.device`` is the
:func:`hwsim.load_arch` accelerator); the system only adds the communication between them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .._paths import read_yaml
from ..errors import ConfigError, UnknownNameError
from . import collectives as C
from .interconnect import Interconnect, Switch, device_default, link, switch

PRESETS = Path(__file__).with_name("systems.yaml")
# A device with no NVLink board in interconnects.yaml (PCIe cards: L40S, RTX 4090, FPGA cards)
# is ganged over PCIe 4.0 through a host switch unless the caller names a link: an assumption.
FALLBACK = dict(intra_node="pcie4", switch="pcie-switch", inter_node="eth-100g", devices_per_node=8)


@dataclass(frozen=True)
class System:
    """``devices`` identical devices; groups up to ``devices_per_node`` talk over ``intra``."""

    name: str
    device: object
    devices: int
    intra: Interconnect
    switch: Switch | None
    inter: Interconnect
    devices_per_node: int
    description: str = ""
    source: str = ""

    def link_for(self, ranks: int) -> Interconnect:
        return self.intra if ranks <= self.devices_per_node else self.inter

    def all_reduce_s(self, size_bytes: float, ranks: int) -> float:
        """All-reduce of ``size_bytes`` per rank over ``ranks`` devices. Within a node: NCCL's
        fastest of ring/tree/NVLS; across nodes: hierarchical (intra reduce-scatter, inter
        all-reduce of the node's share, intra all-gather)."""
        if ranks <= self.devices_per_node:
            return C.all_reduce_s(size_bytes, ranks, self.intra,
                                  nvls=bool(self.switch and self.switch.nvls))
        if ranks % self.devices_per_node:
            raise ConfigError(f"{self.name}: {ranks} ranks across nodes of {self.devices_per_node}"
                              " devices: expected a multiple of devices_per_node")
        d = self.devices_per_node
        return (2 * C.reduce_scatter_s(size_bytes, d, self.intra)
                + C.all_reduce_s(size_bytes / d, ranks // d, self.inter))

    def all_gather_s(self, size_bytes: float, ranks: int) -> float:
        return C.all_gather_s(size_bytes, ranks, self.link_for(ranks))

    def all_to_all_s(self, size_bytes: float, ranks: int) -> float:
        return C.all_to_all_s(size_bytes, ranks, self.link_for(ranks))

    def p2p_s(self, size_bytes: float, stage_ranks: int) -> float:
        """Send between pipeline stages; stages of ``stage_ranks`` devices share a node while
        two of them fit in one."""
        lk = self.intra if 2 * stage_ranks <= self.devices_per_node else self.inter
        return C.p2p_s(size_bytes, lk)

    def __repr__(self) -> str:
        return (f"System({self.name!r}: {self.devices}x {self.device.name}, {self.intra.name}"
                f"{' + ' + self.switch.name if self.switch else ''})")


@lru_cache(maxsize=1)
def _presets() -> dict:
    t = read_yaml(PRESETS)
    if not isinstance(t, dict):
        raise ConfigError(f"{PRESETS}: expected a mapping of system names")
    return t


def list_systems() -> list[str]:
    return sorted(_presets())


def load_system(name, devices: int | None = None, *, intra_node: str | None = None,
                switch_name: str | None = None, inter_node: str | None = None,
                devices_per_node: int | None = None, model: str = "default",
                overrides: dict | None = None) -> System:
    """A system preset (:func:`list_systems`: ``dgx-h100``, ``hgx-h200``, ``dgx-a100``,
    ``hgx-b200``) or any arch preset ganged ``devices`` times (default 1) over its board's
    interconnect (``interconnects.yaml`` ``device_defaults``; else PCIe 4.0, an assumption).
    A :class:`System` passes through. Keyword arguments override the links by name;
    ``overrides`` the device's arch parameters (:func:`hwsim.load_arch`)."""
    from ..arch import list_archs, load_arch

    if isinstance(name, System):
        if devices is None or devices == name.devices:
            return name
        if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
            raise ConfigError(f"load_system: devices = {devices!r}: expected a positive integer")
        base = name.name.rsplit("x", 1)[0] if name.name.rsplit("x", 1)[-1].isdigit() else name.name
        return dataclasses.replace(name, devices=devices, name=_ganged(base, devices))
    if devices is not None and (not isinstance(devices, int) or isinstance(devices, bool)
                                or devices < 1):
        raise ConfigError(f"load_system: devices = {devices!r}: expected a positive integer")
    presets = _presets()
    if name in presets:
        spec = dict(presets[name])
        arch = spec["device"]
    else:
        if isinstance(name, str) and name not in list_archs() and not Path(name).exists():
            raise UnknownNameError("system or arch", str(name), list_systems() + list_archs())
        arch = name
        spec = {**FALLBACK, **(device_default(Path(str(name)).stem) or {}), "devices": 1,
                "description": f"{name} ganged"}
    hw = load_arch(arch, model=model, **(overrides or {}))
    n = devices if devices is not None else int(spec["devices"])
    dpn = devices_per_node or int(spec["devices_per_node"])
    if dpn < 1:
        raise ConfigError(f"load_system: devices_per_node = {dpn!r}: expected >= 1")
    sys_name = name if devices is None and name in presets else _ganged(Path(str(name)).stem, n)
    return System(sys_name, hw, n, link(intra_node or spec["intra_node"]),
                  switch(switch_name or spec.get("switch")), link(inter_node or spec["inter_node"]),
                  dpn, spec.get("description", ""), spec.get("source", ""))


def _ganged(device: str, n: int) -> str:
    """A ganged system's name: the device's for one, ``h100-sxmx4`` for four."""
    return device if n == 1 else f"{device}x{n}"


def device_system(hw, devices: int = 1) -> System:
    """``devices`` copies of an already built device model (a custom YAML's, a ``--set``
    variant) over its board's interconnect (``interconnects.yaml``; else PCIe, an assumption) --
    without looking its name up as a preset again."""
    if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
        raise ConfigError(f"device_system: devices = {devices!r}: expected a positive integer")
    spec = {**FALLBACK, **(device_default(hw.name) or {})}
    return System(_ganged(hw.name, devices), hw, devices, link(spec["intra_node"]),
                  switch(spec.get("switch")), link(spec["inter_node"]),
                  int(spec["devices_per_node"]), f"{hw.name} ganged", "")
