"""Argument types and options the ``hwsim`` commands share: the workload arguments of ``eval`` and
``plot`` (one definition, so the two commands cannot drift apart), checked numeric flag types,
``--set KEY=VALUE`` arch overrides, and a parser whose errors are one ``hwsim: error:`` line."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from .errors import ConfigError, HwsimError

# Integer flags are bounded: a count past 2^31 (batch, tokens, requests) is never meant and would
# overflow int32 shapes in importers or allocate without bound before any other check runs.
MAX_INT = 2**31 - 1
# defaults the workload options take when the user does not give them (None means "not given",
# so a flag that does not apply to the workload can be refused instead of ignored)
DEFAULT_PHASE, DEFAULT_CONTEXT = "decode", 2048


class UsageError(HwsimError):
    """A command line argparse refuses (unknown flag, value of the wrong type or range)."""


class Parser(argparse.ArgumentParser):
    """argparse whose errors are :class:`UsageError` -- printed by ``hwsim.cli.main`` as one
    ``hwsim: error:`` line (exit 2) instead of the usage block; subcommand parsers inherit it."""

    def error(self, message: str):  # noqa: D102 -- argparse's hook
        # "argument --batch: = 0: expected ..." (a type below) -> "--batch = 0: expected ..."
        m = re.match(r"argument ([^:]+): (= .*)", message, re.S)
        if m:
            message = f"{m[1].split('/')[-1]} {m[2]}"
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        raise UsageError(f"{message} (see hwsim {sub + ' ' if sub else ''}--help)")


def count(lo: int = 1, hi: int = MAX_INT):
    """An argparse type: an integer in ``[lo, hi]``; ``1e3`` is accepted when it is a whole
    number (people write large counts that way)."""
    def parse(text: str) -> int:
        v = _int(text)
        if v is None or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"= {text}: expected an integer in [{lo}, {hi}]")
        return v
    parse.__name__ = "integer"
    return parse


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        f = float(text)
    except ValueError:
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


def real(lo: float = 0.0, lo_open: bool = True, hi: float = math.inf):
    """An argparse type: a finite number above ``lo`` (or at least ``lo``) and at most ``hi``."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi
        if not ok:
            rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi < math.inf
                                                           else "")
            raise argparse.ArgumentTypeError(f"= {text}: expected a finite number {rng}")
        return v
    parse.__name__ = "number"
    return parse


def add_workload_args(p) -> None:
    """WORKLOAD and the options that shape it, plus the model/engine choice (not ``--arch``: its
    arity differs per command)."""
    from .evaluate import ENGINES
    p.add_argument("workload", help="preset name, workload YAML, HF config.json or checkpoint "
                   "directory, .gguf or .onnx file")
    p.add_argument("--model", default="default",
                   help="which model of the arch's family (gpu: default = calibrated, roofline)")
    p.add_argument("--phase", choices=["prefill", "decode", "train"],
                   help=f"LLMs (default {DEFAULT_PHASE}); train: any workload")
    p.add_argument("--batch", type=count(), help="sequences / images (default 1; ONNX: --dim)")
    p.add_argument("--context", type=count(),
                   help=f"LLMs: prompt length (prefill) or cached tokens (decode), default "
                   f"{DEFAULT_CONTEXT}")
    p.add_argument("--weights", help="weight format (default: the preset's, else fp16)")
    p.add_argument("--activations", help="activation format (default: the preset's, else fp16)")
    p.add_argument("--kv", help="KV-cache format (default: activations)")
    p.add_argument("--stream", help="format between kernels: residual stream, norms, elementwise "
                   "ops (default: activations; LLMs under fp8/MX/NVFP4 activations: fp16)")
    p.add_argument("--fusion", choices=["fused", "eager"], default="fused",
                   help="LLMs: one kernel per op as serving engines run them (fused) or "
                        "PyTorch eager mode's unfused kernel sequence (eager)")
    p.add_argument("--image-size", type=count(), help="input resolution of vision models")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                   help="ONNX: bind a symbolic input dimension (repeatable: --dim batch=8)")
    p.add_argument("--engine", choices=list(ENGINES), default="analytical",
                   help="analytical model (fast) or the tile-level simulator (stalls; slower)")


def add_set_arg(p) -> None:
    """``--set KEY=VALUE`` (repeatable) on a command that takes ``--arch``."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="set",
                   help="override an arch parameter (repeatable; dotted keys reach nested "
                   "params: --set threads=4 --set kernel_efficiency.dequant=0.5; values are YAML "
                   "scalars)")


def int_arg(name: str, v) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_INT):
        raise HwsimError(f"--{name} = {v}: expected an integer in [1, {MAX_INT}]")


def dims_arg(items: list[str]) -> dict | None:
    """``--dim NAME=N`` values as a dict (None when none were given)."""
    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        v = _int(val.strip()) if sep else None
        if not sep or not name.strip() or v is None or not 1 <= v <= MAX_INT:
            raise HwsimError(f"--dim {it!r}: expected NAME=N with N an integer in [1, {MAX_INT}]")
        out[name.strip()] = v
    return out or None


def _arch_defaults(arch) -> dict:
    """Formats the ``--arch`` preset(s) run by default (``defaults`` in the arch YAML); with
    several archs (``plot --arch A --arch B``) only the roles on which all of them agree."""
    from .arch import arch_defaults
    archs = [arch] if isinstance(arch, str) else list(arch or [])
    if not archs:
        return {}
    ds = [arch_defaults(a) for a in archs]
    return {k: v for k, v in ds[0].items() if all(d.get(k) == v for d in ds[1:])}


def set_overrides(items: list[str], arch=None) -> dict:
    """``--set KEY=VALUE`` items as :func:`hwsim.load_arch` overrides. Values are YAML scalars
    (``4``, ``2.4e9``, ``true``, ``dequant``); ``a.b=v`` sets key ``b`` of the mapping ``a``,
    merged into the preset's mapping of that name when ``arch`` names a preset or YAML file."""
    import yaml
    out: dict = {}
    for it in items:
        key, sep, text = it.partition("=")
        path = key.strip().split(".")
        if not sep or not all(path) or not text.strip():
            raise HwsimError(f"--set {it!r}: expected KEY=VALUE (KEY may be dotted: a.b=1)")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise HwsimError(f"--set {it!r}: VALUE {text!r} is not a YAML scalar") from None
        if isinstance(value, (dict, list)):
            raise HwsimError(f"--set {it!r}: VALUE must be a scalar (use dotted keys for "
                             "nested parameters)")
        if isinstance(value, float) and not math.isfinite(value):
            raise HwsimError(f"--set {it!r}: VALUE {text!r}: expected a finite number")
        _put(out, path, value, it)
    if arch is not None:
        _merge_preset(out, arch)
    return out


def _put(d: dict, path: list[str], value, item: str) -> None:
    for k in path[:-1]:
        nxt = d.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise HwsimError(f"--set {item!r}: {k!r} was already set to a scalar")
        d = nxt
    if isinstance(d.get(path[-1]), dict):
        raise HwsimError(f"--set {item!r}: {path[-1]!r} is a mapping; set its keys (a.b=v)")
    d[path[-1]] = value


def _merge_preset(out: dict, arch) -> None:
    """Dotted overrides keep the preset's other keys of the same mapping."""
    nested = [k for k, v in out.items() if isinstance(v, dict)]
    if not nested or not isinstance(arch, (str, Path)):
        return
    from .arch import resolved_spec
    try:
        params = resolved_spec(arch)[0].get("params") or {}
    except HwsimError:
        return  # load_arch reports the arch itself
    for k in nested:
        base = params.get(k)
        if base is not None and not isinstance(base, dict):
            raise HwsimError(f"--set {k}.…: parameter {k!r} of {arch} is not a mapping "
                             f"(it is {base!r}); use --set {k}=VALUE")
        out[k] = _deep_merge(base or {}, out[k])


def _deep_merge(base: dict, new: dict) -> dict:
    merged = dict(base)
    for k, v in new.items():
        merged[k] = _deep_merge(base[k], v) if isinstance(v, dict) and isinstance(
            base.get(k), dict) else v
    return merged


def load_arch_args(args, name=None, model: str | None = None):
    """:func:`hwsim.load_arch` of ``name`` (default ``args.arch``) with ``args``' ``--set``."""
    from .arch import load_arch
    name = args.arch if name is None else name
    return load_arch(name, model=model or getattr(args, "model", "default"),
                     **set_overrides(getattr(args, "set", []) or [], name))


def workload_from_args(args):
    """The workload :func:`add_workload_args`'s options describe. A flag that does not apply to
    the workload (``--dim`` on a preset, ``--context`` on a CNN) is an error, not ignored."""
    from .workload import load_workload
    for k in ("batch", "context", "image_size"):
        int_arg(k.replace("_", "-"), getattr(args, k))
    src = str(args.workload)
    onnx = src.endswith(".onnx")
    if args.dim and not onnx:
        raise ConfigError(f"--dim {args.dim[0]}: --dim binds symbolic dimensions of an .onnx "
                          f"graph; {src} is not one (use --batch / --context)")
    if onnx:
        given = [f for f in ("batch", "context", "image_size") if getattr(args, f) is not None]
        if given or args.phase in ("prefill", "decode"):
            flag = "--" + (given[0].replace("_", "-") if given else "phase")
            raise ConfigError(f"{flag}: an ONNX graph's shapes come from the file; bind its "
                              "symbolic dimensions with --dim NAME=N")
    d = _arch_defaults(getattr(args, "arch", None))  # formats the arch preset runs by default
    wl = load_workload(args.workload, phase=args.phase or DEFAULT_PHASE, batch=args.batch or 1,
                       context=args.context or DEFAULT_CONTEXT,
                       weights=args.weights or d.get("weights"),
                       activations=args.activations or d.get("activations"),
                       kv=args.kv or d.get("kv"), image_size=args.image_size,
                       dims=dims_arg(args.dim), fusion=args.fusion,
                       stream=getattr(args, "stream", None) or d.get("stream"))
    _check_applies(args, wl)
    return wl


def _check_applies(args, wl) -> None:
    """Refuse LLM-only options on other workloads and vision-only options on LLMs."""
    kind = wl.meta.get("kind")
    if kind == "llm" or wl.meta.get("phase") == "train" and kind is None:
        if args.image_size is not None:
            raise ConfigError(f"--image-size {args.image_size}: {wl.name} is an LLM; "
                              "--image-size applies to vision models")
        return
    if kind is None:  # an imported graph (ONNX) whose kind the importer does not say
        return
    what = {"cnn": "a CNN", "vit": "a vision transformer"}.get(kind, f"a {kind} workload")
    if args.context is not None:
        raise ConfigError(f"--context {args.context}: {wl.name} is {what}; --context applies to "
                          "LLMs (vision models take --image-size)")
    if args.phase in ("prefill", "decode"):
        raise ConfigError(f"--phase {args.phase}: {wl.name} is {what}; LLMs have prefill/decode "
                          "phases (vision models: leave --phase out, or --phase train)")
    if args.kv is not None:
        raise ConfigError(f"--kv {args.kv}: {wl.name} is {what} and has no KV cache")
