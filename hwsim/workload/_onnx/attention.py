"""Attention nodes: ai.onnx Attention (opset 23) and the com.microsoft Attention (with its QKV
projection), MultiHeadAttention and GroupQueryAttention."""

from __future__ import annotations

from ...errors import ConfigError, ShapeError, UnsupportedError
from ..ops import Attention, Gemm


def convert_attention(imp, node, nm: str, t: str, attrs: dict) -> bool:
    ins, outs = list(node.input), list(node.output)
    q = imp.shape(ins[0], nm)
    ms = node.domain == "com.microsoft"
    after = None
    causal = bool(attrs.get("unidirectional", attrs.get("is_causal", 0)))
    if t == "Attention" and node.domain == "com.microsoft":
        B, S, heads, kv_heads, hd, L, after = _ms_attention(imp, node, nm, attrs, q)
        causal = bool(attrs.get("unidirectional", 0))
    elif t == "Attention":
        B, S, heads, kv_heads, hd, L = _onnx_attention(imp, node, nm, attrs, q)
    else:
        if not ms:
            raise UnsupportedError(f"{imp.src}: ONNX node {nm}: {t} in domain "
                                   f"{node.domain!r}; expected com.microsoft")
        B, S, heads, kv_heads, hd, L = _ms_mha(imp, node, nm, t, attrs, q)
        causal = causal or t == "GroupQueryAttention"  # GQA is causal by definition
    if not heads or heads % kv_heads:
        raise ShapeError(f"{imp.src}: ONNX node {nm}: heads {heads} / kv_heads {kv_heads} "
                         "do not divide")
    op = Attention(name=nm, group="attn.sdpa", batch=B, heads=heads, kv_heads=kv_heads,
                   q_len=S, kv_len=max(L, S), head_dim=hd, causal=causal)
    imp.set_shape(outs[0], [B, heads, S, hd] if len(q) == 4 and t == "Attention"
                  and not ms else [B, S, heads * hd])
    imp.add(op, node, a_fmt=imp.act_fmt.get(ins[0]), deps=after)
    return True


def _input(ins: list[str], j: int) -> str | None:
    """Optional input ``j``: None when absent or empty."""
    return ins[j] if j < len(ins) and ins[j] else None


def _ms_attention(imp, node, nm: str, attrs: dict, q: list[int]):
    """com.microsoft Attention: input (B, S, in_hidden) x weights (in_hidden, 3 hidden) -> Q, K,
    V, then attention. The QKV projection is added here as its own Gemm, which the attention
    op then follows; returns (B, S, heads, kv_heads, head_dim, kv_len, [projection])."""
    ins = list(node.input)
    heads = attrs.get("num_heads")
    wq = imp.shape(ins[1], nm)
    B, S = q[0], q[1]
    hidden = wq[1] // 3
    past = _input(ins, 4)
    P = imp.shape(past, nm)[3] if past else 0
    proj = Gemm(name=nm + ".qkv", group="attn.qkv", M=B * S, N=wq[1], K=wq[0],
                bias=_input(ins, 2) is not None, tied=imp.tied(ins[1]))
    imp.add(proj, node, w_fmt=(imp.weight_of(ins[1]) or (None, None))[1])
    return B, S, heads, heads, hidden // heads, S + P, [proj.name]


def _onnx_attention(imp, node, nm: str, attrs: dict, q: list[int]):
    """ai.onnx opset 23: Q (B, H, S, hd) or (B, S, H*hd); returns (B, S, heads, kv_heads,
    head_dim, kv_len)."""
    ins = list(node.input)
    k = imp.shape(ins[1], nm)
    past = _input(ins, 4)
    P = imp.shape(past, nm)[2] if past else 0
    if len(q) == 4:
        B, heads, S, hd = q
        kv_heads, L = k[1], k[2] + P
    else:
        heads, kv_heads = attrs.get("q_num_heads"), attrs.get("kv_num_heads")
        if not heads or not kv_heads:
            raise ConfigError(f"{imp.src}: ONNX node {nm}: 3-D Attention inputs need "
                              "attributes q_num_heads and kv_num_heads")
        B, S, hd = q[0], q[1], q[2] // heads
        L = k[1] + P
    return B, S, heads, kv_heads, hd, L


def _ms_mha(imp, node, nm: str, t: str, attrs: dict, q: list[int]):
    """com.microsoft MultiHeadAttention / GroupQueryAttention: Q (B, S, H*hd), or Q, K and V
    packed in the query input; returns (B, S, heads, kv_heads, head_dim, kv_len)."""
    ins = list(node.input)
    heads = attrs.get("num_heads")
    kv_heads = attrs.get("kv_num_heads", heads)
    if not heads:
        raise ConfigError(f"{imp.src}: ONNX node {nm}: {t} needs attribute num_heads")
    B, S = q[0], q[1]
    key = _input(ins, 1)
    if key is None:  # packed QKV in the query input
        hd = q[2] // (heads + 2 * kv_heads)
        L = S
    else:
        k = imp.shape(key, nm)
        hd = q[2] // heads
        L = k[2] if len(k) == 4 else k[1]
    past = _input(ins, 3) if t == "GroupQueryAttention" else _input(ins, 6)
    P = imp.shape(past, nm)[2] if past else 0
    return B, S, heads, kv_heads, hd, L + P
