"""Operators of a workload graph, as frozen dataclasses.

Every op reports ``flops`` (2 per multiply-accumulate), ``macs``, ``operand_bytes()`` (bytes of each
operand read or written once, from the operand's format ``storage_bits``) and ``param_elems``
(weight elements it owns). Formats are names resolved by :func:`hwsim.formats.get`.

The op ``name`` and ``group``/``layer`` tags are excluded from equality and hashing, so identical
layers compare equal and a model can cache their cost once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

from .. import formats as _formats
from ..errors import HwsimError, ShapeError, check_positive_int

_TAG = dict(compare=False, repr=False)


@dataclass(frozen=True)
class Op:
    """Base of all operators. Subclasses list their integer dimensions in ``_dims``."""

    name: str = field(default="", compare=False)
    group: str = field(default="", **_TAG)
    layer: int = field(default=-1, **_TAG)

    _dims: ClassVar[tuple[str, ...]] = ()
    _format_fields: ClassVar[tuple[str, ...]] = ()
    _compare_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        # hot path (a 7B graph builds ~400 ops): a plain positive int and a format name already
        # resolved once need no further work; anything else takes the checking path
        d = self.__dict__
        for f in self._dims:
            v = d[f]
            if type(v) is not int or v <= 0:
                object.__setattr__(self, f, check_positive_int(self.name or type(self).__name__,
                                                               f, v))
        for f in self._format_fields:
            v = d[f]
            if v is not None and (type(v) is not str or v not in _KNOWN_FORMATS):
                object.__setattr__(self, f, _format_name(self.name or type(self).__name__, f, v))

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def macs(self) -> int:
        return 0

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def param_elems(self) -> int:
        return 0

    def operand_bytes(self) -> dict[str, float]:
        raise NotImplementedError

    @property
    def weight_bytes(self) -> float:
        """Bytes of the parameters this op owns, in the weights' storage format (group/block
        scales included); 0 for ops without parameters. The one place this rule lives."""
        if not self.param_elems:
            return 0.0
        return _nbytes(self.param_elems, getattr(self, "weights", None) or "fp16")

    @property
    def bytes(self) -> float:
        """Total bytes if every operand crosses memory once (the minimum traffic)."""
        return float(sum(self.operand_bytes().values()))

    def formats(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in self._format_fields if getattr(self, f) is not None}

    def with_formats(self, **fmts) -> "Op":
        """A copy with some formats replaced (only the fields this op has); the op itself when
        they are already its formats (ops are immutable)."""
        own = self._format_fields
        return self._with_formats({k: v for k, v in fmts.items() if k in own})

    def _with_formats(self, ch: dict) -> "Op":
        """:meth:`with_formats` with ``ch`` holding only this op's format fields."""
        d, same = self.__dict__, True
        for k, v in ch.items():
            if type(v) is not str or v not in _KNOWN_FORMATS or type(self) not in _OWN_TYPES:
                return replace(self, **ch)  # checks and normalizes the new formats
            same = same and d[k] == v
        if same:
            return self
        # the dimensions were checked when this op was made, and a valid format name changes no
        # other field (each __post_init__ here only fills formats left None): copying the
        # fields builds what replace() would, without running the checks again
        new = object.__new__(type(self))
        nd = new.__dict__
        nd.update(d)
        nd.update(ch)
        nd.pop("_k", None)  # the equality key changed with the formats
        return new

    def _key(self) -> tuple:
        """The fields equality and hashing compare (the dataclass's, in its order), made once
        per op and shared by its renamed copies, so that costing a 7B graph's ~400 ops through
        a memo compares two tuples of the same objects instead of building two per lookup."""
        d = self.__dict__
        k = d.get("_k")
        if k is None:
            k = d["_k"] = tuple([d[f] for f in self._compare_fields])
        return k

    def _retagged(self, name: str, layer: int) -> "Op":
        """This op under another name and layer (tags outside equality: nothing to check)."""
        new = object.__new__(type(self))
        d = new.__dict__
        d.update(self.__dict__)
        d["name"], d["layer"] = name, layer
        return new

    def dims(self) -> dict[str, int]:
        return {d: getattr(self, d) for d in self._dims}


# format names that hwsim.formats.get has resolved (it caches them, so they stay valid)
_KNOWN_FORMATS: set[str] = set()


def _format_name(owner: str, field_name: str, value) -> str:
    """``value`` (a format name or NumberFormat) checked, as the name an op stores."""
    try:
        _formats.get(value)
    except HwsimError as e:
        raise HwsimError(f"{owner}.{field_name}: {e}") from None
    if not isinstance(value, str):
        return value.name
    _KNOWN_FORMATS.add(value)
    return value


def _nbytes(elems: int | float, fmt: str) -> float:
    return elems * _formats.get(fmt).storage_bits / 8.0


@dataclass(frozen=True)
class Gemm(Op):
    """C[M×N] = A[M×K] · B[K×N], ``groups`` times (grouped/batched GEMM, e.g. MoE experts or
    per-head matmuls). ``activations`` is A's format, ``weights`` B's, ``out`` C's (defaults to the
    activation format). ``b_is_weight`` marks B as a parameter tensor (counted in ``param_elems``)."""

    M: int = 1
    N: int = 1
    K: int = 1
    weights: str = "fp16"
    activations: str = "fp16"
    out: str | None = None
    groups: int = 1
    b_is_weight: bool = True
    bias: bool = False
    weight_groups: int | None = None
    tied: bool = False

    _dims = ("M", "N", "K", "groups")
    _format_fields = ("weights", "activations", "out")

    def __post_init__(self):
        if self.out is None:
            object.__setattr__(self, "out", self.activations)
        if self.weight_groups is None:
            object.__setattr__(self, "weight_groups", self.groups)
        super().__post_init__()
        check_positive_int(self.name or "Gemm", "weight_groups", self.weight_groups)

    @property
    def macs(self) -> int:
        return self.groups * self.M * self.N * self.K

    @property
    def param_elems(self) -> int:
        if not self.b_is_weight or self.tied:
            return 0
        return self.weight_groups * (self.K * self.N + (self.N if self.bias else 0))

    def operand_bytes(self) -> dict[str, float]:
        g = self.groups
        return {"A": _nbytes(g * self.M * self.K, self.activations),
                "B": _nbytes(g * self.K * self.N, self.weights),
                "C": _nbytes(g * self.M * self.N, self.out)}


@dataclass(frozen=True)
class Conv2d(Op):
    """2-D convolution, NCHW. ``groups`` = in_channels = out_channels gives a depthwise conv."""

    batch: int = 1
    in_channels: int = 1
    out_channels: int = 1
    in_h: int = 1
    in_w: int = 1
    kernel_h: int = 1
    kernel_w: int = 1
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    bias: bool = False
    weights: str = "fp16"
    activations: str = "fp16"
    out: str | None = None

    _dims = ("batch", "in_channels", "out_channels", "in_h", "in_w", "kernel_h", "kernel_w",
             "stride", "dilation", "groups")
    _format_fields = ("weights", "activations", "out")

    def __post_init__(self):
        if self.out is None:
            object.__setattr__(self, "out", self.activations)
        super().__post_init__()
        owner = self.name or "Conv2d"
        check_positive_int(owner, "padding", self.padding, allow_zero=True)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ShapeError(f"{owner}: groups={self.groups} must divide in_channels="
                             f"{self.in_channels} and out_channels={self.out_channels}")
        if self.out_h < 1 or self.out_w < 1:
            raise ShapeError(f"{owner}: kernel {self.kernel_h}x{self.kernel_w} (dilation "
                             f"{self.dilation}) does not fit input {self.in_h}x{self.in_w} with "
                             f"padding {self.padding}")

    def _out(self, n: int, k: int) -> int:
        return (n + 2 * self.padding - self.dilation * (k - 1) - 1) // self.stride + 1

    @property
    def out_h(self) -> int:
        return self._out(self.in_h, self.kernel_h)

    @property
    def out_w(self) -> int:
        return self._out(self.in_w, self.kernel_w)

    @property
    def depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.in_channels

    @property
    def macs(self) -> int:
        return (self.batch * self.out_channels * self.out_h * self.out_w
                * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w)

    @property
    def param_elems(self) -> int:
        w = self.out_channels * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w
        return w + (self.out_channels if self.bias else 0)

    def as_gemm(self) -> Gemm:
        """The implicit-GEMM view: M = output pixels, N = out channels, K = reduction, per group."""
        return Gemm(name=self.name, M=self.batch * self.out_h * self.out_w,
                    N=self.out_channels // self.groups,
                    K=(self.in_channels // self.groups) * self.kernel_h * self.kernel_w,
                    groups=self.groups, weights=self.weights, activations=self.activations,
                    out=self.out)

    def operand_bytes(self) -> dict[str, float]:
        return {"A": _nbytes(self.batch * self.in_channels * self.in_h * self.in_w, self.activations),
                "B": _nbytes(self.param_elems, self.weights),
                "C": _nbytes(self.batch * self.out_channels * self.out_h * self.out_w, self.out)}


@dataclass(frozen=True)
class Attention(Op):
    """Scaled dot-product attention softmax(Q·Kᵀ/√d)·V over a KV cache, fused (FlashAttention-style:
    the score matrix never goes to memory). GQA/MQA: ``kv_heads`` divides ``heads``. Causal masking
    with q_len queries at the end of kv_len keys: query i sees kv_len - q_len + i + 1 keys.
    FLOPs count the two matmuls (QKᵀ and PV): 4·batch·heads·head_dim·(visible pairs)."""

    batch: int = 1
    heads: int = 1
    kv_heads: int | None = None
    q_len: int = 1
    kv_len: int = 1
    head_dim: int = 64
    causal: bool = True
    activations: str = "fp16"
    kv: str | None = None
    out: str | None = None

    _dims = ("batch", "heads", "kv_heads", "q_len", "kv_len", "head_dim")
    _format_fields = ("activations", "kv", "out")

    def __post_init__(self):
        if self.kv_heads is None:
            object.__setattr__(self, "kv_heads", self.heads)
        for f in ("kv", "out"):
            if getattr(self, f) is None:
                object.__setattr__(self, f, self.activations)
        super().__post_init__()
        owner = self.name or "Attention"
        if self.heads % self.kv_heads:
            raise ShapeError(f"{owner}: kv_heads={self.kv_heads} must divide heads={self.heads}")
        if self.q_len > self.kv_len:
            raise ShapeError(f"{owner}: q_len={self.q_len} exceeds kv_len={self.kv_len} "
                             "(the queries' own keys are part of the KV length)")

    @property
    def score_pairs(self) -> int:
        """Query-key pairs computed per (batch, head), after causal masking."""
        if not self.causal:
            return self.q_len * self.kv_len
        q, kv = self.q_len, self.kv_len
        return q * kv - q * (q - 1) // 2

    @property
    def macs(self) -> int:
        return 2 * self.batch * self.heads * self.head_dim * self.score_pairs

    @property
    def kv_effective(self) -> int:
        """Keys each query sees on average after causal masking (>= 1): the K dimension of the
        two GEMMs below, so their MACs equal this op's."""
        return max(1, round(self.score_pairs / self.q_len))

    def as_gemms(self) -> tuple["Gemm", "Gemm"]:
        """Attention as two batched GEMMs, the rule every family without a fused-attention
        model uses: QK^T (M=q_len, N=kv_effective, K=head_dim) then PV (M=q_len,
        N=head_dim, K=kv_effective), ``batch x heads`` groups, K/V in the ``kv`` format. Each
        carries half of the op's minimum traffic (:attr:`bytes`), which callers may use
        instead of the GEMM's own operand bytes (the score matrix stays on chip)."""
        bh, kv = self.batch * self.heads, self.kv_effective
        tag = dict(name=self.name, group=self.group, layer=self.layer)
        qk = Gemm(M=self.q_len, N=kv, K=self.head_dim, groups=bh, activations=self.activations,
                  weights=self.kv, out=self.out, **tag)
        pv = Gemm(M=self.q_len, N=self.head_dim, K=kv, groups=bh, activations=self.activations,
                  weights=self.kv, out=self.out, **tag)
        return qk, pv

    def operand_bytes(self) -> dict[str, float]:
        b, d = self.batch, self.head_dim
        return {"Q": _nbytes(b * self.heads * self.q_len * d, self.activations),
                "K": _nbytes(b * self.kv_heads * self.kv_len * d, self.kv),
                "V": _nbytes(b * self.kv_heads * self.kv_len * d, self.kv),
                "O": _nbytes(b * self.heads * self.q_len * d, self.out)}


@dataclass(frozen=True)
class Elementwise(Op):
    """``numel`` outputs from ``inputs`` same-shaped inputs (add, mul, activation functions,
    residuals, KV-cache writes ...), ``flops_per_elem`` arithmetic operations each."""

    numel: int = 1
    inputs: int = 1
    flops_per_elem: int = 1
    fn: str = "add"
    activations: str = "fp16"
    out: str | None = None
    # formats set by the builder and kept by the precision policy (eager frameworks' fp32
    # intermediates, e.g. RMSNorm's x.float().pow(2))
    fixed_formats: bool = False

    _dims = ("numel", "inputs")
    _format_fields = ("activations", "out")

    def __post_init__(self):
        if self.out is None:
            object.__setattr__(self, "out", self.activations)
        super().__post_init__()
        check_positive_int(self.name or "Elementwise", "flops_per_elem", self.flops_per_elem,
                           allow_zero=True)

    @property
    def flops(self) -> int:
        return self.numel * self.flops_per_elem

    def operand_bytes(self) -> dict[str, float]:
        return {"in": _nbytes(self.inputs * self.numel, self.activations),
                "out": _nbytes(self.numel, self.out)}


@dataclass(frozen=True)
class Norm(Op):
    """Row normalization (``kind`` "rms" or "layer"; "batch" for an inference BatchNorm, which is
    a per-channel affine) over ``rows`` × ``cols``; ``cols`` learned scales (and biases)."""

    rows: int = 1
    cols: int = 1
    kind: str = "rms"
    affine_bias: bool = False
    activations: str = "fp16"
    out: str | None = None

    _dims = ("rows", "cols")
    _format_fields = ("activations", "out")
    _FLOPS = {"rms": 4, "layer": 7, "batch": 2}  # per element: square+sum+scale(+mean/center)

    def __post_init__(self):
        if self.out is None:
            object.__setattr__(self, "out", self.activations)
        super().__post_init__()
        if self.kind not in self._FLOPS:
            raise HwsimError(f"{self.name or 'Norm'}.kind = {self.kind!r}: expected one of "
                             f"{', '.join(self._FLOPS)}")

    @property
    def flops(self) -> int:
        return self._FLOPS[self.kind] * self.rows * self.cols

    @property
    def param_elems(self) -> int:
        return self.cols * (2 if self.affine_bias else 1)

    def operand_bytes(self) -> dict[str, float]:
        return {"in": _nbytes(self.rows * self.cols, self.activations),
                "params": _nbytes(self.param_elems, "fp16"),
                "out": _nbytes(self.rows * self.cols, self.out)}


@dataclass(frozen=True)
class Softmax(Op):
    """Standalone softmax over ``cols`` for ``rows`` rows (attention's is fused into Attention)."""

    rows: int = 1
    cols: int = 1
    activations: str = "fp16"
    out: str | None = None

    _dims = ("rows", "cols")
    _format_fields = ("activations", "out")

    def __post_init__(self):
        if self.out is None:
            object.__setattr__(self, "out", self.activations)
        super().__post_init__()

    @property
    def flops(self) -> int:
        return 5 * self.rows * self.cols  # max, subtract, exp, sum, divide

    def operand_bytes(self) -> dict[str, float]:
        return {"in": _nbytes(self.rows * self.cols, self.activations),
                "out": _nbytes(self.rows * self.cols, self.out)}


@dataclass(frozen=True)
class Embedding(Op):
    """Table lookup of ``tokens`` rows of a ``vocab`` × ``dim`` table (only looked-up rows are read)."""

    vocab: int = 1
    dim: int = 1
    tokens: int = 1
    weights: str = "fp16"
    out: str = "fp16"

    _dims = ("vocab", "dim", "tokens")
    _format_fields = ("weights", "out")

    @property
    def param_elems(self) -> int:
        return self.vocab * self.dim

    def operand_bytes(self) -> dict[str, float]:
        return {"table_rows": _nbytes(self.tokens * self.dim, self.weights),
                "out": _nbytes(self.tokens * self.dim, self.out)}


OP_TYPES = {cls.__name__: cls for cls in (Gemm, Conv2d, Attention, Elementwise, Norm, Softmax,
                                          Embedding)}
# op types whose __post_init__ with_formats may skip (subclasses elsewhere may check formats)
_OWN_TYPES = frozenset(OP_TYPES.values())


def _eq(self, other) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    a = self.__dict__.get("_k") or self._key()  # Op._key, its cached value read inline
    b = other.__dict__.get("_k") or other._key()
    return a is b or a == b


def _hash(self) -> int:
    return hash(self.__dict__.get("_k") or self._key())


# the dataclass-made __eq__/__hash__ compare the same fields, building the tuples on every call
for _cls in _OWN_TYPES:
    _cls._compare_fields = tuple(f.name for f in fields(_cls) if f.compare)
    _cls.__eq__, _cls.__hash__ = _eq, _hash


__all__ = ["Op", "Gemm", "Conv2d", "Attention", "Elementwise", "Norm", "Softmax", "Embedding",
           "OP_TYPES"]
