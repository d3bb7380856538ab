"""Hardware family ``gpu``: GPU tensor cores and SIMT units, calibrated on measured kernels; a datasheet roofline as model 'roofline'.

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import GPU
from .roofline import RooflineGPU

FAMILY = Family(
    name="gpu",
    description="GPU tensor cores and SIMT units, calibrated on measured kernels; a datasheet roofline as model 'roofline'",
    models={"default": GPU, "roofline": RooflineGPU},
    check_modules=('checks', 'checks_roofline', 'checks_train', 'checks_shapes'),
    fit="hwsim.families.gpu.fit:fit",
)
