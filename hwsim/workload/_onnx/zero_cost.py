"""Nodes that cost nothing but carry information on: weight views (the weight's identity and
format pass through), Q/DQ formats (fused into the consumer) and shape arithmetic."""

from __future__ import annotations

_VIEWS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity")
_SHAPE_ONLY = ("Constant", "ConstantOfShape", "Range", "Shape", "Size", "EyeLike")


def convert_zero_cost(imp, node, t: str, attrs: dict) -> None:
    ins, outs = list(node.input), list(node.output)
    src = ins[0] if ins else ""
    if t == "DequantizeLinear":
        fmt = imp.fmt_of(src)
        bs = attrs.get("block_size", 0)
        if fmt and bs and fmt.replace("u", "").startswith("int"):
            fmt = f"{fmt}_g{bs}"  # blocked quantization (opset 21): one scale per block
        if src in imp.weight:
            imp.alias_weight(outs[0], (imp.weight[src][0], fmt))
            return
        if fmt:
            imp.act_fmt[outs[0]] = fmt
    elif t in ("QuantizeLinear", "DynamicQuantizeLinear"):
        if src in imp.weight:  # weights quantized at run time from float initializers
            imp.alias_weight(outs[0], imp.weight[src])
            return
        fmt = imp.fmt_of(outs[0])
        if fmt:
            imp.act_fmt[outs[0]] = fmt
    elif src in imp.weight and t in _VIEWS:
        imp.alias_weight(outs[0], imp.weight[src])
        return
    elif t in _SHAPE_ONLY or (ins and all(x in imp.consts or not x for x in ins)):
        imp.consts.update(o for o in outs if o)  # shape arithmetic: no tensor data moves
        return
    elif src in imp.act_fmt:
        imp.act_fmt[outs[0]] = imp.act_fmt[src]
    if src and imp.known(src) and t in ("Identity", "Dropout") and outs:
        imp.set_shape(outs[0], imp.shapes[src])
    imp.passthrough(node)
