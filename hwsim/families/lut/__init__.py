"""Hardware family ``lut``: LUT Tensor Core arrays (table-lookup low-bit GEMMs).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import LUTCore

FAMILY = Family(
    name="lut",
    description="LUT Tensor Core arrays (table-lookup low-bit GEMMs)",
    models={"default": LUTCore},
    check_modules=('checks',),
    fit="",
)
