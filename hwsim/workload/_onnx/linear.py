"""Weight GEMMs: MatMul / Gemm (and their integer, QLinear and MatMulNBits forms) and Conv."""

from __future__ import annotations

import math

from ...errors import ConfigError, ShapeError, UnsupportedError
from ..ops import Conv2d, Gemm


def convert_gemm(imp, node, nm: str, t: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    ia, ib = (0, 3) if t == "QLinearMatMul" else (0, 1)
    a = imp.shape(ins[ia], nm)
    w = imp.weight_of(ins[ib])
    a_fmt = imp.fmt_of(ins[ia]) or imp.act_fmt.get(ins[ia])
    out_fmt = imp.fmt_of(outs[0]) if t == "QLinearMatMul" else None
    bias = False
    if t == "MatMulNBits":
        M, N, K, w_fmt, bias = _nbits(imp, node, nm, attrs, a)
        groups, is_w = 1, True
        tied = imp.tied(ins[ib])
        imp.set_shape(outs[0], a[:-1] + [N])
    else:
        b = imp.shape(ins[ib], nm)
        w_fmt = (w[1] if w else None) or (imp.fmt_of(ins[ib]) if t != "MatMul" else None) \
            or (None if w else imp.act_fmt.get(ins[ib]))
        is_w = w is not None
        tied = imp.tied(ins[ib]) if is_w else False
        if t == "Gemm":
            M, N, K, groups, bias = _gemm_dims(imp, node, nm, attrs, a, b)
        else:
            M, N, K, groups = _matmul_dims(imp, node, nm, a, b, is_w)
    op = Gemm(name=nm, group="matmul" if t != "Gemm" else "gemm", M=M, N=N, K=K,
              groups=groups, b_is_weight=is_w, bias=bias, tied=tied)
    imp.add(op, node, w_fmt=w_fmt, a_fmt=a_fmt, out_fmt=out_fmt)
    return True


def _nbits(imp, node, nm: str, attrs: dict, a: list[int]):
    """(M, N, K, weight format, bias) of a com.microsoft MatMulNBits: its packed weight's shape
    says nothing, the attributes say everything."""
    ins = list(node.input)
    K, N, bits, bs = (attrs.get(k) for k in ("K", "N", "bits", "block_size"))
    if None in (K, N, bits, bs):
        raise ConfigError(f"{imp.src}: ONNX node {nm}: MatMulNBits needs attributes K, "
                          f"N, bits and block_size, got {sorted(attrs)}")
    zp = len(ins) > 3 and bool(ins[3])
    w_fmt = f"{'u' if zp else ''}int{bits}_g{bs}"
    bias = len(ins) > 5 and bool(ins[5])
    return math.prod(a[:-1]) or 1, N, K, w_fmt, bias


def _gemm_dims(imp, node, nm: str, attrs: dict, a: list[int], b: list[int]):
    """(M, N, K, groups, bias) of a Gemm, after transA / transB."""
    ins, outs = list(node.input), list(node.output)
    if len(a) != 2 or len(b) != 2:
        raise ShapeError(f"{imp.src}: ONNX node {nm}: Gemm needs 2-D inputs, got "
                         f"{a} and {b}")
    M, K = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
    N = b[0] if attrs.get("transB", 0) else b[1]
    imp.set_shape(outs[0], [M, N])
    return M, N, K, 1, len(ins) > 2 and bool(ins[2])


def _matmul_dims(imp, node, nm: str, a: list[int], b: list[int], is_w: bool):
    """(M, N, K, groups) of a MatMul with numpy broadcasting of the batch dimensions."""
    outs = list(node.output)
    a2 = [1] + a if len(a) == 1 else a
    b2 = b + [1] if len(b) == 1 else b
    K, N = a2[-1], b2[-1]
    if b2[-2] != K:
        raise ShapeError(f"{imp.src}: ONNX node {nm}: MatMul inner dimensions "
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
    imp.set_shape(outs[0], (lead if len(a) > 1 else lead[:-1]) +
                  ([N] if len(b) > 1 else []))
    return M, N, K, groups


def convert_conv(imp, node, nm: str, t: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    ix, iw = (0, 3) if t == "QLinearConv" else (0, 1)
    x, w = imp.shape(ins[ix], nm), imp.shape(ins[iw], nm)
    if len(x) == 3:  # 1-D convolution as a 2-D one of height 1
        x, w = [x[0], x[1], 1, x[2]], [w[0], w[1], 1, w[2]]
        one_d = True
    else:
        one_d = False
    if len(x) != 4:
        raise UnsupportedError(f"{imp.src}: ONNX node {nm}: {len(x) - 2}-D convolution "
                               f"(input shape {x}); 1-D and 2-D are supported")
    s, d, pads = _conv_geometry(imp, nm, attrs, x, w, one_d)
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
    if imp.known(outs[0]):
        o = imp.shapes[outs[0]]
        if math.prod(o[2:]) != op.out_h * op.out_w or o[1] != w[0]:
            raise ShapeError(f"{imp.src}: ONNX node {nm}: computed output "
                             f"{w[0]}x{op.out_h}x{op.out_w} differs from the model's {o}")
    imp.set_shape(outs[0], [x[0], w[0]] + ([op.out_w] if one_d else [op.out_h, op.out_w]))
    wt = imp.weight_of(ins[iw])
    w_fmt = (wt[1] if wt else None) or (imp.fmt_of(ins[iw]) if t != "Conv" else None)
    a_fmt = (imp.fmt_of(ins[ix]) if t != "Conv" else None) or imp.act_fmt.get(ins[ix])
    out_fmt = imp.fmt_of(outs[0]) if t == "QLinearConv" else None
    imp.add(op, node, w_fmt=w_fmt, a_fmt=a_fmt, out_fmt=out_fmt)
    return True


def _conv_geometry(imp, nm: str, attrs: dict, x: list[int], w: list[int], one_d: bool):
    """(stride, dilation, [top, left, bottom, right] pads), with auto_pad resolved; Conv2d has
    one stride and dilation for both axes."""
    nd = 1 if one_d else 2
    strides = list(attrs.get("strides", [1] * nd))
    dil = list(attrs.get("dilations", [1] * nd))
    pads = list(attrs.get("pads", [0] * 2 * nd))
    if one_d:
        strides, dil, pads = [1] + strides, [1] + dil, [0, pads[0], 0, pads[1]]
    if strides[0] != strides[1] and x[2] > 1 or dil[0] != dil[1] and w[2] > 1:
        raise UnsupportedError(f"{imp.src}: ONNX node {nm}: different H/W strides "
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
    return s, d, pads
