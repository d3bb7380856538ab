"""Request-level serving on simpy: arrivals, continuous batching with chunked prefill, paged KV
memory with preemption, each iteration costed by the same per-device models as :func:`generate`.

The scheduler follows vLLM V1's (vllm/v1/core/sched/scheduler.py, as documented in vLLM's
"Optimization and Tuning" guide): every iteration has a budget of ``max_num_batched_tokens``
tokens; running requests go first (a decode takes one token, a partly prefilled prompt its next
chunk), then waiting requests are admitted first-come-first-served while fewer than
``max_num_seqs`` run. KV memory is a pool of 16-token blocks: ``gpu_memory_utilization`` (0.9, vLLM's
default) of device memory less weights and workspace. A request that needs a block when none is
free preempts the most recently admitted running request, whose blocks are freed and whose prompt
and generated tokens are recomputed later (vLLM's RECOMPUTE preemption).

A prefill that completes yields the request's first token (TTFT = its iteration end - arrival);
each later iteration that includes the request yields one token. TPOT = (finish - first token) /
(output_len - 1). Pipeline-parallel iterations cross all stages one after another (no
micro-batch interleaving between iterations: an understatement of PP throughput, stated).

Iteration costs: linear layers for all scheduled tokens at once; one decode-attention call over
the decoding sequences at their mean context (rounded up to a whole block, as paged attention
reads whole blocks) and one prefill-attention call per chunk.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import simpy

from ..errors import ConfigError, check_positive_int
from .memory import BLOCK_TOKENS, GPU_MEMORY_UTILIZATION, device_memory_bytes
from .parallel import ParallelModel
from .requests import (MAX_REQUESTS, MAX_TOKENS, Request, _checked_requests,  # noqa: F401
                       poisson_requests, read_trace)
from .system import System, list_systems, load_system

TIMELINE_ROWS = 4096       # timeline rows kept (decimated evenly past this; peaks kept exactly)


@dataclass(frozen=True)
class SchedulerConfig:
    """Continuous-batching limits (vLLM engine arguments of the same names)."""

    max_num_seqs: int = 256                # vLLM default
    max_num_batched_tokens: int = 8192     # assumption: vLLM V1 server default on H100-class GPUs
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION
    block_tokens: int = BLOCK_TOKENS

    def __post_init__(self):
        for f in ("max_num_seqs", "max_num_batched_tokens", "block_tokens"):
            check_positive_int("scheduler", f, getattr(self, f))
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ConfigError(f"scheduler: gpu_memory_utilization = "
                              f"{self.gpu_memory_utilization!r}: expected in (0, 1]")


class _Req:
    __slots__ = ("r", "target", "done", "generated", "blocks", "first_s", "finish_s", "order")

    def __init__(self, r: Request):
        self.r, self.target, self.done, self.generated, self.blocks = r, r.input_len, 0, 0, 0
        self.first_s = self.finish_s = None
        self.order = 0


@dataclass
class ServeReport:
    """Per-request latencies (s) and the system's throughput and memory over time."""

    model: str
    system: str
    devices: int
    rate_per_s: float | None
    requests: list[Request]
    ttft_s: np.ndarray
    tpot_s: np.ndarray
    e2e_s: np.ndarray
    makespan_s: float
    iterations: int
    preemptions: int
    kv_blocks: int
    # rows: time_s, running, kv_blocks_used, tokens -- at most TIMELINE_ROWS iterations, evenly
    # spaced (a 100k-request run has millions of iterations; the figure needs a few thousand)
    timeline: np.ndarray = field(repr=False)
    weights_bytes: float = 0.0
    block_bytes: float = 0.0
    sim_wall_s: float = 0.0
    block_tokens: int = BLOCK_TOKENS
    peak_kv_blocks_used: int = -1   # exact peaks over every iteration (-1: from the timeline)
    peak_running: int = -1

    def __post_init__(self):
        if self.peak_kv_blocks_used < 0:
            self.peak_kv_blocks_used = int(self.timeline[:, 2].max()) if len(self.timeline) else 0
        if self.peak_running < 0:
            self.peak_running = int(self.timeline[:, 1].max()) if len(self.timeline) else 0
        _guard_serve(self)

    @property
    def output_tokens(self) -> int:
        return int(sum(r.output_len for r in self.requests))

    @property
    def output_tokens_per_s(self) -> float:
        return self.output_tokens / self.makespan_s

    @property
    def requests_per_s(self) -> float:
        return len(self.requests) / self.makespan_s

    def percentiles(self, q=(50, 90, 99)) -> dict:
        """Latency percentiles and means; None where no request defines the quantity (TPOT of
        requests that all generate one token)."""
        out = {}
        for name, a in (("ttft_s", self.ttft_s), ("tpot_s", self.tpot_s), ("e2e_s", self.e2e_s)):
            for p in q:
                out[f"{name}_p{p}"] = float(np.percentile(a, p)) if len(a) else None
            out[f"{name}_mean"] = float(a.mean()) if len(a) else None
        return out

    def as_dict(self) -> dict:
        return {"model": self.model, "system": self.system, "devices": self.devices,
                "rate_per_s": self.rate_per_s, "requests": len(self.requests),
                "output_tokens_per_s": self.output_tokens_per_s,
                "requests_per_s": self.requests_per_s, "makespan_s": self.makespan_s,
                "iterations": self.iterations, "preemptions": self.preemptions,
                "kv_blocks": self.kv_blocks, "peak_kv_blocks_used": self.peak_kv_blocks_used,
                **self.percentiles(), "sim_wall_s": self.sim_wall_s}

    def __str__(self) -> str:
        p = self.percentiles()
        peak = self.peak_kv_blocks_used / self.kv_blocks if self.kv_blocks else 0
        rate = f" at {self.rate_per_s:g} req/s" if self.rate_per_s else ""
        return "\n".join([
            f"{self.model} on {self.system} ({self.devices} device"
            f"{'s' if self.devices > 1 else ''}): {len(self.requests)} "
            f"requests{rate}, {self.iterations} iterations, {self.preemptions} preemptions",
            f"  throughput {self.output_tokens_per_s:.1f} output tokens/s, "
            f"{self.requests_per_s:.2f} requests/s over {self.makespan_s:.2f} s",
            "  TTFT  p50 {:.1f} ms  p90 {:.1f} ms  p99 {:.1f} ms".format(
                *(1e3 * p[f"ttft_s_p{q}"] for q in (50, 90, 99))),
            "  TPOT  p50 {:.2f} ms  p90 {:.2f} ms  p99 {:.2f} ms".format(
                *(1e3 * p[f"tpot_s_p{q}"] for q in (50, 90, 99))) if len(self.tpot_s) else
            "  TPOT  n/a (every request generates one token: no time per output token)",
            "  E2E   p50 {:.2f} s   p90 {:.2f} s   p99 {:.2f} s".format(
                *(p[f"e2e_s_p{q}"] for q in (50, 90, 99))),
            f"  KV pool {self.kv_blocks} blocks of {self.block_tokens} tokens "
            f"({self.kv_blocks * self.block_bytes / 1e9:.1f} GB per device), peak use "
            f"{100 * peak:.0f}%",
            f"  simulated in {self.sim_wall_s:.2f} s"])

    def plot(self, path) -> Path:
        """Memory and batch over time, TTFT and TPOT distributions (PNG)."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tl = self.timeline
        fig, ax = plt.subplots(2, 2, figsize=(10, 7))
        ax[0, 0].plot(tl[:, 0], (self.weights_bytes + tl[:, 2] * self.block_bytes) / 1e9)
        ax[0, 0].set(xlabel="time (s)", ylabel="memory per device (GB)",
                     title="weights + KV cache in use")
        ax[0, 1].plot(tl[:, 0], tl[:, 1])
        ax[0, 1].set(xlabel="time (s)", ylabel="running requests", title="batch")
        for a, v, name in ((ax[1, 0], self.ttft_s * 1e3, "TTFT (ms)"),
                           (ax[1, 1], self.tpot_s * 1e3, "TPOT (ms)")):
            s = np.sort(v)
            a.plot(s, np.arange(1, len(s) + 1) / max(1, len(s)))
            a.set(xlabel=name, ylabel="fraction of requests", title=name.split()[0] + " CDF")
        fig.suptitle(f"{self.model} on {self.system}"
                     + (f", {self.rate_per_s:g} req/s" if self.rate_per_s else ""))
        fig.tight_layout()
        p = Path(path)
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p


def serve(model, system: System | str = "h100-sxm", requests: list[Request] | None = None, *,
          rate_per_s: float | None = None, n_requests: int = 200, input_len=512,
          output_len=128, seed: int = 0, tp: int = 1, pp: int = 1, weights: str = "fp16",
          activations: str = "fp16", kv: str | None = None,
          scheduler: SchedulerConfig | None = None, concurrency: int | None = None,
          warmup: int = 0, parallel: ParallelModel | None = None) -> ServeReport:
    """Simulate serving ``requests`` (or ``n_requests`` Poisson arrivals at ``rate_per_s``).

    ``concurrency=C``: a closed loop instead (as benchmark clients such as NVIDIA's genai-perf /
    AIPerf run at a fixed concurrency): C requests are sent at time 0 and each finished request
    is followed at once by the next, until ``n_requests`` (or all of ``requests``, whose arrival
    times are then ignored) have been sent.

    ``warmup``: the first ``warmup`` requests (by id) are served but left out of the latency
    statistics, as benchmark clients discard their warm-up (a closed loop starts with a burst).

    Raises ConfigError when the weights leave no KV memory, or a request could never fit."""
    import time

    wall = time.perf_counter()
    sc = scheduler or SchedulerConfig()
    requests, rate_per_s = _request_list(requests, rate_per_s, concurrency, n_requests,
                                         input_len, output_len, seed)
    if isinstance(system, str):
        system = load_system(system, None if system in list_systems() else tp * pp)
    pm = parallel or ParallelModel(model, system, tp=tp, pp=pp, weights=weights,
                                   activations=activations, kv=kv)
    total_blocks, block_bytes = _kv_pool(pm, sc, requests)
    sim = _ServeSim(pm, sc, requests, total_blocks, concurrency)
    sim.run()
    return _report(sim, rate_per_s, warmup, block_bytes, wall)


def _request_list(requests, rate_per_s, concurrency, n_requests, input_len, output_len, seed):
    """The requests to serve and the open-loop rate (None in a closed loop)."""
    if concurrency is not None:
        check_positive_int("serve", "concurrency", concurrency)
        if requests is None:  # lengths only: arrivals follow completions
            requests = poisson_requests(n_requests, 1.0, input_len, output_len, seed)
        rate_per_s = None
    if requests is None:
        if rate_per_s is None:
            raise ConfigError("serve: give requests, rate_per_s or concurrency")
        requests = poisson_requests(n_requests, rate_per_s, input_len, output_len, seed)
    return _checked_requests(requests), rate_per_s


def _kv_pool(pm: ParallelModel, sc: SchedulerConfig, requests) -> tuple[int, float]:
    """KV blocks per device and bytes per block; fails early rather than letting the scheduler
    stall on a pool that can never hold the longest request."""
    cap = device_memory_bytes(pm.hw)
    if cap is None:
        raise ConfigError(f"{pm.hw.name}: memory capacity unknown (no mem_capacity_bytes)")
    B = sc.block_tokens
    block_bytes = B * pm.kv_bytes_per_token
    ws = pm.workspace_bytes(sc.max_num_batched_tokens, sc.max_num_seqs)
    free_bytes = sc.gpu_memory_utilization * cap - pm.weight_bytes - ws
    total_blocks = int(free_bytes // block_bytes)
    if total_blocks < 1:
        raise ConfigError(f"serve: no KV memory left: weights {pm.weight_bytes / 1e9:.1f} GB + "
                          f"workspace {ws / 1e9:.1f} GB exceed {sc.gpu_memory_utilization:g} x "
                          f"{cap / 1e9:.1f} GB per device (raise --tp)")
    longest = max(r.input_len + r.output_len for r in requests)
    if math.ceil(longest / B) > total_blocks:
        raise ConfigError(f"serve: a request of {longest} tokens needs "
                          f"{math.ceil(longest / B)} KV blocks; the pool has {total_blocks}")
    return total_blocks, block_bytes


class _ServeSim:
    """One serving run: an arrival process and an engine process sharing the request queues and
    the KV block pool (module docstring: the vLLM V1 scheduling policy)."""

    def __init__(self, pm: ParallelModel, sc: SchedulerConfig, requests: list[Request],
                 total_blocks: int, concurrency: int | None):
        self.env = simpy.Environment()
        self.pm, self.sc, self.B = pm, sc, sc.block_tokens
        self.requests, self.concurrency = requests, concurrency
        self.total_blocks = self.free = total_blocks
        self.preemptions = self.iterations = self.admitted = 0
        self.wake = self.env.event()
        self.waiting: deque[_Req] = deque()
        self.running: list[_Req] = []
        self.finished: list[_Req] = []
        self.timeline: list[tuple] = []
        self.stride = 1                    # timeline keeps every stride-th iteration
        self.peak_blocks = self.peak_running = 0
        self.pending = deque(requests)     # closed loop: not sent yet
        self.sent: list[Request] = []      # closed loop: as sent (arrival = send time)

    def run(self) -> None:
        self.env.process(self._arrivals())
        self.env.process(self._engine())
        self.env.run()

    def _enqueue(self, q: _Req) -> None:
        self.waiting.append(q)
        if not self.wake.triggered:
            self.wake.succeed()

    def _submit(self) -> None:
        r = self.pending.popleft()
        r = Request(r.id, self.env.now, r.input_len, r.output_len)
        self.sent.append(r)
        self._enqueue(_Req(r))

    def _arrivals(self):
        if self.concurrency is not None:
            for _ in range(min(self.concurrency, len(self.pending))):
                self._submit()
            return
            yield  # a generator for simpy
        for r in self.requests:
            if r.arrival_s > self.env.now:
                yield self.env.timeout(r.arrival_s - self.env.now)
            self._enqueue(_Req(r))

    # ------------------------------------------------------------------ KV blocks

    def _grow(self, q: _Req, tokens: int) -> bool:
        need = math.ceil(tokens / self.B) - q.blocks
        if need <= self.free:
            self.free -= max(0, need)
            q.blocks += max(0, need)
            return True
        return False

    def _preempt(self, victim: _Req) -> None:
        self.running.remove(victim)
        self.free += victim.blocks
        victim.blocks, victim.done = 0, 0
        victim.target = victim.r.input_len + victim.generated  # recompute prompt + output so far
        self.waiting.appendleft(victim)
        self.preemptions += 1

    def _make_room(self, q: _Req, tokens: int) -> bool:
        """Grow ``q`` to ``tokens``, preempting the latest admitted requests (possibly ``q``
        itself) until it fits; whether ``q`` still runs."""
        while not self._grow(q, tokens):
            victim = max(self.running, key=lambda x: x.order)
            self._preempt(victim)
            if victim is q:
                break
        return q in self.running

    # ------------------------------------------------------------------ scheduling

    def _schedule(self) -> tuple[list[_Req], list[tuple[_Req, int]]]:
        """This iteration's decodes and prefill chunks (request, tokens)."""
        dec: list[_Req] = []
        chunks: list[tuple[_Req, int]] = []
        budget = self._schedule_running(self.sc.max_num_batched_tokens, dec, chunks)
        self._admit(budget, chunks)
        return dec, chunks

    def _schedule_running(self, budget: int, dec: list, chunks: list) -> int:
        """Running requests first, oldest first; returns the token budget left."""
        for q in sorted(self.running, key=lambda x: x.order):
            if q not in self.running or budget <= 0:  # preempted by an older one this iteration
                continue
            if q.done >= q.target:                    # decoding: one token, its KV slot
                if self._make_room(q, q.r.input_len + q.generated + 1):
                    dec.append(q)
                    budget -= 1
            else:                                     # prefill continues
                c = min(budget, q.target - q.done)
                if self._make_room(q, q.done + c):
                    chunks.append((q, c))
                    budget -= c
        return budget

    def _admit(self, budget: int, chunks: list) -> None:
        """Waiting requests first-come-first-served while budget, seats and KV blocks last (an
        admission never preempts)."""
        while self.waiting and budget > 0 and len(self.running) < self.sc.max_num_seqs:
            q = self.waiting[0]
            c = min(budget, q.target - q.done)
            if not self._grow(q, q.done + c):
                break
            self.waiting.popleft()
            self.admitted += 1
            q.order = self.admitted
            self.running.append(q)
            chunks.append((q, c))
            budget -= c

    # ------------------------------------------------------------------ iterations

    def _attention_calls(self, dec: list[_Req], chunks: list) -> list[tuple]:
        """(sequences, query tokens, KV length) per attention call of the iteration."""
        attn = []
        if dec:
            B = self.B
            mean_kv = sum(q.r.input_len + q.generated + 1 for q in dec) / len(dec)
            attn.append((len(dec), 1, B * math.ceil(mean_kv / B)))
        attn += [(1, c, q.done + c) for q, c in chunks]
        return attn

    def _engine(self):
        while len(self.finished) < len(self.requests):
            if not self.running and not self.waiting:
                self.wake = self.env.event()
                yield self.wake
                continue
            dec, chunks = self._schedule()
            if not dec and not chunks:  # nothing schedulable (cannot happen with the size check)
                raise ConfigError("serve: scheduler stalled: no request fits the KV pool")
            tokens = len(dec) + sum(c for _, c in chunks)
            completing = [q for q, c in chunks if q.done + c >= q.target]
            st = self.pm.step(tokens, len(dec) + len(completing),
                              self._attention_calls(dec, chunks))
            yield self.env.timeout(self.pm.pp * st.latency_s)
            self.iterations += 1
            for q, c in chunks:
                q.done += c
            for q in dec + completing:
                self._emit_token(q)
            self._record(tokens)

    def _record(self, tokens: int) -> None:
        """Exact peaks every iteration; a timeline row every ``stride``-th (halved and the
        stride doubled when full, so memory stays bounded however long the run)."""
        used = self.total_blocks - self.free
        self.peak_blocks = max(self.peak_blocks, used)
        self.peak_running = max(self.peak_running, len(self.running))
        if (self.iterations - 1) % self.stride:
            return
        self.timeline.append((self.env.now, len(self.running), used, tokens))
        if len(self.timeline) >= TIMELINE_ROWS:
            self.timeline = self.timeline[::2]
            self.stride *= 2

    def _emit_token(self, q: _Req) -> None:
        q.generated += 1
        if q.first_s is None:
            q.first_s = self.env.now
        if q.generated >= q.r.output_len:
            q.finish_s = self.env.now
            self.running.remove(q)
            self.free += q.blocks
            q.blocks = 0
            self.finished.append(q)
            if self.concurrency is not None and self.pending:
                self._submit()


def _report(sim: _ServeSim, rate_per_s, warmup: int, block_bytes: float,
            wall: float) -> ServeReport:
    import time

    fin = sorted(sim.finished, key=lambda q: q.r.id)
    if not 0 <= warmup < len(fin):
        raise ConfigError(f"serve: warmup = {warmup!r}: expected 0 <= warmup < {len(fin)} requests")
    fin = fin[warmup:]
    ttft = np.array([q.first_s - q.r.arrival_s for q in fin])
    tpot = np.array([(q.finish_s - q.first_s) / (q.r.output_len - 1) for q in fin
                     if q.r.output_len > 1])
    e2e = np.array([q.finish_s - q.r.arrival_s for q in fin])
    # a closed loop's arrivals are its send times, known only now
    requests = sorted(sim.sent, key=lambda r: r.id) if sim.concurrency is not None \
        else sim.requests
    span = max(q.finish_s for q in fin) - min(r.arrival_s for r in requests)
    pm = sim.pm
    return ServeReport(pm.cfg.name, pm.system.name, pm.tp * pm.pp, rate_per_s, list(requests),
                       ttft, tpot, e2e, span, sim.iterations, sim.preemptions, sim.total_blocks,
                       np.array(sim.timeline, dtype=float).reshape(-1, 4), pm.weight_bytes,
                       block_bytes, time.perf_counter() - wall, sim.B, sim.peak_blocks,
                       sim.peak_running)


def sweep(model, system, rates: list[float], *, plot: str | Path | None = None,
          progress: bool = True, **kw) -> list[ServeReport]:
    """:func:`serve` at each request rate (same seed, same lengths): the latency-throughput curve.
    Writes a plot of p50/p99 TPOT and TTFT against throughput to ``plot`` when given."""
    from tqdm import tqdm

    if isinstance(system, str):
        system = load_system(system, None if system in list_systems() else
                             kw.get("tp", 1) * kw.get("pp", 1))
    pm = kw.pop("parallel", None) or ParallelModel(
        model, system, tp=kw.pop("tp", 1), pp=kw.pop("pp", 1), weights=kw.pop("weights", "fp16"),
        activations=kw.pop("activations", "fp16"), kv=kw.pop("kv", None))
    for k in ("tp", "pp", "weights", "activations", "kv"):
        kw.pop(k, None)
    out = [serve(model, system, rate_per_s=r, parallel=pm, **kw)
           for r in tqdm(rates, desc="request rates", disable=not progress)]
    if plot:
        plot_sweep(out, plot)
    return out


def _ms(v: float | None) -> float:
    return math.nan if v is None else 1e3 * v  # a gap in the figure where TPOT is undefined


def plot_sweep(reports: list[ServeReport], path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    thr = [r.output_tokens_per_s for r in reports]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for key, a, unit in (("tpot_s", ax[0], "TPOT (ms)"), ("ttft_s", ax[1], "TTFT (ms)")):
        for q in (50, 99):
            a.plot(thr, [_ms(r.percentiles()[f"{key}_p{q}"]) for r in reports], "o-",
                   label=f"p{q}")
        for r, x in zip(reports, thr):
            a.annotate(f"{r.rate_per_s:g}/s", (x, _ms(r.percentiles()[f"{key}_p50"])),
                       fontsize=7)
        a.set(xlabel="output tokens/s", ylabel=unit, yscale="log")
        a.legend()
    r0 = reports[0]
    fig.suptitle(f"{r0.model} on {r0.system}: latency vs throughput")
    fig.tight_layout()
    p = Path(path)
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p


def _guard_serve(rep: ServeReport) -> None:
    """The last check before a serving result is shown: no NaN, infinite or negative figure."""
    from ..report import guard_values
    figures = {"makespan_s": rep.makespan_s, "sim_wall_s": rep.sim_wall_s}
    for name, a in (("ttft_s", rep.ttft_s), ("tpot_s", rep.tpot_s), ("e2e_s", rep.e2e_s)):
        if len(a):
            figures[f"{name} (min)"], figures[f"{name} (max)"] = float(a.min()), float(a.max())
    if rep.makespan_s > 0:
        figures["output_tokens_per_s"] = rep.output_tokens_per_s
    elif rep.requests:
        figures["makespan_s (must be > 0)"] = -1.0
    guard_values(f"serve {rep.model} on {rep.system}", figures)
