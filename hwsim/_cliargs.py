"""The workload arguments ``hwsim eval`` and ``hwsim plot`` share, and building the workload
from them (one definition, so the two commands cannot drift apart)."""

from __future__ import annotations

from .errors import HwsimError


def add_workload_args(p) -> None:
    """WORKLOAD and the options that shape it, plus the model/engine choice (not ``--arch``: its
    arity differs per command)."""
    from .evaluate import ENGINES
    p.add_argument("workload", help="preset name, workload YAML, HF config.json or checkpoint "
                   "directory, .gguf or .onnx file")
    p.add_argument("--model", default="default",
                   help="which model of the arch's family (gpu: default = calibrated, roofline)")
    p.add_argument("--phase", choices=["prefill", "decode", "train"], default="decode")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--context", type=int, default=2048,
                   help="prompt length (prefill) or cached tokens (decode)")
    p.add_argument("--weights", help="weight format (default: the preset's, else fp16)")
    p.add_argument("--activations", help="activation format (default: the preset's, else fp16)")
    p.add_argument("--kv", help="KV-cache format (default: activations)")
    p.add_argument("--fusion", choices=["fused", "eager"], default="fused",
                   help="LLMs: one kernel per op as serving engines run them (fused) or "
                        "PyTorch eager mode's unfused kernel sequence (eager)")
    p.add_argument("--image-size", type=int, help="input resolution of vision models")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                   help="ONNX: bind a symbolic input dimension (repeatable: --dim batch=8)")
    p.add_argument("--engine", choices=list(ENGINES), default="analytical",
                   help="analytical model (fast) or the tile-level simulator (stalls; slower)")


def int_arg(name: str, v) -> None:
    if v is not None and v <= 0:
        raise HwsimError(f"--{name} = {v}: expected a positive integer")


def dims_arg(items: list[str]) -> dict | None:
    """``--dim NAME=N`` values as a dict (None when none were given)."""
    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        if not sep or not name or not val.strip().isdigit():
            raise HwsimError(f"--dim {it!r}: expected NAME=N with a positive integer N")
        out[name.strip()] = int(val)
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


def workload_from_args(args):
    """The workload :func:`add_workload_args`'s options describe (integers checked first);
    formats not given come from the arch preset's ``defaults``, else the workload's."""
    from .workload import load_workload
    for k in ("batch", "context", "image_size"):
        int_arg(k.replace("_", "-"), getattr(args, k))
    d = _arch_defaults(getattr(args, "arch", None))
    return load_workload(args.workload, phase=args.phase, batch=args.batch, context=args.context,
                         weights=args.weights or d.get("weights"),
                         activations=args.activations or d.get("activations"),
                         kv=args.kv or d.get("kv"),
                         image_size=args.image_size, dims=dims_arg(args.dim), fusion=args.fusion)
