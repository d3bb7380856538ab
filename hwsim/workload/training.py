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

``backward="implicit"`` prices the step as GPU libraries run it (cuDNN, cuBLAS, FlashAttention-2,
PyTorch's fused optimizers; :func:`implicit_backward_ops`): no layout copies; a dense conv's input
gradient is a convolution of the output gradient (same MACs) and its weight gradient one implicit
GEMM (M = C_out/g, N = C_in/g*kh*kw, K = output pixels); a depthwise conv's two gradients are
depthwise (streaming) convolutions, not GEMMs; the attention backward is one FlashAttention kernel
of 2.5x the forward's tile work; batch-norm in train mode adds its statistics pass; an LLM gets its
fp32 cross-entropy over all logits; the optimizer is one fused multi-tensor kernel; with
``master_weights="fp32"`` (mixed precision) each weight is cast to the compute format per use and
each weight gradient back, and the optimizer works on fp32 tensors.

``optimizer="adam_lowrank"`` (GaLore, Zhao et al. 2024, arXiv 2403.03507): every linear weight
matrix (m x n, m <= n) keeps Adam moments for its rank-``rank`` projection only (2 r n instead of
2 m n elements); per step a projection GEMM ``P^T G`` (r x n x m MACs), Adam on the r x n state and
the back-projection ``P N`` (m x n x r MACs), then ``W -= lr * update`` (reads W and the update,
2 FLOPs/element). The projector's SVD every ~200 steps is amortized away (not priced). Other
parameters (norms, embeddings, convolutions) take ordinary Adam.

Gradients take the activation format (the workload's precision policy sets every operand that is
not a weight to it); the input-gradient GEMMs read the weights in their own format.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConfigError
from .graph import GraphBuilder, Workload
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Op, Softmax
from .training_eager import EagerExtras, layernorm_param_grad

OPTIMIZERS = {"sgd": (2, 2), "adam": (10, 4), "adam_lowrank": (10, 4)}  # FLOPs, tensors read
# tensors written per element by a fused optimizer kernel (sgd: w; adam: w, m, v)
_WRITES = {"sgd": 1, "adam": 3, "adam_lowrank": 3}
BACKWARDS = ("explicit", "implicit")
# FlashAttention-2 backward: 5 tile matmuls (S recomputed, dV, dP, dQ, dK) against the forward's
# 2 (Dao 2023, arXiv 2307.08691, Algorithm 2)
ATTN_BWD_FLOP_MULT = 2.5
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


def _conv_dgrad(op: Conv2d, name: str, tags: dict) -> Op:
    """Input gradient of a conv as the library runs it: a stride-1 convolution of the output
    gradient (C_out -> C_in, same filter) over the output grid, the forward's MACs; a Gemm where a
    stride-1 'same' convolution cannot reproduce the grid (even filters)."""
    pad = (op.kernel_h - 1) // 2 * op.dilation
    if op.kernel_h == op.kernel_w and op.kernel_h % 2:
        c = Conv2d(name=name, batch=op.batch, in_channels=op.out_channels,
                   out_channels=op.in_channels, in_h=op.out_h, in_w=op.out_w,
                   kernel_h=op.kernel_h, kernel_w=op.kernel_w, stride=1, padding=pad,
                   dilation=op.dilation, groups=op.groups, weights=op.weights,
                   activations=op.activations, **tags)
        if c.out_h == op.out_h and c.out_w == op.out_w:
            return c
    g = op.as_gemm()
    return Gemm(name=name, M=g.M, N=g.K, K=g.N, groups=g.groups, weights=op.weights,
                activations=op.activations, out=op.activations, tied=True, **tags)


def implicit_backward_ops(op: Op, need_input_grad: bool = True) -> list[Op]:
    """The gradient kernels cuDNN / cuBLAS / FlashAttention-2 run for one forward op (module
    docstring, ``backward="implicit"``); other op types as :func:`backward_ops`."""
    n, tags = op.name, dict(group=op.group, layer=op.layer)
    if isinstance(op, Conv2d):
        out = [_conv_dgrad(op, n + ".dx", tags)] if need_input_grad else []
        if op.groups > 1 and op.groups == op.in_channels == op.out_channels:
            # depthwise: dW reads X and dY once, as the forward reads X and writes Y
            return out + [replace(op, name=n + ".dw", bias=False)]
        g = op.as_gemm()
        out.append(Gemm(name=n + ".dw", M=g.N, N=g.K, K=g.M, groups=g.groups,
                        weights=op.activations, activations=op.activations, out=op.weights,
                        b_is_weight=False, **tags))
        if op.bias:
            out.append(_reduce(n + ".dbias", op.out_channels, op.batch * op.out_h * op.out_w,
                               op.activations, tags, "bias_grad"))
        return out
    if isinstance(op, Attention):
        # one fused backward kernel; head_dim x 2.5 gives its tile work (and ~2.5x the forward's
        # Q/K/V/O traffic: it reads Q, K, V, O, dO and writes dQ, dK, dV)
        hd = max(1, round(op.head_dim * ATTN_BWD_FLOP_MULT))
        return attn_bwd_pre(op, tags) + [replace(op, name=n + ".bwd", head_dim=hd),
                                         attn_bwd_post(op, tags)]
    if isinstance(op, Norm) and op.kind == "batch":
        # train-mode batch-norm backward (PyTorch's channels-last kernels): a reduction of dY and
        # dY*X per channel (reads X and dY), then dX from dY, X and the two sums
        return [_reduce(n + ".grad_reduce", op.cols, 2 * op.rows, op.activations, tags,
                        "batchnorm_grad_reduce"),
                Elementwise(name=n + ".grad", numel=op.rows * op.cols, inputs=2,
                            fn="batchnorm_grad", flops_per_elem=4, activations=op.activations,
                            **tags)]
    if isinstance(op, Norm) and op.kind == "layer":
        # native_layer_norm_backward: the input gradient, then gamma/beta's column sums
        return backward_ops(op, need_input_grad, layout_ops=False) + [layernorm_param_grad(op)]
    if isinstance(op, Gemm) and op.bias and op.b_is_weight:
        # the bias gradient: a column sum of dY (M x N) per group
        return (backward_ops(op, need_input_grad, layout_ops=False)
                + [_reduce(n + ".dbias", op.groups * op.N, op.M, op.activations, tags, "bias_grad")])
    return backward_ops(op, need_input_grad, layout_ops=False)


def attn_bwd_pre(op: Attention, tags: dict) -> list[Op]:
    """FlashAttention-2's backward preprocessing (Dao 2023, Algorithm 2 line 4; flash-attn's
    ``flash_bwd_dot_do_o_kernel``, cuDNN's ``compute_dot_do_o``): D = rowsum(dO * O) per query
    and head, reading O and dO once and writing one fp32 value per row."""
    rows = op.batch * op.heads * op.q_len
    return [Elementwise(name=op.name + ".bwd_dot_do_o", numel=rows, inputs=2 * op.head_dim,
                        fn="attn_bwd_dot", flops_per_elem=2 * op.head_dim,
                        activations=op.activations, out="fp32", fixed_formats=True, **tags)]


def attn_bwd_post(op: Attention, tags: dict) -> Elementwise:
    """The backward kernel accumulates dQ in fp32 (atomic adds across key blocks); a last kernel
    converts it to the activation format (flash-attn's ``flash_bwd_convert_dq_kernel``, cuDNN's
    ``convert_dq_to_16bits``)."""
    return Elementwise(name=op.name + ".bwd_convert_dq", numel=op.batch * op.heads * op.q_len
                       * op.head_dim, inputs=1, fn="cast", flops_per_elem=0, activations="fp32",
                       out=op.activations, fixed_formats=True, **tags)


def _reduce(name: str, outs: int, rows: int, fmt: str, tags: dict,
            fn: str = "reduce_rows") -> Elementwise:
    """A column reduction: ``outs`` sums over ``rows`` rows, i.e. ``rows`` same-shaped inputs of
    ``outs`` elements read once and ``outs`` written (bias gradients, batch-norm statistics)."""
    return Elementwise(name=name, numel=outs, inputs=rows, fn=fn, flops_per_elem=2,
                       activations=fmt, out=fmt, **tags)


def _bn_stats(op: Norm) -> Elementwise:
    """Train-mode batch-norm's statistics pass (mean and variance of X per channel over the
    batch: reads X once) before the normalizing pass the forward graph already has."""
    return _reduce(op.name + ".stats", op.cols, op.rows, op.activations,
                   dict(group=op.group, layer=op.layer), "batchnorm_stats")


def _loss_ops(head: Gemm, tokens: int) -> tuple[list[Op], list[Op]]:
    """PyTorch's fp32 cross-entropy over ``tokens`` x vocabulary logits. Rows this long do not fit
    on chip, so the log-softmax kernels pass over a row three times (forward: max, sum of exp,
    write; backward: sum of dY, then dX from dY and the saved output). Forward: cast to fp32,
    log-softmax (3 reads + 1 write); backward: nll backward's fill of the gradient (1 write),
    log-softmax backward (3 reads + 1 write), cast back to the logits' format."""
    numel, a, tags = tokens * head.N, head.out, dict(group="loss", layer=head.layer)
    e = dict(numel=numel, activations="fp32", out="fp32", fixed_formats=True, **tags)
    fwd = [Elementwise(name="loss.to_fp32", numel=numel, inputs=1, fn="cast", flops_per_elem=0,
                       activations=a, out="fp32", fixed_formats=True, **tags),
           Elementwise(name="loss.log_softmax", inputs=3, fn="log_softmax", flops_per_elem=5,
                       **e)]
    # the fill is a write of numel fp32 elements (counted as one read in the next kernel's
    # operands, so the bytes stay exact; its launch is not separately counted)
    bwd = [Elementwise(name="loss.grad", inputs=4, fn="log_softmax_grad", flops_per_elem=3, **e),
           Elementwise(name="loss.grad.cast", numel=numel, inputs=1, fn="cast", flops_per_elem=0,
                       activations="fp32", out=a, fixed_formats=True, **tags)]
    return fwd, bwd


def _param_fmt(op: Op) -> str:
    return getattr(op, "weights", None) or getattr(op, "activations", None) or "fp16"


def _master_casts(op: Op, compute: str) -> tuple[Elementwise, Elementwise]:
    """Mixed precision (fp32 master weights, autocast without its weight cache, as in a captured
    step): the per-use cast of ``op``'s weights to ``compute`` and of their gradient back."""
    t = dict(group=op.group, layer=op.layer, flops_per_elem=0, fn="cast", inputs=1,
             fixed_formats=True)
    return (Elementwise(name=op.name + ".w_cast", numel=op.param_elems, activations="fp32",
                        out=compute, **t),
            Elementwise(name=op.name + ".dw_cast", numel=op.param_elems, activations=compute,
                        out="fp32", **t))


def _lowrank_ops(op: Gemm, rank: int, fmt: str) -> list[Op] | None:
    """GaLore's update of one weight matrix (module docstring), None when ``op`` has none."""
    if not (isinstance(op, Gemm) and op.b_is_weight and not op.tied):
        return None
    m, n = sorted((op.K, op.N))
    r = min(rank, m)
    t = dict(group="optimizer", layer=op.layer, groups=op.groups, activations=fmt)
    f, reads = OPTIMIZERS["adam"]
    return [Gemm(name=op.name + ".proj", M=r, N=n, K=m, b_is_weight=False, weights=fmt, **t),
            Elementwise(name=op.name + ".update", fn="adam_update", numel=op.groups * r * n,
                        inputs=reads, flops_per_elem=f, out=fmt, group="optimizer",
                        layer=op.layer, activations=fmt),
            Gemm(name=op.name + ".unproj", M=m, N=n, K=r, b_is_weight=False, weights=fmt, **t),
            Elementwise(name=op.name + ".apply", fn="sgd_update", numel=op.param_elems,
                        inputs=2, flops_per_elem=2, out=fmt, group="optimizer", layer=op.layer,
                        activations=fmt)]


def fused_update_op(ops: list[Op], optimizer: str, fmt: str) -> Elementwise | None:
    """PyTorch's fused (multi-tensor) optimizer: one kernel over every parameter element, reading
    the tensors the update needs and writing the parameter (and Adam's moments) back."""
    numel = sum(o.param_elems for o in ops)
    if not numel:
        return None
    flops, reads = OPTIMIZERS[optimizer]
    return Elementwise(name="optimizer.fused", group="optimizer", fn=f"{optimizer}_fused",
                       numel=numel, inputs=reads + _WRITES[optimizer] - 1, flops_per_elem=flops,
                       activations=fmt, out=fmt, fixed_formats=fmt == "fp32")


def update_op(op: Op, optimizer: str) -> Elementwise | None:
    """The optimizer update of the parameters ``op`` owns (None when it owns none)."""
    if not op.param_elems:
        return None
    flops, reads = OPTIMIZERS[optimizer]
    fmt = getattr(op, "weights", None) or getattr(op, "activations", "fp16")
    return Elementwise(name=op.name + ".update", group="optimizer", fn=f"{optimizer}_update",
                       numel=op.param_elems, inputs=reads, flops_per_elem=flops,
                       activations=fmt, out=fmt, layer=op.layer)


def _check_args(optimizer: str, backward: str, master_weights: str | None, rank: int) -> None:
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer = {optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
    if backward not in BACKWARDS:
        raise ConfigError(f"backward = {backward!r}: expected one of {', '.join(BACKWARDS)}")
    if master_weights not in (None, "fp32"):
        raise ConfigError(f"master_weights = {master_weights!r}: expected None or 'fp32'")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise ConfigError(f"rank = {rank!r}: expected a positive integer (GaLore projection rank)")


def _updates(fwd_ops: list[Op], optimizer: str, rank: int, fused: bool,
             master: str | None) -> list[Op]:
    """The optimizer's ops: per tensor (``update_op``), or one fused kernel; GaLore's projected
    update for linear weights under ``adam_lowrank``."""
    out, rest = [], []
    for op in fwd_ops:
        fmt = master or getattr(op, "weights", None) or getattr(op, "activations", "fp16")
        low = _lowrank_ops(op, rank, fmt) if optimizer == "adam_lowrank" else None
        if low is not None:
            out += low
        elif op.param_elems:
            rest.append(op)
    if fused and rest:
        fmt = master or getattr(rest[0], "weights", None) or rest[0].activations
        u = fused_update_op(rest, "adam" if optimizer == "adam_lowrank" else optimizer, fmt)
        return out + ([u] if u is not None else [])
    opt = "adam" if optimizer == "adam_lowrank" else optimizer
    return out + [u for o in rest for u in [update_op(o, opt)] if u is not None]


def to_training(forward: Workload, optimizer: str = "sgd", layout_ops: bool = True,
                backward: str = "explicit", master_weights: str | None = None,
                rank: int = 128) -> Workload:
    """One training step of ``forward``: its ops, then the backward ops in reverse order, then the
    optimizer updates. LLM forwards built for ``prefill`` get logits for every position.
    ``backward``: ``"explicit"`` (GEMM libraries with layout copies, per-tensor optimizer ops) or
    ``"implicit"`` (cuDNN / cuBLAS / FlashAttention-2 and a fused optimizer; module docstring).
    ``master_weights="fp32"`` (implicit only): mixed precision. ``rank``: GaLore's projection rank
    (``optimizer="adam_lowrank"``).

    >>> from hwsim.workload.tiny import build_resnet8
    >>> wl = to_training(build_resnet8())
    >>> round(wl.macs / build_resnet8().macs, 2)  # fwd + dX + dW, no dX for the first conv
    2.96
    """
    _check_args(optimizer, backward, master_weights, rank)
    implicit = backward == "implicit"
    if master_weights and not implicit:
        raise ConfigError("master_weights = 'fp32' needs backward = 'implicit'")
    fwd_ops = list(forward.ops)
    llm = forward.meta.get("kind") == "llm"
    T = forward.meta.get("tokens", 1)
    if llm:
        fwd_ops = [replace(o, M=T) if isinstance(o, Gemm) and o.group == "lm_head" else o
                   for o in fwd_ops]
    # eager PyTorch's extra kernels (layout copies, per-input product gradients; training_eager)
    extras = EagerExtras(forward.meta, fwd_ops) if implicit else None
    if extras is not None and extras.active:
        fwd_ops = [o for o in map(extras.forward_op, fwd_ops) if o is not None]
    else:
        extras = None
    b = GraphBuilder()
    loss_bwd = []
    for op in fwd_ops:
        if implicit and master_weights and op.param_elems:
            b.add(_master_casts(op, _param_fmt(op))[0])
        if implicit and isinstance(op, Norm) and op.kind == "batch":
            b.add(_bn_stats(op))
        for o in extras.before(op) if extras else ():
            b.add(o)
        b.add(op)
        for o in extras.after(op) if extras else ():
            b.add(o)
        if implicit and llm and isinstance(op, Gemm) and op.group == "lm_head":
            loss_fwd, loss_bwd = _loss_ops(op, T)
            for o in loss_fwd:
                b.add(o)
    for o in loss_bwd:
        b.add(o)
    first = fwd_ops[0].name if fwd_ops else None
    for op in reversed(fwd_ops):
        need = op.name != first
        grads = (implicit_backward_ops(op, need) if implicit else
                 backward_ops(op, need_input_grad=need, layout_ops=layout_ops))
        if extras:
            grads = extras.grad_before(op) + grads + extras.grad_after(op)
        for g in grads:
            b.add(g)
        if implicit and master_weights and op.param_elems:
            b.add(_master_casts(op, _param_fmt(op))[1])
    for u in _updates(fwd_ops, optimizer, rank, implicit, master_weights):
        b.add(u)
    meta = dict(forward.meta, phase="train", optimizer=optimizer, layout_ops=layout_ops,
                forward_macs=sum(o.macs for o in fwd_ops), backward=backward,
                master_weights=master_weights)
    if optimizer == "adam_lowrank":
        meta["rank"] = rank
    wl = Workload(forward.name, b.graph, meta, forward.precision)
    return wl.with_precision(forward.precision) if forward.precision is not None else wl
