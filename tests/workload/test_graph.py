"""The fast paths of graph building (hwsim/workload/graph.py, ops.py) give what the plain paths
give: decoder layers copied from layer 0 equal layers built one by one, a precision applied once
per op kind equals one applied per op, the cached equality key equals the dataclass fields, and
the lazily built networkx graph equals one built node by node."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace

import networkx as nx
import pytest

import hwsim
from hwsim.errors import HwsimError
from hwsim.workload import llm
from hwsim.workload.graph import GraphBuilder, Precision
from hwsim.workload.ops import OP_TYPES, Attention, Elementwise, Gemm, Norm
from hwsim.workload.presets import workload_spec

CONFIGS = ("llama-2-7b", "mixtral-8x7b", "opt-6.7b", "qwen2-7b", "bitnet-b1.58-3b")


def _layer_by_layer(cfg, phase, batch, context, precision, fusion):
    """build_llm without copying layer 0: each layer built from its own ops."""
    lb = llm._LLMBuilder(cfg, phase, batch, context, precision, fusion)
    lb.embed()
    lb.layers(copy=False)
    lb.head()
    meta = dict(model=cfg.name, kind="llm", phase=phase, batch=batch, context=context,
                tokens=lb.T, new_tokens=batch if phase == "decode" else lb.T, fusion=fusion)
    return lb.b.build(cfg.name, meta, precision or Precision())


def _cfg(name):
    spec, _ = workload_spec(name)
    return llm.LLMConfig.from_hf(spec["config"], name=name)


def _signature(wl):
    """Everything a workload holds: ops with all fields and tags, the graph, meta."""
    ops = [(repr(o), o.name, o.group, o.layer, o.formats()) for o in wl.ops]
    g = wl.graph
    nodes = [(n, d["order"], repr(d["op"])) for n, d in g.nodes(data=True)]
    return ops, nodes, sorted(g.edges()), list(g.edges()), wl.meta, wl.precision


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("phase,fusion,prec", [
    ("decode", "fused", None),
    ("prefill", "fused", Precision("int4_g128", "fp16")),
    ("decode", "eager", Precision("int8", "fp16", kv="fp8_e4m3")),
    ("decode", "fused", Precision("int4_g128", overrides={"layers.1.*": {"weights": "int8"},
                                                          "lm_head": {"weights": "fp16"}})),
])
def test_copied_layers_equal_layers_built_one_by_one(name, phase, fusion, prec):
    cfg = _cfg(name)
    fast = llm.build_llm(cfg, phase, 2, 64, prec, fusion)
    slow = _layer_by_layer(cfg, phase, 2, 64, prec, fusion)
    assert _signature(fast) == _signature(slow)
    assert len(fast) == cfg.layers * sum(o.layer == 0 for o in fast.ops) + sum(
        o.layer < 0 for o in fast.ops)


def test_lazy_graph_is_a_dag_in_run_order():
    wl = hwsim.load_workload("llama-2-7b", weights="int4_g128")
    g = wl.graph
    assert nx.is_directed_acyclic_graph(g)
    nodes = g.nodes
    topo = [nodes[n]["op"] for n in nx.lexicographical_topological_sort(
        g, key=lambda n: nodes[n]["order"])]
    assert [o.name for o in topo] == [o.name for o in wl.ops]
    assert all(a is b for a, b in zip(topo, wl.ops))


def test_with_precision_on_a_built_workload_equals_building_with_it():
    p = Precision("int4_g128", "fp16", overrides={"layers.0.*": {"weights": "int8"}})
    a = hwsim.load_workload("llama-2-7b").with_precision(p)
    b = hwsim.load_workload("llama-2-7b", precision=p)
    assert _signature(a) == _signature(b)
    a.graph  # a materialized graph takes the copying path and gives the same
    assert _signature(a.with_precision(p)) == _signature(b)


def test_graph_read_while_building_stays_in_step():
    b = GraphBuilder()
    b.add(Gemm(name="a", M=2))
    g = b.graph
    b.add(Gemm(name="b", M=2))
    b.add(Elementwise(name="c", inputs=2), deps=["a", "b"])
    assert list(g.nodes) == ["a", "b", "c"] and set(g.edges) == {("a", "b"), ("a", "c"),
                                                                ("b", "c")}
    wl = b.build("t", {}, Precision("int8"))
    assert [o.name for o in wl.ops] == ["a", "b", "c"] and wl.ops[0].weights == "int8"


def test_builder_errors_name_the_ops():
    b = GraphBuilder()
    b.add(Gemm(name="a"))
    with pytest.raises(HwsimError, match="duplicate op name 'a'"):
        b.add(Gemm(name="a"))
    with pytest.raises(HwsimError, match="'x' depends on 'nope'"):
        b.add(Gemm(name="x"), deps=["nope"])
    b.add(Gemm(name="blk.0.u"))
    with pytest.raises(HwsimError, match="does not start with 'blk.1.'"):
        b.repeat(1, 2, "blk.1.", lambda k: f"blk.{k + 1}.")


def test_repeat_copies_a_block_with_its_dependencies():
    b = GraphBuilder()
    b.add(Gemm(name="in"))
    b.add(Norm(name="l0.norm", layer=0))
    b.add(Gemm(name="l0.mm", layer=0))
    b.add(Elementwise(name="l0.add", inputs=2, layer=0), deps=["l0.mm", "l0.norm"])
    b.repeat(1, 2, "l0.", lambda k: f"l{k}.")
    b.add(Gemm(name="out"))
    wl = b.build("t", {}, None)
    assert [(o.name, o.layer) for o in wl.ops] == [
        ("in", -1), ("l0.norm", 0), ("l0.mm", 0), ("l0.add", 0), ("l1.norm", 1), ("l1.mm", 1),
        ("l1.add", 1), ("l2.norm", 2), ("l2.mm", 2), ("l2.add", 2), ("out", -1)]
    assert list(wl.graph.edges) == [
        ("in", "l0.norm"), ("l0.norm", "l0.mm"), ("l0.norm", "l0.add"), ("l0.mm", "l0.add"),
        ("l0.add", "l1.norm"), ("l1.norm", "l1.mm"), ("l1.norm", "l1.add"),
        ("l1.mm", "l1.add"), ("l1.add", "l2.norm"), ("l2.norm", "l2.mm"),
        ("l2.norm", "l2.add"), ("l2.mm", "l2.add"), ("l2.add", "out")]


def _dataclass_key(op):
    return tuple(getattr(op, f.name) for f in fields(op) if f.compare)


def test_cached_equality_key_is_the_dataclass_fields():
    ops = hwsim.load_workload("llama-2-7b", fusion="eager").ops + [
        Attention(heads=8, kv_heads=2, kv_len=9, q_len=3)]
    for op in ops:
        assert op._key() == _dataclass_key(op)
        assert hash(op) == hash(_dataclass_key(op))
    a, b = Gemm(name="x", M=3, N=5), Gemm(name="y", M=3, N=5, layer=4)
    assert a == b and hash(a) == hash(b) and not a != b
    assert a != replace(a, N=6) and a != Attention() and a.__eq__(1) is NotImplemented
    assert a != Norm()


def test_with_formats_equals_replace_and_forgets_the_old_key():
    for cls in OP_TYPES.values():
        op = cls(name="o") if cls.__name__ != "Conv2d" else cls(name="o", in_h=4, in_w=4)
        op._key()
        new_fmts = {f: "int8" for f in op._format_fields}
        fast = op.with_formats(**new_fmts)
        assert fast == replace(op, **new_fmts) and repr(fast) == repr(replace(op, **new_fmts))
        assert fast._key() == _dataclass_key(fast) != _dataclass_key(op)
        assert op.with_formats(**op.formats()) is op  # nothing to change
    g = Gemm(name="g")
    assert g.with_formats(weights="INT4").weights == "INT4"  # an alias checked the slow way
    with pytest.raises(HwsimError, match="g.weights"):
        g.with_formats(weights="int99")


def test_ops_survive_pickling_with_their_key():
    wl = hwsim.load_workload("llama-2-7b")
    ops = pickle.loads(pickle.dumps(wl.ops))
    assert ops == wl.ops and [hash(o) for o in ops] == [hash(o) for o in wl.ops]
    hw = hwsim.load_arch("h100-sxm")
    memo = {}
    hwsim.evaluate(wl, hw, cache=memo)
    assert all(o in memo for o in ops)


def test_dimension_and_format_checks_still_run():
    with pytest.raises(HwsimError, match=r"g\.M = 0"):
        Gemm(name="g", M=0)
    with pytest.raises(HwsimError, match=r"g\.M = True"):
        Gemm(name="g", M=True)
    with pytest.raises(HwsimError, match=r"g\.activations"):
        Gemm(name="g", activations="fp99")
    import numpy as np
    assert type(Gemm(M=np.int64(3)).M) is int
    from hwsim import formats
    assert Gemm(weights=formats.get("int8")).weights == "int8"
