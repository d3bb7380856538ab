"""Schedules on an MCU (family ``mcu``): what a whole workload needs, not what one op costs.

* :func:`memory_plan` / :func:`check_fit`: the peak live activation bytes of running a workload's
  ops in order (tensors live from producer to last consumer, single-input elementwise ops in
  place) and a ConfigError naming the memory when it does not fit;
* :func:`patch_plan` / :class:`PatchPlan`: patch-based inference of a first stage (MCUNetV2),
  with :class:`PatchPrecision` / :func:`patch_bitops` for per-patch activation precision
  (QuantMCU);
* :func:`training_macs_per_cycle`: end-to-end MACs per clock of a workload.

Not a model module: it composes :class:`~hwsim.families.mcu.model.MCU` costs and may use
:func:`hwsim.evaluate.evaluate`; the per-op cost model stays in ``model.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import formats as _formats
from ...errors import ConfigError, UnsupportedError
from ...workload.ops import Conv2d, Op
from .model import KiB, MCU

@dataclass(frozen=True)
class MemoryPlan:
    """Peak memory of running a workload's ops in order: activations live from their producer to
    their last consumer; weights stay resident in the weight memory."""

    peak_activation_bytes: float
    peak_op: str
    weight_bytes: float
    per_op_bytes: tuple[tuple[str, float], ...]


def _out_bytes(op: Op) -> float:
    ob = op.operand_bytes()
    return ob.get("C", ob.get("out", ob.get("O", 0.0)))


def memory_plan(workload) -> MemoryPlan:
    """Live activation bytes at each op of ``workload`` (in its topological order).

    A single-input elementwise or norm op whose input dies there runs in place (its output
    overwrites the input, as TFLM/CMSIS-NN fuse or fold BN and activations), the same rule the
    per-op SRAM check uses."""
    g, ops = workload.graph, workload.ops
    order = {op.name: i for i, op in enumerate(ops)}
    last_use = {n: max((order[s] for s in g.successors(n)), default=order[n]) for n in order}
    live: dict[str, float] = {}
    rows, peak, peak_op = [], 0.0, ""
    first = ops[0].name if ops else ""
    for i, op in enumerate(ops):
        ob = op.operand_bytes()
        preds = list(g.predecessors(op.name))
        ext_in = ob.get("A", ob.get("in", 0.0)) if op.name == first or not preds else 0.0
        out = _out_bytes(op)
        if ("in" in ob and getattr(op, "inputs", 1) == 1 and len(preds) == 1
                and last_use.get(preds[0]) == i and live.get(preds[0], -1.0) >= out):
            del live[preds[0]]   # in place: the output takes the input's buffer
            ext_in = 0.0
        live[op.name] = out
        need = sum(live.values()) + ext_in
        rows.append((op.name, need))
        if need > peak:
            peak, peak_op = need, op.name
        for n in [n for n in live if last_use[n] <= i]:
            del live[n]
    return MemoryPlan(peak, peak_op, workload.weight_bytes, tuple(rows))


def check_fit(workload, hw: MCU) -> MemoryPlan:
    """The memory plan of ``workload`` on ``hw``; ConfigError when it does not fit."""
    plan = memory_plan(workload)
    p = hw.params
    if plan.peak_activation_bytes > p.sram_bytes:
        raise ConfigError(f"{hw.name}: {workload.name} needs {plan.peak_activation_bytes / KiB:.1f}"
                          f" KiB of SRAM for activations (peak at {plan.peak_op}), sram_bytes = "
                          f"{p.sram_bytes / KiB:.0f} KiB")
    if plan.weight_bytes > p.weight_memory_bytes:
        raise ConfigError(f"{hw.name}: {workload.name} needs {plan.weight_bytes / KiB:.1f} KiB of "
                          f"{p.weight_memory} for weights, weight_memory_bytes = "
                          f"{p.weight_memory_bytes / KiB:.0f} KiB")
    return plan


@dataclass(frozen=True)
class PatchCost:
    """Cost of a patch-based schedule on one MCU."""

    latency_s: float
    energy_j: float
    macs: int


@dataclass(frozen=True)
class PatchPlan:
    """Patch-based inference (MCUNetV2, Lin et al., NeurIPS 2021) of a workload's first stage: the
    stage's output split into ``patches`` x ``patches`` spatial tiles, each computed through the
    whole stage from an input tile grown by the receptive-field halo (recomputed where tiles
    overlap, clipped at the image border), then the rest of the network layer by layer."""

    workload: object
    patches: int
    stage_groups: tuple         # ((patch count, one such patch's ops), ...): patches of one size
    rest_ops: tuple             # the ops after the stage, unchanged
    stage_macs: int             # MACs of the stage layer by layer
    recompute_macs: int         # MACs above stage_macs of running every patch
    peak_activation_bytes: float
    peak_where: str             # "patch stage" or the op of the rest with the peak
    layer_peak_activation_bytes: float

    @property
    def n_patches(self) -> int:
        return sum(n for n, _ in self.stage_groups)

    @property
    def stage_ops(self) -> tuple:
        """The ops of the largest patch (an interior one when there is one)."""
        return max(self.stage_groups, key=lambda g: sum(o.macs for o in g[1]))[1]

    @property
    def recompute_fraction(self) -> float:
        """Extra MACs over the stage's own MACs."""
        return self.recompute_macs / self.stage_macs if self.stage_macs else 0.0

    @property
    def network_overhead(self) -> float:
        """Extra MACs over the whole network's MACs (the figure MCUNetV2 reports)."""
        return self.recompute_macs / self.workload.macs if self.workload.macs else 0.0

    def check_fit(self, hw: "MCU") -> None:
        """ConfigError naming the memory, the need and the size when the plan does not fit."""
        p = hw.params
        if self.peak_activation_bytes > p.sram_bytes:
            raise ConfigError(
                f"{hw.name}: {self.workload.name} with {self.patches}x{self.patches} patches needs "
                f"{self.peak_activation_bytes / KiB:.1f} KiB of SRAM for activations (peak at "
                f"{self.peak_where}), sram_bytes = {p.sram_bytes / KiB:.0f} KiB")
        if self.workload.weight_bytes > p.weight_memory_bytes:
            raise ConfigError(
                f"{hw.name}: {self.workload.name} needs {self.workload.weight_bytes / KiB:.1f} KiB "
                f"of {p.weight_memory} for weights, weight_memory_bytes = "
                f"{p.weight_memory_bytes / KiB:.0f} KiB")

    def cost(self, hw: "MCU", precision: "PatchPrecision | None" = None) -> PatchCost:
        """Latency and energy on ``hw``: every patch's stage ops, then the rest; checks the fit
        first (ConfigError), so the per-op SRAM checks see one patch's working set. With
        ``precision`` (QuantMCU), a fraction outlier_patches / n_patches of every patch size runs
        the stage in ``high`` activations and the rest in ``low`` (at the kernels' cost of
        narrower activations: none on CMSIS-NN, which widens int4 activations to the int8 loop)."""
        self.check_fit(hw)
        costs = []
        if precision is None:
            shares = ((1.0, None),)
        else:
            _check_precision(self, precision)
            f = precision.outlier_patches / self.n_patches
            shares = ((f, precision.high), (1.0 - f, precision.low))
        for n, ops in self.stage_groups:
            for share, fmt in shares:
                if share:
                    costs += [(n * share, hw.cost(_with_activations(o, fmt) if fmt else o))
                              for o in ops]
        costs += [(1, hw.cost(o)) for o in self.rest_ops]
        macs = sum(n * sum(o.macs for o in ops) for n, ops in self.stage_groups)
        return PatchCost(sum(k * c.latency_s for k, c in costs),
                         sum(k * c.energy_j for k, c in costs),
                         macs + sum(o.macs for o in self.rest_ops))


@dataclass(frozen=True)
class PatchPrecision:
    """Value-driven mixed precision per patch (QuantMCU, Tao et al., DATE 2024): the
    ``outlier_patches`` patches whose feature maps hold outliers keep ``high`` activations through
    the stage; the others run it with ``low`` activations. Everything after the stage is unchanged.
    Which patches hold outliers is data-dependent: they are taken as average-sized patches."""

    outlier_patches: int
    low: str = "int4"
    high: str = "int8"


def _bitops(op: Op, activations: str | None = None) -> float:
    """MACs x weight bits x activation bits (the BitOPs QuantMCU counts)."""
    w = getattr(op, "weights", None)
    a = activations or getattr(op, "activations", None)
    if not op.macs or w is None or a is None:
        return 0.0
    return op.macs * _formats.get(w).bits * _formats.get(a).bits


def _check_precision(plan: "PatchPlan", precision: PatchPrecision) -> None:
    k, n = precision.outlier_patches, plan.n_patches
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ConfigError(f"PatchPrecision.outlier_patches = {k!r}: expected an integer in "
                          f"0..{n} ({plan.patches}x{plan.patches} patches)")
    for f in (precision.low, precision.high):
        if _formats.get(f).is_float:
            raise ConfigError(f"PatchPrecision: activations {f!r} is a float format; per-patch "
                              "precision takes integer activations (int2 ... int8)")


def patch_bitops(plan: "PatchPlan", precision: PatchPrecision | None = None) -> float:
    """BitOPs of running ``plan`` (every patch's stage ops, then the rest), with the stage's
    activations per patch set by ``precision`` (None: the workload's formats everywhere)."""
    rest = sum(_bitops(o) for o in plan.rest_ops)
    if precision is None:
        return sum(n * sum(_bitops(o) for o in ops) for n, ops in plan.stage_groups) + rest
    _check_precision(plan, precision)
    f = precision.outlier_patches / plan.n_patches
    return sum(n * sum(f * _bitops(o, precision.high) + (1 - f) * _bitops(o, precision.low)
                       for o in ops) for n, ops in plan.stage_groups) + rest


def _with_activations(op: Op, fmt: str) -> Op:
    fields = {f: fmt for f in ("activations", "out") if hasattr(op, f)}
    return op.with_formats(**fields) if hasattr(op, "with_formats") else op


def _axis_tiles(convs: list, patches: int, axis: str) -> list[dict[str, tuple[int, int]]]:
    """Per patch index along one axis: for each conv of the stage, (output length, input length
    with its padding rows) of that patch's tile. The stage output is cut into ``patches`` tiles
    of ceil(out / patches) (fewer when those cover the output early: 28 rows in 8 tiles of 4 make
    7 tiles); each conv's input range [a s - p, (b - 1) s - p + d (k - 1) + 1) is
    clipped to the tensor (rows outside are padding, not recomputed) and is the output range the
    conv before it must produce."""
    last = convs[-1]
    total = last.out_h if axis == "h" else last.out_w
    tile = -(-total // patches)
    out = []
    for i in range(patches):
        a, b = i * tile, min((i + 1) * tile, total)
        if a >= b:
            continue
        sizes = {}
        for c in reversed(convs):
            k = c.kernel_h if axis == "h" else c.kernel_w
            n_in = c.in_h if axis == "h" else c.in_w
            lo = a * c.stride - c.padding
            hi = (b - 1) * c.stride - c.padding + c.dilation * (k - 1) + 1
            sizes[c.name] = (b - a, hi - lo)
            a, b = max(0, lo), min(n_in, hi)
        out.append(sizes)
    return out


def patch_plan(workload, last_stage_op: str, patches: int) -> PatchPlan:
    """Run ``workload``'s ops up to ``last_stage_op`` patch by patch (``patches`` per side).

    Tiles follow each conv back from the stage's output tile (:func:`_axis_tiles`), so halos
    overlap between neighbours and stop at the image border. Peak memory in the patch phase: the
    largest patch's schedule (:func:`memory_plan` of its ops) plus every tensor the stage hands to
    the rest (the stage output and any skip tensor crossing the cut), held whole while patches fill
    them; after it, the rest of the layer-by-layer schedule's rows. Only stages of Conv2d /
    Elementwise / Norm ops can be split (UnsupportedError otherwise).

    >>> import hwsim
    >>> pp = patch_plan(hwsim.load_workload("mobilenetv2", weights="int8", activations="int8"),
    ...                 "features.3.project", 4)
    >>> pp.peak_activation_bytes < pp.layer_peak_activation_bytes
    True
    """
    from dataclasses import replace

    from ...workload.graph import Workload
    from ...workload.ops import Elementwise, Norm

    if isinstance(patches, bool) or not isinstance(patches, int) or patches < 1:
        raise ConfigError(f"patch_plan: patches = {patches!r}, expected a positive integer "
                          "(tiles per side)")
    ops = list(workload.ops)
    names = [o.name for o in ops]
    if last_stage_op not in names:
        raise ConfigError(f"patch_plan: last_stage_op = {last_stage_op!r} is not an op of "
                          f"{workload.name} (first ops: {', '.join(names[:4])} ...)")
    cut = names.index(last_stage_op) + 1
    stage, rest = ops[:cut], ops[cut:]
    for o in stage:
        if not isinstance(o, (Conv2d, Elementwise, Norm)):
            raise UnsupportedError(f"patch_plan: {o.name} ({o.type}) in the stage up to "
                                   f"{last_stage_op}: only Conv2d, Elementwise and Norm ops can "
                                   "run patch by patch")
    convs = [o for o in stage if isinstance(o, Conv2d)]
    if not convs:
        raise ConfigError(f"patch_plan: no Conv2d up to last_stage_op = {last_stage_op!r}")
    if not isinstance(stage[0], Conv2d):
        raise UnsupportedError(f"patch_plan: {stage[0].name} precedes the first Conv2d of the stage")
    last = convs[-1]
    if patches > min(last.out_h, last.out_w):
        raise ConfigError(f"patch_plan: patches = {patches} per side, but {last.name}'s output is "
                          f"{last.out_h}x{last.out_w}")
    rows, cols = _axis_tiles(convs, patches, "h"), _axis_tiles(convs, patches, "w")
    kinds: dict[tuple, int] = {}
    for r in rows:
        for c in cols:
            key = tuple((n, r[n], c[n]) for n in r)
            kinds[key] = kinds.get(key, 0) + 1
    groups = []
    for key, count in kinds.items():
        size = {n: (rh, cw) for n, rh, cw in key}
        per_patch, frac = [], 1.0
        for o in stage:
            if isinstance(o, Conv2d):
                (oh, ih), (ow, iw) = size[o.name]
                po = replace(o, in_h=ih, in_w=iw, padding=0)
                frac = oh * ow / (o.out_h * o.out_w)
            else:   # elementwise / norm on the preceding conv's output tile
                po = (replace(o, numel=max(1, round(o.numel * frac))) if isinstance(o, Elementwise)
                      else replace(o, rows=max(1, round(o.rows * frac))))
            per_patch.append(po)
        groups.append((count, tuple(per_patch)))
    stage_macs = sum(o.macs for o in stage)
    recompute = sum(n * sum(o.macs for o in g) for n, g in groups) - stage_macs
    # patch phase: the largest patch's schedule + the tensors crossing the cut, held whole
    patch_mem = 0.0
    for _, g_ops in groups:
        g = workload.graph.subgraph(names[:cut]).copy()
        for po in g_ops:
            g.nodes[po.name]["op"] = po
        patch_mem = max(patch_mem, memory_plan(Workload(workload.name, g, workload.meta))
                        .peak_activation_bytes)
    rest_names = set(names[cut:])
    crossing = sum(_out_bytes(o) for o in stage
                   if any(s in rest_names for s in workload.graph.successors(o.name))
                   or o.name == last_stage_op)
    full = memory_plan(workload)
    rest_peak, rest_op = max(((b, nme) for nme, b in full.per_op_bytes[cut:]), default=(0.0, ""))
    if patch_mem + crossing >= rest_peak:
        peak, where = patch_mem + crossing, "patch stage"
    else:
        peak, where = rest_peak, rest_op
    return PatchPlan(workload, patches, tuple(groups), tuple(rest), stage_macs, recompute,
                     peak, where, full.peak_activation_bytes)


def training_macs_per_cycle(workload, hw: MCU) -> float:
    """End-to-end MACs per clock of a workload (what Nadalini et al. report for training steps)."""
    from ...evaluate import evaluate

    rep = evaluate(workload, hw)
    return workload.macs / (rep.latency_s * hw.params.clock_hz)



__all__ = ["MemoryPlan", "memory_plan", "check_fit", "PatchPlan", "PatchCost", "PatchPrecision",
           "patch_plan", "patch_bitops", "training_macs_per_cycle"]
