"""The Workload: a networkx DiGraph of ops plus the precision policy that set their formats."""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from .. import formats as _formats
from ..errors import HwsimError
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Op

ROLES = ("weights", "activations", "kv", "out", "stream")


@dataclass(frozen=True)
class Precision:
    """Formats for weights, activations and the KV cache, with per-layer / per-group overrides.

    ``activations`` is the format GEMM and convolution inputs run in; ``stream`` the format of
    the tensors between kernels (residual stream, norms, elementwise ops, attention's Q and the
    GEMM outputs). ``stream=None`` means the activation format (int8 CNNs on MCUs run int8
    end to end); LLM builds default it to fp16 under 8-bit activations (:func:`llm_precision`).

    ``overrides`` maps a glob pattern, matched against an op's ``name`` (``layers.3.mlp.down``) and
    its ``group`` (``mlp.down``), to a dict of roles -> format, applied in order (later wins):

    >>> Precision("int4_g128", "fp16", overrides={"lm_head": {"weights": "int8"},
    ...                                           "layers.0.*": {"weights": "fp16"}})
    Precision(weights='int4_g128', activations='fp16', kv=None, overrides=...)
    """

    weights: str = "fp16"
    activations: str = "fp16"
    kv: str | None = None
    overrides: dict = field(default_factory=dict, compare=False)
    stream: str | None = None

    def __post_init__(self):
        for role in ("weights", "activations", "kv", "stream"):
            v = getattr(self, role)
            if v is not None:
                _check_format(f"precision.{role}", v)
        if not isinstance(self.overrides, dict):
            raise HwsimError(f"precision.overrides must be a mapping pattern -> {{role: format}}, "
                             f"got {type(self.overrides).__name__}")
        for pat, roles in self.overrides.items():
            if not isinstance(roles, dict):
                raise HwsimError(f"precision.overrides[{pat!r}] must map roles to formats, "
                                 f"got {roles!r}")
            for role, fmt in roles.items():
                if role not in ROLES:
                    raise HwsimError(f"precision.overrides[{pat!r}]: unknown role {role!r}; "
                                     f"expected one of {', '.join(ROLES)}")
                _check_format(f"precision.overrides[{pat!r}].{role}", fmt)

    def __repr__(self) -> str:
        ov = "..." if self.overrides else "{}"
        st = f", stream={self.stream!r}" if self.stream else ""
        return (f"Precision(weights={self.weights!r}, activations={self.activations!r}, "
                f"kv={self.kv!r}, overrides={ov}{st})")

    def under(self, found: dict) -> "Precision":
        """This policy with ``found`` per-op formats (what an imported file says) beneath its own
        overrides: the caller's patterns win where both name an op."""
        return Precision(self.weights, self.activations, self.kv,
                         overrides={**found, **self.overrides}, stream=self.stream)

    def roles_for(self, op: Op) -> dict[str, str]:
        r = {"weights": self.weights, "activations": self.activations,
             "kv": self.kv or self.activations}
        if self.stream:
            r["stream"] = self.stream
        for pat, roles in self.overrides.items():
            if fnmatch.fnmatchcase(op.name, pat) or (op.group and fnmatch.fnmatchcase(op.group, pat)):
                r.update(roles)
        r.setdefault("stream", r["activations"])
        r.setdefault("out", r["stream"])
        return r

    def apply(self, op: Op) -> Op:
        """The op with its formats set from this policy."""
        if getattr(op, "fixed_formats", False):
            return op
        kind = (type(op), getattr(op, "b_is_weight", True),
                isinstance(op, Elementwise) and op.fn == "kv_write")
        if self.overrides:
            return op.with_formats(**_formats_for(*kind, self.roles_for(op)))
        # no overrides: the formats depend only on the op's kind, not on its name
        return op._with_formats(_plain_formats(self.weights, self.activations, self.kv,
                                               self.stream, *kind))


def _formats_for(op_type: type, b_is_weight: bool, kv_write: bool,
                 r: dict[str, str]) -> dict[str, str]:
    """The formats ``Precision.apply`` gives an op of this kind from its roles ``r``: GEMMs and
    convolutions take ``activations`` in and write the stream; every other op reads and writes
    the stream (the KV-cache write stores ``kv``)."""
    a = r["activations"]
    s = r.get("stream", a)
    out = r.get("out", s)
    if issubclass(op_type, (Gemm, Conv2d)):
        return dict(weights=r["weights"] if b_is_weight else a, activations=a, out=out)
    if issubclass(op_type, Attention):
        return dict(activations=s, kv=r["kv"], out=out)
    if issubclass(op_type, Embedding):
        return dict(weights=r["weights"], out=s)
    if kv_write:
        return dict(activations=s, out=r["kv"])
    return dict(activations=s, out=out)


@functools.lru_cache(maxsize=512)
def _plain_formats(weights: str, activations: str, kv: str | None, stream: str | None,
                   op_type: type, b_is_weight: bool, kv_write: bool) -> dict[str, str]:
    """``_formats_for`` under a policy without overrides (``roles_for`` then gives every op the
    same roles), only the op type's own format fields. Cached per kind: do not modify."""
    r = {"weights": weights, "activations": activations, "kv": kv or activations,
         "stream": stream or activations, "out": stream or activations}
    own = op_type._format_fields
    return {k: v for k, v in _formats_for(op_type, b_is_weight, kv_write, r).items()
            if k in own}


def _check_format(where: str, value) -> None:
    try:
        _formats.get(value)
    except HwsimError as e:
        raise HwsimError(f"{where}: {e}") from None


class Workload:
    """A workload graph: nodes are op names with the op under ``graph.nodes[name]["op"]``, edges are
    data dependencies. ``meta`` records how it was built (model, phase, batch, context ...)."""

    def __init__(self, name: str, graph: nx.DiGraph, meta: dict | None = None,
                 precision: Precision | None = None):
        if not nx.is_directed_acyclic_graph(graph):
            raise HwsimError(f"workload {name!r}: the op graph has a cycle")
        self.name = name
        self._graph: nx.DiGraph | None = graph
        self._edges: list[tuple[str, str]] = []
        self.meta = dict(meta or {})
        self.precision = precision

    @classmethod
    def _from_ops(cls, name: str, ops: list[Op], edges: list[tuple[str, str]], meta: dict,
                  precision: Precision | None) -> "Workload":
        """A workload from ops in run order and edges that all point forward in that order (what
        GraphBuilder makes): acyclic by construction, so neither the cycle check nor the
        topological sort is needed, and the networkx graph is built only when asked for."""
        wl = cls.__new__(cls)
        wl.name, wl._graph, wl._edges = name, None, edges
        wl.meta, wl.precision = dict(meta or {}), precision
        wl.__dict__["ops"] = ops  # the cached_property below, already known
        return wl

    @property
    def graph(self) -> nx.DiGraph:
        if self._graph is None:
            self._graph = _digraph(self.ops, self._edges)
        return self._graph

    @cached_property
    def ops(self) -> list[Op]:
        """Ops in a topological order (stable: insertion order among independent ops)."""
        nodes = self.graph.nodes
        return [nodes[n]["op"] for n in nx.lexicographical_topological_sort(
            self.graph, key=lambda n: nodes[n]["order"])]

    def __len__(self) -> int:
        return len(self.ops) if self._graph is None else self._graph.number_of_nodes()

    def __iter__(self):
        return iter(self.ops)

    @property
    def num_params(self) -> int:
        """Weight elements, embeddings and norm scales included, tied weights counted once."""
        return sum(op.param_elems for op in self.ops)

    @property
    def flops(self) -> int:
        """FLOPs of one forward pass (2 per MAC, plus elementwise/norm/softmax arithmetic)."""
        return sum(op.flops for op in self.ops)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of GEMMs, convolutions and attention matmuls."""
        return sum(op.macs for op in self.ops)

    @property
    def weight_bytes(self) -> float:
        """Bytes of parameters in their storage formats (scale overhead included)."""
        return sum(op.weight_bytes for op in self.ops)

    def with_precision(self, precision: Precision) -> "Workload":
        """A copy with every op's formats set from ``precision``."""
        meta = _precision_meta(self.meta, precision)
        if self._graph is None:  # ops and edges as GraphBuilder made them
            apply = precision.apply
            return Workload._from_ops(self.name, [apply(op) for op in self.ops], self._edges,
                                      meta, precision)
        g = self._graph.copy()
        for n in g.nodes:
            g.nodes[n]["op"] = precision.apply(g.nodes[n]["op"])
        return Workload(self.name, g, meta, precision)

    def __repr__(self) -> str:
        return (f"Workload({self.name!r}, ops={len(self)}, params={self.num_params / 1e9:.3f}e9, "
                f"flops={self.flops / 1e9:.3f}e9)")


class GraphBuilder:
    """Appends ops to a DiGraph, chaining each to the previous op unless ``deps`` is given.

    Ops and edges are kept as lists (a dependency must already be in the graph, so insertion
    order is a topological order); the networkx graph is made only when :attr:`graph` is read,
    and kept in step with later adds from then on."""

    def __init__(self):
        self._ops: list[Op] = []
        self._order: dict[str, int] = {}
        self._edges: list = []  # (from, to) pairs and _Copies, as added
        self._copy_of: dict[int, int] = {}  # op index -> the op it is a renamed copy of
        self._graph: nx.DiGraph | None = None
        self.last: str | None = None

    @property
    def graph(self) -> nx.DiGraph:
        if self._graph is None:
            self._graph = _digraph(self._ops, self._edges)
        return self._graph

    def __len__(self) -> int:
        return len(self._ops)

    def add(self, op: Op, deps: list[str] | None = None) -> str:
        name = op.name
        if name in self._order:
            raise HwsimError(f"duplicate op name {name!r} in workload graph")
        deps = deps if deps is not None else ([self.last] if self.last else [])
        for d in deps:
            if d not in self._order:
                raise HwsimError(f"op {name!r} depends on {d!r}, which is not in the workload "
                                 "graph (add the ops an op depends on before it)")
        self._order[name] = len(self._ops)
        self._ops.append(op)
        edges = [(d, name) for d in deps]
        self._edges += edges
        if self._graph is not None:
            self._graph.add_node(name, op=op, order=self._order[name])
            self._graph.add_edges_from(edges)
        self.last = name
        return name

    def repeat(self, start: int, copies: int, prefix: str, new_prefix) -> None:
        """Append ``copies`` copies of the block of ops added since index ``start`` (a decoder
        layer): copy k (1, 2, ...) renames ``prefix...`` to ``new_prefix(k)...`` and adds k to
        each op's layer number. Ops are immutable and the copies equal the block's ops but for
        these tags, so they are not checked again. A dependency inside the block goes to the
        copy's own op; the one allowed outside it, the op just before the block, goes to the
        previous copy's last op -- the block must end in the op its successors read."""
        block = self._ops[start:]
        deps = self._block_deps(start, prefix)
        n, size = len(prefix), len(block)
        suffixes = [op.name[n:] for op in block]
        for op in block:
            op._key()  # made once here, shared by every copy (see Op._key)
        order, ops, edges, new = self._order, self._ops, self._edges, object.__new__
        for k in range(1, copies + 1):
            p, prev, first = new_prefix(k), self.last, len(ops)
            names = [p + sfx for sfx in suffixes]
            if self._graph is not None or any(nm in order for nm in names):
                for op, nm, ds in zip(block, names, deps):  # add's checks and graph upkeep
                    self.add(op._retagged(nm, op.layer + k), [names[j] if j >= 0 else prev
                                                               for j in ds])
            else:
                for op, nm, ds in zip(block, names, deps):  # Op._retagged, inlined
                    c = new(type(op))
                    d = c.__dict__
                    d.update(op.__dict__)
                    d["name"], d["layer"] = nm, op.layer + k
                    order[nm] = len(ops)
                    ops.append(c)
                self.last = names[-1] if names else self.last
                edges.append(_Copies(first, size, deps))
            self._copy_of.update(zip(range(first, first + size), range(start, start + size)))

    def _block_deps(self, start: int, prefix: str) -> list[list[int]]:
        """For each op of the block from ``start``, its dependencies as block offsets (-1: the
        op just before the block), checking the block can be repeated."""
        block = self._ops[start:]
        before = self._ops[start - 1].name if start else None
        for op in block:
            if not op.name.startswith(prefix):
                raise HwsimError(f"GraphBuilder.repeat: op {op.name!r} of the block does not "
                                 f"start with {prefix!r}")
        edges = self._edges
        if any(isinstance(e, _Copies) and e.first + e.size > start for e in edges):
            edges = self._edges = _flat_edges(self._ops, edges)  # the block holds copies
        i = len(edges)  # edges into the block are the last ones added
        while i and not isinstance(edges[i - 1], _Copies) and \
                self._order[edges[i - 1][1]] >= start:
            i -= 1
        deps: list[list[int]] = [[] for _ in block]
        for u, v in edges[i:]:
            j = self._order[u] - start
            if j < 0 and u != before:
                raise HwsimError(f"GraphBuilder.repeat: {v!r} depends on {u!r}, which is "
                                 "neither in the block nor the op just before it")
            deps[self._order[v] - start].append(max(j, -1))
        return deps

    def build(self, name: str, meta: dict, precision: Precision | None) -> Workload:
        if self._graph is not None:  # handed out, so possibly edited: take it as it is
            wl = Workload(name, self._graph, meta)
            return wl.with_precision(precision) if precision is not None else wl
        if precision is not None and not precision.overrides and self._copy_of:
            # formats then depend only on an op's kind: a copy gets its original's, renamed
            ops, copy_of = [], self._copy_of
            for i, op in enumerate(self._ops):
                t = copy_of.get(i)
                if t is None:
                    ops.append(precision.apply(op))
                else:
                    a = ops[t]
                    ops.append(op if a is self._ops[t] else a._retagged(op.name, op.layer))
            return Workload._from_ops(name, ops, list(self._edges),
                                      _precision_meta(meta, precision), precision)
        wl = Workload._from_ops(name, list(self._ops), list(self._edges), meta, None)
        return wl.with_precision(precision) if precision is not None else wl


def _precision_meta(meta: dict, precision: Precision) -> dict:
    out = dict(meta, weights=precision.weights, activations=precision.activations,
               kv=precision.kv or precision.activations)
    if precision.stream:
        out["stream"] = precision.stream
    return out


# GPU LLM engines quantize GEMM inputs only and keep the residual stream, norms, elementwise ops
# and attention inputs in 16 bits: TensorRT-LLM's FP8 recipe quantizes the linear layers' inputs
# (the residual stream stays in the model's fp16/bf16 dtype; FP8 context attention came later, as
# an option). Measured: an eager FP8
# Llama layer (benchmarks/gpu/shapes.py, data/h200-shapes/prefill_shapes.csv) runs bf16 norms,
# residual adds and FlashAttention plus one quantize per GEMM input.
LLM_STREAM = "fp16"
_NARROW_FLOAT_KINDS = ("float", "mx", "nvfp4")


def llm_precision(precision: Precision) -> Precision:
    """``precision`` with the stream an LLM engine keeps: :data:`LLM_STREAM` where the activations
    are a float format narrower than 16 bits (FP8, MX, NVFP4: the GPU recipes) and no stream was
    given; otherwise unchanged. Integer activations keep their format: int8 end-to-end designs
    (FlightLLM's FPGA datapath) exist beside SmoothQuant engines, which need ``stream="fp16"``."""
    a = _formats.get(precision.activations)
    if precision.stream is None and a.kind in _NARROW_FLOAT_KINDS and a.storage_bits < 16:
        return dataclasses.replace(precision, stream=LLM_STREAM)
    return precision


@dataclass(frozen=True)
class _Copies:
    """The edges of one copy made by GraphBuilder.repeat, listed when the graph is made: op
    ``first + i`` depends on ops ``first + j`` for j in ``deps[i]`` (-1: the op before)."""

    first: int
    size: int
    deps: list[list[int]]

    def edges(self, ops: list[Op]) -> list[tuple[str, str]]:
        f = self.first
        return [(ops[f + j].name if j >= 0 else ops[f - 1].name, ops[f + i].name)
                for i, ds in enumerate(self.deps) for j in ds]


def _flat_edges(ops: list[Op], edges: list) -> list[tuple[str, str]]:
    """``edges`` with each :class:`_Copies` replaced by its edges, in the order they were added."""
    out: list[tuple[str, str]] = []
    for e in edges:
        if isinstance(e, _Copies):
            out += e.edges(ops)
        else:
            out.append(e)
    return out


def _digraph(ops: list[Op], edges: list) -> nx.DiGraph:
    """The DiGraph of ops in run order: node = op name with attributes ``op`` and ``order``."""
    g = nx.DiGraph()
    g.add_nodes_from((op.name, {"op": op, "order": i}) for i, op in enumerate(ops))
    g.add_edges_from(_flat_edges(ops, edges))
    return g
