"""FPGA device database: ``devices.yaml`` next to this module, one sourced row per device.

>>> from hwsim.families.fpga.devices import get_device
>>> d = get_device("zcu102")
>>> d.dsp, d.dsp_type
(2520, 'DSP48E2')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import yaml

from ...errors import ConfigError, UnknownNameError

_DB = Path(__file__).with_name("devices.yaml")
DSP_TYPES = ("DSP48E2", "DSP58")
# resources a design is checked against, in the order error messages and tables list them
RESOURCES = ("dsp", "lut", "ff", "bram36", "uram")


@dataclass(frozen=True)
class Device:
    """One FPGA part on its board (counts are whole-device totals; SI units)."""

    name: str
    part: str
    family: str
    node_nm: int
    speed_grade: str
    slrs: int
    dsp_type: str
    dsp: int
    dsp_fmax_hz: float
    max_cascade: int
    lut: int
    ff: int
    bram36: int
    uram: int
    aie_tiles: int
    mem_kind: str
    mem_channels: int
    mem_bandwidth_Bps: float
    mem_bytes: float
    verified: bool

    def available(self) -> dict[str, int]:
        return {r: getattr(self, r) for r in RESOURCES}

    @property
    def bram_bytes(self) -> float:
        return self.bram36 * 36 * 1024 / 8

    @property
    def uram_bytes(self) -> float:
        return self.uram * 288 * 1024 / 8


@lru_cache(maxsize=None)
def _rows() -> dict[str, Device]:
    with open(_DB) as f:
        raw = yaml.safe_load(f)
    names = {f.name for f in fields(Device)} - {"name"}
    out = {}
    for key, row in raw.items():
        missing, extra = sorted(names - set(row)), sorted(set(row) - names)
        if missing or extra:
            raise ConfigError(f"{_DB}: device {key!r}: missing {missing}, unknown {extra}")
        if row["dsp_type"] not in DSP_TYPES:
            raise ConfigError(f"{_DB}: device {key!r}: field 'dsp_type' = {row['dsp_type']!r}: "
                              f"expected one of {', '.join(DSP_TYPES)}")
        _check_numbers(key, row)
        out[key] = Device(name=key, **row)
    return out


def _check_numbers(key: str, row: dict) -> None:
    """Counts are non-negative integers, rates and sizes finite and positive (an edited row with
    ``dsp: .nan`` or ``mem_bandwidth_Bps: 0`` would otherwise reach the cost model)."""
    for f in fields(Device):
        v = row.get(f.name)
        if f.type in ("int", int):
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
        elif f.type in ("float", float):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < math.inf
        else:
            continue
        if not ok:
            raise ConfigError(f"{_DB}: device {key!r}: field '{f.name}' = {v!r}: expected a "
                              f"{'non-negative integer' if f.type in ('int', int) else 'finite positive number'}")


def list_devices() -> list[str]:
    return sorted(_rows())


def get_device(name: str) -> Device:
    """The named device (``u280``, ``vu9p``, ``zcu102``, ``vck190``, ``vhk158``)."""
    rows = _rows()
    key = str(name).strip().lower()
    if key not in rows:
        raise UnknownNameError("FPGA device", name, list(rows))
    return rows[key]
