"""ONNX import (optional extra ``hwsim[onnx]``): an ONNX graph becomes a Workload.

Only the graph is read, never tensor data: the file is opened with ``load_external_data=False``,
so models whose weights live in external files (every export over 2 GB, and the ZigZag example
models whose ``.external`` files are not shipped) import from shapes and dtypes alone -- all a cost
model needs. Shapes come from ONNX shape inference (with data propagation, so ``Shape -> Gather ->
Concat -> Reshape`` chains resolve) after the graph inputs' symbolic dimensions are bound from
``dims`` (``hwsim eval model.onnx --dim batch=8 --dim sequence=2048``); an unbound symbolic
dimension is an error naming it.

Op mapping (opsets 11-21 and the ``com.microsoft`` ops of ONNX Runtime's transformer exports):

* ``MatMul``/``Gemm`` (``transA``/``transB``) -> :class:`Gemm`; B is a weight when it is an
  initializer, possibly through ``DequantizeLinear``/``Transpose``/``Reshape``/``Cast``; a weight
  used by a second MatMul counts its parameters once (``tied``).
* ``Conv`` (1-D and 2-D, ``auto_pad`` resolved from the inferred output shape) -> :class:`Conv2d`.
* ``Attention`` (opset 23), ``com.microsoft`` ``Attention`` (QKV projection + attention),
  ``MultiHeadAttention``, ``GroupQueryAttention`` -> :class:`Attention`. Decomposed attention
  (MatMul, Softmax, MatMul) stays decomposed: activation x activation GEMMs and a Softmax.
* ``LayerNormalization``, ``SimplifiedLayerNormalization``/``RMSNormalization``, their ``Skip``
  variants, ``BatchNormalization`` -> :class:`Norm`; ``Softmax``/``LogSoftmax`` ->
  :class:`Softmax`; ``Gather`` of a weight table -> :class:`Embedding`. Norms written out as
  nodes (LayerNorm below opset 17, Llama's RMSNorm in every export) are matched
  (``_Importer._find_norms``: Pow/ReduceMean/Add/Sqrt/Reciprocal-or-Div/Mul chains, with their
  Casts and the weight Mul / bias Add) and become one :class:`Norm`, as fused runtimes execute
  them; their inner nodes are counted in ``meta["fused"]``. The Pow exponent's value is data
  and is not read (any constant exponent matches).
* Elementwise, reduction and pooling nodes -> :class:`Elementwise` (reductions and pools read
  ``inputs`` x ``numel`` elements for ``numel`` outputs).
* Data movement (``Transpose``, ``Concat``, ``Slice``, ``Split``, ``Pad``, ``Expand``, activation
  ``Gather`` ...) -> a copy: :class:`Elementwise` with 0 FLOPs. Shape-only nodes (``Reshape``,
  ``Flatten``, ``Squeeze``, ``Unsqueeze``, ``Shape``, ``Constant``, ``Identity``, ``Dropout`` ...)
  cost nothing.
* Quantized graphs: ``QLinearMatMul``/``QLinearConv``/``MatMulInteger``/``ConvInteger`` take their
  operand formats from the operands' dtypes; in QDQ graphs ``QuantizeLinear``/``DequantizeLinear``
  are fused into their consumers (as TensorRT and ONNX Runtime execute QDQ graphs) and give the
  consumer's weight/activation format (``block_size`` -> a group format such as ``int4_g32``);
  ``com.microsoft`` ``MatMulNBits`` -> ``int{bits}_g{block_size}`` weights (``uint..`` with zero
  points). Float dtypes are not imposed: a float graph takes the caller's precision (exports are
  often fp32 while deployment is fp16); quantized formats found in the file override it per op
  (the caller's own ``Precision.overrides`` still win). int8 with a zero-point tensor is read as
  ``int8`` (the zero point's value is data, which is not loaded).

Nothing is silently dropped: an op type outside these lists (control flow ``If``/``Loop``/
``Scan``, ``ConvTranspose``, unknown custom ops ...) is an :class:`~hwsim.errors.UnsupportedError`
naming each unsupported type and what is supported, unless ``skip_unsupported=True``, which
passes dependencies through and counts them in ``workload.meta["skipped"]``. ``meta`` also holds
``onnx_ops`` (count per op type), ``zero_cost`` (op types mapped to nothing) and ``fused``, so
``sum(onnx_ops) == ops costed + zero_cost + fused + skipped`` can be checked.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from ..errors import ConfigError, HwsimError, ShapeError, UnsupportedError
from .graph import GraphBuilder, Precision, Workload
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Softmax


def _onnx():
    try:
        import onnx
    except ImportError:
        raise HwsimError("ONNX import needs the optional dependency: "
                         "pip install 'hwsim[onnx]'") from None
    return onnx


# ---------------------------------------------------------------------------- op tables

ZERO_COST = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Size", "Constant",
             "ConstantOfShape", "Identity", "Dropout", "Range", "EyeLike", "QuantizeLinear",
             "DequantizeLinear", "DynamicQuantizeLinear"}
MEMORY = {"Transpose", "Concat", "Slice", "Split", "Pad", "Expand", "Tile", "Gather",
          "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Resize", "Upsample",
          "DepthToSpace", "SpaceToDepth", "Trilu", "Cast", "CastLike", "OneHot", "NonZero"}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs",
               "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf",
               "Gelu", "Softplus", "Softsign", "Elu", "Selu", "Celu", "Mish", "Clip", "Min", "Max",
               "Mean", "Sum", "Where", "Equal", "Greater", "GreaterOrEqual", "Less",
               "LessOrEqual", "Not", "And", "Or", "Xor", "Floor", "Ceil", "Round", "Sign", "Mod",
               "Sin", "Cos", "IsNaN", "IsInf", "BitShift", "Shrink", "ThresholdedRelu",
               # com.microsoft fused activations / rotary embedding (same shape as input 0)
               "FastGelu", "BiasGelu", "QuickGelu", "BiasAdd", "RotaryEmbedding",
               "LRN"}  # local response norm: per element, a sum of squares over `size` channels
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin",
          "CumSum", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}
NORMS = {"LayerNormalization": "layer", "SkipLayerNormalization": "layer",
         "SimplifiedLayerNormalization": "rms", "SkipSimplifiedLayerNormalization": "rms",
         "RMSNormalization": "rms", "BatchNormalization": "batch"}
GEMMS = {"MatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "MatMulNBits"}
CONVS = {"Conv", "ConvInteger", "QLinearConv"}
ATTENTION = {"Attention", "MultiHeadAttention", "GroupQueryAttention"}
SOFTMAX = {"Softmax", "LogSoftmax"}
SUPPORTED = (ZERO_COST | MEMORY | ELEMENTWISE | REDUCE | set(NORMS) | GEMMS | CONVS | ATTENTION
             | SOFTMAX)
# ops whose inputs are not tensors to be costed (shape / index arguments)
_FLOPS = {"Exp": 4, "Log": 4, "Erf": 4, "Tanh": 4, "Sigmoid": 4, "Gelu": 8, "FastGelu": 8,
          "BiasGelu": 8, "QuickGelu": 5, "Softplus": 5, "Mish": 8, "Sqrt": 2, "Pow": 2,
          "HardSwish": 3, "RotaryEmbedding": 3}

# TensorProto element types -> hwsim format names (quantized and float storage types).
# FNUZ fp8 variants have the same bit layout and MAC cost; only their range (max 240 / 57344)
# differs, which does not enter a cost.
_DTYPE_FORMAT = {2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 10: "fp16",
                 16: "bf16", 1: "fp32", 17: "fp8_e4m3", 18: "fp8_e4m3", 19: "fp8_e5m2",
                 20: "fp8_e5m2", 21: "uint4", 22: "int4", 23: "fp4_e2m1"}
_QUANT_DTYPES = {2, 3, 4, 5, 17, 18, 19, 20, 21, 22, 23}


def _glob_escape(name: str) -> str:
    """An op name as an fnmatch pattern matching only itself (Precision.overrides are globs)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


# ---------------------------------------------------------------------------- loading

def load_onnx(path: str | Path, precision: Precision | None = None, dims: dict | None = None,
              skip_unsupported: bool = False) -> Workload:
    """Read ``path`` (graph only: tensor data, internal or external, is never loaded)."""
    onnx = _onnx()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as e:  # onnx raises its own assorted types for corrupt files
        raise ConfigError(f"{p}: cannot read ONNX model ({e})") from None
    return from_onnx_model(model, name=p.stem, precision=precision, dims=dims,
                           skip_unsupported=skip_unsupported, source=str(p))


def bind_dims(model, dims: dict | None, source: str = "onnx") -> dict[str, int]:
    """Set the graph inputs' symbolic dimensions from ``dims`` (in place); return the symbols
    found with their values. Raises ConfigError naming unbound symbols or unknown names."""
    dims = dict(dims or {})
    for k, v in dims.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ConfigError(f"{source}: dim {k} = {v!r}: expected a positive integer")
    g = model.graph
    init = {t.name for t in g.initializer}
    found: dict[str, list[str]] = {}
    anonymous = []
    for vi in g.input:
        if vi.name in init:
            continue
        for i, d in enumerate(vi.type.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            if d.HasField("dim_param") and d.dim_param:
                found.setdefault(d.dim_param, []).append(f"{vi.name}[{i}]")
                if d.dim_param in dims:
                    d.dim_value = dims[d.dim_param]  # clears dim_param (oneof)
            elif f"{vi.name}.{i}" in dims:
                d.dim_value = dims[f"{vi.name}.{i}"]
                found[f"{vi.name}.{i}"] = [f"{vi.name}[{i}]"]
            else:
                anonymous.append(f"{vi.name}[{i}]")
    unknown = sorted(set(dims) - set(found))
    if unknown:
        raise ConfigError(f"{source}: dim(s) {', '.join(unknown)} are not symbolic dimensions of "
                          f"the model's inputs; its symbolic dimensions are "
                          f"{', '.join(sorted(found)) or 'none'}")
    unbound = sorted(s for s in found if s not in dims)
    if unbound or anonymous:
        what = [f"{s} (at {', '.join(found[s])})" for s in unbound]
        what += [f"{a} (unnamed; bind as '{a.replace('[', '.').rstrip(']')}=N')" for a in anonymous]
        raise ConfigError(f"{source}: unbound symbolic input dimension(s) {'; '.join(what)}; "
                          f"bind each with dims={{name: N}} (CLI: --dim NAME=N)")
    return {s: dims[s] for s in found}


def from_onnx_model(model, name: str = "onnx", precision: Precision | None = None,
                    dims: dict | None = None, skip_unsupported: bool = False,
                    source: str | None = None) -> Workload:
    """Build a Workload from an in-memory ModelProto (see the module docstring)."""
    onnx = _onnx()
    src = source or name
    bound = bind_dims(model, dims, src)
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as e:
        raise ConfigError(f"{src}: ONNX shape inference failed ({e})") from None
    return _Importer(onnx, model, name, src).run(precision or Precision(), bound,
                                                 skip_unsupported)


class _Importer:
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

    # ------------------------------------------------------------------ main loop

    def run(self, precision: Precision, bound: dict, skip_unsupported: bool) -> Workload:
        g = self.model.graph
        counts, zero, skipped, fused = Counter(), Counter(), Counter(), Counter()
        unsupported: dict[str, list[str]] = {}
        norms = self._find_norms()
        for i, node in enumerate(g.node):
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
        if unsupported and not skip_unsupported:
            parts = [f"{t} ({len(v)} node{'s' if len(v) > 1 else ''}, e.g. {v[0]!r})"
                     for t, v in sorted(unsupported.items())]
            raise UnsupportedError(f"{self.src}: unsupported ONNX op(s) {', '.join(parts)}; "
                                   f"supported: {', '.join(sorted(SUPPORTED))} (or pass "
                                   "skip_unsupported=True to count and skip them)")
        if self.b.graph.number_of_nodes() == 0:
            raise ConfigError(f"{self.src}: ONNX model {self.name!r} has no costed nodes "
                              f"(op types: {', '.join(sorted(counts))})")
        prec = precision.under(self.overrides)
        opsets = {o.domain or "ai.onnx": o.version for o in self.model.opset_import}
        meta = dict(model=self.name, kind="onnx", source=self.src, dims=bound, opsets=opsets,
                    onnx_ops=dict(counts), zero_cost=dict(zero), skipped=dict(skipped),
                    fused=dict(fused))
        return self.b.build(self.name, meta, prec)

    def _find_norms(self) -> dict[int, tuple | None]:
        """Decomposed LayerNorm / RMSNorm subgraphs (how exporters below opset 17, and every
        Llama-style RMSNorm, write them): node index -> None for inner nodes, or (kind, input,
        affine_bias) for the last node, which becomes one Norm op. Matched only where every
        intermediate tensor has a single consumer (Casts in between are part of the pattern):

        * RMS: Pow(x, 2) | Mul(x, x) -> ReduceMean -> Add(eps) -> Sqrt -> Reciprocal -> Mul(x) |
          Div(x, .) | Div(1, .) -> Mul(x); then optionally Mul(weight).
        * Layer: ReduceMean(x) -> Sub(x, mean) = d -> Pow(d, 2) -> ReduceMean -> Add(eps) ->
          Sqrt -> Div(d, .); then optionally Mul(weight), Add(bias).
        """
        nodes = list(self.model.graph.node)
        cons: dict[str, list[int]] = {}
        prod: dict[str, int] = {}  # tensor -> the node that writes it
        for i, n in enumerate(nodes):
            for t in n.input:
                if t:
                    cons.setdefault(t, []).append(i)
            for t in n.output:
                prod.setdefault(t, i)
        const = set(self.consts) | {o for n in nodes if n.op_type == "Constant" for o in n.output}

        def nxt(t, types, path):
            """The single consumer of t (through single-consumer Casts) if its type is in
            types; the Casts walked are appended to path."""
            while True:
                c = cons.get(t, [])
                if len(c) != 1:
                    return None
                n = nodes[c[0]]
                if n.op_type == "Cast":
                    path.append(c[0])
                    t = n.output[0]
                    continue
                return c[0] if n.op_type in types else None

        def other(n, t):
            rest = [x for x in n.input if x != t]
            return rest[0] if rest else t

        def square(i, x):
            n = nodes[i]
            return (n.op_type == "Pow" and n.input[0] == x and n.input[1] in const) or (
                n.op_type == "Mul" and n.input[0] == n.input[1] == x)

        def tail(end, path, allow_bias):
            """Optional Mul(weight) [Add(bias)] after the normalization; returns (end, bias)."""
            m = nxt(nodes[end].output[0], {"Mul"}, path)
            if m is None or other(nodes[m], self._out(nodes, end, path)) not in self.weight:
                return end, False
            end = m
            if allow_bias:
                a = nxt(nodes[end].output[0], {"Add"}, path)
                if a is not None and other(nodes[a], self._out(nodes, end, path)) in self.weight:
                    path.append(end)  # the Mul(weight) is inside the pattern too
                    return a, True
            return end, False

        def last_axis(k):
            """A ReduceMean over the last axis only (axes given as an attribute), or with its
            axes as an input (opset 18), whose value is data this importer does not read."""
            ax = [list(a.ints) for a in nodes[k].attribute if a.name == "axes"]
            return ax == [[-1]] or (not ax and len(nodes[k].input) > 1)

        found: dict[int, tuple | None] = {}
        for i, n in enumerate(nodes):
            path: list[int] = []
            if n.op_type in ("Pow", "Mul") and square(i, n.input[0]):  # RMS
                x = n.input[0]
                r = nxt(n.output[0], {"ReduceMean"}, path)
                a = r is not None and last_axis(r) and nxt(nodes[r].output[0], {"Add"}, path)
                sq = a and other(nodes[a], nodes[r].output[0]) in const and \
                    nxt(nodes[a].output[0], {"Sqrt"}, path)
                if not sq:
                    continue
                d = nxt(nodes[sq].output[0], {"Div", "Reciprocal"}, path)
                if d is None:
                    continue
                dn = nodes[d]
                if dn.op_type == "Div" and dn.input[0] == x:
                    end, mid = d, [i, r, a, sq]
                else:
                    m = nxt(dn.output[0], {"Mul"}, path)
                    if m is None or (dn.op_type == "Div" and dn.input[0] not in const) or \
                            x not in nodes[m].input:
                        continue
                    end, mid = m, [i, r, a, sq, d]
                mid.append(end)
                # a Cast of x feeding only this pattern (eager fp32 upcast) is part of the kernel
                src = prod.get(x)
                if src is not None and nodes[src].op_type == "Cast" and \
                        set(cons.get(x, [])) <= {i, end}:
                    mid.append(src)
                    x = nodes[src].input[0]
                end, _ = tail(end, path, allow_bias=False)
                kind, bias = "rms", False
            elif n.op_type == "ReduceMean" and last_axis(i):  # Layer
                x = n.input[0]
                sub = nxt(n.output[0], {"Sub"}, path)
                if sub is None or nodes[sub].input[0] != x:
                    continue
                dt = nodes[sub].output[0]
                users = cons.get(dt, [])
                pw = next((u for u in users if square(u, dt)), None)
                if pw is None or len(users) != 2:
                    continue
                r = nxt(nodes[pw].output[0], {"ReduceMean"}, path)
                a = r is not None and nxt(nodes[r].output[0], {"Add"}, path)
                sq = a and nxt(nodes[a].output[0], {"Sqrt"}, path)
                dv = sq and nxt(nodes[sq].output[0], {"Div"}, path)
                if not dv or nodes[dv].input[0] != dt:
                    continue
                mid = [i, sub, pw, r, a, sq]
                end, bias = tail(dv, path, allow_bias=True)
                mid.append(dv)
                kind = "layer"
            else:
                continue
            members = set(mid) | set(path) | {end}
            if members & set(found):
                continue
            for k in members - {end}:
                found[k] = None
            found[end] = (kind, x, bias)
        return found

    @staticmethod
    def _out(nodes, end, path) -> str:
        """The tensor a pattern's next node reads: the end node's output, or the last Cast's."""
        casts = [k for k in path if k > end]
        return nodes[max(casts)].output[0] if casts else nodes[end].output[0]

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
            self._zero_cost(node, t, attrs)
            return False
        if t in GEMMS:
            return self._gemm(node, nm, t, attrs)
        if t in CONVS:
            return self._conv(node, nm, t, attrs)
        if t in ATTENTION:
            return self._attention(node, nm, t, attrs)
        if t in NORMS:
            x = self.shape(ins[0], nm)
            kind = NORMS[t]
            if kind == "batch":
                cols = x[1] if len(x) > 1 else x[0]
                rows = math.prod(x) // cols
            else:
                axis = attrs.get("axis", -1) % len(x)
                rows, cols = math.prod(x[:axis]) or 1, math.prod(x[axis:])
            bias = kind == "batch" or any(
                ins[j] for j in ((3,) if t.startswith("Skip") else (2,)) if j < len(ins))
            self.set_shape(outs[0], x)
            self.add(Norm(name=nm, group=t.lower(), rows=rows, cols=cols, kind=kind,
                          affine_bias=kind != "rms" and bias), node)
            return True
        if t in SOFTMAX:
            x = self.shape(ins[0], nm)
            opset = self._opset("")
            axis = attrs.get("axis", -1 if opset >= 13 else 1) % len(x)
            cols = x[axis] if opset >= 13 else math.prod(x[axis:])
            self.set_shape(outs[0], x)
            self.add(Softmax(name=nm, group="softmax", rows=math.prod(x) // cols, cols=cols),
                     node, a_fmt=self.act_fmt.get(ins[0]))
            return True
        if t == "Gather" and self.weight_of(ins[0]) is not None:
            table = self.shape(ins[0], nm)
            idx = self.shape(ins[1], nm) if ins[1] not in self.consts or self.known(ins[1]) else []
            if len(table) != 2 or attrs.get("axis", 0) != 0:
                raise UnsupportedError(f"{self.src}: ONNX node {nm}: Gather of weight "
                                       f"{ins[0]!r} with shape {table} on axis "
                                       f"{attrs.get('axis', 0)}; only 2-D tables on axis 0 "
                                       "(embeddings) are supported")
            self.set_shape(outs[0], idx + table[1:])
            self.tied(ins[0])
            self.add(Embedding(name=nm, group="embed", vocab=table[0], dim=table[1],
                               tokens=max(1, math.prod(idx))), node,
                     w_fmt=self.weight_of(ins[0])[1])
            return True
        if t in ("Cast", "Transpose") and ins[0] in self.weight:  # part of the weight path
            self._alias_weight(outs[0], self.weight[ins[0]])
            return False
        if all(x in self.consts or not x for x in ins) and ins:
            # constant folding territory (shape arithmetic on initializers): costs nothing
            self.consts.update(o for o in outs if o)
            return False
        if t in MEMORY | ELEMENTWISE | REDUCE:
            return self._elementwise(node, nm, t, attrs)
        raise AssertionError(t)  # every SUPPORTED type is handled above

    def _opset(self, domain: str) -> int:
        for o in self.model.opset_import:
            if (o.domain or "") == domain:
                return o.version
        return 0

    # ------------------------------------------------------------------ node kinds

    def _alias_weight(self, out: str, entry: tuple) -> None:
        """``out`` is the same weight tensor as ``entry`` (a view, cast or quantized copy)."""
        self.weight[out] = entry
        self.consts.add(out)

    def _zero_cost(self, node, t: str, attrs: dict) -> None:
        ins, outs = list(node.input), list(node.output)
        src = ins[0] if ins else ""
        if t == "DequantizeLinear":
            fmt = self.fmt_of(src)
            bs = attrs.get("block_size", 0)
            if fmt and bs and fmt.replace("u", "").startswith("int"):
                fmt = f"{fmt}_g{bs}"  # blocked quantization (opset 21): one scale per block
            if src in self.weight:
                self._alias_weight(outs[0], (self.weight[src][0], fmt))
                return
            if fmt:
                self.act_fmt[outs[0]] = fmt
        elif t in ("QuantizeLinear", "DynamicQuantizeLinear"):
            if src in self.weight:  # weights quantized at run time from float initializers
                self._alias_weight(outs[0], self.weight[src])
                return
            fmt = self.fmt_of(outs[0])
            if fmt:
                self.act_fmt[outs[0]] = fmt
        elif src in self.weight and t in ("Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                          "Identity"):
            self._alias_weight(outs[0], self.weight[src])
            return
        elif t in ("Constant", "ConstantOfShape", "Range", "Shape", "Size", "EyeLike") or (
                ins and all(x in self.consts or not x for x in ins)):
            self.consts.update(o for o in outs if o)  # shape arithmetic: no tensor data moves
            return
        elif src in self.act_fmt:
            self.act_fmt[outs[0]] = self.act_fmt[src]
        if src and self.known(src) and t in ("Identity", "Dropout") and outs:
            self.set_shape(outs[0], self.shapes[src])
        self.passthrough(node)

    def _gemm(self, node, nm: str, t: str, attrs: dict) -> bool:
        ins, outs = list(node.input), list(node.output)
        ia, ib = (0, 3) if t == "QLinearMatMul" else (0, 1)
        a = self.shape(ins[ia], nm)
        w = self.weight_of(ins[ib])
        a_fmt = self.fmt_of(ins[ia]) or self.act_fmt.get(ins[ia])
        out_fmt = self.fmt_of(outs[0]) if t == "QLinearMatMul" else None
        bias = False
        if t == "MatMulNBits":
            K, N, bits, bs = (attrs.get(k) for k in ("K", "N", "bits", "block_size"))
            if None in (K, N, bits, bs):
                raise ConfigError(f"{self.src}: ONNX node {nm}: MatMulNBits needs attributes K, "
                                  f"N, bits and block_size, got {sorted(attrs)}")
            zp = len(ins) > 3 and bool(ins[3])
            w_fmt = f"{'u' if zp else ''}int{bits}_g{bs}"
            M, groups, is_w = math.prod(a[:-1]) or 1, 1, True
            bias = len(ins) > 5 and bool(ins[5])
            tied = self.tied(ins[ib])
            self.set_shape(outs[0], a[:-1] + [N])
        else:
            b = self.shape(ins[ib], nm)
            w_fmt = (w[1] if w else None) or (self.fmt_of(ins[ib]) if t != "MatMul" else None) \
                or (None if w else self.act_fmt.get(ins[ib]))
            is_w = w is not None
            tied = self.tied(ins[ib]) if is_w else False
            if t == "Gemm":
                if len(a) != 2 or len(b) != 2:
                    raise ShapeError(f"{self.src}: ONNX node {nm}: Gemm needs 2-D inputs, got "
                                     f"{a} and {b}")
                M, K = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
                N = b[0] if attrs.get("transB", 0) else b[1]
                groups, bias = 1, len(ins) > 2 and bool(ins[2])
                self.set_shape(outs[0], [M, N])
            else:
                a2 = [1] + a if len(a) == 1 else a
                b2 = b + [1] if len(b) == 1 else b
                K, N = a2[-1], b2[-1]
                if b2[-2] != K:
                    raise ShapeError(f"{self.src}: ONNX node {nm}: MatMul inner dimensions "
                                     f"differ: {a} x {b}")
                if is_w and len(b2) == 2:  # weight matrix: every leading dim of A is a row
                    M, groups = math.prod(a2[:-1]), 1
                    lead = a2[:-1]
                else:
                    ba, bb = a2[:-2], b2[:-2]
                    n = max(len(ba), len(bb))
                    ba, bb = [1] * (n - len(ba)) + ba, [1] * (n - len(bb)) + bb
                    lead_b = [max(x, y) for x, y in zip(ba, bb)]
                    M, groups = a2[-2], math.prod(lead_b) or 1
                    lead = lead_b + [a2[-2]]
                self.set_shape(outs[0], (lead if len(a) > 1 else lead[:-1]) +
                               ([N] if len(b) > 1 else []))
        op = Gemm(name=nm, group="matmul" if t != "Gemm" else "gemm", M=M, N=N, K=K,
                  groups=groups, b_is_weight=is_w, bias=bias, tied=tied)
        self.add(op, node, w_fmt=w_fmt, a_fmt=a_fmt, out_fmt=out_fmt)
        return True

    def _conv(self, node, nm: str, t: str, attrs: dict) -> bool:
        ins, outs = list(node.input), list(node.output)
        ix, iw = (0, 3) if t == "QLinearConv" else (0, 1)
        x, w = self.shape(ins[ix], nm), self.shape(ins[iw], nm)
        if len(x) == 3:  # 1-D convolution as a 2-D one of height 1
            x, w = [x[0], x[1], 1, x[2]], [w[0], w[1], 1, w[2]]
            one_d = True
        else:
            one_d = False
        if len(x) != 4:
            raise UnsupportedError(f"{self.src}: ONNX node {nm}: {len(x) - 2}-D convolution "
                                   f"(input shape {x}); 1-D and 2-D are supported")
        nd = 1 if one_d else 2
        strides = list(attrs.get("strides", [1] * nd))
        dil = list(attrs.get("dilations", [1] * nd))
        pads = list(attrs.get("pads", [0] * 2 * nd))
        if one_d:
            strides, dil, pads = [1] + strides, [1] + dil, [0, pads[0], 0, pads[1]]
        if strides[0] != strides[1] and x[2] > 1 or dil[0] != dil[1] and w[2] > 1:
            raise UnsupportedError(f"{self.src}: ONNX node {nm}: different H/W strides "
                                   f"{strides} or dilations {dil}; only equal ones are supported")
        s, d = strides[-1], dil[-1]
        auto = attrs.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            tot = [max(0, (-(-x[2 + i] // s) - 1) * s + d * (w[2 + i] - 1) + 1 - x[2 + i])
                   for i in range(2)]
            pads = [tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2]
        elif auto == "VALID":
            pads = [0, 0, 0, 0]
        pad_h, pad_w = pads[0] + pads[2], pads[1] + pads[3]
        if pads[0] == pads[2] == pads[1] == pads[3]:
            in_h, in_w, p = x[2], x[3], pads[0]
        else:  # asymmetric (or per-axis) padding: the padded input with padding 0 -- the same
            # windows and MACs; the input read counts the pad rows/columns (a small overcount)
            in_h, in_w, p = x[2] + pad_h, x[3] + pad_w, 0
        op = Conv2d(name=nm, group="conv", batch=x[0], in_channels=x[1], out_channels=w[0],
                    in_h=in_h, in_w=in_w, kernel_h=w[2], kernel_w=w[3], stride=s, padding=p,
                    dilation=d, groups=attrs.get("group", 1),
                    bias=len(ins) > (8 if t == "QLinearConv" else 2) and bool(ins[-1]))
        if self.known(outs[0]):
            o = self.shapes[outs[0]]
            if math.prod(o[2:]) != op.out_h * op.out_w or o[1] != w[0]:
                raise ShapeError(f"{self.src}: ONNX node {nm}: computed output "
                                 f"{w[0]}x{op.out_h}x{op.out_w} differs from the model's {o}")
        self.set_shape(outs[0], [x[0], w[0]] + ([op.out_w] if one_d else [op.out_h, op.out_w]))
        wt = self.weight_of(ins[iw])
        w_fmt = (wt[1] if wt else None) or (self.fmt_of(ins[iw]) if t != "Conv" else None)
        a_fmt = (self.fmt_of(ins[ix]) if t != "Conv" else None) or self.act_fmt.get(ins[ix])
        out_fmt = self.fmt_of(outs[0]) if t == "QLinearConv" else None
        self.add(op, node, w_fmt=w_fmt, a_fmt=a_fmt, out_fmt=out_fmt)
        return True

    def _attention(self, node, nm: str, t: str, attrs: dict) -> bool:
        ins, outs = list(node.input), list(node.output)
        get = lambda j: ins[j] if j < len(ins) and ins[j] else None  # noqa: E731
        q = self.shape(ins[0], nm)
        ms = node.domain == "com.microsoft"
        after = None
        causal = bool(attrs.get("unidirectional", attrs.get("is_causal", 0)))
        if t == "Attention" and node.domain == "com.microsoft":
            # input (B, S, in_hidden) x weights (in_hidden, 3 hidden) -> Q, K, V; then attention
            heads = attrs.get("num_heads")
            wq = self.shape(ins[1], nm)
            B, S = q[0], q[1]
            hidden = wq[1] // 3
            past = get(4)
            P = self.shape(past, nm)[3] if past else 0
            proj = Gemm(name=nm + ".qkv", group="attn.qkv", M=B * S, N=wq[1], K=wq[0],
                        bias=get(2) is not None, tied=self.tied(ins[1]))
            self.add(proj, node, w_fmt=(self.weight_of(ins[1]) or (None, None))[1])
            after = [proj.name]
            kv_heads, hd, L = heads, hidden // heads, S + P
            causal = bool(attrs.get("unidirectional", 0))
        elif t == "Attention":  # ai.onnx opset 23: Q (B, H, S, hd) or (B, S, H*hd)
            k = self.shape(ins[1], nm)
            past = get(4)
            P = self.shape(past, nm)[2] if past else 0
            if len(q) == 4:
                B, heads, S, hd = q
                kv_heads, L = k[1], k[2] + P
            else:
                heads, kv_heads = attrs.get("q_num_heads"), attrs.get("kv_num_heads")
                if not heads or not kv_heads:
                    raise ConfigError(f"{self.src}: ONNX node {nm}: 3-D Attention inputs need "
                                      "attributes q_num_heads and kv_num_heads")
                B, S, hd = q[0], q[1], q[2] // heads
                L = k[1] + P
        else:  # com.microsoft MultiHeadAttention / GroupQueryAttention: Q (B, S, H*hd)
            if not ms:
                raise UnsupportedError(f"{self.src}: ONNX node {nm}: {t} in domain "
                                       f"{node.domain!r}; expected com.microsoft")
            heads = attrs.get("num_heads")
            kv_heads = attrs.get("kv_num_heads", heads)
            if not heads:
                raise ConfigError(f"{self.src}: ONNX node {nm}: {t} needs attribute num_heads")
            B, S = q[0], q[1]
            key = get(1)
            if key is None:  # packed QKV in the query input
                hd = q[2] // (heads + 2 * kv_heads)
                L = S
            else:
                k = self.shape(key, nm)
                hd = q[2] // heads
                L = k[2] if len(k) == 4 else k[1]
            past = get(3) if t == "GroupQueryAttention" else get(6)
            P = self.shape(past, nm)[2] if past else 0
            L = L + P
            causal = causal or t == "GroupQueryAttention"  # GQA is causal by definition
        if not heads or heads % kv_heads:
            raise ShapeError(f"{self.src}: ONNX node {nm}: heads {heads} / kv_heads {kv_heads} "
                             "do not divide")
        op = Attention(name=nm, group="attn.sdpa", batch=B, heads=heads, kv_heads=kv_heads,
                       q_len=S, kv_len=max(L, S), head_dim=hd, causal=causal)
        self.set_shape(outs[0], [B, heads, S, hd] if len(q) == 4 and t == "Attention"
                       and not ms else [B, S, heads * hd])
        self.add(op, node, a_fmt=self.act_fmt.get(ins[0]), deps=after)
        return True

    def _elementwise(self, node, nm: str, t: str, attrs: dict) -> bool:
        ins, outs = list(node.input), list(node.output)
        live = [x for x in ins if x and x not in self.consts]
        out = outs[0] if outs else ""
        if not self.known(out):  # custom-domain ops shape inference skipped: infer here
            if t in ELEMENTWISE and live and all(self.known(x) for x in live):
                shp = [self.shapes[x] for x in live]
                n = max(len(s) for s in shp)
                shp = [[1] * (n - len(s)) + s for s in shp]
                self.set_shape(out, [max(c) for c in zip(*shp)])
        o = self.shape(out, nm)
        numel = math.prod(o) or 1
        if t in REDUCE:
            x = self.shape(ins[0], nm)
            ratio = max(1, round(math.prod(x) / numel))
            kernel = math.prod(attrs.get("kernel_shape", [])) or ratio
            op = Elementwise(name=nm, group=t.lower(), fn=t.lower(), numel=numel, inputs=ratio,
                             flops_per_elem=kernel)
        elif t in MEMORY:
            op = Elementwise(name=nm, group="copy", fn=t.lower(), numel=numel,
                             inputs=1, flops_per_elem=0)
        else:
            op = Elementwise(name=nm, group=t.lower(), fn=t.lower(), numel=numel,
                             inputs=max(1, len(live)),
                             flops_per_elem=2 * attrs.get("size", 5) + 3 if t == "LRN"
                             else _FLOPS.get(t, 1))
        a_fmt = next((self.act_fmt[x] for x in live if x in self.act_fmt), None)
        if a_fmt and t in MEMORY:  # a quantized tensor moved stays quantized
            for x in outs:
                if x:
                    self.act_fmt[x] = a_fmt
        self.add(op, node, a_fmt=a_fmt, out_fmt=a_fmt if t in MEMORY else None)
        return True
