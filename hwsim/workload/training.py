"""Training steps: forward, backward (input and weight gradients) and the optimizer update of any
workload graph, as a new :class:`Workload` (``load_workload(name, phase="train", batch=...)``).

Backward ops are expressed as GEMMs, the way MCU/PULP training libraries (PULP-TrainLib,
Nadalini et al. 2023) and cuDNN's implicit-GEMM kernels compute them:

* Conv2d (im2col view, per group: P output pixels, C_out/g channels, R = C_in/g * kh * kw):
  input gradient ``dCol[P x R] = dY[P x C_out/g] . W^T`` followed by col2im (MACs = forward MACs),
  weight gradient ``dW[C_out/g x R] = dY^T . Col`` (MACs = forward MACs).
* Gemm ``C = A.B`` (M x N x K): ``dA = dC.B^T`` (M x K x N) and, when B is a weight,
  ``dB = A^T.dC`` (K x N x M); an activation-activation GEMM gets both operand gradients.
* Attention (FlashAttention-2 backward): the score recomputation QK^T and the four products
  dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q, i.e. 2.5x the forward matmul MACs.
* Elementwise / Norm / Softmax: an elementwise gradient op over the same elements (the upstream
  gradient plus the saved input); Embedding: a scatter-add of the looked-up rows.
* The first op's input gradient is skipped (nothing upstream needs it).
* Data-layout copies of explicit-GEMM libraries (im2col, transposes) as ``Elementwise`` ops, unless
  ``layout_ops=False`` (see :func:`backward_ops`).
* Optimizer: one elementwise update per parameter tensor (``sgd``: w -= lr*g, 2 FLOPs/element,
  reads w and g; ``adam``: moments and update, 10 FLOPs/element, reads w, g, m, v).

Gradients take the activation format (the workload's precision policy sets every operand that is
not a weight to it); the input-gradient GEMMs read the weights in their own format.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConfigError
from .graph import GraphBuilder, Workload
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Op, Softmax

OPTIMIZERS = {"sgd": (2, 2), "adam": (10, 4)}  # FLOPs per element, tensors read per element
_GRAD_FLOPS = {"relu": 1, "relu6": 1, "add": 0, "pool": 1, "avgpool": 1, "gelu": 10,
               "silu_mul": 8}


def _layout(name: str, fn: str, numel: int, fmt: str, tags: dict) -> Elementwise:
    """A data-layout copy (im2col of a gradient or activation, a transposition) of ``numel``."""
    return Elementwise(name=name, numel=numel, inputs=1, fn=fn, flops_per_elem=0,
                       activations=fmt, **tags)


def backward_ops(op: Op, need_input_grad: bool = True, layout_ops: bool = True) -> list[Op]:
    """The gradient ops of one forward op (names ``<op>.dx`` / ``<op>.dw`` ...).

    ``layout_ops``: also emit the copies an explicit-GEMM training library makes (PULP-TrainLib:
    im2col of the padded output gradient and a transposed/flipped copy of the weights for the input
    gradient, im2col of the input for the weight gradient; transposes for 1x1 convs and linear
    layers) as ``Elementwise`` ops with ``fn`` ``im2col`` / ``transpose``. Implicit-GEMM
    libraries (cuDNN, CUTLASS) fuse them: pass False.
    """
    n, tags = op.name, dict(group=op.group, layer=op.layer)
    lay = []
    if isinstance(op, Conv2d):
        g = op.as_gemm()
        out = []
        pointwise = op.kernel_h == op.kernel_w == 1 and op.stride == 1 and op.padding == 0
        a = op.activations
        if need_input_grad:
            if layout_ops:
                lay.append(_layout(n + ".dx.transpose_w", "transpose", op.param_elems, op.weights,
                                   tags))
                if not pointwise:
                    lay.append(_layout(n + ".dx.im2col", "im2col", op.batch * op.in_h * op.in_w
                                       * (op.out_channels // op.groups) * op.kernel_h * op.kernel_w
                                       * op.groups, a, tags))
            out += lay
            out.append(Gemm(name=n + ".dx", M=g.M, N=g.K, K=g.N, groups=g.groups,
                            weights=op.weights, activations=op.activations, out=op.activations,
                            tied=True, **tags))
        if layout_ops:
            out.append(_layout(n + ".dw.transpose_dy" if pointwise else n + ".dw.im2col",
                               "transpose" if pointwise else "im2col",
                               g.M * g.N * g.groups if pointwise else g.M * g.K * g.groups, a,
                               tags))
        out.append(Gemm(name=n + ".dw", M=g.N, N=g.K, K=g.M, groups=g.groups,
                        weights=op.activations, activations=op.activations, out=op.weights,
                        b_is_weight=False, **tags))
        return out
    if isinstance(op, Gemm):
        out = []
        if need_input_grad or not op.b_is_weight:
            if layout_ops:
                out.append(_layout(n + ".dx.transpose_w", "transpose",
                                   op.groups * op.K * op.N, op.weights, tags))
            out.append(Gemm(name=n + ".dx", M=op.M, N=op.K, K=op.N, groups=op.groups,
                            weights=op.weights, activations=op.activations, out=op.activations,
                            b_is_weight=op.b_is_weight, tied=True, **tags))
        if layout_ops:
            out.append(_layout(n + ".dw.transpose_a", "transpose", op.groups * op.M * op.K,
                               op.activations, tags))
        out.append(Gemm(name=n + ".dw", M=op.K, N=op.N, K=op.M, groups=op.groups,
                        weights=op.activations, activations=op.activations,
                        out=op.weights if op.b_is_weight else op.activations,
                        b_is_weight=False, **tags))
        return out
    if isinstance(op, Attention):
        bh = op.batch * op.heads
        kv_eff = op.kv_effective
        f = dict(weights=op.kv, activations=op.activations, b_is_weight=False, groups=bh, **tags)
        q, d = op.q_len, op.head_dim
        return [Gemm(name=n + ".recompute_s", M=q, N=kv_eff, K=d, **f),
                Gemm(name=n + ".dv", M=kv_eff, N=d, K=q, **f),
                Gemm(name=n + ".dp", M=q, N=kv_eff, K=d, **f),
                Gemm(name=n + ".dq", M=q, N=d, K=kv_eff, **f),
                Gemm(name=n + ".dk", M=kv_eff, N=d, K=q, **f)]
    if isinstance(op, Elementwise):
        if not need_input_grad and op.fn != "add":
            return []
        return [Elementwise(name=n + ".grad", numel=op.numel * op.inputs if op.fn == "avgpool"
                            else op.numel, inputs=2, fn=op.fn + "_grad",
                            flops_per_elem=_GRAD_FLOPS.get(op.fn, max(1, op.flops_per_elem)),
                            activations=op.activations, **tags)]
    if isinstance(op, Norm):
        # input gradient (~2x the forward arithmetic) and the scale/shift gradients
        return [Elementwise(name=n + ".grad", numel=op.rows * op.cols, inputs=2,
                            fn=f"{op.kind}norm_grad",
                            flops_per_elem=2 * Norm._FLOPS[op.kind], activations=op.activations,
                            **tags)]
    if isinstance(op, Softmax):
        return [Elementwise(name=n + ".grad", numel=op.rows * op.cols, inputs=2,
                            fn="softmax_grad", flops_per_elem=3, activations=op.activations,
                            **tags)]
    if isinstance(op, Embedding):
        return [Elementwise(name=n + ".grad", numel=op.tokens * op.dim, inputs=1,
                            fn="embedding_grad", flops_per_elem=1, activations=op.out, **tags)]
    raise ConfigError(f"training: no backward rule for {type(op).__name__} op {n!r}")


def update_op(op: Op, optimizer: str) -> Elementwise | None:
    """The optimizer update of the parameters ``op`` owns (None when it owns none)."""
    if not op.param_elems:
        return None
    flops, reads = OPTIMIZERS[optimizer]
    fmt = getattr(op, "weights", None) or getattr(op, "activations", "fp16")
    return Elementwise(name=op.name + ".update", group="optimizer", fn=f"{optimizer}_update",
                       numel=op.param_elems, inputs=reads, flops_per_elem=flops,
                       activations=fmt, out=fmt, layer=op.layer)


def to_training(forward: Workload, optimizer: str = "sgd", layout_ops: bool = True) -> Workload:
    """One training step of ``forward``: its ops, then the backward ops in reverse order, then the
    optimizer updates. LLM forwards built for ``prefill`` get logits for every position.

    >>> from hwsim.workload.tiny import build_resnet8
    >>> wl = to_training(build_resnet8())
    >>> round(wl.macs / build_resnet8().macs, 2)  # fwd + dX + dW, no dX for the first conv
    2.96
    """
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer = {optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
    fwd_ops = list(forward.ops)
    if forward.meta.get("kind") == "llm":
        T = forward.meta.get("tokens", 1)
        fwd_ops = [replace(o, M=T) if isinstance(o, Gemm) and o.group == "lm_head" else o
                   for o in fwd_ops]
    b = GraphBuilder()
    for op in fwd_ops:
        b.add(op)
    first = fwd_ops[0].name if fwd_ops else None
    for op in reversed(fwd_ops):
        for g in backward_ops(op, need_input_grad=op.name != first, layout_ops=layout_ops):
            b.add(g)
    for op in fwd_ops:
        u = update_op(op, optimizer)
        if u is not None:
            b.add(u)
    meta = dict(forward.meta, phase="train", optimizer=optimizer, layout_ops=layout_ops,
                forward_macs=sum(o.macs for o in fwd_ops))
    wl = Workload(forward.name, b.graph, meta, forward.precision)
    return wl.with_precision(forward.precision) if forward.precision is not None else wl
