"""LLM generation timing on an FPGA design and the two fitted FlightLLM-U280 parameters.

``generation(hw, prompt, new)``: prefill of ``prompt`` tokens plus ``new`` decode steps of LLaMA-2-7B
batch 1. FlightLLM's length-adaptive compilation builds one program per bucket of 128 prompt tokens
and 16 decode positions (artifact ``profile/run.py align_token_length``), so a decode step at
position c runs the program of ceil(c / 16) * 16 cached tokens, and prefill pads to a multiple of 128
(the MM engine's ``block_m`` already pads the matmuls).

Fitted parameters (each on one published row; the checks on those rows are consistency checks):

* ``flightllm-u280.weight_channel_efficiency``: bisection so that decode of 512 new tokens after a
  128-token prompt runs at 55 tokens/s (FlightLLM Fig. 1 / artifact README);
* ``flightllm-u280.static_power_w``: 45 W (Fig. 1) minus the modelled dynamic power of that run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ...arch import load_arch
from ...workload import load_workload
from ...workload.ops import Attention

U280_TOKENS_PER_S = 55.0   # FlightLLM Fig. 1; artifact README (paper-claims §3)
U280_POWER_W = 45.0        # FlightLLM Fig. 1 via AccLLM Table VII (paper-claims §3, secondary)
FIT_CASE = (128, 512)      # prompt, new tokens: the artifact's first test case (Fig. 1 gives none)


@dataclass(frozen=True)
class Generation:
    prefill_s: float
    decode_s: float
    decode_energy_j: float
    new_tokens: int

    @property
    def decode_tokens_per_s(self) -> float:
        return self.new_tokens / self.decode_s

    @property
    def decode_power_w(self) -> float:
        return self.decode_energy_j / self.decode_s


@lru_cache(maxsize=64)
def _graph_ops(phase: str, context: int, weights: str, activations: str, model: str) -> tuple:
    wl = load_workload(model, phase=phase, batch=1, context=context, weights=weights,
                       activations=activations)
    return tuple(wl.ops)


@lru_cache(maxsize=64)
def _memo(hw) -> dict:
    return {}


def decode_step_ops(context: int, weights: str, activations: str, model: str) -> list:
    """The ops of one decode step over ``context`` cached tokens. Only the attention ops depend
    on the context (kv_len = context + 1), so the graph is built once (at ``context = 1``) and
    its attention ops re-sized: building the LLaMA graph costs ~0.1 s, a hundred decode programs
    would cost seconds (``test_fpga.py`` checks the result equals a freshly built graph's)."""
    return [replace(op, kv_len=context + 1) if isinstance(op, Attention) else op
            for op in _graph_ops("decode", 1, weights, activations, model)]


@lru_cache(maxsize=512)
def _step(hw, phase: str, context: int, weights: str, activations: str, model: str):
    """(latency_s, energy_j) of one prefill of ``context`` tokens or one decode step."""
    ops = (decode_step_ops(context, weights, activations, model) if phase == "decode" else
           _graph_ops(phase, context, weights, activations, model))
    memo = _memo(hw)
    lat = en = 0.0
    for op in ops:
        c = memo.get(op)
        if c is None:
            c = memo[op] = hw.cost(op)
        lat += c.latency_s
        en += c.energy_j
    return lat, en


def generation(hw, prompt: int, new: int, weights: str = "int4_g128", activations: str = "int8",
               model: str = "llama-2-7b", bucket: int = 16) -> Generation:
    """Prefill + ``new`` decode steps with per-``bucket`` decode programs (module docstring)."""
    pre_t, _ = _step(hw, "prefill", prompt, weights, activations, model)
    dec_t = dec_e = 0.0
    for i in range(new):
        ctx = -(-(prompt + i + 1) // bucket) * bucket
        t, e = _step(hw, "decode", ctx, weights, activations, model)
        dec_t += t
        dec_e += e
    return Generation(pre_t, dec_t, dec_e, new)


def fit_u280(tokens_per_s: float = U280_TOKENS_PER_S, power_w: float = U280_POWER_W) -> dict:
    """Refit the two FlightLLM-U280 parameters; returns ``{weight_channel_efficiency,
    static_power_w}`` (paste them into arch/flightllm-u280.yaml)."""
    prompt, new = FIT_CASE
    lo, hi = 0.05, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        hw = load_arch("flightllm-u280", weight_channel_efficiency=mid, static_power_w=0.0)
        if generation(hw, prompt, new).decode_tokens_per_s < tokens_per_s:
            lo = mid
        else:
            hi = mid
    eff = 0.5 * (lo + hi)
    g = generation(load_arch("flightllm-u280", weight_channel_efficiency=eff, static_power_w=0.0),
                   prompt, new)
    return {"weight_channel_efficiency": eff, "static_power_w": power_w - g.decode_power_w}
