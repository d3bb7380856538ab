"""ONNX import (optional extra ``hwsim[onnx]``): MatMul, Gemm and Conv become Gemm / Conv2d ops;
other nodes with a known output shape become Elementwise ops. Shapes come from the model's
value_info after ONNX shape inference, so the graph needs static input shapes."""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import ConfigError, HwsimError
from .graph import GraphBuilder, Precision, Workload
from .ops import Conv2d, Elementwise, Gemm


def _onnx():
    try:
        import onnx
    except ImportError:
        raise HwsimError("ONNX import needs the optional dependency: pip install 'hwsim[onnx]'") from None
    return onnx


def load_onnx(path: str | Path, precision: Precision | None = None) -> Workload:
    onnx = _onnx()
    p = Path(path)
    try:
        model = onnx.load(str(p))
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as e:  # onnx raises its own assorted types for corrupt files
        raise ConfigError(f"{p}: cannot read ONNX model ({e})") from None
    return from_onnx_model(model, name=p.stem, precision=precision)


def from_onnx_model(model, name: str = "onnx", precision: Precision | None = None) -> Workload:
    onnx = _onnx()
    g = model.graph
    shapes: dict[str, list[int | None]] = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    inits = {t.name: list(t.dims) for t in g.initializer}
    shapes.update(inits)
    producer: dict[str, str] = {}
    b = GraphBuilder()

    def shape(tensor: str, node_name: str) -> list[int]:
        s = shapes.get(tensor)
        if s is None or any(d is None or d <= 0 for d in s):
            raise ConfigError(f"ONNX node {node_name}: tensor {tensor!r} has unknown or dynamic "
                              f"shape {s}; export with static shapes")
        return s

    for i, node in enumerate(g.node):
        nm = node.name or f"{node.op_type.lower()}_{i}"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        deps = [producer[t] for t in node.input if t in producer]
        op = None
        if node.op_type == "MatMul":
            a, w = shape(node.input[0], nm), shape(node.input[1], nm)
            is_w = node.input[1] in inits
            if is_w:
                op = Gemm(name=nm, group="matmul", M=math.prod(a[:-1]), K=a[-1], N=w[-1])
            else:
                op = Gemm(name=nm, group="matmul", M=a[-2], K=a[-1], N=w[-1],
                          groups=math.prod(a[:-2]) or 1, b_is_weight=False)
        elif node.op_type == "Gemm":
            a, w = shape(node.input[0], nm), shape(node.input[1], nm)
            M, K = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
            N = w[0] if attrs.get("transB", 0) else w[1]
            op = Gemm(name=nm, group="gemm", M=M, N=N, K=K, bias=len(node.input) > 2,
                      b_is_weight=node.input[1] in inits)
        elif node.op_type == "Conv":
            x, w = shape(node.input[0], nm), shape(node.input[1], nm)
            if len(x) != 4:
                raise ConfigError(f"ONNX node {nm}: only 2-D convolutions are supported, input "
                                  f"shape {x}")
            pads = attrs.get("pads", [0, 0, 0, 0])
            if len(set(pads)) > 1:
                raise ConfigError(f"ONNX node {nm}: asymmetric pads {pads} are not supported")
            strides, dil = attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1])
            if strides[0] != strides[1] or dil[0] != dil[1]:
                raise ConfigError(f"ONNX node {nm}: different H/W strides or dilations are not "
                                  "supported")
            op = Conv2d(name=nm, group="conv", batch=x[0], in_channels=x[1], out_channels=w[0],
                        in_h=x[2], in_w=x[3], kernel_h=w[2], kernel_w=w[3], stride=strides[0],
                        padding=pads[0], dilation=dil[0], groups=attrs.get("group", 1),
                        bias=len(node.input) > 2)
        elif node.output and node.output[0] in shapes and all(
                d for d in (shapes[node.output[0]] or [None])):
            n_in = sum(1 for t in node.input if t and t not in inits)
            op = Elementwise(name=nm, group=node.op_type.lower(), fn=node.op_type.lower(),
                             numel=math.prod(shapes[node.output[0]]), inputs=max(1, n_in))
        if op is None:
            for t in node.output:  # pass dependencies through nodes we do not cost
                if deps:
                    producer[t] = deps[-1]
            continue
        b.add(op, deps=deps)
        for t in node.output:
            producer[t] = nm
    if b.graph.number_of_nodes() == 0:
        raise ConfigError(f"ONNX model {name!r}: no MatMul, Gemm, Conv or shaped nodes found")
    return b.build(name, dict(model=name, kind="onnx"), precision or Precision())
