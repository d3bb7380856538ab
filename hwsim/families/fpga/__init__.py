"""FPGA family (``fpga``): DSP-chain and LUT-fabric accelerator designs on sourced devices.

* :mod:`.devices` — device database (``devices.yaml``, a datasheet per row)
* :mod:`.arithmetic` — DSP48E2/DSP58 packing and cascades, LUT-fabric MACs, accumulator widths
* :mod:`.model` — designs: resources vs device, clock vs utilization, latency, power

>>> from hwsim.families.fpga import accumulator_bits
>>> accumulator_bits("fp8_e4m3", "fp8_e4m3", 4608)
50
"""

from .arithmetic import MACResources, accumulator_bits, mac_resources, products_per_dsp
from .devices import Device, get_device, list_devices
from .model import FPGA, FPGAParams
from ...contract import Family

FAMILY = Family(
    name="fpga",
    description="FPGA accelerators: DSP-chain and LUT-fabric MAC arrays on sourced devices",
    models={"default": FPGA},
    check_modules=("checks",),
    fit="hwsim.families.fpga.fit:fit_u280",
)

__all__ = ["FPGA", "FPGAParams", "Device", "MACResources", "accumulator_bits", "get_device",
           "list_devices", "mac_resources", "products_per_dsp"]
