"""The tile program a hardware family hands the simulator: what each compute unit does, tile by
tile, and the memory system it shares.

A :class:`Step` is one tile: bytes it reads from DRAM per operand, on-chip buffer space it takes
when it starts a new tile of an operand, its compute time, and the bytes it writes back. A
:class:`TileProgram` holds one step sequence per compute unit (all units share one memory
channel) as *runs*: ``count`` identical consecutive steps. The engine coarsens long runs (see
:func:`items`) so a layer costs a few dozen events however many tiles it has.

Example (one unit, 10 tiles each reading 1 kB of A and 2 kB of B, 1 us of compute)::

    step = Step(new=(1e3, 2e3), load=(1e3, 2e3), compute_s=1e-6, count=10)
    prog = TileProgram(operands=("A", "B"), buffer_bytes=(4e3, 4e3), streams=((step,),),
                       mem_bandwidth_Bps=1e9)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import ConfigError


@dataclass(frozen=True)
class Step:
    """One tile (``count`` identical consecutive tiles).

    ``new[i]``: buffer bytes a new tile of operand ``i`` takes (0: keeps using the resident tile);
    ``load[i]``: bytes of operand ``i`` read from DRAM for it (a fresh output tile takes space
    but reads nothing); ``compute_s``: compute time of one tile; ``store_bytes``: bytes written
    back after it (an output tile finished here); ``last_use[i]``: this is the last tile that uses
    the resident tile of operand ``i`` (its space is freed when this tile's compute ends, or, for
    the output operand, when its store ends).
    """

    new: tuple[float, ...]
    load: tuple[float, ...]
    compute_s: float
    store_bytes: float = 0.0
    last_use: tuple[bool, ...] = ()
    count: int = 1

    def same(self, other: "Step") -> bool:
        return (self.new == other.new and self.load == other.load
                and self.compute_s == other.compute_s and self.store_bytes == other.store_bytes
                and self.last_use == other.last_use)


@dataclass(frozen=True)
class TileProgram:
    """Everything the engine runs for one op. SI units.

    ``streams``: one tuple of steps per compute unit; ``buffer_bytes``: capacity of each unit's
    buffer per operand (``float('inf')``: unlimited); ``out``: index of the output operand
    (its space is freed by the store) or None; ``overhead_s``: fixed serial time the analytical
    model adds (kernel launch ...), kept as is; ``mem_latency_s``: latency of every DRAM request
    (issue to first byte; requests overlap). ``source`` says where the program came from.
    """

    operands: tuple[str, ...]
    buffer_bytes: tuple[float, ...]
    streams: tuple[tuple[Step, ...], ...]
    mem_bandwidth_Bps: float
    mem_latency_s: float = 0.0
    overhead_s: float = 0.0
    out: int | None = None
    unit: str = "compute"
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        n = len(self.operands)
        if len(self.buffer_bytes) != n:
            raise ConfigError(f"TileProgram: buffer_bytes has {len(self.buffer_bytes)} entries "
                              f"for {n} operands {self.operands}")
        if self.mem_bandwidth_Bps <= 0:
            raise ConfigError(f"TileProgram: mem_bandwidth_Bps = {self.mem_bandwidth_Bps}: "
                              "expected > 0")
        for u, steps in enumerate(self.streams):
            for s in steps:
                if len(s.new) != n or len(s.load) != n:
                    raise ConfigError(f"TileProgram: unit {u}: a step has {len(s.new)} new / "
                                      f"{len(s.load)} load entries for {n} operands")
                if s.count < 1 or s.compute_s < 0:
                    raise ConfigError(f"TileProgram: unit {u}: step count = {s.count}, "
                                      f"compute_s = {s.compute_s}: expected >= 1 and >= 0")
                for i, (b, cap) in enumerate(zip(s.new, self.buffer_bytes)):
                    if b > cap:
                        raise ConfigError(
                            f"TileProgram: unit {u}: a {self.operands[i]} tile of {b:.0f} bytes "
                            f"does not fit its buffer ({cap:.0f} bytes)")

    @property
    def tiles(self) -> int:
        return sum(s.count for st in self.streams for s in st)

    @property
    def runs(self) -> int:
        return sum(len(st) for st in self.streams)

    @property
    def load_bytes(self) -> float:
        return sum(s.count * sum(s.load) for st in self.streams for s in st)

    @property
    def store_bytes(self) -> float:
        return sum(s.count * s.store_bytes for st in self.streams for s in st)

    @property
    def compute_s(self) -> float:
        """Compute time of the busiest unit."""
        return max((sum(s.count * s.compute_s for s in st) for st in self.streams), default=0.0)


def compress(steps) -> list[Step]:
    """Merge consecutive identical steps into runs (``count`` adds up)."""
    out: list[Step] = []
    cur, n = None, 0
    for s in steps:
        if cur is not None and cur.same(s):
            n += s.count
            continue
        if cur is not None:
            out.append(cur if cur.count == n else replace(cur, count=n))
        cur, n = s, s.count
    if cur is not None:
        out.append(cur if cur.count == n else replace(cur, count=n))
    return out


def items(steps, edge: int = 1) -> list[tuple[Step, int]]:
    """What the engine schedules: ``(step, n)`` pairs. A run longer than ``2 * edge + 1`` keeps
    its first and last ``edge`` tiles as single events (the pipeline fills and drains through
    them) and makes the middle one coarse event of ``n`` tiles."""
    out = []
    for s in steps:
        if s.count <= 2 * edge + 1:
            out.extend([(s, 1)] * s.count)
        else:
            out.extend([(s, 1)] * edge)
            out.append((s, s.count - 2 * edge))
            out.extend([(s, 1)] * edge)
    return out
