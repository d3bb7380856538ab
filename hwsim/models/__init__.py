"""Hardware models, one module per family, all implementing :class:`Accelerator`."""

from .base import Accelerator, AcceleratorBase, Cost, Params, pick_compute_path
from .roofline import RooflineGPU

# family name in an arch YAML -> model class. Later families register here.
FAMILIES: dict[str, type[AcceleratorBase]] = {
    "gpu": RooflineGPU,
}

__all__ = ["Accelerator", "AcceleratorBase", "Cost", "Params", "FAMILIES", "RooflineGPU",
           "pick_compute_path"]
