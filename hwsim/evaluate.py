"""``evaluate(workload, hw)``: cost every op of a workload on one accelerator."""

from __future__ import annotations

from .contract import Accelerator, Cost
from .costing import ENGINES, cost_op, sum_costs
from .errors import ConfigError, HwsimError
from .report import Report, Row
from .workload.graph import Workload
from .workload.ops import Op

__all__ = ["ENGINES", "cost_op", "evaluate"]


def evaluate(workload: Workload, hw: Accelerator, *, cache: dict | None = None,
             engine: str = "analytical") -> Report:
    """Cost each op on ``hw`` and add them up (ops run one after another).

    Identical ops (same type, dimensions and formats — e.g. the 32 decoder layers of an LLM) are
    costed once. Pass a dict as ``cache`` to share that memo across calls on the same ``hw``.
    ``engine="sim"`` runs each op through the tile-level simulator (:mod:`hwsim.sim`: the same
    mapping plus fill/drain, buffer and contention stalls; slower) instead of the analytical model.
    The sum is :func:`hwsim.costing.sum_costs`, the one exploration and systems use too.

    Raises :class:`hwsim.UnsupportedError` naming the op when ``hw`` cannot run one of them.
    """
    if engine not in ENGINES:
        raise ConfigError(f"evaluate: engine = {engine!r}: expected one of {', '.join(ENGINES)}")
    if not isinstance(workload, Workload):
        raise HwsimError(f"evaluate: workload must be a hwsim Workload (load_workload(...)), "
                         f"got {type(workload).__name__}")
    if not isinstance(hw, Accelerator):
        raise HwsimError(f"evaluate: hw must be an accelerator (load_arch(...)), got "
                         f"{type(hw).__name__}")
    memo: dict[Op, Cost] = {} if cache is None else cache
    ops = workload.ops
    summed = sum_costs(hw, ops, engine=engine, memo=memo)
    return Report(workload, hw, [Row(op, c) for op, c in zip(ops, summed.costs)])
