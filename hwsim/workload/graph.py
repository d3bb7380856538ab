"""The Workload: a networkx DiGraph of ops plus the precision policy that set their formats."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from .. import formats as _formats
from ..errors import HwsimError
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Op

ROLES = ("weights", "activations", "kv", "out")


@dataclass(frozen=True)
class Precision:
    """Formats for weights, activations and the KV cache, with per-layer / per-group overrides.

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

    def __post_init__(self):
        for role in ("weights", "activations", "kv"):
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
        return (f"Precision(weights={self.weights!r}, activations={self.activations!r}, "
                f"kv={self.kv!r}, overrides={ov})")

    def under(self, found: dict) -> "Precision":
        """This policy with ``found`` per-op formats (what an imported file says) beneath its own
        overrides: the caller's patterns win where both name an op."""
        return Precision(self.weights, self.activations, self.kv,
                         overrides={**found, **self.overrides})

    def roles_for(self, op: Op) -> dict[str, str]:
        r = {"weights": self.weights, "activations": self.activations,
             "kv": self.kv or self.activations}
        for pat, roles in self.overrides.items():
            if fnmatch.fnmatchcase(op.name, pat) or (op.group and fnmatch.fnmatchcase(op.group, pat)):
                r.update(roles)
        r.setdefault("out", r["activations"])
        return r

    def apply(self, op: Op) -> Op:
        """The op with its formats set from this policy."""
        if getattr(op, "fixed_formats", False):
            return op
        r = self.roles_for(op)
        a, out = r["activations"], r.get("out", r["activations"])
        if isinstance(op, (Gemm, Conv2d)):
            w = r["weights"] if getattr(op, "b_is_weight", True) else a
            return op.with_formats(weights=w, activations=a, out=out)
        if isinstance(op, Attention):
            return op.with_formats(activations=a, kv=r["kv"], out=out)
        if isinstance(op, Embedding):
            return op.with_formats(weights=r["weights"], out=a)
        if isinstance(op, Elementwise) and op.fn == "kv_write":
            return op.with_formats(activations=a, out=r["kv"])
        return op.with_formats(activations=a, out=out)


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
        self.graph = graph
        self.meta = dict(meta or {})
        self.precision = precision

    @cached_property
    def ops(self) -> list[Op]:
        """Ops in a topological order (stable: insertion order among independent ops)."""
        nodes = self.graph.nodes
        return [nodes[n]["op"] for n in nx.lexicographical_topological_sort(
            self.graph, key=lambda n: nodes[n]["order"])]

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

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
        g = self.graph.copy()
        for n in g.nodes:
            g.nodes[n]["op"] = precision.apply(g.nodes[n]["op"])
        meta = dict(self.meta, weights=precision.weights, activations=precision.activations,
                    kv=precision.kv or precision.activations)
        return Workload(self.name, g, meta, precision)

    def __repr__(self) -> str:
        return (f"Workload({self.name!r}, ops={len(self)}, params={self.num_params / 1e9:.3f}e9, "
                f"flops={self.flops / 1e9:.3f}e9)")


class GraphBuilder:
    """Appends ops to a DiGraph, chaining each to the previous op unless ``deps`` is given."""

    def __init__(self):
        self.graph = nx.DiGraph()
        self.last: str | None = None

    def add(self, op: Op, deps: list[str] | None = None) -> str:
        if op.name in self.graph:
            raise HwsimError(f"duplicate op name {op.name!r} in workload graph")
        self.graph.add_node(op.name, op=op, order=self.graph.number_of_nodes())
        for d in (deps if deps is not None else ([self.last] if self.last else [])):
            self.graph.add_edge(d, op.name)
        self.last = op.name
        return op.name

    def build(self, name: str, meta: dict, precision: Precision | None) -> Workload:
        wl = Workload(name, self.graph, meta)
        return wl.with_precision(precision) if precision is not None else wl
