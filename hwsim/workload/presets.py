"""``load_workload``: presets in ``workloads/*.yaml``, a path to such a YAML, an HF ``config.json``,
or an ONNX file.

A workload YAML names a ``kind`` (``llm``, ``resnet``, ``mobilenetv2``, ``vit``), the builder's
``config`` and, optionally, ``published`` figures with their ``source`` (checked by the test suite
and ``hwsim validate workload``)."""

from __future__ import annotations

from pathlib import Path

from .._paths import preset_names, resolve_preset
from ..errors import ConfigError, HwsimError
from .cnn import build_mobilenetv2, build_resnet, build_vit
from .graph import Precision, Workload
from .llm import LLMConfig, build_llm
from .tiny import build_dscnn, build_resnet8

KINDS = ("llm", "resnet", "mobilenetv2", "vit", "resnet8", "ds-cnn")
# upper bounds of workload dimensions: orders of magnitude past any published model (ViT-22B:
# 48 layers, hidden 6144; ImageNet-21k: 21841 classes), small enough that a graph (ops per layer)
# builds in moments and FLOP counts stay exact
MAX_DIMS = {"batch": 2 ** 24, "context": 2 ** 24, "image_size": 2 ** 14, "patch": 2 ** 14,
            "hidden": 2 ** 20, "layers": 4096, "heads": 2 ** 14, "mlp": 2 ** 22,
            "num_classes": 2 ** 24, "filters": 2 ** 16, "blocks": 4096, "depth": 152}


def check_dim(where: str, field: str, value) -> int:
    """A workload dimension as a positive integer within MAX_DIMS; else a ConfigError naming
    ``where`` and the field as the user wrote it."""
    hi = MAX_DIMS.get(field)
    if hasattr(value, "__index__") and not isinstance(value, bool):
        value = value.__index__()  # numpy integers
    if (not isinstance(value, int) or isinstance(value, bool) or value < 1
            or (hi is not None and value > hi)):
        rng = f"in 1..{hi}" if hi else ">= 1"
        raise ConfigError(f"{where}{field} = {value!r}: expected an integer {rng}")
    return value


def list_workloads() -> list[str]:
    return preset_names("workloads")


def workload_spec(name_or_path: str | Path) -> tuple[dict, Path]:
    """The parsed YAML of a preset name or a path, and where it came from."""
    return resolve_preset("workloads", name_or_path, "workload")


def load_workload(name_or_path: str | Path, *, phase: str = "decode", batch: int = 1,
                  context: int = 2048, weights: str | None = None, activations: str | None = None,
                  kv: str | None = None, precision: Precision | None = None,
                  image_size: int | None = None, optimizer: str = "sgd",
                  fusion: str = "fused", dims: dict | None = None,
                  backward: str = "explicit", stream: str | None = None) -> Workload:
    """Build a workload graph.

    ``name_or_path``: a preset (``hwsim list workloads``), a workload YAML, an HF ``config.json``
    or checkpoint directory (:mod:`hwsim.importers.hf`: ``quantization_config`` and safetensors
    headers give per-layer formats), a llama.cpp ``.gguf`` file (:mod:`hwsim.importers.gguf`)
    or an ``.onnx`` file. Formats not given come from the preset's ``default_precision`` (BitNet:
    ternary weights), else fp16. LLMs take ``phase`` (``prefill``: ``context`` prompt tokens; ``decode``:
    one new token per sequence over ``context`` cached ones), ``batch`` and formats (or a full
    :class:`Precision` with per-layer overrides); vision models take ``batch`` and ``image_size``.
    ``stream``: the format of the tensors between kernels (residual stream, norms, elementwise
    ops, attention inputs); by default the activation format, except that LLMs keep fp16 under
    8-bit activations as serving engines do (:func:`hwsim.workload.graph.llm_precision`).

    >>> wl = load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
    ...                    weights="int4_g128", activations="fp16")
    >>> round(wl.num_params / 1e9, 2)
    6.74

    ``fusion`` (LLMs): ``"fused"`` -- one kernel per op, as serving engines run it (default) -- or
    ``"eager"`` -- the unfused kernel sequence of PyTorch eager mode (:mod:`hwsim.workload.llm`).
    Vision models are always their eager graph (conv, batch-norm, activation, add as separate
    ops); ``fusion="eager"`` on one raises ConfigError.

    ``phase="train"`` (any kind): one training step, the forward pass (LLMs: over ``context``
    tokens, logits for all of them) followed by input- and weight-gradient ops and the ``optimizer``
    update (``sgd``, ``adam`` or ``adam_lowrank``); ``backward="implicit"`` prices the
    backward pass as cuDNN / cuBLAS / FlashAttention-2 run it (GPUs: validated in the ``gpu-train``
    group), ``"explicit"`` with GEMM libraries and layout copies; see
    :mod:`hwsim.workload.training`.

    ``dims`` (ONNX): values of the graph inputs' symbolic dimensions, e.g. ``{"batch": 8,
    "sequence": 2048}`` (:mod:`hwsim.workload.onnx_import`; tensor data is never loaded).
    """
    if phase not in ("prefill", "decode", "train"):
        raise ConfigError(f"phase = {phase!r}: expected 'prefill', 'decode' or 'train'")
    batch, context = check_dim("", "batch", batch), check_dim("", "context", context)
    if image_size is not None:
        image_size = check_dim("", "image_size", image_size)
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path).strip():
        raise ConfigError(f"workload = {name_or_path!r}: expected a preset name (hwsim list "
                          "workloads) or a path")
    if phase == "train":
        from .training import to_training
        fwd = load_workload(name_or_path, phase="prefill", batch=batch, context=context,
                            weights=weights, activations=activations, kv=kv, precision=precision,
                            image_size=image_size, fusion=fusion, dims=dims, stream=stream)
        return to_training(fwd, optimizer, backward=backward)
    p = Path(name_or_path)
    imported = p.suffix in (".onnx", ".json", ".gguf", ".safetensors") or p.is_dir()
    spec, src = ({}, p) if imported else workload_spec(name_or_path)
    prec = _precision(spec, src, precision, weights, activations, kv, stream)
    if imported:
        return _load_imported(p, phase, batch, context, prec, fusion, dims)
    return _build_preset(spec, src, phase, batch, context, prec, fusion, image_size)


def _precision(spec: dict, src: Path, precision: Precision | None, weights, activations,
               kv, stream=None) -> Precision:
    """``precision``, else the formats given, else the preset's ``default_precision``, else
    fp16 (the preset's mapping is checked even when unused, so a bad file never loads)."""
    default = spec.get("default_precision") or {}
    if not isinstance(default, dict):
        raise ConfigError(f"{src}: field 'default_precision' must be a mapping of roles to formats")
    return precision or Precision(weights or default.get("weights", "fp16"),
                                  activations or default.get("activations", "fp16"),
                                  kv or default.get("kv"), stream=stream)


def _load_imported(p: Path, phase: str, batch: int, context: int, prec: Precision,
                   fusion: str, dims: dict | None) -> Workload:
    """An ONNX file, an HF config.json / safetensors checkpoint (file or folder) or a GGUF."""
    if p.suffix == ".onnx":
        from .onnx_import import load_onnx
        return load_onnx(p, precision=prec, dims=dims)
    if p.suffix in (".json", ".safetensors") or p.is_dir():
        from ..importers.hf import load_hf  # config.json + quantization_config + headers
        return load_hf(p.parent if p.suffix == ".safetensors" else p, phase, batch, context,
                       prec, fusion)
    from ..importers.gguf import load_gguf
    return load_gguf(p, phase, batch, context, prec, fusion)


def _build_preset(spec: dict, src: Path, phase: str, batch: int, context: int,
                  prec: Precision, fusion: str, image_size: int | None) -> Workload:
    """A workload YAML's ``kind`` built from its ``config``; builder errors name the file."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{src}: field 'kind' = {kind!r}: expected one of {', '.join(KINDS)}")
    cfg = spec.get("config", {})
    if not isinstance(cfg, dict):
        raise ConfigError(f"{src}: field 'config' must be a mapping, got {type(cfg).__name__}")
    name = spec.get("name", src.stem)
    try:
        if kind == "llm":
            return build_llm(LLMConfig.from_hf(cfg, name=name, source=f"{src}: config"),
                             phase, batch, context, prec, fusion)
        if fusion != "fused":  # vision graphs already list conv, norm, activation, add apart
            raise ConfigError(f"fusion = {fusion!r}: only LLM workloads have a fusion setting; "
                              f"{name} ({kind}) is always built as its framework's eager graph")
        return _build_vision(kind, cfg, src, name, batch, prec, image_size)
    except HwsimError as e:
        if str(src) in str(e):
            raise
        raise type(e)(f"{src}: {e}") from None


def _build_vision(kind: str, cfg: dict, src: Path, name: str, batch: int, prec: Precision,
                  image_size: int | None) -> Workload:
    vision = dict(batch=batch, precision=prec)
    if image_size is not None:
        vision["image_size"] = image_size
    if kind == "resnet":
        return build_resnet(**{**_only(cfg, src, ("depth", "num_classes", "image_size")),
                               **vision})
    if kind == "resnet8":
        return build_resnet8(**{**_only(cfg, src, ("num_classes", "image_size")), **vision})
    if kind == "ds-cnn":
        vision.pop("image_size", None)
        return build_dscnn(**{**_only(cfg, src, ("filters", "blocks", "num_classes")), **vision})
    if kind == "mobilenetv2":
        return build_mobilenetv2(**{**_only(cfg, src, ("num_classes", "image_size")), **vision})
    return build_vit(**{**_only(cfg, src, ("patch", "hidden", "layers", "heads", "mlp",
                                           "num_classes", "image_size")), **vision}, name=name)


def _only(cfg: dict, src: Path, allowed: tuple[str, ...]) -> dict:
    """The vision ``config``: known fields only, each a positive integer in its range."""
    extra = sorted(map(str, set(cfg) - set(allowed)))
    if extra:
        raise ConfigError(f"{src}: unknown config field(s) {', '.join(extra)}; expected "
                          f"{', '.join(allowed)}")
    for k, v in cfg.items():
        check_dim(f"{src}: config.", k, v)
    return cfg
