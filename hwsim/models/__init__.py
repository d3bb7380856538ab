"""Hardware models, one module per family, all implementing :class:`Accelerator`."""

from .base import Accelerator, AcceleratorBase, Cost, Params, pick_compute_path
from .bitserial import BitSerialArray
from .gpu import GPU
from .lut import LUTCore
from .lut_gpu import LUTGPU
from .mac_array import MACArray
from .mcu import MCU
from .cpu import CPU
from .roofline import RooflineGPU
from .fpga import FPGA

# family name in an arch YAML -> {model name: class}; "default" is what load_arch builds unless
# asked for another (load_arch(..., model="roofline")). Later families register here.
FAMILIES: dict[str, dict[str, type[AcceleratorBase]]] = {
    "gpu": {"default": GPU, "roofline": RooflineGPU},
    "lut": {"default": LUTCore},
    "lut_gpu": {"default": LUTGPU},
    "bitserial": {"default": BitSerialArray},
    "mac_array": {"default": MACArray},
    "fpga": {"default": FPGA},
    "mcu": {"default": MCU},
    "cpu": {"default": CPU},
}

__all__ = ["Accelerator", "AcceleratorBase", "Cost", "Params", "FAMILIES", "GPU", "LUTCore", "MACArray", "RooflineGPU",
           "pick_compute_path"]
