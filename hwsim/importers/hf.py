"""Hugging Face checkpoints: ``config.json`` + ``quantization_config`` + safetensors headers.

``load_hf(path)`` takes a checkpoint directory (or its ``config.json``) and builds the LLM of
:mod:`hwsim.workload.llm` with a precision policy read from the checkpoint:

* ``quantization_config`` (in ``config.json``, or AutoGPTQ's ``quantize_config.json`` / AutoAWQ's
  ``quant_config.json`` next to it) gives the format of quantized linear layers
  (:func:`quant_policy`):

  ====================  ========================================================================
  ``gptq``              ``int{bits}_g{group_size}`` (``sym``) / ``uint{bits}_g{group_size}``;
                        ``group_size: -1`` (per channel) -> ``int{bits}``
  ``awq``               ``uint{bits}_g{group_size}`` with ``zero_point`` (default), else ``int..``
  ``bitsandbytes``      8-bit -> ``int8`` (LLM.int8(); its fp16 outlier columns are not
                        modelled); 4-bit nf4/fp4 -> costed as ``int4_g64`` (same element bits
                        and block of 64; bitsandbytes' non-uniform code book and fp32/8-bit
                        absmax differ), recorded in ``meta["notes"]``
  ``compressed-tensors``  each ``config_groups`` scheme: int -> ``int{b}_g{gs}``/``int{b}``
                        (``uint`` if asymmetric), float 8 -> ``fp8_e4m3``, float 4 group 16 ->
                        ``nvfp4``; ``input_activations`` -> the activation format (W8A8)
  ``fp8``, ``fbgemm_fp8``  ``fp8_e4m3`` weights and (dynamic) activations
  ``mxfp4``             ``mxfp4`` weights
  ====================  ========================================================================

  Modules left unquantized: ``modules_to_not_convert`` / ``llm_int8_skip_modules`` (substring
  match, as ``transformers`` applies them), compressed-tensors ``ignore`` (names or ``re:``
  regexes). Other methods are an UnsupportedError naming the method and the supported ones.
* The safetensors headers (:mod:`.safetensors`; no tensor data is read) say which modules really
  are quantized (``qweight``/``weight_packed``/fp8 or int8 ``weight`` ...) and the stored dtype of
  the others; this per-layer truth wins over the config's lists. Tensors are matched to hwsim ops
  by their module names (``q_proj``/``k_proj``/``v_proj`` -> ``attn.qkv``, ``gate_proj``/``up_proj``
  -> ``mlp.up`` ...); tensors matching no op are counted in ``meta["unmapped_tensors"]``, and the
  checkpoint's parameter count (packed codes unpacked) is ``meta["checkpoint_params"]``.

Precedence: the checkpoint's formats override the caller's ``weights``/``activations`` for the
ops they cover; the caller's ``Precision.overrides`` still win. A checkpoint without a
``quantization_config`` imposes nothing (its float dtype is a what-if the caller sets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .._paths import read_json
from ..errors import ConfigError, UnsupportedError
from .._fields import get_bool, get_str
from ..workload.graph import Precision, Workload
from ..workload.llm import LLMConfig, build_llm
from .safetensors import DTYPE_FORMAT, TensorInfo, read_checkpoint

METHODS = ("gptq", "awq", "bitsandbytes", "compressed-tensors", "fp8", "fbgemm_fp8", "mxfp4")


@dataclass(frozen=True)
class QuantPolicy:
    """What a ``quantization_config`` says: the weight (and activation) format of quantized
    linear layers, the modules left unquantized, and per-module scheme patterns."""

    method: str
    weights: str
    activations: str | None = None
    unquantized: tuple[str, ...] = ()   # substring patterns, or "re:" regexes
    schemes: tuple[tuple[str, str, str | None], ...] = ()  # (regex, weights, activations)
    notes: tuple[str, ...] = ()
    # transformers' quantizers leave the output projection unquantized (get_keys_to_not_convert),
    # GPTQ unless its config says lm_head: true; compressed-tensors targets every Linear
    lm_head: bool = False
    summary: dict = field(default_factory=dict, compare=False)

    def excluded(self, module: str) -> bool:
        for pat in self.unquantized:
            if pat.startswith("re:"):
                if re.match(pat[3:], module):
                    return True
            elif pat in module:
                return True
        return False

    def formats_for(self, module: str) -> tuple[str, str | None]:
        for rx, w, a in self.schemes:
            if re.match(rx, module):
                return w, a
        return self.weights, self.activations


def _int(q: dict, keys: tuple[str, ...], src: str, default=None, lo=1, hi=None) -> int:
    for k in keys:
        if k in q:
            v = q[k]
            if not isinstance(v, int) or isinstance(v, bool) or v < lo or (hi and v > hi):
                rng = f"{lo}..{hi}" if hi else f">= {lo}"
                raise ConfigError(f"{src}: field '{k}' = {v!r}: expected an integer {rng}")
            return v
    if default is None:
        raise ConfigError(f"{src}: missing field '{keys[0]}'")
    return default


def _patterns(q: dict, keys: tuple[str, ...], src: str) -> tuple[str, ...]:
    """A list of module-name patterns (substrings, or ``re:REGEX``), each checked: strings only,
    and every regex compiles."""
    for k in keys:
        v = q.get(k)
        if v is None or v == []:  # an empty list defers to the next spelling, as before
            continue
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"{src}: field '{k}' = {v!r}: expected a list of module names")
        for x in v:
            if x.startswith("re:"):
                _regex(x[3:], f"{src}: field '{k}'")
        return tuple(v)
    return ()


def _regex(rx: str, where: str) -> str:
    try:
        re.compile(rx)
    except (re.error, RecursionError, OverflowError) as e:
        raise ConfigError(f"{where}: {rx!r} is not a valid regular expression ({e})") from None
    return rx


def _int_format(bits: int, group: int, symmetric: bool) -> str:
    base = f"{'' if symmetric else 'u'}int{bits}"
    return base if group in (-1, 0, None) else f"{base}_g{group}"


def quant_policy(q: dict, source: str = "quantization_config") -> QuantPolicy:
    """Read a ``quantization_config`` mapping (see the module table)."""
    if not isinstance(q, dict):
        raise ConfigError(f"{source}: expected a mapping, got {type(q).__name__}")
    method = str(q.get("quant_method", "")).lower().replace("_", "-") if q.get("quant_method") \
        else ("gptq" if "bits" in q and "group_size" in q else
              "awq" if "w_bit" in q else "")
    method = {"fbgemm-fp8": "fbgemm_fp8"}.get(method, method)
    src = f"{source} ({method or 'no quant_method'})"
    skip = _patterns(q, ("modules_to_not_convert", "llm_int8_skip_modules"), src)
    if method == "gptq":
        b = _int(q, ("bits",), src, lo=2, hi=8)
        g = _int(q, ("group_size",), src, default=128, lo=-1, hi=2 ** 20)
        sym = get_bool(q, "sym", src, True)
        w = _int_format(b, g, sym)
        return QuantPolicy(method, w, unquantized=skip, lm_head=get_bool(q, "lm_head", src, False),
                           summary=dict(method=method, bits=b, group_size=g, zero_point=not sym,
                                        weights=w))
    if method == "awq":
        b = _int(q, ("bits", "w_bit"), src, lo=2, hi=8)
        g = _int(q, ("group_size", "q_group_size"), src, default=128, lo=-1, hi=2 ** 20)
        zp = get_bool(q, "zero_point", src, True)
        w = _int_format(b, g, not zp)
        return QuantPolicy(method, w, unquantized=skip, summary=dict(method=method, bits=b,
                           group_size=g, zero_point=zp, weights=w))
    if method == "bitsandbytes":
        if get_bool(q, "load_in_8bit", src, False):
            return QuantPolicy(method, "int8", unquantized=skip,
                               notes=("bitsandbytes int8: LLM.int8() fp16 outlier columns are "
                                      "not modelled",),
                               summary=dict(method=method, bits=8, weights="int8"))
        if get_bool(q, "load_in_4bit", src, False):
            qt = get_str(q, "bnb_4bit_quant_type", src, "fp4")
            return QuantPolicy(method, "int4_g64", unquantized=skip,
                               notes=(f"bitsandbytes {qt}: costed as int4_g64 (4-bit elements, "
                                      "blocks of 64; the code book and absmax format differ)",),
                               summary=dict(method=method, bits=4, group_size=64, quant_type=qt,
                                            weights="int4_g64"))
        raise ConfigError(f"{src}: neither load_in_8bit nor load_in_4bit is true")
    if method in ("fp8", "fbgemm-fp8", "fbgemm_fp8"):
        fmt = get_str(q, "fmt", src, "e4m3").lower()
        w = {"e4m3": "fp8_e4m3", "e5m2": "fp8_e5m2"}.get(fmt)
        if w is None:
            raise ConfigError(f"{src}: field 'fmt' = {fmt!r}: expected 'e4m3' or 'e5m2'")
        act = None if q.get("activation_scheme") == "none" else w
        return QuantPolicy(method, w, act, unquantized=skip,
                           summary=dict(method=method, weights=w, activations=act,
                                        block=q.get("weight_block_size")))
    if method == "mxfp4":
        return QuantPolicy(method, "mxfp4", unquantized=skip,
                           summary=dict(method=method, weights="mxfp4"))
    if method == "compressed-tensors":
        return _compressed_tensors(q, src)
    raise UnsupportedError(f"{source}: quant_method {q.get('quant_method')!r} is not supported; "
                           f"supported: {', '.join(METHODS)}")


def _ct_format(s: dict | None, where: str) -> str | None:
    """One compressed-tensors QuantizationArgs -> a hwsim format name."""
    if not s:
        return None
    if not isinstance(s, dict):
        raise ConfigError(f"{where} = {s!r}: expected a mapping of quantization arguments")
    b = _int(s, ("num_bits",), where, lo=2, hi=16)
    typ = get_str(s, "type", where, "int")
    strategy = get_str(s, "strategy", where, "tensor")
    gs = _int(s, ("group_size",), where, default=-1, lo=-1, hi=2 ** 20) \
        if strategy in ("group", "tensor_group") else None
    if typ == "int":
        return _int_format(b, gs or -1, get_bool(s, "symmetric", where, True))
    if typ == "float" and b == 8:
        return "fp8_e4m3"
    if typ == "float" and b == 4 and gs == 16:
        return "nvfp4"
    if typ == "float" and b == 4 and gs == 32:
        return "mxfp4"
    raise UnsupportedError(f"{where}: {typ} {b}-bit with strategy {strategy!r} and group_size "
                           f"{gs!r} has no hwsim format; supported: int 2..16 (tensor/channel/"
                           "group), float 8, float 4 with group 16 (nvfp4) or 32 (mxfp4)")


def _ct_target(t: str) -> str:
    """A compressed-tensors target (a class name, a module name or ``re:REGEX``) as a regex."""
    if t.startswith("re:"):
        return t[3:]
    if t == "Linear":
        return r".*"
    return re.escape(t) + "$"


def _compressed_tensors(q: dict, src: str) -> QuantPolicy:
    groups = q.get("config_groups")
    if not isinstance(groups, dict) or not groups:
        raise ConfigError(f"{src}: field 'config_groups' must be a non-empty mapping")
    schemes, base = [], None
    for gname, g in groups.items():
        where = f"{src}: config_groups.{gname}"
        if not isinstance(g, dict):
            raise ConfigError(f"{where}: expected a mapping")
        w = _ct_format(g.get("weights"), where + ".weights")
        a = _ct_format(g.get("input_activations"), where + ".input_activations")
        if w is None:
            raise UnsupportedError(f"{where}: activation-only quantization (no 'weights') is not "
                                   "supported")
        for t in _patterns(g, ("targets",), where) or ("Linear",):
            if t == "Linear" and base is None:
                base = (w, a)
            else:
                schemes.append((_regex(_ct_target(t), f"{where}: field 'targets'"), w, a))
    if base is None:
        base = schemes[0][1:]
    ignore = _patterns(q, ("ignore",), src)
    return QuantPolicy("compressed-tensors", base[0], base[1], unquantized=ignore,
                       schemes=tuple(schemes), lm_head=True,
                       summary=dict(method="compressed-tensors", weights=base[0],
                                    activations=base[1], format=q.get("format")))


# ---------------------------------------------------------------------------- module names

# the leaf names of a module's tensors (what follows the module path)
_LEAVES = {"weight", "bias", "qweight", "qzeros", "scales", "g_idx", "weight_packed",
           "weight_scale", "weight_zero_point", "weight_shape", "weight_scale_inv", "SCB",
           "weight_format", "input_scale", "weight_g_idx", "weight_global_scale",
           "input_global_scale", "output_scale", "k_scale", "v_scale", "blocks", "inv_freq"}
_QUANT_LEAVES = {"qweight", "weight_packed", "SCB", "weight_scale", "weight_scale_inv", "blocks"}
_ROLES = [  # (regex on the module path's tail, hwsim op group)
    (r"(self_attn|attention|attn)\.(q_proj|k_proj|v_proj|qkv_proj|query_key_value|c_attn|Wqkv)$",
     "attn.qkv"),
    (r"(self_attn|attention|attn)\.(o_proj|out_proj|dense|c_proj)$", "attn.o"),
    (r"(gate_proj|up_proj|gate_up_proj|fc1|c_fc|w1|w3|dense_h_to_4h)$", "mlp.up"),
    (r"(down_proj|fc2|w2|dense_4h_to_h|mlp\.c_proj)$", "mlp.down"),
    (r"(mlp|block_sparse_moe)\.(gate|router)$", "moe.router"),
    (r"(^|\.)lm_head$", "lm_head"),
    (r"(embed_tokens|wte|word_embeddings)$", "embed"),
    (r"(embed_positions|wpe)$", "pos_embed"),
    (r"(norm|layernorm|ln_f|ln_\d|layer_norm)$", "norm"),
    (r"rotary_emb$", "rotary"),
]
_LINEAR_GROUPS = ("attn.qkv", "attn.o", "mlp.up", "mlp.down", "moe.router")
_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.(\d+)\.")


def module_of(tensor: str) -> tuple[str, str]:
    """(module path, leaf) of a tensor name: ``model.layers.0.mlp.up_proj.qweight`` ->
    (``model.layers.0.mlp.up_proj``, ``qweight``); bitsandbytes' ``weight.absmax`` ... -> leaf
    ``weight.absmax``."""
    parts = tensor.split(".")
    for i, p in enumerate(parts):
        if p in _LEAVES and i > 0:
            return ".".join(parts[:i]), ".".join(parts[i:])
    return ".".join(parts[:-1]), parts[-1]


def op_of(module: str) -> str | None:
    """The hwsim op name a module's weights belong to (None: not a weight of a costed op)."""
    for rx, group in _ROLES:
        if re.search(rx, module):
            if group in ("norm", "rotary"):
                return None
            if group in ("lm_head", "embed", "pos_embed"):
                return group
            m = _LAYER.search(module + ".")
            if m is None:
                return None
            return f"layers.{m.group(1)}.{group}"
    return None


def _canonical_modules(cfg: LLMConfig, op: str) -> list[str]:
    """Hugging Face module names of a hwsim op (llama-style naming), for the config's
    unquantized-module patterns when there is no safetensors header."""
    if op in ("lm_head",):
        return ["lm_head"]
    if op == "embed":
        return ["model.embed_tokens"]
    m = re.match(r"layers\.(\d+)\.(.+)$", op)
    if not m:
        return [op]
    p = f"model.layers.{m.group(1)}."
    tail = {"attn.qkv": ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
            "attn.o": ["self_attn.o_proj"], "mlp.up": ["mlp.gate_proj", "mlp.up_proj"],
            "mlp.down": ["mlp.down_proj"], "moe.router": ["mlp.gate"]}.get(m.group(2), [])
    return [p + t for t in tail]


# ---------------------------------------------------------------------------- loading

def read_hf_dir(path: str | Path) -> tuple[dict, dict | None, Path, str]:
    """(config, quantization_config or None, checkpoint directory, name) of a checkpoint
    directory or its ``config.json``."""
    p = Path(path)
    d, cfg_path = (p, p / "config.json") if p.is_dir() else (p.parent, p)
    if not cfg_path.is_file():
        raise ConfigError(f"{p}: no config.json (a Hugging Face checkpoint directory holds "
                          "config.json and *.safetensors)")
    cfg = read_json(cfg_path, "HF config JSON")
    if not isinstance(cfg, dict):
        raise ConfigError(f"{cfg_path}: expected a JSON object")
    q = cfg.get("quantization_config")
    if q is None:
        for side in ("quantize_config.json", "quant_config.json"):  # AutoGPTQ / AutoAWQ
            f = d / side
            if f.is_file():
                q = read_json(f, "quantization config JSON")
                if not isinstance(q, dict):
                    raise ConfigError(f"{f}: expected a JSON object of quantization settings, "
                                      f"got {type(q).__name__}")
                if side == "quant_config.json" and "quant_method" not in q:
                    q = {"quant_method": "awq", **q}
                if side == "quantize_config.json" and "quant_method" not in q:
                    q = {"quant_method": "gptq", **q}
                break
    name = (d.name if p.is_dir() else (p.parent.name or p.stem)) or "hf"
    return cfg, q, d, name


def _logical_elems(t: TensorInfo, bits: int | None) -> int:
    """Weight elements a stored tensor holds (packed int32/uint8 codes unpacked)."""
    leaf = t.name.rsplit(".", 1)[-1]
    if leaf in ("qweight", "weight_packed") and t.dtype in ("I32", "U32") and bits:
        return t.numel * 32 // bits
    if leaf == "weight" and t.dtype == "U8" and bits == 4:  # bitsandbytes 4-bit: 2 per byte
        return t.numel * 2
    return t.numel


def load_hf(path: str | Path, phase: str = "decode", batch: int = 1, context: int = 2048,
            precision: Precision | None = None, fusion: str = "fused") -> Workload:
    """Build the LLM of a Hugging Face checkpoint directory (or ``config.json``) with the
    checkpoint's precision policy (module docstring)."""
    cfg, q, d, name = read_hf_dir(path)
    src = str(path if Path(path).is_file() else d / "config.json")
    llm = LLMConfig.from_hf(cfg, name=name, source=src)
    user = precision or Precision()
    policy = quant_policy(q, f"{src}: quantization_config") if q is not None else None
    tensors = read_checkpoint(d)
    base = build_llm(llm, phase, batch, context, user, fusion)
    ops = {op.name for op in base.ops}
    # per-op modules from the header (or canonical names when there is none)
    by_op: dict[str, dict[str, dict[str, TensorInfo]]] = {}
    unmapped = 0
    for t in tensors.values():
        mod, leaf = module_of(t.name)
        op = op_of(mod)
        if op is None or op not in ops:
            if not (op is None and re.search(r"(norm|layernorm|ln_f|ln_\d|rotary_emb)",
                                             mod)):
                unmapped += 1
            continue
        by_op.setdefault(op, {}).setdefault(mod, {})[leaf] = t
    overrides: dict[str, dict] = {}
    notes = list(policy.notes) if policy else []
    if policy is not None:
        for op in sorted(ops):
            if op not in ("lm_head", "embed") and op.split(".", 2)[-1] not in _LINEAR_GROUPS:
                continue
            mods = by_op.get(op)
            if tensors and mods:
                quant = {m: bool(_QUANT_LEAVES & set(leaves)) or leaves.get("weight") is not None
                         and leaves["weight"].dtype in ("I8", "U8", "F8_E4M3", "F8_E5M2")
                         for m, leaves in mods.items()}
            elif tensors:
                continue  # tied lm_head / an op without tensors of its own
            else:
                quant = {m: not policy.excluded(m) for m in _canonical_modules(llm, op)}
                if op == "embed" or op == "lm_head" and not policy.lm_head:
                    quant = {m: False for m in quant}  # see QuantPolicy.lm_head
            if not quant:
                continue
            if all(quant.values()):
                w, a = policy.formats_for(next(iter(quant)))
                overrides[op] = {"weights": w, **({"activations": a} if a else {})}
            elif any(quant.values()):
                w, a = policy.formats_for(next(m for m, v in quant.items() if v))
                overrides[op] = {"weights": w, **({"activations": a} if a else {})}
                notes.append(f"{op}: modules {sorted(m for m, v in quant.items() if not v)} are "
                             f"unquantized but fused with quantized ones; costed as {w}")
            elif tensors:  # unquantized module: its stored float dtype
                leaves = next(iter(mods.values()))
                fmt = DTYPE_FORMAT.get(leaves["weight"].dtype) if "weight" in leaves else None
                if fmt:
                    overrides[op] = {"weights": fmt}
    wl = base.with_precision(user.under(overrides))
    bits = (policy.summary.get("bits") if policy else None)
    ckpt = sum(_logical_elems(t, bits) for t in tensors.values()
               if module_of(t.name)[1] in ("weight", "qweight", "weight_packed", "bias"))
    if tensors and ckpt != wl.num_params:
        notes.append(f"checkpoint holds {ckpt} weight elements, the workload counts "
                     f"{wl.num_params}")
    wl.meta.update(source=str(d), quantization=policy.summary if policy else None,
                   checkpoint_tensors=len(tensors), checkpoint_params=ckpt if tensors else None,
                   unmapped_tensors=unmapped, notes=notes)
    return wl
