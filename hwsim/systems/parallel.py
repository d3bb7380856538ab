"""Tensor and pipeline parallelism of decoder LLMs over a :class:`~hwsim.systems.system.System`.

Tensor parallelism (Megatron-LM, Shoeybi et al. 2019): QKV and MLP up/gate are column-parallel,
the attention output and MLP down projections row-parallel, so each of ``tp`` devices holds
``heads/tp`` query heads, ``max(1, kv_heads/tp)`` KV heads (KV heads are replicated when fewer than
``tp``, as vLLM does), ``intermediate/tp`` MLP columns and ``vocab/tp`` rows of the embedding and
LM head; one all-reduce of the ``tokens x hidden`` activations follows attention and one the MLP,
and the vocab-parallel logits are all-gathered. The all-reduces sit on the critical path (serving
engines run them between layers; no compute overlap is assumed).

Pipeline parallelism: ``pp`` stages of ``ceil(layers/pp)`` layers (the largest stage sets the pace;
the first holds the embedding, the last the LM head -- both charged to the bottleneck stage, which
over-counts the embedding gather, a few microseconds), activations sent point-to-point between
stages.

Every device costs its shard's ops with the calibrated model of its family (``system.device``):
the per-device step is built from ONE decoder layer of the sharded config (identical layers are
costed once) and multiplied by the layers of a stage; attention is costed per (batch, q_len,
kv_len) with a memo, so a step at a new context costs one attention evaluation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .. import formats as _formats
from ..errors import ConfigError
from ..workload.graph import Precision, llm_precision
from ..workload.llm import LLMConfig, build_llm
from ..workload.ops import Attention, Elementwise, Embedding, Gemm, Norm
from ..costing import CostSum, sum_costs
from .memory import BLOCK_TOKENS, Memory, op_activation_bytes
from .system import System, load_system


def llm_config(model) -> LLMConfig:
    """An :class:`LLMConfig` from a workload preset name, an HF ``config.json`` path or itself.
    Files are parsed once per (path, modification time): YAML parsing (~50 ms) would otherwise
    dominate a cold step."""
    if isinstance(model, LLMConfig):
        return model
    from ..workload.presets import workload_spec

    from .._paths import preset_dir

    p = Path(str(model))
    if p.suffix not in (".json", ".yaml", ".yml") and not p.exists():
        p = preset_dir("workloads") / f"{model}.yaml"
        if not p.exists():
            workload_spec(model)  # raises UnknownNameError with suggestions
    try:
        stamp = p.stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _llm_config(str(model), str(p), stamp)


@lru_cache(maxsize=64)
def _llm_config(model: str, path: str, stamp: int) -> LLMConfig:
    import json

    from ..workload.presets import workload_spec

    p = Path(model)
    if p.suffix == ".json":
        try:
            cfg = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"{p}: cannot read HF config ({e})") from None
        return LLMConfig.from_hf(cfg, name=p.parent.name or p.stem, source=str(p))
    spec, src = workload_spec(model)
    if spec.get("kind") != "llm":
        raise ConfigError(f"model {model!r}: kind = {spec.get('kind')!r}: generation and serving "
                          "need an LLM (kind: llm)")
    return LLMConfig.from_hf(spec.get("config", {}), name=spec.get("name", src.stem),
                             source=f"{src}: config")


def shard_config(cfg: LLMConfig, tp: int) -> LLMConfig:
    """The part of ``cfg`` one of ``tp`` tensor-parallel devices holds (same layer count)."""
    if not isinstance(tp, int) or isinstance(tp, bool) or tp < 1:
        raise ConfigError(f"tp = {tp!r}: expected a positive integer")
    if cfg.heads % tp:
        raise ConfigError(f"tp = {tp}: must divide the {cfg.heads} attention heads of {cfg.name}")
    if cfg.kv_heads % tp and tp % cfg.kv_heads:
        raise ConfigError(f"tp = {tp}: must divide, or be a multiple of, the {cfg.kv_heads} KV "
                          f"heads of {cfg.name}")
    if cfg.intermediate % tp:
        raise ConfigError(f"tp = {tp}: must divide intermediate_size {cfg.intermediate} of "
                          f"{cfg.name}")
    if tp == 1:
        return cfg
    return dataclasses.replace(cfg, heads=cfg.heads // tp, kv_heads=max(1, cfg.kv_heads // tp),
                               intermediate=cfg.intermediate // tp,
                               vocab=math.ceil(cfg.vocab / tp))


@dataclass(frozen=True)
class StepCost:
    """One forward step on one device of the bottleneck pipeline stage (seconds, joules)."""

    latency_s: float
    energy_j: float
    compute_s: float
    comm_s: float


class ParallelModel:
    """``cfg`` sharded over ``tp x pp`` devices of ``system``; costs steps and memory per device."""

    def __init__(self, model, system: System | str, *, tp: int = 1, pp: int = 1,
                 weights: str = "fp16", activations: str = "fp16", kv: str | None = None,
                 fusion: str = "fused", kv_per_query_head: bool = False):
        """``kv_per_query_head``: decode attention reads the KV cache once per *query* head
        (a GQA-unaware kernel) instead of once per KV head -- a counterfactual for software
        stacks before GQA-specific decode kernels (TensorRT-LLM's XQA kernel, announced
        2024-01-30 with "2.4x more Llama-70B throughput"); memory is unchanged."""
        self.kv_per_query_head = kv_per_query_head
        self.cfg = llm_config(model)
        self.system = load_system(system) if not isinstance(system, System) else system
        if not isinstance(pp, int) or isinstance(pp, bool) or pp < 1:
            raise ConfigError(f"pp = {pp!r}: expected a positive integer")
        if pp > self.cfg.layers:
            raise ConfigError(f"pp = {pp}: more pipeline stages than the {self.cfg.layers} layers "
                              f"of {self.cfg.name}")
        if tp * pp > self.system.devices:
            raise ConfigError(f"tp x pp = {tp} x {pp} = {tp * pp}: more devices than the "
                              f"{self.system.devices} of {self.system.name} (pass devices=N to "
                              "load_system or --devices)")
        self.tp, self.pp = tp, pp
        self.shard = shard_config(self.cfg, tp)
        self.stage_layers = math.ceil(self.cfg.layers / pp)
        self.precision = llm_precision(Precision(weights, activations, kv))
        self.fusion = fusion
        # tensor-parallel all-reduces and pipeline sends move the residual stream
        self.act_bytes = _formats.get(self.precision.stream or activations).storage_bits / 8
        self.kv_format = kv or activations
        self.hw = self.system.device
        summary = self.hw.summary()  # read once: step() and memory() run per serving iteration
        self._idle_power_w = summary.idle_power_w
        cap = summary.mem_capacity_bytes
        self._capacity_bytes = float(cap) if cap else None
        self._one = dataclasses.replace(self.shard, layers=1)
        self._lin: dict[int, tuple] = {}
        self._ops_of: dict[int, list] = {}
        self._attn: dict[tuple, tuple] = {}
        self._cost: dict = {}
        ops = self._ops(1)  # memory queries need the ops only: nothing is costed until a step
        self._attn_op = next(op for op in ops if isinstance(op, Attention))
        self._lm_head = next(op for op in ops if op.name == "lm_head")

    # -- per-device pieces -------------------------------------------------------------------
    def _template(self, tokens: int):
        """(layer latency, layer energy, head latency/energy, ops) of non-attention ops for
        ``tokens`` tokens; the LM head is costed separately (its rows are the sequences)."""
        hit = self._lin.get(tokens)
        if hit is None:
            ops = self._ops(tokens)
            rest = [op for op in ops if not isinstance(op, Attention) and op.name != "lm_head"]
            in_layer = [op for op in rest if op.layer is not None and op.layer >= 0]
            outside = [op for op in rest if op.layer is None or op.layer < 0]
            if self.hw.order_dependent:  # step() sums these in run order instead
                lay = head = CostSum(0.0, 0.0, ())
            else:
                lay = sum_costs(self.hw, in_layer, memo=self._cost)
                head = sum_costs(self.hw, outside, memo=self._cost)
            hit = self._lin[tokens] = (lay.latency_s, lay.energy_j,
                                       (head.latency_s, head.energy_j), ops)
        return hit

    def _linear(self, tokens: int) -> tuple[float, float, float, float]:
        """(layer s, layer J, head s, head J) of the non-attention ops for ``tokens`` tokens:
        exact up to 64 tokens and at multiples of 16, linearly interpolated between the two
        nearest multiples of 16 otherwise (GEMM time is piecewise linear in M; this bounds the
        distinct evaluations a serving run needs)."""
        if tokens <= 64 or tokens % 16 == 0:
            a, b, (c, d), _ = self._template(tokens)
            return a, b, c, d
        lo = tokens // 16 * 16
        f = (tokens - lo) / 16
        x, y = self._linear(lo), self._linear(lo + 16)
        return tuple(u + f * (v - u) for u, v in zip(x, y))

    def _ops(self, tokens: int) -> list:
        """The one-layer op list for ``tokens`` tokens (built once per token count)."""
        ops = self._ops_of.get(tokens)
        if ops is None:
            ops = self._ops_of[tokens] = self._retoken(tokens)
        return ops

    def _retoken(self, tokens: int) -> list:
        """The one-layer op list for ``tokens`` tokens: the 1-token graph with its token
        dimension scaled (building a graph per token count costs ~2 ms; this ~0.1 ms). MoE
        layers (expert grouping depends on the tokens) are rebuilt."""
        if self.cfg.experts or 1 not in self._ops_of:
            return build_llm(self._one, "decode", tokens, 1, self.precision, self.fusion).ops
        base = self._ops_of[1]
        t0 = next(op.M for op in base if op.name.endswith("attn.qkv"))
        out = []
        for op in base:
            if isinstance(op, Attention):
                out.append(dataclasses.replace(op, batch=tokens))
            elif isinstance(op, Gemm):
                out.append(dataclasses.replace(op, M=op.M // t0 * tokens))
            elif isinstance(op, Elementwise):
                out.append(dataclasses.replace(op, numel=op.numel // t0 * tokens))
            elif isinstance(op, Norm):
                out.append(dataclasses.replace(op, rows=op.rows // t0 * tokens))
            elif isinstance(op, Embedding):
                out.append(dataclasses.replace(op, tokens=op.tokens // t0 * tokens))
            else:
                return build_llm(self._one, "decode", tokens, 1, self.precision, self.fusion).ops
        return out

    def _op_cost(self, op):
        c = self._cost.get(op)
        if c is None:
            c = self._cost[op] = self.hw.cost(op)
        return c

    def attention(self, batch: int, q_len: int, kv_len: int) -> tuple[float, float]:
        """(seconds, joules) of one layer's attention on one device."""
        key = (batch, q_len, kv_len)
        hit = self._attn.get(key)
        if hit is None:
            c = self._op_cost(self._attention_op(batch, q_len, kv_len))
            hit = self._attn[key] = (c.latency_s, c.energy_j)
        return hit

    def _attention_op(self, batch: int, q_len: int, kv_len: int) -> Attention:
        op = dataclasses.replace(self._attn_op, batch=batch, q_len=q_len, kv_len=kv_len)
        if self.kv_per_query_head and q_len == 1:
            op = dataclasses.replace(op, kv_heads=op.heads)
        return op

    def comm_s(self, tokens: int, logits: int) -> float:
        """Per-step communication time of one device: 2 all-reduces per layer of the stage,
        the logits all-gather, one stage-to-stage send."""
        t = 0.0
        if self.tp > 1:
            t += 2 * self.stage_layers * self.system.all_reduce_s(
                tokens * self.cfg.hidden * self.act_bytes, self.tp)
            if logits:
                t += self.system.all_gather_s(logits * self.cfg.vocab * 2.0, self.tp)
        if self.pp > 1:
            t += self.system.p2p_s(tokens * self.cfg.hidden * self.act_bytes, self.tp)
        return t

    def step(self, tokens: int, logits: int, attn: list[tuple[int, int, int]]) -> StepCost:
        """One forward step of the bottleneck stage: ``tokens`` tokens through the linear layers,
        ``logits`` rows through the LM head, attention calls ``(batch, q_len, kv_len)`` per layer
        (one per group of sequences sharing a shape)."""
        if tokens < 1:
            raise ConfigError(f"step: tokens = {tokens!r}: expected >= 1")
        if self.hw.order_dependent:
            summed = sum_costs(self.hw, self._run_order(tokens, logits, attn), memo=self._cost)
            comp_s, comp_j = summed.latency_s, summed.energy_j
        else:
            lay_s, lay_j, head_s, head_j = self._linear(tokens)
            a_s = a_j = 0.0
            for b, q, kv in attn:
                s, j = self.attention(b, q, kv)
                a_s, a_j = a_s + s, a_j + j
            comp_s = self.stage_layers * (lay_s + a_s) + head_s
            comp_j = self.stage_layers * (lay_j + a_j) + head_j
            if logits:
                c = self._op_cost(dataclasses.replace(self._lm_head, M=logits))
                comp_s, comp_j = comp_s + c.latency_s, comp_j + c.energy_j
        comm = self.comm_s(tokens, logits)
        return StepCost(comp_s + comm, comp_j + self._idle_power_w * comm, comp_s, comm)

    def _run_order(self, tokens: int, logits: int, attn: list[tuple[int, int, int]]) -> list:
        """The step's ops in run order (for hardware whose costs depend on it): the ops before
        the first layer, ``stage_layers`` copies of one layer with its attention calls in place,
        the ops after, the LM head over ``logits`` rows."""
        ops = self._ops(tokens)
        in_layer = [op.layer is not None and op.layer >= 0 for op in ops]
        first = in_layer.index(True)
        last = len(ops) - 1 - in_layer[::-1].index(True)
        layer = []
        for op in ops[first:last + 1]:
            if isinstance(op, Attention):
                layer += [self._attention_op(b, q, kv) for b, q, kv in attn]
            else:
                layer.append(op)
        after = [op for op in ops[last + 1:] if op.name != "lm_head"]
        head = [dataclasses.replace(self._lm_head, M=logits)] if logits else []
        return ops[:first] + layer * self.stage_layers + after + head

    # -- memory ------------------------------------------------------------------------------
    @cached_property
    def weight_bytes(self) -> float:
        """Weight bytes on the most loaded device (computed once: memory queries ask often)."""
        lay, heads = 0.0, []
        for op in self._ops(1):
            if not op.param_elems:
                continue
            b = op.weight_bytes
            if op.layer is not None and op.layer >= 0:
                lay += b
            else:
                heads.append(b)
        # pp > 1: embedding on the first stage, LM head on the last -- the larger of them
        head = max(heads, default=0.0) if self.pp > 1 else sum(heads)
        return self.stage_layers * lay + head

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes one token of one sequence takes on one device (all its stage's layers)."""
        return (self.stage_layers * 2 * self.shard.kv_heads * self.shard.head_dim
                * _formats.get(self.kv_format).storage_bits / 8)

    def workspace_bytes(self, tokens: int, logits: int) -> float:
        """Largest live activation of a step of ``tokens`` tokens, plus fp32 logits."""
        ops = self._ops(tokens)
        ws = max(op_activation_bytes(op) for op in ops if not isinstance(op, Attention))
        return ws + logits * self.shard.vocab * 4.0

    def memory(self, sequences: int, tokens_per_seq: int, *, step_tokens: int | None = None,
               paged: bool = False) -> Memory:
        """Per-device memory holding ``sequences`` sequences of ``tokens_per_seq`` KV tokens,
        with a step of ``step_tokens`` tokens (default ``sequences``) in flight."""
        toks = BLOCK_TOKENS * math.ceil(tokens_per_seq / BLOCK_TOKENS) if paged else tokens_per_seq
        st = step_tokens or sequences
        return Memory(self.weight_bytes, sequences * toks * self.kv_bytes_per_token,
                      self.workspace_bytes(st, sequences), self._capacity_bytes)

    def max_batch(self, context: int, *, step_tokens: int | None = None,
                  utilization: float = 1.0, paged: bool = False) -> int:
        """Most sequences of ``context`` KV tokens that fit per device (0 when the weights alone
        do not); ``utilization`` is the usable fraction of device memory."""
        cap = self._capacity_bytes
        if cap is None:
            raise ConfigError(f"{self.hw.name}: memory capacity unknown (no mem_capacity_bytes)")
        lo, hi = 0, 1
        fits = lambda b: self.memory(b, context, step_tokens=step_tokens, paged=paged  # noqa: E731
                                     ).total_bytes <= utilization * cap
        while fits(hi):
            lo, hi = hi, hi * 2
            if hi > 1 << 20:
                return lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        return lo


def min_tp(model, system: System | str, *, context: int, batch: int = 1, pp: int = 1,
           weights: str = "fp16", activations: str = "fp16", kv: str | None = None,
           max_devices: int = 64) -> int | None:
    """Smallest tensor-parallel degree (a valid one: divides heads) whose per-device memory for
    ``batch`` sequences of ``context`` tokens fits; None when none up to ``max_devices`` does."""
    cfg = llm_config(model)
    sysm = load_system(system) if not isinstance(system, System) else system
    for tp in range(1, max_devices + 1):
        try:
            shard_config(cfg, tp)
        except ConfigError:
            continue
        big = load_system(sysm, devices=max(sysm.devices, tp * pp))
        pm = ParallelModel(cfg, big, tp=tp, pp=pp, weights=weights, activations=activations, kv=kv)
        if pm.memory(batch, context).fits:
            return tp
    return None
