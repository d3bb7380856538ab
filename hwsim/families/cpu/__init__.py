"""Hardware family ``cpu``: Multi-core CPUs running quantized LLM kernels (llama.cpp, T-MAC).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import CPU

FAMILY = Family(
    name="cpu",
    description="Multi-core CPUs running quantized LLM kernels (llama.cpp, T-MAC)",
    models={"default": CPU},
    check_modules=('checks',),
    fit="hwsim.families.cpu.fit:fit_all",
)
