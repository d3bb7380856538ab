"""llama.cpp GGUF files: metadata and tensor infos -> an LLM workload with per-tensor formats.

Format (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): magic ``GGUF``, uint32
version (2 or 3: counts are uint64; version 1's uint32 counts are not read), uint64 tensor count,
uint64 metadata count; metadata as (string key, uint32 value type, value); then per tensor
(string name, uint32 n_dims, uint64 dims[n_dims] -- innermost first, uint32 ggml_type, uint64
offset); then alignment padding and the tensor data, which is never read. Strings are a uint64
length and UTF-8 bytes; everything is little-endian. Parsed with ``struct`` (no ``gguf``
dependency).

The architecture comes from ``general.architecture`` and its ``{arch}.*`` keys
(``embedding_length``, ``feed_forward_length``, ``block_count``, ``attention.head_count(_kv)``,
``attention.key_length``, ``expert_count``, ``expert_used_count``, ``vocab_size`` or the
token-embedding shape); supported architectures: ``llama`` (incl. Mistral/Mixtral exports),
``mistral``, ``qwen2``, ``qwen3``. Each tensor's ggml type becomes its hwsim format (the
llama.cpp types of :mod:`hwsim.formats.gguf`, shared with the CPU family, plus f32/f16/bf16 and
mxfp4); a type hwsim has no format for is an UnsupportedError naming it and its tensors.

Tensors map to ops by name (``blk.N.attn_q/k/v`` -> ``layers.N.attn.qkv``, ``attn_output`` ->
``attn.o``, ``ffn_gate``/``ffn_up`` (``_exps``) -> ``mlp.up``, ``ffn_down`` -> ``mlp.down``,
``ffn_gate_inp`` -> ``moe.router``, ``output`` -> ``lm_head``, ``token_embd`` -> ``embed``). A
fused op whose tensors have different types (Q4_K_M files store ``attn_v`` and some
``ffn_down`` in q6_k) takes the type whose bits per weight are nearest the element-weighted mean,
and ``meta["notes"]`` names the mix. The file's formats override the caller's ``weights`` for
the ops they cover; the caller's ``Precision.overrides`` win.
"""

from __future__ import annotations

import math
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from .. import formats as _formats
from ..errors import ConfigError, UnsupportedError
from ..workload.graph import Precision, Workload
from ..workload.llm import LLMConfig, build_llm

MAGIC = b"GGUF"
# ggml_type enum (ggml.h) -> hwsim format name, None where hwsim has no format
GGML_TYPES = {0: ("f32", "fp32"), 1: ("f16", "fp16"), 2: ("q4_0", "q4_0"), 3: ("q4_1", None),
              6: ("q5_0", None), 7: ("q5_1", None), 8: ("q8_0", "q8_0"), 9: ("q8_1", None),
              10: ("q2_k", "q2_k"), 11: ("q3_k", "q3_k"), 12: ("q4_k", "q4_k"),
              13: ("q5_k", None), 14: ("q6_k", "q6_k"), 15: ("q8_k", None),
              16: ("iq2_xxs", None), 17: ("iq2_xs", None), 18: ("iq3_xxs", None),
              19: ("iq1_s", None), 20: ("iq4_nl", None), 21: ("iq3_s", None),
              22: ("iq2_s", None), 23: ("iq4_xs", None), 24: ("i8", "int8"),
              25: ("i16", "int16"), 26: ("i32", "int32"), 27: ("i64", None), 28: ("f64", None),
              29: ("iq1_m", None), 30: ("bf16", "bf16"), 34: ("tq1_0", None),
              35: ("tq2_0", None), 39: ("mxfp4", "mxfp4")}
# metadata value types: struct code, or special handling for string (8) and array (9)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}
ARCHS = ("llama", "mistral", "qwen2", "qwen3")


@dataclass(frozen=True)
class GGUFTensor:
    name: str
    shape: tuple[int, ...]  # ggml order: innermost (row length) first
    ggml_type: int

    @property
    def type_name(self) -> str:
        return GGML_TYPES.get(self.ggml_type, (f"type{self.ggml_type}", None))[0]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


# smallest encoding of one entry, to bound a count by the bytes left before allocating: a string
# is a uint64 length; an array a uint32 type and a uint64 count; a metadata entry a key string and
# a uint32 type and a 1-byte value; a tensor info a name, uint32 n_dims, uint32 type, uint64 offset
_MIN_BYTES = {8: 8, 9: 12, "kv": 8 + 4 + 1, "tensor": 8 + 4 + 4 + 8}
MAX_ARRAY_DEPTH = 8  # arrays of arrays: GGUF files nest at most 2 deep
MAX_DIM = 2 ** 40    # a tensor dimension beyond 1e12 elements is a corrupt header


class _Reader:
    """Reads a GGUF header; every length and count is checked against the bytes left in the file
    before anything is allocated (a 100-byte file claiming 2**40 entries is a ConfigError)."""

    def __init__(self, f, path, size: int):
        self.f, self.path, self.size = f, path, size

    def left(self) -> int:
        return self.size - self.f.tell()

    def count(self, n: int, each: int, what: str) -> int:
        """``n`` entries of at least ``each`` bytes must fit in the rest of the file."""
        if n * each > self.left():
            raise ConfigError(f"{self.path}: GGUF {what} = {n}, but only {self.left()} bytes "
                              f"follow (corrupt or truncated file)")
        return n

    def take(self, n: int) -> bytes:
        self.count(n, 1, "byte length")
        b = self.f.read(n)
        if len(b) < n:
            raise ConfigError(f"{self.path}: GGUF header truncated at byte {self.f.tell()}")
        return b

    def u(self, code: str):
        return struct.unpack(code, self.take(struct.calcsize(code)))[0]

    def string(self) -> str:
        return self.take(self.u("<Q")).decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0):
        if vtype in _SCALARS:
            return self.u(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            if depth >= MAX_ARRAY_DEPTH:
                raise ConfigError(f"{self.path}: GGUF arrays nested more than {MAX_ARRAY_DEPTH} "
                                  "deep (corrupt?)")
            et, n = self.u("<I"), self.u("<Q")
            if et in _SCALARS:  # numeric arrays in one read
                code = _SCALARS[et]
                raw = self.take(self.count(n, struct.calcsize(code), "array length")
                                * struct.calcsize(code))
                return list(struct.unpack(f"<{n}{code[1]}", raw)) if n < 4096 else n
            if et not in _MIN_BYTES:
                raise ConfigError(f"{self.path}: unknown GGUF array element type {et}")
            self.count(n, _MIN_BYTES[et], "array length")
            vals = [self.value(et, depth + 1) for _ in range(n)]
            return vals if n < 4096 else n
        raise ConfigError(f"{self.path}: unknown GGUF metadata value type {vtype}")


def read_gguf(path: str | Path) -> tuple[dict, list[GGUFTensor]]:
    """(metadata, tensor infos) of a GGUF file; only the header is read. Arrays of 4096 or more
    entries (token lists) are returned as their length."""
    p = Path(path)
    try:
        f = open(p, "rb")
        size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise ConfigError(f"{p}: cannot read GGUF file ({e.strerror or e})") from None
    with f:
        r = _Reader(f, p, size)
        magic = r.take(4)
        if magic != MAGIC:
            raise ConfigError(f"{p}: not a GGUF file (magic {magic!r}, expected {MAGIC!r})")
        version = r.u("<I")
        if version not in (2, 3):
            raise UnsupportedError(f"{p}: GGUF version {version}; versions 2 and 3 are supported")
        n_tensors, n_kv = r.u("<Q"), r.u("<Q")
        r.count(n_kv, _MIN_BYTES["kv"], "metadata count")
        meta = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.u("<I"))
        r.count(n_tensors, _MIN_BYTES["tensor"], "tensor count")
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            nd = r.u("<I")
            if nd > 8:
                raise ConfigError(f"{p}: tensor {name!r} has {nd} dimensions (corrupt?)")
            dims = tuple(r.u("<Q") for _ in range(nd))
            if any(not 1 <= d <= MAX_DIM for d in dims):
                raise ConfigError(f"{p}: tensor {name!r} has dimensions {list(dims)}; expected "
                                  f"each in [1, {MAX_DIM}] (corrupt?)")
            gt = r.u("<I")
            r.u("<Q")  # data offset: the data is not read
            tensors.append(GGUFTensor(name, dims, gt))
    return meta, tensors


def write_gguf(path: str | Path, metadata: dict, tensors: list[tuple[str, list[int], int]]) -> Path:
    """Write a GGUF header (version 3) with these metadata (str, int, float, bool values) and
    ``(name, ggml dims, ggml_type)`` tensor infos, without tensor data (test fixtures)."""
    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    out = [MAGIC, struct.pack("<IQQ", 3, len(tensors), len(metadata))]
    for k, v in metadata.items():
        if isinstance(v, bool):
            out.append(s(k) + struct.pack("<I?", 7, v))
        elif isinstance(v, int):
            out.append(s(k) + struct.pack("<IQ", 10, v) if v >= 0 else s(k) +
                       struct.pack("<Iq", 11, v))
        elif isinstance(v, float):
            out.append(s(k) + struct.pack("<If", 6, v))
        elif isinstance(v, str):
            out.append(s(k) + struct.pack("<I", 8) + s(v))
        elif isinstance(v, list) and all(isinstance(x, str) for x in v):
            out.append(s(k) + struct.pack("<IIQ", 9, 8, len(v)) + b"".join(s(x) for x in v))
        else:
            raise TypeError(f"metadata {k!r}: unsupported value {v!r}")
    off = 0
    for name, dims, gt in tensors:
        out.append(s(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, gt, off))
        off += 32 * math.prod(dims)  # placeholder offsets: the data section is not written
    p = Path(path)
    p.write_bytes(b"".join(out))
    return p


# ---------------------------------------------------------------------------- workload

_OPS = [(r"attn_(q|k|v|qkv)$", "attn.qkv"), (r"attn_output$", "attn.o"),
        (r"ffn_(gate|up)(_exps)?$", "mlp.up"), (r"ffn_down(_exps)?$", "mlp.down"),
        (r"ffn_gate_inp$", "moe.router")]
_NON_OPS = re.compile(r"(_norm|rope_freqs|attn_q_norm|attn_k_norm)$")


def op_of(tensor: str) -> str | None:
    """The hwsim op a GGUF tensor's weights belong to (None: norm scales, rope tables)."""
    base, _, leaf = tensor.rpartition(".")
    if leaf not in ("weight", "bias"):
        return None
    if base == "token_embd":
        return "embed"
    if base == "output":
        return "lm_head"
    m = re.match(r"blk\.(\d+)\.(.+)$", base)
    if m:
        for rx, group in _OPS:
            if re.match(rx, m.group(2)):
                return f"layers.{m.group(1)}.{group}"
    return None


def llm_config(meta: dict, tensors: list[GGUFTensor], name: str, src: str) -> LLMConfig:
    arch = meta.get("general.architecture")
    if arch not in ARCHS:
        raise UnsupportedError(f"{src}: general.architecture = {arch!r}; supported: "
                               f"{', '.join(ARCHS)}")
    by = {t.name: t for t in tensors}

    def key(k, required=True):
        """A count from the metadata (the key named as the file spells it)."""
        v = meta.get(f"{arch}.{k}")
        if v is None and required:
            raise ConfigError(f"{src}: missing metadata key '{arch}.{k}'")
        lo = 1 if required else 0  # optional counts: 0 reads as absent (dense, kv = heads)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo):
            raise ConfigError(f"{src}: metadata '{arch}.{k}' = {v!r}: expected an integer "
                              f">= {lo}")
        return v

    vocab = key("vocab_size", False)
    if vocab is None:
        toks = meta.get("tokenizer.ggml.tokens")
        vocab = toks if isinstance(toks, int) else len(toks) if isinstance(toks, list) else None
    if vocab is None and "token_embd.weight" in by:
        vocab = by["token_embd.weight"].shape[-1]
    hidden, heads = key("embedding_length"), key("attention.head_count")
    cfg = {"model_type": arch, "hidden_size": hidden, "intermediate_size":
           key("feed_forward_length"), "num_hidden_layers": key("block_count"),
           "num_attention_heads": heads,
           "num_key_value_heads": key("attention.head_count_kv", False) or heads,
           "vocab_size": vocab, "tie_word_embeddings": "output.weight" not in by,
           "attention_bias": "blk.0.attn_q.bias" in by}
    if key("attention.key_length", False):
        cfg["head_dim"] = key("attention.key_length")
    if key("expert_count", False):
        cfg["num_local_experts"] = key("expert_count")
        cfg["num_experts_per_tok"] = key("expert_used_count")
        cfg["intermediate_size"] = key("expert_feed_forward_length", False) or \
            cfg["intermediate_size"]
    return LLMConfig.from_hf(cfg, name=name, source=src)


def load_gguf(path: str | Path, phase: str = "decode", batch: int = 1, context: int = 2048,
              precision: Precision | None = None, fusion: str = "fused") -> Workload:
    """Build the LLM of a GGUF file with its per-tensor formats (module docstring)."""
    p = Path(path)
    meta, tensors = read_gguf(p)
    name = str(meta.get("general.name") or p.stem)
    cfg = llm_config(meta, tensors, name, str(p))
    missing = {}
    for t in tensors:
        if op_of(t.name) and GGML_TYPES.get(t.ggml_type, (None, None))[1] is None:
            missing.setdefault(t.type_name, []).append(t.name)
    if missing:
        have = sorted({n for n, f in GGML_TYPES.values() if f})
        raise UnsupportedError(
            f"{p}: ggml type(s) without a hwsim format: " + "; ".join(
                f"{k} ({len(v)} tensors, e.g. {v[0]})" for k, v in sorted(missing.items()))
            + f"; supported: {', '.join(have)}")
    user = precision or Precision()
    base = build_llm(cfg, phase, batch, context, user, fusion)
    ops = {op.name for op in base.ops}
    groups: dict[str, list[GGUFTensor]] = {}
    unmapped = 0
    for t in tensors:
        op = op_of(t.name)
        if op in ops:
            if t.name.endswith(".weight"):
                groups.setdefault(op, []).append(t)
        elif op is None and _NON_OPS.search(t.name.rpartition(".")[0]):
            continue
        elif not t.name.endswith(".bias"):
            unmapped += 1
    overrides, notes = {}, []
    for op, ts in groups.items():
        fmts = {GGML_TYPES[t.ggml_type][1] for t in ts}
        fmt = _nearest(ts)
        overrides[op] = {"weights": fmt}
        if len(fmts) > 1:
            mix = ", ".join(f"{t.name.rsplit('.', 2)[-2]}={t.type_name}" for t in ts)
            notes.append(f"{op}: {mix}; costed as {fmt}")
    wl = base.with_precision(user.under(overrides))
    file_params = sum(t.numel for t in tensors if op_of(t.name) or
                      _NON_OPS.search(t.name.rpartition(".")[0]) and "rope" not in t.name)
    if file_params != wl.num_params:
        notes.append(f"file holds {file_params} weight elements, the workload counts "
                     f"{wl.num_params}")
    types = {}
    for t in tensors:
        types[t.type_name] = types.get(t.type_name, 0) + 1
    wl.meta.update(source=str(p), architecture=meta.get("general.architecture"),
                   gguf_types=types, file_params=file_params, unmapped_tensors=unmapped,
                   notes=notes, file_type=meta.get("general.file_type"))
    return wl


def _nearest(ts: list[GGUFTensor]) -> str:
    """The format of these tensors whose bits/weight are nearest their element-weighted mean."""
    fmts = [GGML_TYPES[t.ggml_type][1] for t in ts]
    bits = [_formats.get(f).storage_bits for f in fmts]
    total = sum(t.numel for t in ts)
    mean = sum(b * t.numel for b, t in zip(bits, ts)) / total
    return min(zip(fmts, bits), key=lambda fb: (abs(fb[1] - mean), fb[1]))[0]
