"""Report: per-op rows and totals of one evaluation, with CSV/JSON export and a readable table."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .contract import Cost
from .errors import HwsimError
from .workload.ops import Op

COLUMNS = ("name", "type", "group", "layer", "formats", "flops", "bytes", "latency_s", "energy_j",
           "bound", "utilization", "compute_path")
# per-op stall breakdown of the simulator (hwsim.sim), present only in engine="sim" reports
STALL_COLUMNS = ("fill_drain_s", "stall_memory_s", "stall_buffer_s", "stall_compute_s")


class NonPhysicalResultError(HwsimError):
    """A result that cannot be (NaN, infinite or negative time, energy, power, throughput or
    price): an internal error of a model, reported instead of printed."""


def guard_values(where: str, figures: dict) -> None:
    """Raise :class:`NonPhysicalResultError` naming the first figure that is not finite and >= 0."""
    for name, v in figures.items():
        if v is None:
            continue
        if not (isinstance(v, (int, float)) and 0 <= v < math.inf):
            raise NonPhysicalResultError(
                f"internal error: {where}: {name} = {v!r} (expected a finite value >= 0); "
                "the model produced a number that cannot be -- please report it")


@dataclass(frozen=True, init=False)
class Row:
    op: Op
    cost: Cost

    def __init__(self, op: Op, cost: Cost):
        # what the frozen dataclass's __init__ does, without two object.__setattr__ calls
        # (evaluate makes one Row per op)
        self.__dict__.update(op=op, cost=cost)

    def as_dict(self) -> dict:
        c, op = self.cost, self.op
        return {"name": op.name, "type": op.type, "group": op.group, "layer": op.layer,
                "formats": " ".join(f"{k}={v}" for k, v in op.formats().items()),
                "flops": op.flops, "bytes": op.bytes, "latency_s": c.latency_s,
                "energy_j": c.energy_j, "bound": c.bound, "utilization": c.utilization,
                "compute_path": c.compute_path,
                **{k: c.breakdown["sim_" + k] for k in STALL_COLUMNS
                   if "sim_" + k in c.breakdown}}


class Report:
    """Result of :func:`hwsim.evaluate`. Totals assume ops run one after another."""

    def __init__(self, workload, hw, rows: list[Row]):
        self.workload = workload
        self.hw = hw
        self.rows = rows

    @cached_property
    def latency_s(self) -> float:
        return self._sums[0]

    @cached_property
    def energy_j(self) -> float:
        return self._sums[1]

    @cached_property
    def _sums(self) -> tuple[float, float]:
        """(latency, energy) totals, every op checked on the way: a NaN, infinite or negative
        op cost is an error naming the op, never a total (the guard of every output path)."""
        lat = en = 0.0
        for r in self.rows:
            c = r.cost
            if not (0 <= c.latency_s < math.inf and 0 <= c.energy_j < math.inf):
                bad = "latency_s" if not 0 <= c.latency_s < math.inf else "energy_j"
                guard_values(f"{self.hw.name}: op {r.op.name} ({r.op.type})",
                             {bad: getattr(c, bad)})
            lat += c.latency_s
            en += c.energy_j
        guard_values(f"{self.workload.name} on {self.hw.name}",
                     {"latency_s": lat, "energy_j": en})
        return lat, en

    @property
    def flops(self) -> int:
        return self.workload.flops

    @cached_property
    def bytes(self) -> float:
        return sum(r.op.bytes for r in self.rows)

    @cached_property
    def memory(self):
        """Weights, KV cache and workspace one device holds (:class:`hwsim.systems.memory.Memory`)."""
        from .systems.memory import workload_memory
        return workload_memory(self.workload, self.hw)

    @property
    def memory_bytes(self) -> float:
        """Bytes the device must hold: weights + KV cache + largest live activations."""
        return self.memory.total_bytes

    @property
    def fits(self) -> bool | None:
        """Whether :attr:`memory_bytes` fits the device memory (None: capacity unknown)."""
        return self.memory.fits

    @property
    def power_w(self) -> float:
        return self.energy_j / self.latency_s if self.latency_s else 0.0

    @property
    def tokens_per_s(self) -> float | None:
        """New tokens per second for LLM workloads (decode: batch per step; prefill: prompt tokens)."""
        n = self.workload.meta.get("new_tokens")
        return n / self.latency_s if n and self.latency_s else None

    def totals(self) -> dict:
        guard_values(f"{self.workload.name} on {self.hw.name}",
                     {"power_w": self.power_w, "tokens_per_s": self.tokens_per_s})
        t = {"workload": self.workload.name, "arch": self.hw.name, "ops": len(self.rows),
             "flops": self.flops, "bytes": self.bytes, "latency_s": self.latency_s,
             "energy_j": self.energy_j, "power_w": self.power_w,
             "weight_bytes": self.workload.weight_bytes}
        if self.tokens_per_s is not None:
            t["tokens_per_s"] = self.tokens_per_s
        t.update({k: v for k, v in self.workload.meta.items() if k not in t})
        return t

    def to_dicts(self) -> list[dict]:
        return [r.as_dict() for r in self.rows]

    def by_group(self) -> list[dict]:
        """Rows summed per op group (``attn.qkv``, ``mlp.down`` ...), in first-seen order."""
        out: dict[str, dict] = {}
        for r in self.rows:
            d = r.as_dict()
            key = d["group"] or d["name"]
            g = out.get(key)
            busy = d["utilization"] * d["latency_s"]  # latency-weighted mean utilization
            if g is None:
                out[key] = dict(d, name=key, count=1, _busy_s=busy)
                continue
            g["count"] += 1
            g["_busy_s"] += busy
            for k in ("flops", "bytes", "latency_s", "energy_j") + STALL_COLUMNS:
                if k in d:
                    g[k] += d[k]
            if d["bound"] != g["bound"]:
                g["bound"] = "mixed"
            if d["formats"] != g["formats"]:
                g["formats"] = "mixed"
        for g in out.values():
            busy = g.pop("_busy_s")
            g["utilization"] = busy / g["latency_s"] if g["latency_s"] else g["utilization"]
        return list(out.values())

    def to_csv(self, path: str | Path | None = None) -> str:
        """Per-op rows as CSV; written to ``path`` when given. Returns the text."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS + self._stall_columns(), lineterminator="\n")
        w.writeheader()
        w.writerows(self.to_dicts())
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def _stall_columns(self) -> tuple:
        return STALL_COLUMNS if self.rows and "sim_fill_drain_s" in self.rows[0].cost.breakdown \
            else ()

    def to_json(self, path: str | Path | None = None) -> str:
        """``{"totals": {...}, "ops": [...]}``; written to ``path`` when given. Returns the text."""
        text = json.dumps({"totals": self.totals(), "ops": self.to_dicts()}, indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    def table(self, per_op: bool = False, max_rows: int | None = None) -> str:
        """A fixed-width text table: one line per op group (or per op) and the totals."""
        rows = self.to_dicts() if per_op else self.by_group()
        if max_rows is not None and len(rows) > max_rows:
            rows = rows[:max_rows]
        total = self.latency_s or 1.0
        head = ["op" if per_op else "group", "n", "type", "formats", "GFLOP", "MB", "latency",
                "%", "energy", "bound", "util"]
        stalls = self._stall_columns()
        head += ["fill/drain", "mem stall", "buf stall", "cmp stall"][:len(stalls)]
        lines = []
        for d in rows:
            lines.append([d["name"], str(d.get("count", 1)), d["type"], d["formats"],
                          f"{d['flops'] / 1e9:.3f}", f"{d['bytes'] / 1e6:.2f}",
                          _fmt_s(d["latency_s"]), f"{100 * d['latency_s'] / total:.1f}",
                          _fmt_j(d["energy_j"]), d["bound"], f"{d['utilization']:.2g}"]
                         + [_fmt_s(d[k]) if d.get(k, 0.0) > 0 else "0" for k in stalls])
        widths = [max(len(h), *(len(x[i]) for x in lines)) if lines else len(h)
                  for i, h in enumerate(head)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i < 4 or i == 9 else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths)))
        out = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(x) for x in lines]
        t = self.totals()
        summary = (f"total: {_fmt_s(t['latency_s'])}, {_fmt_j(t['energy_j'])} "
                   f"({_si(t['power_w'], 'W')} avg), {_si(t['flops'], 'FLOP')}, "
                   f"{_si(t['bytes'], 'B')} moved, weights {_si(t['weight_bytes'], 'B')}")
        if "tokens_per_s" in t:
            summary += f", {t['tokens_per_s']:.1f} tokens/s"
        return "\n".join(out + ["", summary])

    def __str__(self) -> str:
        m = self.workload.meta
        desc = ", ".join(f"{k}={m[k]}" for k in ("phase", "batch", "context", "weights",
                                                  "activations", "kv") if k in m)
        return f"{self.workload.name} on {self.hw.name} ({desc})\n" + self.table()

    def __repr__(self) -> str:
        return (f"Report({self.workload.name!r} on {self.hw.name!r}: latency_s={self.latency_s:.4g}, "
                f"energy_j={self.energy_j:.4g})")


def _fmt_s(s: float) -> str:
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= f:
            return f"{s / f:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _fmt_j(j: float) -> str:
    for unit, f in (("J", 1.0), ("mJ", 1e-3), ("uJ", 1e-6)):
        if j >= f:
            return f"{j / f:.3g} {unit}"
    return f"{j / 1e-9:.3g} nJ"


def _si(x: float, unit: str) -> str:
    """``x`` with an SI prefix and three significant digits (an MCU's 2.1 mW and 45 MFLOP as
    well as a GPU's 700 W and 13 TFLOP)."""
    if x == 0:
        return f"0 {unit}"
    for p, f in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0),
                 ("m", 1e-3), ("u", 1e-6)):
        if abs(x) >= f:
            return f"{x / f:.3g} {p}{unit}"
    return f"{x / 1e-9:.3g} n{unit}"
