"""Hardware family ``mcu``: Microcontroller SIMD cores (Cortex-M DSP/Helium, PULP clusters).

Its home: the cost model (``model.py``), whole-workload schedules (``planning.py``: memory plan,
patch-based inference, training MACs per cycle), known-design checks (``checks.py``).
"""

from ...contract import Family
from .model import MCU, MCUCostDetail, MCUParams
from .planning import (MemoryPlan, PatchCost, PatchPlan, PatchPrecision, check_fit, memory_plan,
                       patch_bitops, patch_plan, training_macs_per_cycle)

FAMILY = Family(
    name="mcu",
    description="Microcontroller SIMD cores (Cortex-M DSP/Helium, PULP clusters)",
    models={"default": MCU},
    check_modules=('checks',),
    fit="",
)

__all__ = ["FAMILY", "MCU", "MCUCostDetail", "MCUParams", "MemoryPlan", "PatchCost", "PatchPlan",
           "PatchPrecision", "check_fit", "memory_plan", "patch_bitops", "patch_plan",
           "training_macs_per_cycle"]
