"""Hardware family ``mcu``: Microcontroller SIMD cores (Cortex-M DSP/Helium, PULP clusters).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import MCU

FAMILY = Family(
    name="mcu",
    description="Microcontroller SIMD cores (Cortex-M DSP/Helium, PULP clusters)",
    models={"default": MCU},
    check_modules=('checks',),
    fit="",
)
