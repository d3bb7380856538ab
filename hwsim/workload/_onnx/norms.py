"""Decomposed LayerNorm / RMSNorm subgraphs, matched so that each becomes one Norm op (as fused
runtimes execute them) instead of its Pow/ReduceMean/Add/Sqrt/... nodes."""

from __future__ import annotations


def find_norms(nodes: list, consts: set[str], weights) -> dict[int, tuple | None]:
    """Decomposed LayerNorm / RMSNorm subgraphs (how exporters below opset 17, and every
    Llama-style RMSNorm, write them): node index -> None for inner nodes, or (kind, input,
    affine_bias) for the last node, which becomes one Norm op. Matched only where every
    intermediate tensor has a single consumer (Casts in between are part of the pattern):

    * RMS: Pow(x, 2) | Mul(x, x) -> ReduceMean -> Add(eps) -> Sqrt -> Reciprocal -> Mul(x) |
      Div(x, .) | Div(1, .) -> Mul(x); then optionally Mul(weight).
    * Layer: ReduceMean(x) -> Sub(x, mean) = d -> Pow(d, 2) -> ReduceMean -> Add(eps) ->
      Sqrt -> Div(d, .); then optionally Mul(weight), Add(bias).

    ``consts``: initializer names; ``weights``: the weight tensors (a name -> entry mapping).
    """
    return _NormMatcher(nodes, consts, weights).find()


class _NormMatcher:
    def __init__(self, nodes: list, consts: set[str], weights):
        self.nodes, self.weight = nodes, weights
        self.cons: dict[str, list[int]] = {}
        self.prod: dict[str, int] = {}  # tensor -> the node that writes it
        for i, n in enumerate(nodes):
            for t in n.input:
                if t:
                    self.cons.setdefault(t, []).append(i)
            for t in n.output:
                self.prod.setdefault(t, i)
        self.const = set(consts) | {o for n in nodes if n.op_type == "Constant"
                                    for o in n.output}

    def find(self) -> dict[int, tuple | None]:
        found: dict[int, tuple | None] = {}
        for i, n in enumerate(self.nodes):
            path: list[int] = []
            if n.op_type in ("Pow", "Mul") and self.square(i, n.input[0]):
                m = self.match_rms(i, n, path)
            elif n.op_type == "ReduceMean" and self.last_axis(i):
                m = self.match_layer(i, n, path)
            else:
                continue
            if m is None:
                continue
            mid, end, kind, x, bias = m
            members = set(mid) | set(path) | {end}
            if members & set(found):  # overlapping matches: the first one wins
                continue
            for k in members - {end}:
                found[k] = None
            found[end] = (kind, x, bias)
        return found

    def match_rms(self, i: int, n, path: list[int]):
        """(inner nodes, end node, "rms", input, False) of an RMSNorm starting at the square
        node ``i``, or None."""
        nodes, nxt, const = self.nodes, self.nxt, self.const
        x = n.input[0]
        r = nxt(n.output[0], {"ReduceMean"}, path)
        a = r is not None and self.last_axis(r) and nxt(nodes[r].output[0], {"Add"}, path)
        sq = a and self.other(nodes[a], nodes[r].output[0]) in const and \
            nxt(nodes[a].output[0], {"Sqrt"}, path)
        if not sq:
            return None
        d = nxt(nodes[sq].output[0], {"Div", "Reciprocal"}, path)
        if d is None:
            return None
        dn = nodes[d]
        if dn.op_type == "Div" and dn.input[0] == x:
            end, mid = d, [i, r, a, sq]
        else:
            m = nxt(dn.output[0], {"Mul"}, path)
            if m is None or (dn.op_type == "Div" and dn.input[0] not in const) or \
                    x not in nodes[m].input:
                return None
            end, mid = m, [i, r, a, sq, d]
        mid.append(end)
        # a Cast of x feeding only this pattern (eager fp32 upcast) is part of the kernel
        src = self.prod.get(x)
        if src is not None and nodes[src].op_type == "Cast" and \
                set(self.cons.get(x, [])) <= {i, end}:
            mid.append(src)
            x = nodes[src].input[0]
        end, _ = self.tail(end, path, allow_bias=False)
        return mid, end, "rms", x, False

    def match_layer(self, i: int, n, path: list[int]):
        """(inner nodes, end node, "layer", input, bias) of a LayerNorm starting at the mean
        node ``i``, or None."""
        nodes, nxt = self.nodes, self.nxt
        x = n.input[0]
        sub = nxt(n.output[0], {"Sub"}, path)
        if sub is None or nodes[sub].input[0] != x:
            return None
        dt = nodes[sub].output[0]
        users = self.cons.get(dt, [])
        pw = next((u for u in users if self.square(u, dt)), None)
        if pw is None or len(users) != 2:
            return None
        r = nxt(nodes[pw].output[0], {"ReduceMean"}, path)
        a = r is not None and nxt(nodes[r].output[0], {"Add"}, path)
        sq = a and nxt(nodes[a].output[0], {"Sqrt"}, path)
        dv = sq and nxt(nodes[sq].output[0], {"Div"}, path)
        if not dv or nodes[dv].input[0] != dt:
            return None
        mid = [i, sub, pw, r, a, sq]
        end, bias = self.tail(dv, path, allow_bias=True)
        mid.append(dv)
        return mid, end, "layer", x, bias

    def nxt(self, t, types, path):
        """The single consumer of t (through single-consumer Casts) if its type is in
        types; the Casts walked are appended to path."""
        while True:
            c = self.cons.get(t, [])
            if len(c) != 1:
                return None
            n = self.nodes[c[0]]
            if n.op_type == "Cast":
                path.append(c[0])
                t = n.output[0]
                continue
            return c[0] if n.op_type in types else None

    @staticmethod
    def other(n, t):
        rest = [x for x in n.input if x != t]
        return rest[0] if rest else t

    def square(self, i, x):
        n = self.nodes[i]
        return (n.op_type == "Pow" and n.input[0] == x and n.input[1] in self.const) or (
            n.op_type == "Mul" and n.input[0] == n.input[1] == x)

    def tail(self, end, path, allow_bias):
        """Optional Mul(weight) [Add(bias)] after the normalization; returns (end, bias)."""
        nodes, nxt = self.nodes, self.nxt
        m = nxt(nodes[end].output[0], {"Mul"}, path)
        if m is None or self.other(nodes[m], self._out(end, path)) not in self.weight:
            return end, False
        end = m
        if allow_bias:
            a = nxt(nodes[end].output[0], {"Add"}, path)
            if a is not None and self.other(nodes[a], self._out(end, path)) in self.weight:
                path.append(end)  # the Mul(weight) is inside the pattern too
                return a, True
        return end, False

    def last_axis(self, k):
        """A ReduceMean over the last axis only (axes given as an attribute), or with its
        axes as an input (opset 18), whose value is data this importer does not read."""
        ax = [list(a.ints) for a in self.nodes[k].attribute if a.name == "axes"]
        return ax == [[-1]] or (not ax and len(self.nodes[k].input) > 1)

    def _out(self, end, path) -> str:
        """The tensor a pattern's next node reads: the end node's output, or the last Cast's."""
        casts = [k for k in path if k > end]
        return self.nodes[max(casts)].output[0] if casts else self.nodes[end].output[0]
