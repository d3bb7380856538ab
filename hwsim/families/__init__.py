"""The hardware families: one package each, one registry.

Each family package (``hwsim/families/<name>/``) holds its cost model, the simulator's tile
program, calibration, known-design checks and data, and declares a :class:`~hwsim.contract.Family`
record named ``FAMILY`` in its ``__init__``. This module collects them: the CLI, ``load_arch``,
the simulator, validation, plots and exploration all read :data:`REGISTRY`.

To add a family: create its package, list it in ``_PACKAGES`` (see ``docs/adding-a-family.md``).
"""

from __future__ import annotations

import importlib

from ..contract import Accelerator, AcceleratorBase, Cost, Family, Params, pick_compute_path
from ..errors import UnknownNameError

# package names under hwsim.families, in the order `hwsim list families` prints them
_PACKAGES = ("gpu", "lut_gpu", "lut", "bitserial", "mac_array", "fpga", "mcu", "cpu")

REGISTRY: dict[str, Family] = {}
for _pkg in _PACKAGES:
    _fam = importlib.import_module(f"{__name__}.{_pkg}").FAMILY
    REGISTRY[_fam.name] = _fam

# family name -> {model name: class} (the shape load_arch and export_design read)
FAMILIES: dict[str, dict[str, type[Accelerator]]] = {n: dict(f.models) for n, f in REGISTRY.items()}


def get_family(name: str) -> Family:
    """The registry record of a hardware family; an UnknownNameError lists the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownNameError("hardware family", name, list(REGISTRY)) from None


def family_names() -> list[str]:
    return list(REGISTRY)


def check_module_names() -> list[str]:
    """Fully qualified modules that register known-design checks, family by family."""
    return [f"{__name__}.{pkg}.{m}" for pkg in _PACKAGES
            for m in REGISTRY[importlib.import_module(f"{__name__}.{pkg}").FAMILY.name].check_modules]


from .bitserial.model import BitSerialArray  # noqa: E402  (the classes, for `from hwsim.families import GPU`)
from .cpu.model import CPU  # noqa: E402
from .fpga.model import FPGA  # noqa: E402
from .gpu.model import GPU  # noqa: E402
from .gpu.roofline import RooflineGPU  # noqa: E402
from .lut.model import LUTCore  # noqa: E402
from .lut_gpu.model import LUTGPU  # noqa: E402
from .mac_array.model import MACArray  # noqa: E402
from .mcu.model import MCU  # noqa: E402

__all__ = ["Accelerator", "AcceleratorBase", "Cost", "FAMILIES", "Family", "Params", "REGISTRY",
           "family_names", "get_family", "pick_compute_path", "BitSerialArray", "CPU", "FPGA",
           "GPU", "LUTCore", "LUTGPU", "MACArray", "MCU", "RooflineGPU"]
