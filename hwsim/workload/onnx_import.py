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
  (:func:`hwsim.workload._onnx.norms.find_norms`: Pow/ReduceMean/Add/Sqrt/Reciprocal-or-Div/Mul
  chains, with their Casts and the weight Mul / bias Add) and become one :class:`Norm`, as fused
  runtimes execute them; their inner nodes are counted in ``meta["fused"]``. The Pow exponent's
  value is data and is not read (any constant exponent matches).
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

from pathlib import Path

from ..errors import ConfigError, HwsimError
from ._onnx.importer import Importer
from ._onnx.tables import (_DTYPE_FORMAT, _FLOPS, _QUANT_DTYPES, ATTENTION, CONVS,  # noqa: F401
                           ELEMENTWISE, GEMMS, MEMORY, NORMS, REDUCE, SOFTMAX, SUPPORTED,
                           ZERO_COST, _glob_escape)
from .graph import Precision, Workload

_Importer = Importer  # the name before the split into hwsim.workload._onnx


def _onnx():
    try:
        import onnx
    except ImportError:
        raise HwsimError("ONNX import needs the optional dependency: "
                         "pip install 'hwsim[onnx]'") from None
    return onnx


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
    return Importer(onnx, model, name, src).run(precision or Precision(), bound,
                                                skip_unsupported)
