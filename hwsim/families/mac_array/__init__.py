"""Hardware family ``mac_array``: Systolic / tensor-core-like MAC arrays with SRAM buffers (ZigZag/Timeloop-style).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import MACArray

FAMILY = Family(
    name="mac_array",
    description="Systolic / tensor-core-like MAC arrays with SRAM buffers (ZigZag/Timeloop-style)",
    models={"default": MACArray},
    check_modules=('checks',),
    fit="",
)
