"""Norms, softmax, embedding lookups and elementwise / reduction / data-movement nodes."""

from __future__ import annotations

import math

from ...errors import UnsupportedError
from ..ops import Elementwise, Embedding, Norm, Softmax
from .tables import _FLOPS, ELEMENTWISE, MEMORY, NORMS, REDUCE


def convert_norm(imp, node, nm: str, t: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    x = imp.shape(ins[0], nm)
    kind = NORMS[t]
    if kind == "batch":
        cols = x[1] if len(x) > 1 else x[0]
        rows = math.prod(x) // cols
    else:
        axis = attrs.get("axis", -1) % len(x)
        rows, cols = math.prod(x[:axis]) or 1, math.prod(x[axis:])
    bias = kind == "batch" or any(
        ins[j] for j in ((3,) if t.startswith("Skip") else (2,)) if j < len(ins))
    imp.set_shape(outs[0], x)
    imp.add(Norm(name=nm, group=t.lower(), rows=rows, cols=cols, kind=kind,
                 affine_bias=kind != "rms" and bias), node)
    return True


def convert_softmax(imp, node, nm: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    x = imp.shape(ins[0], nm)
    opset = imp.opset("")
    # before opset 13 Softmax flattened everything from `axis` on into one row
    axis = attrs.get("axis", -1 if opset >= 13 else 1) % len(x)
    cols = x[axis] if opset >= 13 else math.prod(x[axis:])
    imp.set_shape(outs[0], x)
    imp.add(Softmax(name=nm, group="softmax", rows=math.prod(x) // cols, cols=cols),
            node, a_fmt=imp.act_fmt.get(ins[0]))
    return True


def convert_embedding(imp, node, nm: str, attrs: dict) -> bool:
    """A Gather from a weight table."""
    ins, outs = list(node.input), list(node.output)
    table = imp.shape(ins[0], nm)
    idx = imp.shape(ins[1], nm) if ins[1] not in imp.consts or imp.known(ins[1]) else []
    if len(table) != 2 or attrs.get("axis", 0) != 0:
        raise UnsupportedError(f"{imp.src}: ONNX node {nm}: Gather of weight "
                               f"{ins[0]!r} with shape {table} on axis "
                               f"{attrs.get('axis', 0)}; only 2-D tables on axis 0 "
                               "(embeddings) are supported")
    imp.set_shape(outs[0], idx + table[1:])
    imp.tied(ins[0])
    imp.add(Embedding(name=nm, group="embed", vocab=table[0], dim=table[1],
                      tokens=max(1, math.prod(idx))), node,
            w_fmt=imp.weight_of(ins[0])[1])
    return True


def _broadcast_shape(imp, out: str, t: str, live: list[str]) -> None:
    """Custom-domain ops are skipped by shape inference: broadcast the inputs' shapes here."""
    if not imp.known(out):
        if t in ELEMENTWISE and live and all(imp.known(x) for x in live):
            shp = [imp.shapes[x] for x in live]
            n = max(len(s) for s in shp)
            shp = [[1] * (n - len(s)) + s for s in shp]
            imp.set_shape(out, [max(c) for c in zip(*shp)])


def convert_elementwise(imp, node, nm: str, t: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    live = [x for x in ins if x and x not in imp.consts]
    out = outs[0] if outs else ""
    _broadcast_shape(imp, out, t, live)
    o = imp.shape(out, nm)
    numel = math.prod(o) or 1
    if t in REDUCE:
        x = imp.shape(ins[0], nm)
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
    a_fmt = next((imp.act_fmt[x] for x in live if x in imp.act_fmt), None)
    if a_fmt and t in MEMORY:  # a quantized tensor moved stays quantized
        for x in outs:
            if x:
                imp.act_fmt[x] = a_fmt
    imp.add(op, node, a_fmt=a_fmt, out_fmt=a_fmt if t in MEMORY else None)
    return True
