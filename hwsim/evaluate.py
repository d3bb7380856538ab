"""``evaluate(workload, hw)``: cost every op of a workload on one accelerator."""

from __future__ import annotations

from .errors import HwsimError, UnsupportedError
from .models.base import Accelerator, Cost
from .report import Report, Row
from .workload.graph import Workload
from .workload.ops import Op


def evaluate(workload: Workload, hw: Accelerator, *, cache: dict | None = None) -> Report:
    """Cost each op on ``hw`` and add them up (ops run one after another).

    Identical ops (same type, dimensions and formats — e.g. the 32 decoder layers of an LLM) are
    costed once. Pass a dict as ``cache`` to share that memo across calls on the same ``hw``.

    Raises :class:`hwsim.UnsupportedError` naming the op when ``hw`` cannot run one of them.
    """
    if not isinstance(workload, Workload):
        raise HwsimError(f"evaluate: workload must be a hwsim Workload (load_workload(...)), "
                         f"got {type(workload).__name__}")
    if not hasattr(hw, "cost"):
        raise HwsimError(f"evaluate: hw must be an accelerator (load_arch(...)), got "
                         f"{type(hw).__name__}")
    memo: dict[Op, Cost] = {} if cache is None else cache
    rows = []
    for op in workload.ops:
        c = memo.get(op)
        if c is None:
            try:
                c = hw.cost(op)
            except UnsupportedError as e:
                msg = str(e)
                raise UnsupportedError(msg if op.name in msg else f"{op.name}: {msg}") from None
            memo[op] = c
        rows.append(Row(op, c))
    return Report(workload, hw, rows)
