"""Kernels an eager PyTorch training step runs around the library kernels of
:func:`~hwsim.workload.training.implicit_backward_ops` (``backward="implicit"``), for the two
eager graphs hwsim builds the way PyTorch runs them: HF-style Llama decoders
(``build_llm(..., fusion="eager")``) and torchvision ViTs (``build_vit``). Each rule below is read
off the PyTorch / torchvision source (named per rule) and checked against the kernel names of
``benchmarks/gpu/train.py``'s profiled steps (``kernels_train.csv``).

Kernel classes (``Elementwise.fn``) priced with their own SM-side rates
(``families/gpu/model.TRAIN_KERNEL_BYTES_PER_CLK_PER_SM``):

* ``strided_copy`` and every ``strided_<fn>``: TensorIterator's generic
  ``elementwise_kernel<128, 4>`` path, taken when an operand is a non-contiguous view (a
  transposed or chunked tensor): per element offset arithmetic instead of 16-byte vector loads,
  so it runs at an SM-side rate well below HBM bandwidth (``.contiguous()`` of a transpose is
  ``direct_copy`` on this path); all take the rate fitted on the strided copies.
* ``column_sum``: ``reduce_kernel<128, 4>`` summing a rows x cols tensor over its rows (a weight
  gradient of a broadcast scale: RMSNorm's weight; bias gradients take the same rate).
* ``norm_param_grad``: LayerNorm's gamma/beta gradient (``GammaBetaBackward``: column sums of
  dY * x_hat and dY), priced as a column sum.

Everything else here is a plain streaming kernel (fills, contiguous copies, adds, muls).
"""

from __future__ import annotations

from dataclasses import replace

from .ops import Elementwise, Gemm, Norm, Op

# HF Llama eager kernels on non-contiguous views (EagerExtras.forward_op)
STRIDED_LLM_GROUPS = ("attn.rope", "mlp.act")


def _ew(name: str, numel: int, fn: str, fmt: str, tags: dict, inputs: int = 1,
        flops: int = 0, out: str | None = None) -> Elementwise:
    return Elementwise(name=name, numel=numel, inputs=inputs, fn=fn, flops_per_elem=flops,
                       activations=fmt, out=out or fmt, fixed_formats=True, **tags)


def column_sum(name: str, cols: int, rows: int, fmt: str, tags: dict,
               fn: str = "column_sum") -> Elementwise:
    """``cols`` sums over ``rows`` rows (reads rows x cols once, writes cols)."""
    return Elementwise(name=name, numel=cols, inputs=rows, fn=fn, flops_per_elem=1,
                       activations=fmt, out=fmt, **tags)


def layernorm_param_grad(op: Norm) -> Elementwise:
    """``native_layer_norm_backward``'s gamma (and beta) gradient: per column, sums over the rows
    of dY * x_hat (and of dY), reading X and dY once (aten/src/ATen/native/cuda/
    layer_norm_kernel.cu, GammaBetaBackwardCUDAKernel)."""
    return column_sum(op.name + ".dgamma_dbeta", op.cols, 2 * op.rows, op.activations,
                      dict(group=op.group, layer=op.layer), "norm_param_grad")


class EagerExtras:
    """The extra kernels of one eager training step: ``before`` / ``after`` a forward op,
    ``grad_before`` / ``grad_after`` its gradient kernels, and ``forward_op`` (a forward op
    replaced by the kernel the framework really runs, or None to drop it)."""

    def __init__(self, meta: dict, fwd_ops: list[Op]):
        self.kind = meta.get("kind")
        self.vit = self.kind == "vit"
        self.llm = self.kind == "llm" and meta.get("fusion") == "eager"
        self.T = meta.get("tokens", 1)
        self.by_name = {o.name: o for o in fwd_ops}

    @property
    def active(self) -> bool:
        return self.vit or self.llm

    # ------------------------------------------------------------------ forward

    def forward_op(self, op: Op) -> Op | None:
        if self.llm and getattr(op, "fn", "") == "kv_write":
            return None  # a training step keeps no KV cache (HF: use_cache=False)
        if self.llm and op.group in STRIDED_LLM_GROUPS and isinstance(op, Elementwise):
            # RoPE works on q / k transposed to (B, h, T, hd) and rotate_half's chunks, the MLP
            # activation on gate_up(x).chunk(2, -1): views, so these kernels (and their
            # gradients, fn "strided_<fn>_grad") take the strided path
            return replace(op, fn="strided_" + op.fn)
        if self.vit and op.name.endswith("mlp.residual"):
            # x (the block input, in MHA's (L, N, E) memory order) + MLP output (contiguous):
            # mixed layouts take the strided path
            return replace(op, fn="strided_add", flops_per_elem=1)
        return op

    def before(self, op: Op) -> list[Op]:
        if self.vit and isinstance(op, Gemm) and op.name.endswith("attn.qkv"):
            # F.multi_head_attention_forward (batch_first): query.transpose(1, 0) into the
            # packed in-projection, made contiguous for the matmul
            return [_ew(op.name + ".in_copy", op.M * op.K, "strided_copy", op.activations,
                        self._tags(op))]
        return []

    def after(self, op: Op) -> list[Op]:
        t = self._tags(op)
        if self.vit and isinstance(op, Gemm) and op.name.endswith("attn.qkv"):
            # _in_projection_packed on a 3-D non-contiguous input: matmul, then the bias added in
            # a kernel of its own; proj.unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2)
            # .squeeze(-2).contiguous() splits q, k, v (a strided copy of the whole projection)
            n = op.M * op.N
            return [_ew(op.name + ".bias_add", n, "strided_add", op.activations, t, flops=1),
                    _ew(op.name + ".split_heads", n, "strided_copy", op.activations, t)]
        if self.vit and getattr(op, "fn", "") in ("add", "strided_add") and \
                op.name.endswith("residual"):
            # the residual sum keeps MHA's (L, N, E) memory order; LayerNorm needs it contiguous
            return [_ew(op.name + ".contiguous", op.numel, "strided_copy", op.activations, t)]
        return []

    # ------------------------------------------------------------------ backward

    def grad_before(self, op: Op) -> list[Op]:
        t = self._tags(op)
        if self.vit and isinstance(op, Norm) and op.kind == "layer":
            # every LayerNorm's input is the residual stream in MHA's (L, N, E) memory order:
            # its backward makes a contiguous copy again
            return [_ew(op.name + ".dy_contiguous", op.rows * op.cols, "strided_copy",
                        op.activations, t)]
        if self.vit and isinstance(op, Gemm) and op.name.endswith("attn.o"):
            # backward of attn_output.transpose(1, 0) (batch_first)
            return [_ew(op.name + ".dy_contiguous", op.M * op.N, "strided_copy",
                        op.activations, t)]
        if self.vit and isinstance(op, Gemm) and op.name.endswith("attn.qkv"):
            return self._vit_split_grad(op, t)
        if self.llm and isinstance(op, Gemm) and op.name.endswith("attn.qkv"):
            return self._llm_qkv_grad(op, t)
        if self.llm and isinstance(op, Gemm) and op.name.endswith("mlp.up"):
            # .chunk(2, -1) backward: cat of the gate and up gradients (CatArrayBatchedCopy)
            return [_ew(op.name + ".chunk_grad", op.M * op.N, "cat", op.activations, t)]
        return []

    def grad_after(self, op: Op) -> list[Op]:
        t = self._tags(op)
        if self.vit and isinstance(op, Gemm) and op.name.endswith("attn.qkv"):
            # backward of query.transpose(1, 0): dX copied back to (N, L, E)
            return [_ew(op.name + ".dx_contiguous", op.M * op.K, "strided_copy", op.activations,
                        t)]
        if self.llm and isinstance(op, Elementwise) and op.fn in ("mul", "strided_mul"):
            return self._llm_mul_grad(op, t)
        return []

    # ------------------------------------------------------------------ rules

    @staticmethod
    def _tags(op: Op) -> dict:
        return dict(group=op.group, layer=op.layer)

    def _vit_split_grad(self, op: Gemm, t: dict) -> list[Op]:
        """Backward of ``q, k, v = proj[0], proj[1], proj[2]`` (``select_backward``: a zero-filled
        (3, L, N, E) buffer and a copy of the slice, per tensor), the two adds summing the three,
        and the backward of the ``.transpose(0, -2).contiguous()`` (a strided copy)."""
        n3, n = op.M * op.N, op.M * op.N // 3
        a = op.activations
        # select_backward: fill writes 3n, the slice copy reads n and writes n: 5n elements,
        # one op per tensor of 4 reads of n + 1 write of n
        sel = [_ew(f"{op.name}.select_grad.{x}", n, "select_grad", a, t, inputs=4)
               for x in "qkv"]
        adds = [_ew(f"{op.name}.split_grad.add{i}", n3, "add", a, t, inputs=2, flops=1)
                for i in (0, 1)]
        return sel + adds + [_ew(op.name + ".split_heads.grad", n3, "strided_copy", a, t)]

    def _llm_qkv_grad(self, op: Gemm, t: dict) -> list[Op]:
        """Backward of ``qkv.split(...)`` and ``.view(B, T, h, hd).transpose(1, 2)``: dq and dk
        come out of the RoPE backward in (B, h, T, hd) order and are copied back (strided), dv
        comes from SDPA's backward in place; the three are concatenated into dqkv."""
        p = op.name[: -len("qkv")]
        out = []
        for x in ("q", "k"):
            cat = self.by_name.get(f"{p}rope.{x}.cat")
            if cat is not None:
                out.append(_ew(f"{op.name}.d{x}_contiguous", cat.numel, "strided_copy",
                               cat.activations, t))
        return out + [_ew(op.name + ".split_grad", op.M * op.N, "cat", op.activations, t)]

    def _llm_mul_grad(self, op: Elementwise, t: dict) -> list[Op]:
        """``mul`` of two tensors: autograd's MulBackward0 runs one kernel per input that needs a
        gradient (``grad * other``); the builder's single ``mul_grad`` covers the first. Where the
        other input is broadcast its gradient is then summed over the broadcast dimension
        (``sum_to_size``): RMSNorm's weight (a column sum over tokens) and its rsqrt factor (a
        row sum over the hidden size). RoPE's cos / sin are buffers (one kernel only)."""
        a, name = op.activations, op.name
        if op.group == "attn.rope" or op.group.endswith(".quant"):
            return []
        second = _ew(name + ".grad_other", op.numel, "mul", a, t, inputs=2, flops=1)
        if name.endswith(".mul_weight"):  # weight * h: dW = (dY * h).sum(tokens)
            return [second, column_sum(name + ".dweight", op.numel // self.T, self.T, a, t)]
        if name.endswith("norm.mul"):  # h * rsqrt(...): dr = (dY * h).sum(-1); dh accumulates
            return [second, _ew(name + ".grad_other.sum", op.numel, "mean", a, t, flops=1),
                    _ew(name + ".grad_accumulate", op.numel, "add", a, t, inputs=2, flops=1)]
        return [second]  # silu(gate) * up
