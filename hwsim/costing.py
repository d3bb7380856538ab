"""The one place op costs are added up: :func:`evaluate`, the exploration evaluator and the
serving/parallel systems all call :func:`sum_costs`, so one design costs the same everywhere.

Identical ops (equal type, dimensions and formats; names and layer tags do not count) are costed
once per hardware instance through a caller-held memo. Ops run one after another; where a family's
costs depend on that order (:attr:`~hwsim.contract.Accelerator.order_dependent`, e.g. a GPU whose
host launches kernels slower than they run), :meth:`~hwsim.contract.Accelerator.sequence` is
applied to the costs in run order, so callers must pass ops in run order rather than counted
templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .contract import Accelerator, Cost
from .errors import ConfigError, UnsupportedError
from .workload.ops import Op

ENGINES = ("analytical", "sim")


@dataclass(frozen=True)
class CostSum:
    """Totals of a run of ops and each op's cost (after :meth:`Accelerator.sequence`), in the
    order given."""

    latency_s: float
    energy_j: float
    costs: tuple[Cost, ...]


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


def sum_costs(hw: Accelerator, ops: Sequence[Op], *, counts: Sequence[int] | None = None,
              engine: str = "analytical", memo: dict | None = None) -> CostSum:
    """Cost ``ops`` on ``hw`` and add them up.

    ``counts`` (one per op) weights each op, for callers that collapse a workload into unique
    templates (exploration); it is refused when ``hw`` is order dependent, since the costs then
    depend on the run order. ``memo`` maps an op to its cost on this ``hw`` (and ``engine``);
    pass the same dict across calls to reuse costs.

    >>> import hwsim
    >>> hw = hwsim.load_arch("h100-sxm")
    >>> wl = hwsim.load_workload("llama-2-7b", phase="decode", context=512)
    >>> s = sum_costs(hw, wl.ops)
    >>> round(s.latency_s, 4) == round(hwsim.evaluate(wl, hw).latency_s, 4)
    True
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine = {engine!r}: expected one of {', '.join(ENGINES)}")
    if counts is not None:
        if len(counts) != len(ops):
            raise ConfigError(f"sum_costs: {len(counts)} counts for {len(ops)} ops; expected "
                              "one count per op")
        if hw.order_dependent:
            raise ConfigError(f"sum_costs: {hw.name}'s costs depend on the order ops run in "
                              "(see Accelerator.order_dependent); pass the ops in run order "
                              "without counts")
    memo = {} if memo is None else memo
    costs = _costs(hw, ops, engine, memo)
    if counts is None:
        costs = hw.sequence(costs)
        lat = sum([c.latency_s for c in costs])  # in run order: the same float sum everywhere
        en = sum([c.energy_j for c in costs])
    else:
        lat = sum([n * c.latency_s for n, c in zip(counts, costs)])
        en = sum([n * c.energy_j for n, c in zip(counts, costs)])
    return CostSum(lat, en, tuple(costs))


def _costs(hw: Accelerator, ops: Sequence[Op], engine: str, memo: dict) -> list[Cost]:
    """Each op's cost, from ``memo`` where it holds an equal op (keys: the op; for other
    engines than the analytical one, ``(engine, op)``)."""
    get, costs = memo.get, []
    if engine == "analytical":
        for op in ops:  # the hot loop of a 7B graph: ~400 ops, a dozen distinct
            c = get(op)
            if c is None:
                c = memo[op] = cost_op(hw, op, engine)
            costs.append(c)
        return costs
    for op in ops:
        key = (engine, op)
        c = get(key)
        if c is None:
            c = memo[key] = cost_op(hw, op, engine)
        costs.append(c)
    return costs
