"""The hardware families: one package each, one registry.

Each family package (``hwsim/families/<name>/``) holds its cost model, the simulator's tile
program, calibration, known-design checks and data, and declares a :class:`~hwsim.contract.Family`
record named ``FAMILY`` in its ``__init__``. This module collects them: the CLI, ``load_arch``,
the simulator, validation, plots and exploration all read :data:`REGISTRY`.

To add a family: create its package and list it in ``_PACKAGES``, or, outside hwsim, call
:func:`register` / declare a ``hwsim.families`` entry point (``docs/adding-a-family.md``).
"""

from __future__ import annotations

import importlib

from ..contract import Accelerator, Cost, Family, Params, pick_compute_path
from ..errors import ConfigError, UnknownNameError

# package names under hwsim.families, in the order `hwsim list families` prints them
_PACKAGES = ("gpu", "lut_gpu", "lut", "bitserial", "mac_array", "fpga", "mcu", "cpu")

REGISTRY: dict[str, Family] = {}
# family name -> {model name: class} (the shape load_arch and export_design read)
FAMILIES: dict[str, dict[str, type[Accelerator]]] = {}
_CHECK_MODULES: dict[str, list[str]] = {}


def register(family: Family, *, package: str | None = None) -> Family:
    """Add a family to the registry (built-in ones register at import; a third-party package
    declares an entry point in the ``hwsim.families`` group pointing at its ``Family``).
    ``package`` is where its ``check_modules`` live (default: the module of its default model's
    package). Registering a name twice is an error, so a plug-in cannot shadow a family."""
    if not isinstance(family, Family):
        raise ConfigError(f"register: expected a hwsim.contract.Family, got "
                          f"{type(family).__name__}")
    if family.name in REGISTRY:
        raise ConfigError(f"register: a family named {family.name!r} is already registered "
                          f"({REGISTRY[family.name].description})")
    for model, cls in family.models.items():
        if not (isinstance(cls, type) and issubclass(cls, Accelerator)):
            raise ConfigError(f"family {family.name!r}: model {model!r} is not a subclass of "
                              "hwsim.contract.Accelerator")
        if cls.family != family.name:
            raise ConfigError(f"family {family.name!r}: model {model!r} says family = "
                              f"{cls.family!r}")
    pkg = package or family.models["default"].__module__.rsplit(".", 1)[0]
    REGISTRY[family.name] = family
    FAMILIES[family.name] = dict(family.models)
    _CHECK_MODULES[family.name] = [f"{pkg}.{m}" for m in family.check_modules]
    return family


def unregister(name: str) -> None:
    """Remove a family (tests and notebooks that register a throwaway family)."""
    get_family(name)
    for d in (REGISTRY, FAMILIES, _CHECK_MODULES):
        d.pop(name, None)


for _pkg in _PACKAGES:
    register(importlib.import_module(f"{__name__}.{_pkg}").FAMILY, package=f"{__name__}.{_pkg}")


def _load_plugins() -> None:
    """Families other packages provide through the ``hwsim.families`` entry-point group."""
    from importlib.metadata import entry_points
    for ep in entry_points(group="hwsim.families"):
        try:
            register(ep.load())
        except Exception as e:  # a broken plug-in must not take hwsim down; say which
            import warnings
            warnings.warn(f"hwsim: family plug-in {ep.name!r} ({ep.value}) not loaded: {e}")


_load_plugins()


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
    return [m for name in REGISTRY for m in _CHECK_MODULES[name]]


from .bitserial.model import BitSerialArray  # noqa: E402  (the classes, for `from hwsim.families import GPU`)
from .cpu.model import CPU  # noqa: E402
from .fpga.model import FPGA  # noqa: E402
from .gpu.model import GPU  # noqa: E402
from .gpu.roofline import RooflineGPU  # noqa: E402
from .lut.model import LUTCore  # noqa: E402
from .lut_gpu.model import LUTGPU  # noqa: E402
from .mac_array.model import MACArray  # noqa: E402
from .mcu.model import MCU  # noqa: E402

__all__ = ["Accelerator", "Cost", "FAMILIES", "Family", "Params", "REGISTRY",
           "family_names", "get_family", "register", "unregister", "pick_compute_path", "BitSerialArray", "CPU", "FPGA",
           "GPU", "LUTCore", "LUTGPU", "MACArray", "MCU", "RooflineGPU"]
