"""Hardware family ``bitserial``: Bit-serial and mixed-precision PE arrays (BitMoD, Stripes, Loom, Bit Fusion, MixPE).

Its home: the cost model (``model.py``), the simulator's tile program where it has one
(``sim.py``), calibration (``fit.py``), known-design checks (``checks.py``) and data (``data/``).
"""

from ...contract import Family
from .model import BitSerialArray

FAMILY = Family(
    name="bitserial",
    description="Bit-serial and mixed-precision PE arrays (BitMoD, Stripes, Loom, Bit Fusion, MixPE)",
    models={"default": BitSerialArray},
    check_modules=('checks', 'checks_layers'),
    fit="",
)
