"""``evaluate(workload, hw)``: cost every op of a workload on one accelerator."""

from __future__ import annotations

from .errors import ConfigError, HwsimError, UnsupportedError
from .contract import Accelerator, Cost
from .report import Report, Row
from .workload.graph import Workload
from .workload.ops import Op


ENGINES = ("analytical", "sim")


def cost_op(hw: Accelerator, op: Op, engine: str = "analytical") -> Cost:
    """One op's cost on ``hw`` by ``engine`` (``"sim"``: the analytical cost replayed by the
    tile-level simulator). An UnsupportedError names the op."""
    try:
        c = hw.cost(op)
        if engine == "sim":
            from .sim import simulate_op  # simpy is imported only when simulating
            c = simulate_op(hw, op, c)[0]
    except UnsupportedError as e:
        msg = str(e)
        raise UnsupportedError(msg if op.name in msg else f"{op.name}: {msg}") from None
    return c


def evaluate(workload: Workload, hw: Accelerator, *, cache: dict | None = None,
             engine: str = "analytical") -> Report:
    """Cost each op on ``hw`` and add them up (ops run one after another).

    Identical ops (same type, dimensions and formats — e.g. the 32 decoder layers of an LLM) are
    costed once. Pass a dict as ``cache`` to share that memo across calls on the same ``hw``.
    ``engine="sim"`` runs each op through the tile-level simulator (:mod:`hwsim.sim`: the same
    mapping plus fill/drain, buffer and contention stalls; slower) instead of the analytical model.

    Raises :class:`hwsim.UnsupportedError` naming the op when ``hw`` cannot run one of them.
    """
    if engine not in ENGINES:
        raise ConfigError(f"evaluate: engine = {engine!r}: expected one of {', '.join(ENGINES)}")
    if not isinstance(workload, Workload):
        raise HwsimError(f"evaluate: workload must be a hwsim Workload (load_workload(...)), "
                         f"got {type(workload).__name__}")
    if not hasattr(hw, "cost"):
        raise HwsimError(f"evaluate: hw must be an accelerator (load_arch(...)), got "
                         f"{type(hw).__name__}")
    memo: dict[Op, Cost] = {} if cache is None else cache
    rows = []
    for op in workload.ops:
        key = op if engine == "analytical" else (engine, op)
        c = memo.get(key)
        if c is None:
            c = memo[key] = cost_op(hw, op, engine)
        rows.append(Row(op, c))
    seq = getattr(hw, "sequence", None)
    if seq is not None:
        costs = seq([r.cost for r in rows])
        rows = [r if c is r.cost else Row(r.op, c) for r, c in zip(rows, costs)]
    return Report(workload, hw, rows)
