"""Static-batching generation: a batch of ``batch`` requests, prefill of ``batch x input_len``
tokens (which yields the first output token), then ``output_len - 1`` decode steps with the context
growing by one token per step.

>>> import hwsim
>>> g = hwsim.generate("llama-2-7b", "h100-sxm", batch=8, input_len=512, output_len=64)
>>> g.fits, g.ttft_s < g.latency_s
(True, True)

Prefill runs in steps of at most ``max_step_tokens`` tokens. Pipeline parallelism: prefill steps
flow through the stages as a GPipe schedule (their sum plus ``pp - 1`` times the longest); for
decode the batch is split into ``m = min(pp, batch)`` micro-batches and a decode round (every micro-batch one token) takes
``max(m, pp)`` stage times (with ``m = pp`` every stage is always busy, with fewer micro-batches a
token must cross all ``pp`` stages before the next one starts).

Decode steps are costed exactly at every 16th step (and the first and last) and linearly
interpolated between: decode attention is linear in the cached tokens (memory-bound), which keeps
a 2,048-token generation to ~130 step evaluations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, check_positive_int
from .memory import Memory, fmt_bytes
from .parallel import ParallelModel, StepCost
from .system import System, load_system

STRIDE = 16


@dataclass(frozen=True)
class GenerationReport:
    """Times in seconds; throughput over the whole system and per device."""

    model: str
    system: str
    devices: int
    tp: int
    pp: int
    batch: int
    input_len: int
    output_len: int
    ttft_s: float
    tpot_s: float
    latency_s: float
    energy_j: float
    memory: Memory
    comm_s: float
    step_latency_s: np.ndarray = field(repr=False, compare=False)
    price_per_device_hour: float | None = None

    def __post_init__(self):  # the last check before a result is shown
        from ..report import guard_values
        guard_values(f"generate {self.model} on {self.system}", {
            "ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "latency_s": self.latency_s,
            "energy_j": self.energy_j, "comm_s": self.comm_s,
            "output_tokens_per_s": self.output_tokens_per_s if self.latency_s > 0 else -1.0,
            "price_per_device_hour": self.price_per_device_hour,
            "cost_per_million_tokens": self.cost_per_million_tokens})

    @property
    def fits(self) -> bool | None:
        return self.memory.fits

    @property
    def memory_bytes(self) -> float:
        """Bytes per device (the most loaded one)."""
        return self.memory.total_bytes

    @property
    def output_tokens_per_s(self) -> float:
        return self.batch * self.output_len / self.latency_s

    @property
    def output_tokens_per_s_per_device(self) -> float:
        return self.output_tokens_per_s / self.devices

    @property
    def energy_per_token_j(self) -> float:
        return self.energy_j / (self.batch * self.output_len)

    @property
    def cost_per_million_tokens(self) -> float | None:
        """Device-hour price x devices x time, per million output tokens."""
        if self.price_per_device_hour is None:
            return None
        return self.price_per_device_hour * self.devices / 3600 / self.output_tokens_per_s * 1e6

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in (
            "model", "system", "devices", "tp", "pp", "batch", "input_len", "output_len", "ttft_s",
            "tpot_s", "latency_s", "output_tokens_per_s", "output_tokens_per_s_per_device",
            "energy_j", "energy_per_token_j", "memory_bytes", "fits", "comm_s",
            "cost_per_million_tokens")}
        d["capacity_bytes"] = self.memory.capacity_bytes
        return d

    def __str__(self) -> str:
        m = self.memory
        lines = [f"{self.model} on {self.system} ({self.devices} device"
                 f"{'s' if self.devices > 1 else ''}: tp={self.tp}, "
                 f"pp={self.pp}), batch={self.batch}, input={self.input_len}, "
                 f"output={self.output_len}",
                 f"  TTFT {self.ttft_s * 1e3:.2f} ms, TPOT {self.tpot_s * 1e3:.3f} ms, end-to-end "
                 f"{self.latency_s:.3f} s",
                 f"  {self.output_tokens_per_s:.1f} output tokens/s "
                 f"({self.output_tokens_per_s_per_device:.1f} per device), "
                 f"{self.energy_per_token_j:.3g} J/token, communication "
                 f"{100 * self.comm_s / self.latency_s:.1f}% of the time",
                 f"  memory per device: {m.line()} -> {m.verdict}"]
        if self.cost_per_million_tokens is not None:
            lines.append(f"  ${self.cost_per_million_tokens:.3f} per million output tokens")
        return "\n".join(lines)


def generate(model, system: System | str = "h100-sxm", *, batch: int = 1, input_len: int = 512,
             output_len: int = 128, tp: int = 1, pp: int = 1, weights: str = "fp16",
             activations: str = "fp16", kv: str | None = None, paged: bool = False,
             price_per_device_hour: float | None = None, max_step_tokens: int = 8192,
             parallel: ParallelModel | None = None,
             require_fit: bool = False) -> GenerationReport:
    """Cost a static batch on ``system`` (a preset, an arch name -- ganged ``tp x pp`` times --
    or a :class:`System`). Returns a :class:`GenerationReport` (``fits`` False when it would not
    fit; the numbers are still computed, unless ``require_fit``: then ConfigError before any
    costing). The prefill runs in steps of at most ``max_step_tokens`` tokens (TensorRT-LLM's
    default ``max_num_tokens`` 8192; whole prompts where they fit), so TTFT is the time until the
    whole batch has its first token. ``parallel`` reuses a :class:`ParallelModel` (and its
    memo) across calls with the same model, system and formats."""
    batch = check_positive_int("generate", "batch", batch)
    I = check_positive_int("generate", "input_len", input_len)
    O = check_positive_int("generate", "output_len", output_len)
    if price_per_device_hour is not None and not (
            isinstance(price_per_device_hour, (int, float)) and 0 <= price_per_device_hour < math.inf):
        raise ConfigError(f"generate: price_per_device_hour = {price_per_device_hour!r}: expected "
                          "a finite price >= 0 (USD per device-hour)")
    if isinstance(system, str):
        from .system import list_systems
        system = load_system(system, None if system in list_systems() else tp * pp)
    pm = parallel or ParallelModel(model, system, tp=tp, pp=pp, weights=weights,
                                   activations=activations, kv=kv)
    # prefill: chunks of at most max_step_tokens tokens (whole sequences where they fit)
    groups = _prefill_groups(batch, I, max_step_tokens)
    mem = pm.memory(batch, I + O, step_tokens=max(c[0] for c, _ in groups), paged=paged)
    if require_fit and mem.fits is False:
        raise ConfigError(_no_fit(pm.cfg.name, mem, tp, pp))
    m = min(pp, batch)
    bm = math.ceil(batch / m)
    pre = [(pm.step(*c), k) for c, k in groups]  # identical chunks costed once
    ttft = sum(p.latency_s * k for p, k in pre) + (pp - 1) * max(p.latency_s for p, _ in pre)
    energy = sum(p.energy_j * k for p, k in pre) * pp * pm.tp
    comm = sum(p.comm_s * k for p, k in pre) + (pp - 1) * max(p.comm_s for p, _ in pre)
    steps = np.zeros(O - 1)
    if O > 1:
        js = sorted(set(range(1, O, STRIDE)) | {O - 1})
        cost: dict[int, StepCost] = {j: pm.step(bm, bm, [(bm, 1, I + j)]) for j in js}
        lat = np.array([cost[j].latency_s for j in js])
        all_j = np.arange(1, O)
        steps = max(m, pp) * np.interp(all_j, js, lat)
        e = np.interp(all_j, js, [cost[j].energy_j for j in js])
        c = np.interp(all_j, js, [cost[j].comm_s for j in js])
        energy += float(e.sum()) * m * pp * pm.tp
        comm += max(m, pp) * float(c.sum())
    total = ttft + float(steps.sum())
    return GenerationReport(pm.cfg.name, pm.system.name, tp * pp, tp, pp, batch, I, O, ttft,
                            float(steps.mean()) if O > 1 else 0.0, total, energy, mem, comm,
                            steps, price_per_device_hour)


def prefill_steps(batch: int, input_len: int, max_step_tokens: int) -> list[tuple]:
    """The prefill of ``batch`` prompts of ``input_len`` tokens as ``step`` arguments
    ``(tokens, logits, [(batch, q_len, kv_len)])``: whole prompts packed up to
    ``max_step_tokens`` tokens, longer prompts chunked (each chunk attends to the earlier ones)."""
    return [c for c, k in _prefill_groups(batch, input_len, max_step_tokens) for _ in range(k)]


def _prefill_groups(batch: int, input_len: int, max_step_tokens: int) -> list[tuple]:
    """:func:`prefill_steps` as ``(step, repeats)`` pairs: a huge batch is a few distinct steps
    repeated, never a list of millions."""
    check_positive_int("generate", "max_step_tokens", max_step_tokens)
    if input_len <= max_step_tokens:
        per = max_step_tokens // input_len
        full, rest = divmod(batch, per)
        out = [((per * input_len, per, [(per, input_len, input_len)]), full)] if full else []
        if rest:
            out.append(((rest * input_len, rest, [(rest, input_len, input_len)]), 1))
        return out
    one, done = [], 0
    while done < input_len:
        c = min(max_step_tokens, input_len - done)
        done += c
        one.append(((c, 1 if done == input_len else 0, [(1, c, done)]), batch))
    return one


def _no_fit(model: str, m: Memory, tp: int, pp: int) -> str:
    return (f"does not fit: {model} needs {fmt_bytes(m.total_bytes)} per device (weights "
            f"{fmt_bytes(m.weights_bytes)}, KV {fmt_bytes(m.kv_bytes)}, workspace "
            f"{fmt_bytes(m.workspace_bytes)}) of {fmt_bytes(m.capacity_bytes)} at tp={tp}, "
            f"pp={pp}")


def check_fits(rep: GenerationReport) -> None:
    """Raise ConfigError when a generation does not fit its devices' memory."""
    if rep.fits is False:
        raise ConfigError(_no_fit(rep.model, rep.memory, rep.tp, rep.pp))
