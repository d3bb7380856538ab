"""Hardware family ``lut_gpu``: A GPU whose tensor cores are MAC or LUT Tensor Core arrays (LUT Tensor Core paper, Table 1).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import LUTGPU

FAMILY = Family(
    name="lut_gpu",
    description="A GPU whose tensor cores are MAC or LUT Tensor Core arrays (LUT Tensor Core paper, Table 1)",
    models={"default": LUTGPU},
    check_modules=('checks',),
    fit="",
)
