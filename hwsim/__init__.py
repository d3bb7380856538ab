"""hwsim: hardware cost models and design-space exploration for quantized NN inference.

>>> import hwsim
>>> hw = hwsim.load_arch("h100-sxm")
>>> wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
...                          weights="int4_g128", activations="fp16")
>>> rep = hwsim.evaluate(wl, hw)
>>> rep.latency_s > 0
True
"""

from importlib.metadata import PackageNotFoundError, version

from . import formats
from .arch import list_archs, load_arch
from .errors import ConfigError, HwsimError, ShapeError, UnknownNameError, UnsupportedError
from .evaluate import evaluate
from .contract import Accelerator, Cost
from .report import Report
from .systems import System, generate, list_systems, load_system, serve
from .workload import Precision, Workload, list_workloads, load_workload
from .workload import ops

try:
    __version__ = version("hwsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = ["formats", "ops", "load_arch", "list_archs", "load_workload", "list_workloads",
           "evaluate", "Report", "load_system", "list_systems", "System", "generate", "serve",
           "Cost", "Accelerator", "Workload", "Precision", "HwsimError",
           "ConfigError", "ShapeError", "UnknownNameError", "UnsupportedError", "__version__"]
