"""Discrete-event, tile-level engine on simpy: runs a :class:`~hwsim.sim.program.TileProgram`.

Components, per compute unit ``u`` (all units share one memory channel):

* **memory channel** (:class:`Channel`): one DRAM interface of ``mem_bandwidth_Bps``; transfers in
  flight share it max-min fairly (two units streaming at once each get half; a stream capped at
  what its compute consumes leaves the rest to the others).
* **buffers**: one per operand: ``buffer_bytes`` of capacity and two tile slots (ping-pong: the
  tile in use and the next one). A tile reserves its space before its load is issued and frees it
  when its last user finishes computing (the output tile: when its store ends). When two tiles of
  an operand fit, the next one loads while the current one computes (double buffering); when only
  one fits, its load waits for the previous tile and serializes with compute.
* **requester + load DMA per operand**: each operand's tiles are requested and loaded in program
  order, one tile ahead at most (the slots); different operands load concurrently. A transfer
  starts ``mem_latency_s`` after its request (requests of a streamed run are pipelined).
* **compute unit**: takes tiles in order once their data are in, busy ``compute_s`` per tile.
* **store DMA**: writes finished output tiles back through the same channel (posted writes: no
  latency).

Coarsening: a run of ``n`` identical tiles (:func:`hwsim.sim.program.items` keeps its first and
last ``edge`` tiles as single events, through which the pipeline fills and drains) is one event:
its first tile loads like any tile; the other ``n - 1`` tiles' bytes stream from the moment the run
starts computing, capped at one tile's bytes per tile of compute (what double buffering admits),
and their stores stream out the same way; compute takes ``n x compute_s`` and ends no earlier than
one tile's compute after the last byte arrived. With a buffer too small for two tiles the run's
bytes all load first (no overlap). On hand-made and mapped programs this matches the tile-by-tile
simulation (``edge`` = infinity; tests/sim). Stalls are reported as :class:`SimResult` fields; the
buffer stall is measured against a counterfactual run in which every buffer holds two tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import simpy

from .program import TileProgram, items


@dataclass
class SimResult:
    """Timeline summary of one op. Seconds; stall times are averaged over compute units.

    ``latency_s`` = ``overhead_s`` + time to the last store. ``fill_drain_s``: before the first
    tile computes plus after the last one finishes. ``stall_memory_s``: compute idle waiting for
    data once running (bandwidth, latency, contention). ``stall_buffer_s``: time lost because a
    buffer could not hold two tiles (vs. the same program with double buffering).
    ``stall_compute_s``: memory channel idle while tiles compute (the op is compute-bound there).
    """

    latency_s: float
    compute_busy_s: float
    memory_busy_s: float
    fill_drain_s: float
    stall_memory_s: float
    stall_buffer_s: float
    stall_compute_s: float
    overhead_s: float = 0.0
    events: int = 0
    spans: list = field(default_factory=list, repr=False)

    def breakdown(self) -> dict[str, float]:
        return {"sim_fill_drain_s": self.fill_drain_s, "sim_stall_memory_s": self.stall_memory_s,
                "sim_stall_buffer_s": self.stall_buffer_s,
                "sim_stall_compute_s": self.stall_compute_s,
                "sim_compute_busy_s": self.compute_busy_s, "sim_memory_busy_s": self.memory_busy_s,
                "sim_events": float(self.events)}


class Channel:
    """A memory channel shared by every transfer in flight.

    Bandwidth is split by max-min fairness (water-filling): each transfer gets an equal share,
    except that a transfer with a rate cap (a stream that cannot run ahead of the compute that
    produces or consumes it) takes no more than its cap and leaves the rest to the others. So two
    units streaming at once each get half; a compute-bound stream next to a memory-bound one takes
    only what it consumes.
    """

    def __init__(self, env: simpy.Environment, bandwidth_Bps: float, spans: list | None = None):
        self.env, self.bw = env, bandwidth_Bps
        self.active: dict[simpy.Event, list] = {}   # event -> [remaining bytes, cap, size]
        self.rates: dict[simpy.Event, float] = {}
        self.t_last = 0.0
        self.gen = 0
        self.moved = 0.0                 # bytes moved so far
        self.log: list[tuple[float, float]] = [(0.0, 0.0)]   # (time, bytes moved by then)
        self.spans = spans
        self.segs: list[list] = []      # channel use over time (trace only)
        self.events = 0

    @property
    def busy_s(self) -> float:
        """Time the channel would need at full bandwidth for the bytes it moved."""
        return self.moved / self.bw

    def transfer(self, nbytes: float, rate_cap: float = math.inf) -> simpy.Event:
        """An event that fires when ``nbytes`` have moved (at most ``rate_cap`` bytes/s)."""
        ev = self.env.event()
        if nbytes <= 0:
            ev.succeed()
            return ev
        self._advance()
        self.active[ev] = [float(nbytes), rate_cap if rate_cap > 0 else math.inf, float(nbytes)]
        self._reschedule()
        return ev

    def moved_by(self, t: float) -> float:
        """Bytes moved by time ``t`` (linear between channel events)."""
        ts, bs = zip(*self.log)
        return float(np.interp(t, ts, bs))

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self.t_last
        if dt > 0 and self.active:
            for e, v in self.active.items():
                d = self.rates.get(e, 0.0) * dt
                v[0] -= d
                self.moved += d
            self.log.append((now, self.moved))
            if self.spans is not None:   # (track, label, start, end, fraction of bandwidth)
                frac = sum(self.rates.get(e, 0.0) for e in self.active) / self.bw
                last = self.segs[-1] if self.segs else None
                if last and abs(last[4] - frac) < 1e-9 and abs(last[3] - self.t_last) < 1e-15:
                    last[3] = now
                else:
                    self.segs.append(["memory channel", "busy", self.t_last, now, frac])
        self.t_last = now

    def _share(self) -> None:
        """Max-min fair rates of the active transfers."""
        left, n = self.bw, len(self.active)
        self.rates = {}
        for e, v in sorted(self.active.items(), key=lambda kv: kv[1][1]):
            r = min(v[1], left / n)
            self.rates[e] = r
            left -= r
            n -= 1

    def _reschedule(self) -> None:
        self.gen += 1
        if not self.active:
            return
        self._share()
        dt = min(max(v[0], 0.0) / self.rates[e] for e, v in self.active.items())
        g = self.gen
        self.events += 1
        self.env.timeout(dt).callbacks.append(lambda _e, g=g: self._fire(g))

    def _fire(self, g: int) -> None:
        if g != self.gen:
            return
        self._advance()
        # done: nothing left, up to float rounding (relative to the transfer's size)
        done = [e for e, v in self.active.items() if v[0] <= 1e-9 * v[2] + 1e-6]
        if not done:   # rounding left a sliver everywhere: finish the closest one
            done = [min(self.active, key=lambda e: self.active[e][0] / self.rates[e])]
        for e in done:
            del self.active[e]
            e.succeed()
        self._reschedule()


def simulate(prog: TileProgram, *, trace: bool = False, edge: int = 1,
             counterfactual: bool = True) -> SimResult:
    """Run ``prog``; returns its latency and stall breakdown (``spans`` filled when ``trace``).

    Example::

        res = simulate(prog)
        res.latency_s, res.stall_buffer_s
    """
    res = _run(prog, trace, edge)
    tight = any(2 * max((s.new[i] for st in prog.streams for s in st), default=0) > cap
                for i, cap in enumerate(prog.buffer_bytes))
    if counterfactual and tight:
        caps = tuple(max(cap, 2 * max((s.new[i] for st in prog.streams for s in st), default=0))
                     for i, cap in enumerate(prog.buffer_bytes))
        ideal = _run(replace(prog, buffer_bytes=caps), False, edge)
        lost = max(0.0, res.latency_s - ideal.latency_s)
        res.stall_buffer_s = min(lost, res.stall_memory_s + res.stall_buffer_s + res.fill_drain_s)
        res.stall_memory_s = max(0.0, res.stall_memory_s - res.stall_buffer_s)
        res.events += ideal.events
    return res


def _run(prog: TileProgram, trace: bool, edge: int) -> SimResult:
    env = simpy.Environment()
    spans: list | None = [] if trace else None
    ch = Channel(env, prog.mem_bandwidth_Bps, spans)
    stats = [_unit(env, ch, prog, u, steps, spans, edge) for u, steps in enumerate(prog.streams)]
    env.run()
    if spans is not None:
        spans.extend(tuple(x) for x in ch.segs)
    end = env.now
    nu = max(1, len(stats))
    first = min((s["first"] for s in stats if s["first"] is not None), default=end)
    last = max((s["last"] for s in stats if s["last"] is not None), default=end)
    # channel idle (in full-bandwidth-equivalent time) while tiles compute and loads are still to
    # come (after the last load the idle channel is drain, not a compute bottleneck)
    upto = min(last, max((s["last_load"] for s in stats), default=first))
    moved = ch.moved_by(upto) - ch.moved_by(first) if upto > first else 0.0
    return SimResult(
        latency_s=end + prog.overhead_s,
        compute_busy_s=sum(s["busy"] for s in stats) / nu,
        memory_busy_s=ch.busy_s,
        fill_drain_s=first + (end - last),
        stall_memory_s=sum(s["idle"] for s in stats) / nu,
        stall_buffer_s=0.0,
        stall_compute_s=max(0.0, (upto - first) - moved / ch.bw),
        overhead_s=prog.overhead_s,
        events=ch.events + sum(s["events"] for s in stats),
        spans=spans or [])


def _unit(env, ch: Channel, prog: TileProgram, u: int, steps, spans, edge) -> dict:
    """Start unit ``u``'s processes; returns the dict they fill with its statistics."""
    return _Unit(env, ch, prog, u, steps, spans, edge).start()


class _Unit:
    """One compute unit's processes (requesters, load DMAs, compute, store DMA; module
    docstring) and the buffers, queues and events through which they hand tiles on."""

    def __init__(self, env, ch: Channel, prog: TileProgram, u: int, steps, spans, edge):
        self.env, self.ch, self.prog, self.spans = env, ch, prog, spans
        self.its = its = items(steps, edge)
        self.nops = nops = len(prog.operands)
        self.caps = prog.buffer_bytes
        self.bufs = [simpy.Container(env, capacity=c if math.isfinite(c) else float("inf"))
                     for c in self.caps]
        # ping-pong buffering: at most two tiles of an operand on chip (the one in use and the
        # next), fewer when two do not fit the capacity
        self.slots = [simpy.Container(env, capacity=2) for _ in range(nops)]
        self.held: list[list[float]] = [[] for _ in range(nops)]   # FIFO of reserved tile sizes
        self.first_in = [env.event() for _ in its]
        self.started = [env.event() for _ in its]      # item k's first tile began computing
        self.all_in = [env.event() for _ in its]
        self.loadq = [simpy.Store(env) for _ in range(nops)]
        self.storeq = simpy.Store(env)
        self.parts = [[0, 0] for _ in its]   # per item: operand loads outstanding (first tile, all)
        self.st = {"first": None, "last": None, "busy": 0.0, "idle": 0.0, "events": 0,
                   "last_load": 0.0}
        self.tag = f"unit{u} " if len(prog.streams) > 1 else ""
        for k, (s, n) in enumerate(its):
            m = sum(1 for i in range(nops) if s.load[i] > 0)
            self.parts[k] = [m, m]
            if not m:
                self.first_in[k].succeed()
                self.all_in[k].succeed()

    def start(self) -> dict:
        # process start order fixes the order of simultaneous events: keep it
        for p in (self.compute, self.store_dma):
            self.env.process(p())
        for i in range(self.nops):
            self.env.process(self.requester(i))
            self.env.process(self.load_dma(i))
        return self.st

    def overlaps(self, s) -> bool:
        """Whether two tiles of every operand ``s`` brings in fit (double buffering)."""
        return all(s.new[i] <= 0 or 2 * s.new[i] <= self.caps[i] for i in range(self.nops))

    def _span(self, track: str, label: str, t0: float) -> None:
        if self.spans is not None:
            self.spans.append((f"{self.tag}{track}", label, t0, self.env.now))

    # ------------------------------------------------------------------ loads

    def requester(self, i):
        """Operand ``i``'s requests in program order: reserve a new tile's space (waiting for
        it), then queue its load. Operands run ahead independently (one tile ahead each)."""
        for k, (s, n) in enumerate(self.its):
            if s.new[i] > 0:
                yield self.slots[i].put(1)
                yield self.bufs[i].put(s.new[i])
                self.held[i].append(s.new[i])
                self.st["events"] += 1
            if s.load[i] > 0:
                yield self.loadq[i].put((k, self.env.now))
        yield self.loadq[i].put(None)

    def part_done(self, k, which, t0, n):
        """One operand's load of item ``k`` is in (``which``: 0 its first tile, 1 all tiles)."""
        self.parts[k][which] -= 1
        if self.parts[k][which] == 0:
            (self.first_in if which == 0 else self.all_in)[k].succeed()
            if which == 1:
                self.st["events"] += 1
                self.st["last_load"] = max(self.st["last_load"], self.env.now)
                self._span("load DMA", f"load x{n}", t0)

    def load_dma(self, i):
        """DMA queue of operand ``i``: its buffer fills in program order; the buffers of
        different operands fill concurrently (their transfers share the channel)."""
        while True:
            job = yield self.loadq[i].get()
            if job is None:
                return
            yield from self._load(i, *job)

    def _load(self, i, k, t_req):
        s, n = self.its[k]
        nbytes = s.load[i]
        wait = t_req + self.prog.mem_latency_s - self.env.now
        if wait > 0:
            yield self.env.timeout(wait)
        t0 = self.env.now
        self.st["events"] += 1
        if n > 1 and self.overlaps(s):
            yield self.ch.transfer(nbytes)
            self.part_done(k, 0, t0, n)
            # the rest streams through the double buffer once the run computes, no faster
            # than compute eats it (a prefetch further ahead would need more buffer)
            if not self.started[k].triggered:
                yield self.started[k]
            cap = nbytes / s.compute_s if s.compute_s > 0 else math.inf
            yield self.ch.transfer((n - 1) * nbytes, cap)
        else:
            yield self.ch.transfer(n * nbytes)
            self.part_done(k, 0, t0, n)
        self.part_done(k, 1, t0, n)

    # ------------------------------------------------------------------ compute

    def compute(self):
        st, env = self.st, self.env
        prev = None
        for k, (s, n) in enumerate(self.its):
            yield self.first_in[k]
            t0 = env.now
            self.started[k].succeed()
            if prev is not None:
                st["idle"] += t0 - prev
            if st["first"] is None:
                st["first"] = t0
            streamed = None
            if n > 1 and s.store_bytes > 0 and self.overlaps(s) and s.compute_s > 0:
                streamed = env.process(self.stream_store((n - 1) * s.store_bytes,
                                                         s.store_bytes / s.compute_s,
                                                         s.compute_s))
            yield from self._run_tiles(k, s, n)
            prev = env.now
            st["busy"] += n * s.compute_s
            st["events"] += 1
            self._span(self.prog.unit, f"tile x{n}", t0)
            yield from self._retire(s, n, streamed)
        st["last"] = prev
        yield self.storeq.put(None)

    def _run_tiles(self, k, s, n):
        """Item ``k``'s ``n`` tiles of compute, stretched when a coarse run outran its data."""
        env = self.env
        yield env.timeout(n * s.compute_s)
        if not self.all_in[k].triggered:
            t_wait = env.now
            yield self.all_in[k]
            self.st["idle"] += env.now - t_wait   # the coarse run outran its data
            yield env.timeout(s.compute_s)
            self.st["idle"] += s.compute_s         # that last tile's compute is counted in busy

    def _retire(self, s, n, streamed):
        """Free the input tiles used for the last time and queue the output's store."""
        prog = self.prog
        last = s.last_use or (False,) * self.nops
        for i in range(self.nops):
            if i == prog.out:
                continue
            if (last[i] or (n > 1 and s.new[i] > 0)) and self.held[i]:
                yield self.bufs[i].get(self.held[i].pop(0))
                yield self.slots[i].get(1)
        n_store = 1 if streamed is not None else n
        if prog.out is not None and (last[prog.out] or (n > 1 and s.new[prog.out] > 0)):
            size = self.held[prog.out].pop(0) if self.held[prog.out] else 0.0
            yield self.storeq.put((n_store * s.store_bytes, size, streamed))
        elif s.store_bytes > 0:
            yield self.storeq.put((n_store * s.store_bytes, 0.0, streamed))

    # ------------------------------------------------------------------ stores

    def stream_store(self, nbytes, rate, delay):
        """Stores of a coarse run's tiles as they finish: one tile's worth per tile compute."""
        yield self.env.timeout(delay)
        t0 = self.env.now
        yield self.ch.transfer(nbytes, rate)
        self._span("store DMA", "store (streamed)", t0)

    def store_dma(self):
        while True:
            job = yield self.storeq.get()
            if job is None:
                return
            nbytes, size, streamed = job
            t0 = self.env.now
            yield self.ch.transfer(nbytes)
            if streamed is not None and not streamed.triggered:
                yield streamed           # the output tile is free once all of it is out
            if nbytes > 0:
                self._span("store DMA", "store", t0)
            if size > 0:
                yield self.bufs[self.prog.out].get(size)
                yield self.slots[self.prog.out].get(1)
            self.st["events"] += 1
