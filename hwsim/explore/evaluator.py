"""Fast design evaluation for exploration.

The workload is built once. Its ops collapse into unique *templates* (an op and the precision
key that decides its formats: nothing for ``global``, the op group for ``group``, layer and group
for ``layer``) with a count — the 32 decoder layers of a 7B LLM become ~14 templates per group
granularity. A design sets formats per template, and each (op, formats) pair is costed once per
hardware instance and memoized, so most designs cost a few dozen dictionary lookups.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from ..arch import load_arch
from ..errors import ConfigError, HwsimError, UnsupportedError
from ..costing import sum_costs
from ..workload import Precision, load_workload
from ..workload.graph import llm_precision
from ..workload.ops import Attention, Conv2d, Gemm
from .proxy import AccuracyProxy
from .space import Space


CHECK_ALL = 64  # combinations of domain values checked exhaustively before the first trial


@dataclass(frozen=True)
class Design:
    """What one trial chose: formats per precision key and hardware overrides."""

    weights: dict          # precision key -> weight format
    activations: str
    kv: str
    hardware: dict

    def key(self) -> tuple:
        return (tuple(sorted(self.weights.items())), self.activations, self.kv,
                tuple(sorted(self.hardware.items())))

    def as_dict(self) -> dict:
        return {"weights": self.weights, "activations": self.activations, "kv": self.kv,
                "hardware": self.hardware}


class Evaluator:
    def __init__(self, space: Space):
        self.space = space
        w = space.workload
        kw = dict(phase=w.phase, batch=w.batch, context=w.context)
        if w.image_size:
            kw["image_size"] = w.image_size
        try:
            self.workload = load_workload(w.name, **kw)
        except HwsimError as e:
            raise ConfigError(f"space workload: {e}") from None
        gran = space.precision.granularity
        weight_groups = [g for g in dict.fromkeys(op.group for op in self.workload.ops
                                                  if isinstance(op, (Gemm, Conv2d))
                                                  and op.param_elems) if g]
        if space.precision.groups is not None:
            unknown = sorted(set(space.precision.groups) - set(weight_groups))
            if unknown:
                raise ConfigError(f"space: precision.groups {unknown} are not weight groups of "
                                  f"{w.name}; it has {weight_groups}")
            self.groups = list(space.precision.groups)
        else:
            self.groups = weight_groups

        def pkey(op):
            if gran == "global" or op.group not in self.groups:
                return "*"
            return op.group if gran == "group" else f"L{op.layer}.{op.group}"

        ops = self.workload.ops
        counts = Counter((op, pkey(op)) for op in ops)
        self.templates = [(op, k, n) for (op, k), n in counts.items()]
        index = {(op, k): i for i, (op, k, _) in enumerate(self.templates)}
        # run order as template indices: order-dependent hardware is costed op by op
        self.order = [index[(op, pkey(op))] for op in ops]
        self.keys = sorted({k for _, k, _ in self.templates if k != "*"})
        self.new_tokens = self.workload.meta.get("new_tokens")
        self.proxy = AccuracyProxy(space.proxy.profile, space.proxy.tensors,
                                   space.proxy.sensitivity)
        self._hw: dict[tuple, object] = {}
        self._memo: dict[int, dict] = {}
        self._prec: dict[tuple, Precision] = {}
        self._designs: dict[tuple, dict | str] = {}
        self._formatted: dict[tuple, tuple] = {}     # (template, w, a, kv) -> _format()
        self._by_precision: dict[tuple, tuple] = {}  # (weights, a, kv) -> _precision_part()
        self._hw_only: dict[int, dict] = {}          # id(hw) -> _hw_metrics()
        self._counts = [n for _, _, n in self.templates]  # design key -> metrics or error

    # ------------------------------------------------------------------ pieces

    def hardware(self, overrides: dict):
        key = tuple(sorted(overrides.items()))
        hw = self._hw.get(key)
        if hw is None:
            try:
                hw = load_arch(self.space.arch, **overrides)
            except HwsimError as e:
                raise ConfigError(f"space hardware: {e}") from None
            self._hw[key] = hw
            self._memo[id(hw)] = {}
        return hw

    def _precision(self, w, a, kv) -> Precision:
        key = (w, a, kv)
        p = self._prec.get(key)
        if p is None:
            p = Precision(w, a, kv)
            if self.workload.meta.get("kind") == "llm":  # as build_llm sets it for evaluate
                p = llm_precision(p)
            self._prec[key] = p
        return p

    def _format(self, op, wf: str, a: str, kv: str) -> tuple:
        """A template with formats applied (memoized by the caller): the formatted op, the
        bytes it keeps in memory (weights; K and V for attention), and its proxy group and
        parameter count (None for ops without weights)."""
        fop = self._precision(wf, a, kv).apply(op)
        mem = fop.weight_bytes
        if isinstance(fop, Attention):
            ob = fop.operand_bytes()
            mem += ob["K"] + ob["V"]
        if isinstance(fop, (Gemm, Conv2d)) and fop.param_elems:
            # every weight-bearing group counts, searched or not: lowering the bits of an
            # unsearched group (lm_head, embeddings) must show in the proxy too
            return fop, mem, op.group or op.name, fop.param_elems
        return fop, mem, None, 0

    # ------------------------------------------------------------------ evaluate

    def evaluate(self, d: Design) -> dict:
        """Metrics of one design: latency_s, energy_j, tokens_per_s, memory_bytes,
        accuracy_proxy and, where the model has one, area_mm2."""
        hw = self.hardware(d.hardware)
        pkey = (tuple(sorted(d.weights.items())), d.activations, d.kv)
        fops, mem, proxy = self._by_precision.get(pkey) or self._precision_part(d, pkey)
        memo = self._memo[id(hw)]
        if hw.order_dependent:  # e.g. launch="stream": costs depend on the run order
            s = sum_costs(hw, [fops[i] for i in self.order], engine=self.space.engine, memo=memo)
        else:
            s = sum_costs(hw, fops, counts=self._counts, engine=self.space.engine, memo=memo)
        lat, en = s.latency_s, s.energy_j
        out = {"latency_s": lat, "energy_j": en, "memory_bytes": mem}
        if self.new_tokens:
            out["tokens_per_s"] = self.new_tokens / lat
        if proxy is not None:
            out["accuracy_proxy"] = proxy
        out.update(self._hw_metrics(hw))
        return out

    def _precision_part(self, d: Design, pkey: tuple) -> tuple:
        """What a design's formats decide, whatever the hardware (memoized by the caller):
        the formatted templates, the bytes kept in memory and the accuracy proxy."""
        wdefault = d.weights.get("*")
        a, kv = d.activations, d.kv
        fops, mem = [], 0.0
        proxy_w: dict[tuple, float] = {}   # (group, format) -> parameters
        proxy_a: dict[str, str] = {}
        for i, (op, key, n) in enumerate(self.templates):
            wf = d.weights.get(key, wdefault)
            t = self._formatted.get((i, wf, a, kv))
            if t is None:
                t = self._formatted[(i, wf, a, kv)] = self._format(op, wf, a, kv)
            fop, op_mem, group, params = t
            fops.append(fop)
            mem += n * op_mem
            if group is not None:
                proxy_w[(group, wf)] = proxy_w.get((group, wf), 0) + n * params
                proxy_a[group] = a
        proxy = None
        if "accuracy_proxy" in self.space.metrics:
            proxy = self.proxy.score_items([(g, f, n) for (g, f), n in proxy_w.items()],
                                           proxy_a, kv)
        r = self._by_precision[pkey] = (fops, mem, proxy)
        return r

    def _hw_metrics(self, hw) -> dict:
        """Metrics of the hardware alone (memoized per instance)."""
        m = self._hw_only.get(id(hw))
        if m is None:
            m = {}
            if "area_mm2" in self.space.metrics:
                m["area_mm2"] = hw.area_mm2
            if "resource_utilization" in self.space.metrics:
                # FPGA designs: largest used/available resource fraction (> 1: does not fit); a
                # space sets check_fit to false so over-budget designs are costed and the
                # constraint {max: 1.0} marks them infeasible instead of failing the trial
                m["resource_utilization"] = hw.resource_utilization
            self._hw_only[id(hw)] = m
        return m

    def evaluate_safe(self, d: Design) -> dict | str:
        """Metrics of ``d`` (memoized per distinct design), or why it cannot be costed: an
        error message, also when a metric is not a finite number >= 0."""
        k = d.key()
        r = self._designs.get(k)
        if r is None:
            try:
                r = self.evaluate(d)
                bad = [f"{n} = {v!r}" for n, v in r.items() if not 0 <= v < math.inf]
                if bad:
                    r = f"design {d.as_dict()}: {', '.join(bad)} (expected a finite number >= 0)"
            except HwsimError as e:
                r = f"design {d.as_dict()}: {e}"
            self._designs[k] = r
        return r

    def evaluate_many(self, designs: list[Design], pool=None) -> list[dict | str]:
        """:meth:`evaluate_safe` of each design; designs not seen before go to ``pool`` (an
        object with ``map``) when one is given."""
        if pool is not None:
            new = list({d.key(): d for d in designs if d.key() not in self._designs}.values())
            if len(new) > 1:
                for d, r in zip(new, pool.map(new)):
                    self._designs[d.key()] = r
        return [self.evaluate_safe(d) for d in designs]

    # ------------------------------------------------------------------ sampling

    def suggest(self, trial) -> Design:
        """Sample a design define-by-run (conditional format parameters included)."""
        sp = self.space.precision
        weights = {"*": sp.weights.suggest(trial, "w")} if (
            sp.granularity == "global" or any(k == "*" for _, k, _ in self.templates)) else {}
        for k in self.keys:
            weights[k] = sp.weights.suggest(trial, f"w.{k}")
        a = sp.activations.suggest(trial, "a") if sp.activations else self.workload_default("activations")
        kv = sp.kv.suggest(trial, "kv") if sp.kv else a
        hw = {name: dom.suggest(trial, f"hw.{name}") for name, dom in self.space.hardware.items()}
        return Design(weights, a, kv, hw)

    def default_design(self) -> Design:
        sp = self.space.precision
        w = sp.weights.default()
        a = sp.activations.default() if sp.activations else self.workload_default("activations")
        return Design({"*": w, **{k: w for k in self.keys}}, a,
                      sp.kv.default() if sp.kv else a,
                      {n: dom.default() for n, dom in self.space.hardware.items()})

    def workload_default(self, role: str) -> str:
        return self.workload.meta.get(role, "fp16")

    def check(self) -> dict:
        """Evaluate designs covering every choice of every domain (all combinations where
        there are at most CHECK_ALL, else each value with the others at their first choice), so
        a bad space fails before any trial runs. Returns the first design's metrics."""
        domains = self._domain_values()
        d0 = self.default_design()
        m = self._check_one(d0, "the first choice of every domain")
        if math.prod(len(v) for _, v in domains) <= CHECK_ALL:
            for combo in itertools.product(*(v for _, v in domains)):
                what = ", ".join(f"{f} = {v!r}" for (f, _), v in zip(domains, combo))
                self._check_one(self._with(d0, dict(zip((f for f, _ in domains), combo))), what)
        else:
            for field, values in domains:
                for v in values[1:]:
                    self._check_one(self._with(d0, {field: v}), f"{field} = {v!r}")
        return m

    def _domain_values(self) -> list[tuple[str, list]]:
        sp = self.space.precision
        out = [("precision.weights", sp.weights.values())]
        if sp.activations:
            out.append(("precision.activations", sp.activations.values()))
        if sp.kv:
            out.append(("precision.kv", sp.kv.values()))
        out += [(f"hardware.{n}", dom.values()) for n, dom in self.space.hardware.items()]
        return out

    def _with(self, d: Design, values: dict) -> Design:
        w, a, kv, hw = d.weights, d.activations, d.kv, dict(d.hardware)
        for field, v in values.items():
            if field == "precision.weights":
                w = {k: v for k in d.weights}
            elif field == "precision.activations":
                a = v
                kv = v if self.space.precision.kv is None else kv
            elif field == "precision.kv":
                kv = v
            else:
                hw[field.split(".", 1)[1]] = v
        return Design(w, a, kv, hw)

    def _check_one(self, d: Design, what: str) -> dict:
        where = f"{what} on {self.space.arch}" if what else self.space.arch
        try:
            m = self.evaluate(d)
        except UnsupportedError as e:
            if "area model" in str(e):
                raise ConfigError(f"space: area_mm2 is an objective or constraint, but the "
                                  f"{self.hardware(d.hardware).family} model of {self.space.arch} "
                                  f"has no area model") from None
            raise ConfigError(f"space: {what} does not run on {self.space.arch}: {e}") from None
        except HwsimError as e:
            raise ConfigError(f"space: {where}: {e}") from None
        missing = [k for k in self.space.metrics if k not in m]
        if missing:
            raise ConfigError(f"space: objective/constraint {missing} is not provided for this "
                              f"workload/arch (e.g. tokens_per_s needs an LLM workload)")
        bad = [f"{k} = {v!r}" for k, v in m.items() if not 0 <= v < math.inf]
        if bad:
            raise ConfigError(f"space: {where} gives {', '.join(bad)}; expected finite numbers "
                              ">= 0 (check proxy.sensitivity and the arch's parameters)")
        return m
