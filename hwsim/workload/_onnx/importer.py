"""The graph walk: tensor shapes, dtypes, weights and producers; one converter per node."""

from __future__ import annotations

import math
from collections import Counter

from ...errors import ConfigError, ShapeError, UnsupportedError
from ..graph import GraphBuilder, Precision, Workload
from ..ops import Norm
from . import attention, linear, pointwise
from .norms import find_norms
from .tables import (_DTYPE_FORMAT, _QUANT_DTYPES, ATTENTION, CONVS, ELEMENTWISE, GEMMS, MEMORY,
                     NORMS, REDUCE, SOFTMAX, SUPPORTED, ZERO_COST, _glob_escape)
from .zero_cost import convert_zero_cost


class Importer:
    def __init__(self, onnx, model, name: str, src: str):
        self.onnx, self.model, self.name, self.src = onnx, model, name, src
        g = model.graph
        self.shapes: dict[str, list] = {}
        self.dtypes: dict[str, int] = {}
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            tt = vi.type.tensor_type
            self.shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None
                                    for d in tt.shape.dim] if tt.HasField("shape") else None
            self.dtypes[vi.name] = tt.elem_type
        self.consts: set[str] = set()
        # weight tensors: name -> (initializer, format or None for float)
        self.weight: dict[str, tuple[str, str | None]] = {}
        for t in g.initializer:
            self.shapes[t.name] = list(t.dims)
            self.dtypes[t.name] = t.data_type
            self.consts.add(t.name)
            self.weight[t.name] = (t.name, _DTYPE_FORMAT.get(t.data_type)
                                   if t.data_type in _QUANT_DTYPES else None)
        self.act_fmt: dict[str, str] = {}  # activation tensors with a quantized format
        self.producer: dict[str, str] = {}
        self.used_weights: set[str] = set()
        self.b = GraphBuilder()
        self.overrides: dict[str, dict] = {}

    # ------------------------------------------------------------------ helpers

    def shape(self, t: str, nm: str) -> list[int]:
        s = self.shapes.get(t)
        if s is None or any(d is None or d <= 0 for d in s):
            raise ShapeError(f"{self.src}: ONNX node {nm}: tensor {t!r} has unknown or symbolic "
                             f"shape {s}; bind the model's symbolic input dimensions (--dim "
                             f"NAME=N) or export with static shapes")
        return s

    def known(self, t: str) -> bool:
        s = self.shapes.get(t)
        return s is not None and all(d is not None and d > 0 for d in s)

    def set_shape(self, t: str, s: list[int]) -> None:
        if t and not self.known(t):
            self.shapes[t] = list(s)

    def fmt_of(self, t: str) -> str | None:
        """The quantized format of a tensor from its dtype, if it is a quantized type."""
        dt = self.dtypes.get(t)
        return _DTYPE_FORMAT.get(dt) if dt in _QUANT_DTYPES else None

    def add(self, op, node, w_fmt: str | None = None, a_fmt: str | None = None,
            out_fmt: str | None = None, deps: list[str] | None = None) -> None:
        if deps is None:
            deps = sorted({self.producer[t] for t in node.input if t in self.producer},
                          key=lambda n: self.b.graph.nodes[n]["order"])
        self.b.add(op, deps=deps)
        ov = {k: v for k, v in (("weights", w_fmt), ("activations", a_fmt), ("out", out_fmt))
              if v}
        if ov:
            self.overrides[_glob_escape(op.name)] = ov
        for t in node.output:
            if t:
                self.producer[t] = op.name

    def passthrough(self, node) -> None:
        deps = [self.producer[t] for t in node.input if t in self.producer]
        for t in node.output:
            if t and deps:
                self.producer[t] = deps[-1]

    def weight_of(self, t: str) -> tuple[str, str | None] | None:
        return self.weight.get(t)

    def tied(self, t: str) -> bool:
        w = self.weight.get(t)
        if w is None:
            return False
        if w[0] in self.used_weights:
            return True
        self.used_weights.add(w[0])
        return False

    def alias_weight(self, out: str, entry: tuple) -> None:
        """``out`` is the same weight tensor as ``entry`` (a view, cast or quantized copy)."""
        self.weight[out] = entry
        self.consts.add(out)

    def opset(self, domain: str) -> int:
        for o in self.model.opset_import:
            if (o.domain or "") == domain:
                return o.version
        return 0

    # ------------------------------------------------------------------ main loop

    def run(self, precision: Precision, bound: dict, skip_unsupported: bool) -> Workload:
        counts, zero, skipped, fused = Counter(), Counter(), Counter(), Counter()
        unsupported: dict[str, list[str]] = {}
        norms = find_norms(list(self.model.graph.node), self.consts, self.weight)
        for i, node in enumerate(self.model.graph.node):
            op_type = node.op_type
            counts[op_type] += 1
            nm = node.name or f"{op_type.lower()}_{i}"
            if nm in self.b.graph:
                nm = f"{nm}_{i}"
            if i in norms:
                if norms[i] is None:  # inside a decomposed norm: costed by its last node
                    fused[op_type] += 1
                else:
                    self._fused_norm(node, nm, *norms[i])
                continue
            if op_type not in SUPPORTED:
                unsupported.setdefault(op_type, []).append(nm)
                skipped[op_type] += 1
                self.passthrough(node)
                continue
            attrs = {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}
            emitted = self.node(node, nm, attrs)
            if not emitted:
                zero[op_type] += 1
        self._check(unsupported, skip_unsupported, counts)
        prec = precision.under(self.overrides)
        opsets = {o.domain or "ai.onnx": o.version for o in self.model.opset_import}
        meta = dict(model=self.name, kind="onnx", source=self.src, dims=bound, opsets=opsets,
                    onnx_ops=dict(counts), zero_cost=dict(zero), skipped=dict(skipped),
                    fused=dict(fused))
        return self.b.build(self.name, meta, prec)

    def _check(self, unsupported: dict, skip_unsupported: bool, counts: Counter) -> None:
        """Unsupported ops are an error unless skipped on request (nothing dropped silently)."""
        if unsupported and not skip_unsupported:
            parts = [f"{t} ({len(v)} node{'s' if len(v) > 1 else ''}, e.g. {v[0]!r})"
                     for t, v in sorted(unsupported.items())]
            raise UnsupportedError(f"{self.src}: unsupported ONNX op(s) {', '.join(parts)}; "
                                   f"supported: {', '.join(sorted(SUPPORTED))} (or pass "
                                   "skip_unsupported=True to count and skip them)")
        if self.b.graph.number_of_nodes() == 0:
            raise ConfigError(f"{self.src}: ONNX model {self.name!r} has no costed nodes "
                              f"(op types: {', '.join(sorted(counts))})")

    def _fused_norm(self, node, nm: str, kind: str, x: str, bias: bool) -> None:
        shp = self.shape(x, nm)
        cols = shp[-1]
        rows = math.prod(shp) // cols
        self.set_shape(node.output[0], shp)
        deps = [self.producer[x]] if x in self.producer else []
        self.add(Norm(name=nm, group=f"{kind}_norm", rows=rows, cols=cols, kind=kind,
                      affine_bias=bias), node, a_fmt=self.act_fmt.get(x), deps=deps)

    def node(self, node, nm: str, attrs: dict) -> bool:
        """Map one node; return whether it became a costed op."""
        t = node.op_type
        ins, outs = list(node.input), list(node.output)
        if t in ZERO_COST:
            convert_zero_cost(self, node, t, attrs)
            return False
        if t in GEMMS:
            return linear.convert_gemm(self, node, nm, t, attrs)
        if t in CONVS:
            return linear.convert_conv(self, node, nm, t, attrs)
        if t in ATTENTION:
            return attention.convert_attention(self, node, nm, t, attrs)
        if t in NORMS:
            return pointwise.convert_norm(self, node, nm, t, attrs)
        if t in SOFTMAX:
            return pointwise.convert_softmax(self, node, nm, attrs)
        if t == "Gather" and self.weight_of(ins[0]) is not None:
            return pointwise.convert_embedding(self, node, nm, attrs)
        if t in ("Cast", "Transpose") and ins[0] in self.weight:  # part of the weight path
            self.alias_weight(outs[0], self.weight[ins[0]])
            return False
        if all(x in self.consts or not x for x in ins) and ins:
            # constant folding territory (shape arithmetic on initializers): costs nothing
            self.consts.update(o for o in outs if o)
            return False
        if t in MEMORY | ELEMENTWISE | REDUCE:
            return pointwise.convert_elementwise(self, node, nm, t, attrs)
        raise AssertionError(t)  # every SUPPORTED type is handled above
