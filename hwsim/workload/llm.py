"""Decoder-only LLMs from a Hugging Face-style ``config.json`` (llama, mistral, qwen2, opt, mixtral).

Phases: ``prefill`` processes ``context`` prompt tokens per sequence (causal attention over them)
and computes logits for the last position only, as serving engines do; ``decode`` produces one new
token per sequence attending to ``context`` cached tokens plus itself (kv_len = context + 1).

``fusion``: ``"fused"`` (the default) is one kernel per op, as serving engines (vLLM, TensorRT-LLM)
run a step; ``"eager"`` is the kernel sequence PyTorch eager mode launches for the reference
implementation -- RMSNorm as eight kernels (cast to fp32, pow, mean, add eps, rsqrt, cast back,
two multiplies), rotary embedding as seven per tensor (four multiplies, a subtraction, an addition,
a concatenation), SiLU and the gate multiply as two, the KV-cache write as one copy per tensor --
counted from the profile of benchmarks/gpu/llm_decode.py (kernels_fp16_b1.csv: 1418 kernels).

MoE layers (``num_local_experts`` / ``num_experts`` with ``num_experts_per_tok``): the expert FFNs are
one grouped GEMM over the experts that receive tokens. With T tokens routed top-k uniformly among E
experts the expected number of active experts is E·(1 - (1 - k/E)^T) — each active expert's weights
are read once and it processes T·k / active tokens (rounded up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .._fields import get_bool, get_str
from .graph import GraphBuilder, Precision, Workload, llm_precision
from .ops import Attention, Elementwise, Embedding, Gemm, Norm

_GATED = {"silu", "swiglu", "gelu_pytorch_tanh", "gelu_new_gated"}


@dataclass(frozen=True)
class LLMConfig:
    """The architecture fields hwsim uses, normalized across HF model families."""

    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    head_dim: int
    gated_mlp: bool = True
    norm: str = "rms"
    linear_bias: bool = False
    qkv_bias: bool = False
    tie_embeddings: bool = False
    learned_pos: int = 0  # rows of a learned positional-embedding table (OPT: max_pos + 2)
    experts: int = 0
    experts_per_token: int = 0
    proj_dim: int = 0  # OPT word_embed_proj_dim when it differs from hidden

    @classmethod
    def from_hf(cls, cfg: dict, name: str = "", source: str = "config") -> "LLMConfig":
        """Normalize an HF config dict. Every field hwsim reads is type-checked: an error names
        ``source``, the field as the config spells it, its value and what was expected."""
        if not isinstance(cfg, dict):
            raise ConfigError(f"{source}: expected a mapping of HF config fields, got "
                              f"{type(cfg).__name__}")
        mt = get_str(cfg, "model_type", source, "llama").lower()
        f = _HFFields(cfg, source, mt)
        hidden = f.integer(("hidden_size", "d_model", "n_embd"), hi=MAX_HF["hidden"])
        heads = f.integer(("num_attention_heads", "n_head"), hi=MAX_HF["heads"])
        # null means "as many as query heads" (transformers' convention)
        kv_heads = f.integer(("num_key_value_heads",), default=heads, hi=heads)
        if heads % kv_heads:
            raise ConfigError(f"{source}: field 'num_key_value_heads' = {kv_heads} must divide "
                              f"num_attention_heads = {heads}")
        if hidden < heads and cfg.get("head_dim") is None:
            raise ConfigError(f"{source}: field 'num_attention_heads' = {heads} exceeds "
                              f"hidden_size = {hidden} (head_dim would be 0); set head_dim")
        head_dim = f.integer(("head_dim",), default=hidden // heads, hi=MAX_HF["head_dim"])
        act = get_str(cfg, "hidden_act", source,
                      get_str(cfg, "activation_function", source, "silu")).lower()
        is_opt = mt == "opt"
        experts = f.integer(("num_local_experts", "num_experts"), default=0, lo=0,
                        hi=MAX_HF["experts"])
        topk = f.integer(("num_experts_per_tok",), default=0, lo=0, hi=MAX_HF["experts"]) \
            if experts else 0
        if experts and not 1 <= topk <= experts:
            raise ConfigError(f"{source}: field 'num_experts_per_tok' = {topk}: expected an "
                              f"integer in 1..{experts} (num_local_experts)")
        proj = f.integer(("word_embed_proj_dim",), default=hidden, hi=MAX_HF["hidden"]) \
            if is_opt else hidden
        name = name or cfg.get("_name_or_path") or mt
        return cls(
            name=str(name),
            hidden=hidden,
            intermediate=f.integer(("intermediate_size", "ffn_dim", "n_inner"),
                               hi=MAX_HF["intermediate"]),
            layers=f.integer(("num_hidden_layers", "n_layer"), hi=MAX_HF["layers"]),
            heads=heads, kv_heads=kv_heads, head_dim=head_dim,
            vocab=f.integer(("vocab_size",), hi=MAX_HF["vocab"]),
            gated_mlp=(not is_opt) and act in _GATED | {"silu"},
            norm="layer" if is_opt else "rms",
            linear_bias=f.flag("enable_bias", True) if is_opt else f.flag("mlp_bias", False),
            qkv_bias=f.flag("enable_bias", True) if is_opt else f.flag(
                "attention_bias", mt.startswith("qwen2")),
            tie_embeddings=f.flag("tie_word_embeddings", is_opt),
            # OPT's learned positions: max_position_embeddings + 2 rows
            # absent: OPTConfig's default 2048; null sizes no table, so it is an error
            learned_pos=(f.integer(("max_position_embeddings",), default=2048,
                                   hi=MAX_HF["positions"], null_ok=False) + 2) if is_opt else 0,
            experts=experts, experts_per_token=topk,
            proj_dim=proj if proj != hidden else 0,
        )


# Upper bounds of HF config fields: past any published model by orders of magnitude (largest
# seen: hidden 25600, 126 layers, vocab 256k, 256 experts), and small enough that the graph
# (one set of ops per layer) and its FLOP counts stay finite and quick to build
MAX_HF = {"hidden": 2 ** 20, "heads": 2 ** 14, "head_dim": 2 ** 16, "intermediate": 2 ** 22,
          "layers": 4096, "vocab": 2 ** 24, "experts": 2 ** 14, "positions": 2 ** 24}
_ABSENT = object()


class _HFFields:
    """Typed reads of an HF config: integers (not strings, floats or booleans) in a range,
    booleans; a field present as ``null`` takes its default where it has one (``null_ok``),
    else is an error naming it."""

    def __init__(self, cfg: dict, source: str, model_type: str):
        self.cfg, self.source, self.mt = cfg, source, model_type

    def integer(self, keys: tuple[str, ...], default=_ABSENT, lo: int = 1, hi: int | None = None,
                null_ok: bool = True):
        for k in keys:
            v = self.cfg.get(k)
            if v is None and (k not in self.cfg or null_ok and default is not _ABSENT):
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi and v > hi):
                rng = f"in {lo}..{hi}" if hi else f">= {lo}"
                raise ConfigError(f"{self.source}: field '{k}' = {v!r}: expected an integer "
                                  f"{rng}")
            return v
        if default is _ABSENT:
            raise ConfigError(f"{self.source}: missing field '{keys[0]}' (needed for a "
                              f"{self.mt} model)")
        return default

    def flag(self, key: str, default: bool) -> bool:
        return get_bool(self.cfg, key, self.source, default)


def active_experts(experts: int, top_k: int, tokens: int) -> float:
    """Expected number of experts receiving at least one of ``tokens`` tokens (uniform routing)."""
    return experts * (1.0 - (1.0 - top_k / experts) ** tokens)


FUSIONS = ("fused", "eager")


class _Eager:
    """Emits the unfused kernel sequence of PyTorch eager mode for the ops that serving engines
    fuse (see the module docstring for the sequences and where they were counted)."""

    def __init__(self, b: GraphBuilder, act: str):
        self.b, self.act = b, act

    def _k(self, name, group, numel, inputs=1, fmt_in=None, fmt_out=None, L=None, **kw):
        fixed = fmt_in is not None
        f = dict(activations=fmt_in, out=fmt_out or fmt_in, fixed_formats=True) if fixed else {}
        return self.b.add(Elementwise(name=name, group=group, numel=numel, inputs=inputs,
                                      **f, **kw, **(L or {})))

    def rms(self, p, group, T, H, L):
        """x * rsqrt(x.float().pow(2).mean(-1) + eps).to(dtype) * w"""
        k = self._k
        k(p + ".to_fp32", group, T * H, fmt_in=self.act, fmt_out="fp32", fn="cast",
          flops_per_elem=0, L=L)
        k(p + ".pow", group, T * H, fmt_in="fp32", fn="pow", L=L)
        k(p + ".mean", group, T * H, fmt_in="fp32", fn="mean", L=L)
        k(p + ".add_eps", group, T, fmt_in="fp32", fn="add", L=L)
        k(p + ".rsqrt", group, T, fmt_in="fp32", fn="rsqrt", L=L)
        k(p + ".to_half", group, T, fmt_in="fp32", fmt_out=self.act, fn="cast",
          flops_per_elem=0, L=L)
        k(p + ".mul", group, T * H, inputs=2, fn="mul", L=L)
        return k(p + ".mul_weight", group, T * H, inputs=2, fn="mul", L=L)

    def rope(self, p, group, numel, L):
        k = self._k
        for part in ("x1_cos", "x2_sin"):
            k(f"{p}.{part}", group, numel // 2, inputs=2, fn="mul", L=L)
        k(p + ".sub", group, numel // 2, inputs=2, fn="sub", L=L)
        for part in ("x2_cos", "x1_sin"):
            k(f"{p}.{part}", group, numel // 2, inputs=2, fn="mul", L=L)
        k(p + ".add", group, numel // 2, inputs=2, fn="add", L=L)
        return k(p + ".cat", group, numel, fn="cat", flops_per_elem=0, L=L)

    def quant(self, p, group, numel, to, L):
        """x.mul(scale).to(fp8/int8): a static per-tensor scale, then the cast (the eager
        quantization benchmarks/gpu/shapes.py measured)."""
        self._k(p + ".scale", group, numel, fmt_in=self.act, fn="mul", L=L)
        return self._k(p + ".quant", group, numel, fmt_in=self.act, fmt_out=to, fn="cast",
                       flops_per_elem=0, L=L)


def build_llm(cfg: LLMConfig, phase: str = "decode", batch: int = 1, context: int = 2048,
              precision: Precision | None = None, fusion: str = "fused") -> Workload:
    """Build one forward pass of ``cfg``: all layers, embedding to logits; ``fusion`` as in the
    module docstring."""
    from ..errors import check_positive_int

    if phase not in ("prefill", "decode"):
        raise ConfigError(f"phase = {phase!r}: expected 'prefill' or 'decode'")
    if fusion not in FUSIONS:
        raise ConfigError(f"fusion = {fusion!r}: expected one of {', '.join(FUSIONS)}")
    batch = check_positive_int("workload", "batch", batch)
    context = check_positive_int("workload", "context", context)
    precision = llm_precision(precision or Precision())
    lb = _LLMBuilder(cfg, phase, batch, context, precision, fusion)
    lb.embed()
    lb.layers()
    lb.head()
    T = lb.T
    meta = dict(model=cfg.name, kind="llm", phase=phase, batch=batch, context=context,
                tokens=T, new_tokens=batch if phase == "decode" else T, fusion=fusion)
    return lb.b.build(cfg.name, meta, precision)


class _LLMBuilder:
    """The ops of one forward pass, appended in execution order (each chained to the previous
    one; residual adds also to the residual stream)."""

    def __init__(self, cfg: LLMConfig, phase: str, batch: int, context: int,
                 precision: Precision | None, fusion: str):
        precision = precision or Precision()
        self.cfg, self.phase, self.batch = cfg, phase, batch
        self.q = context if phase == "prefill" else 1
        self.kv_len = context if phase == "prefill" else context + 1
        self.T = batch * self.q  # tokens through the linear layers
        self.H, self.hd = cfg.hidden, cfg.head_dim
        self.b = GraphBuilder()
        stream = precision.stream or precision.activations
        self.eager = _Eager(self.b, stream) if fusion == "eager" else None
        # eager graphs quantize each GEMM input in kernels of their own; fused engines do it in
        # the producing kernel's epilogue (no extra kernel, as for the norms they fuse)
        self.quant_to = precision.activations if self.eager and stream != precision.activations \
            else None
        self.ew = dict(flops_per_elem=1)
        self.resid: str | None = None  # the residual stream's last op

    def _gemm(self, numel_in: int, **kw) -> str:
        """A linear layer, preceded in eager graphs by the quantization of its input."""
        if self.quant_to:
            L = {"layer": kw["layer"]} if "layer" in kw else {}
            self.eager.quant(kw["name"], kw["group"] + ".quant", numel_in, self.quant_to, L)
        return self.b.add(Gemm(**kw))

    def layers(self, copy: bool = True) -> None:
        """The decoder layers. They are identical but for their names and layer numbers, so
        layer 0 is built and the others are its copies (``copy=False`` builds each one; the
        test suite checks both give the same graph)."""
        start = len(self.b)
        for i in range(1 if copy else self.cfg.layers):
            self.attention(i)
            self.mlp(i)
        if copy:
            self.b.repeat(start, self.cfg.layers - 1, "layers.0.", lambda k: f"layers.{k}.")
            self.resid = self.b.last

    def norm(self, name, group, L):
        cfg = self.cfg
        if self.eager and cfg.norm == "rms":
            return self.eager.rms(name, group, self.T, self.H, L)
        return self.b.add(Norm(name=name, group=group, rows=self.T, cols=self.H, kind=cfg.norm,
                               affine_bias=cfg.norm == "layer", **L))

    def _residual(self, name: str, L: dict) -> None:
        self.resid = self.b.add(Elementwise(name=name, group="residual", fn="add", inputs=2,
                                            numel=self.T * self.H, **self.ew, **L),
                                deps=[self.b.last, self.resid])

    def embed(self) -> None:
        b, cfg, T, H = self.b, self.cfg, self.T, self.H
        b.add(Embedding(name="embed", group="embed", vocab=cfg.vocab, dim=cfg.proj_dim or H,
                        tokens=T))
        if cfg.learned_pos:
            b.add(Embedding(name="pos_embed", group="embed", vocab=cfg.learned_pos, dim=H,
                            tokens=T))
        if cfg.proj_dim:
            b.add(Gemm(name="project_in", group="embed", M=T, N=H, K=cfg.proj_dim))
        self.resid = b.last

    def attention(self, i: int) -> None:
        b, cfg, eager, T, H, hd = self.b, self.cfg, self.eager, self.T, self.H, self.hd
        p, L = f"layers.{i}.", dict(layer=i)
        self.norm(p + "attn_norm", "attn.norm", L)
        self._gemm(T * H, name=p + "attn.qkv", group="attn.qkv", M=T,
                   N=(cfg.heads + 2 * cfg.kv_heads) * hd, K=H, bias=cfg.qkv_bias, **L)
        if cfg.norm == "rms" and eager:  # rotary embedding on q and k, unfused
            eager.rope(p + "attn.rope.q", "attn.rope", T * cfg.heads * hd, L)
            eager.rope(p + "attn.rope.k", "attn.rope", T * cfg.kv_heads * hd, L)
        elif cfg.norm == "rms":  # rotary embedding on q and k
            b.add(Elementwise(name=p + "attn.rope", group="attn.rope", fn="rope",
                              numel=T * (cfg.heads + cfg.kv_heads) * hd, flops_per_elem=3, **L))
        for t in ("k", "v") if eager else ("",):  # eager: one copy into each cache
            b.add(Elementwise(name=p + "attn.kv_write" + (f".{t}" if t else ""),
                              group="attn.kv_write", fn="kv_write",
                              numel=T * (1 if t else 2) * cfg.kv_heads * hd, flops_per_elem=0,
                              **L))
        b.add(Attention(name=p + "attn.sdpa", group="attn.sdpa", batch=self.batch,
                        heads=cfg.heads, kv_heads=cfg.kv_heads, q_len=self.q,
                        kv_len=self.kv_len, head_dim=hd, causal=True, **L))
        self._gemm(T * cfg.heads * hd, name=p + "attn.o", group="attn.o", M=T, N=H,
                   K=cfg.heads * hd, bias=cfg.linear_bias, **L)
        self._residual(p + "attn.residual", L)

    def mlp(self, i: int) -> None:
        b, cfg, T, H = self.b, self.cfg, self.T, self.H
        p, L = f"layers.{i}.", dict(layer=i)
        self.norm(p + "mlp_norm", "mlp.norm", L)
        I = cfg.intermediate  # noqa: E741
        n_up = 2 * I if cfg.gated_mlp else I
        if cfg.experts:
            act_numel, down = self._moe_up(p, n_up, L)
        else:
            self._gemm(T * H, name=p + "mlp.up", group="mlp.up", M=T, N=n_up, K=H,
                       bias=cfg.linear_bias, **L)
            act_numel, down = T * I, dict(M=T)
        self._activation(p, act_numel, L)
        self._gemm(act_numel, name=p + "mlp.down", group="mlp.down", N=H, K=I,
                   bias=cfg.linear_bias, **down, **L)
        self._residual(p + "mlp.residual", L)

    def _moe_up(self, p: str, n_up: int, L: dict) -> tuple[int, dict]:
        """Router and grouped up-projection over the experts expected to receive tokens;
        returns the activation's size and the down-projection's GEMM shape."""
        b, cfg, T, H = self.b, self.cfg, self.T, self.H
        E, k = cfg.experts, cfg.experts_per_token
        act = active_experts(E, k, T)
        groups = max(1, min(E, math.ceil(act - 1e-9)))
        m_exp = math.ceil(T * k / groups)
        b.add(Gemm(name=p + "moe.router", group="moe.router", M=T, N=E, K=H, **L))
        self._gemm(T * H, name=p + "mlp.up", group="mlp.up", M=m_exp, N=n_up, K=H,
                   groups=groups, weight_groups=E, bias=cfg.linear_bias, **L)
        return groups * m_exp * cfg.intermediate, dict(M=m_exp, groups=groups, weight_groups=E)

    def _activation(self, p: str, act_numel: int, L: dict) -> None:
        b, cfg = self.b, self.cfg
        if self.eager and cfg.gated_mlp:  # F.silu(gate) * up: two kernels
            b.add(Elementwise(name=p + "mlp.act.silu", group="mlp.act", fn="silu", inputs=1,
                              numel=act_numel, flops_per_elem=4, **L))
            b.add(Elementwise(name=p + "mlp.act.mul", group="mlp.act", fn="mul", inputs=2,
                              numel=act_numel, **L))
        else:
            b.add(Elementwise(name=p + "mlp.act", group="mlp.act",
                              fn="silu_mul" if cfg.gated_mlp else "act",
                              inputs=2 if cfg.gated_mlp else 1, numel=act_numel, flops_per_elem=5,
                              **L))

    def head(self) -> None:
        b, cfg, H = self.b, self.cfg, self.H
        self.norm("final_norm", "final_norm", {})
        # prefill: logits for the last position of each sequence only, as serving engines do
        m_logits = self.batch if self.phase == "prefill" else self.T
        if cfg.proj_dim:
            b.add(Gemm(name="project_out", group="lm_head", M=m_logits, N=cfg.proj_dim, K=H))
        self._gemm(m_logits * (cfg.proj_dim or H), name="lm_head", group="lm_head", M=m_logits,
                   N=cfg.vocab, K=cfg.proj_dim or H, tied=cfg.tie_embeddings)
