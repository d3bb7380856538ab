"""``load_arch``: hardware presets from ``arch/*.yaml`` (or a user's YAML) to model objects.

An arch YAML has ``name``, ``family`` (which model reads it), ``description``, ``source`` and
``params`` (the family's schema: unknown or missing fields are errors naming the field). Numbers in
``params`` carry their source in a comment next to them.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from ._paths import preset_names, resolve_preset
from .errors import ConfigError
from .families import FAMILIES
from .contract import Accelerator


TOP_LEVEL = {"name", "family", "description", "source", "params", "datasheet_tflops", "inherit",
             "defaults", "model", "evaluation"}  # the last two: written by export_design
# the roles a preset's ``defaults`` may set (stream: the format between kernels, see
# hwsim.workload.graph.Precision)
FORMAT_ROLES = ("weights", "activations", "kv", "stream")


def list_archs() -> list[str]:
    return preset_names("arch")


def arch_spec(name_or_path: str | Path) -> tuple[dict, Path]:
    return resolve_preset("arch", name_or_path, "arch")


def resolved_spec(name_or_path: str | Path, _seen: tuple = ()) -> tuple[dict, Path]:
    """The arch YAML with ``inherit: OTHER`` applied: params it does not set come from OTHER."""
    spec, src = arch_spec(name_or_path)
    unknown = sorted(set(spec) - TOP_LEVEL)
    if unknown:
        raise ConfigError(f"{src}: unknown top-level field(s) {', '.join(map(repr, unknown))}; "
                          f"expected {', '.join(sorted(TOP_LEVEL))}")
    parent = spec.get("inherit")
    if parent is None:
        return spec, src
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(f"{src}: field 'inherit' = {parent!r}: expected an arch preset name")
    if parent in _seen:
        raise ConfigError(f"{src}: field 'inherit' = {parent!r} makes a cycle")
    if not isinstance(spec.get("params", {}), dict):
        raise ConfigError(f"{src}: field 'params' must be a mapping")
    base, _ = resolved_spec(parent, _seen + (parent,))
    return {**spec, "params": {**base.get("params", {}), **spec.get("params", {})},
            "defaults": {**(base.get("defaults") or {}), **(spec.get("defaults") or {})}}, src


def arch_defaults(name_or_path: str | Path) -> dict[str, str]:
    """The formats a design runs when the caller names none. An int8 array or an FPGA design has
    no fp16 datapath, so ``hwsim eval resnet18 --arch mac-tc-int8`` needs them. The preset's
    ``defaults`` mapping (roles ``weights``, ``activations``, ``kv``, ``stream``; ``inherit``
    applies), else
    the datapath's own ``weight_format`` and ``activation_format`` params where the family has
    them (``mac_array``, ``fpga``; so imported ZigZag/Timeloop files and exported designs run
    too). ``{}`` otherwise, and for anything :func:`load_arch` would reject (it reports it)."""
    from .errors import HwsimError
    from .formats import get as get_format
    try:
        spec, src = _imported_spec(name_or_path, {}) or resolved_spec(name_or_path)
    except (HwsimError, OSError):
        return {}
    d = spec.get("defaults") or {}
    if not isinstance(d, dict) or set(d) - set(FORMAT_ROLES):
        raise ConfigError(f"{src}: field 'defaults' = {d!r}: expected a mapping with keys among "
                          f"{', '.join(FORMAT_ROLES)}")
    params = spec.get("params") if isinstance(spec.get("params"), dict) else {}
    if not d and isinstance(params.get("weight_format"), str) \
            and isinstance(params.get("activation_format"), str):
        d = {"weights": params["weight_format"], "activations": params["activation_format"]}
    for fmt in d.values():
        get_format(str(fmt))  # an unknown name is an UnknownNameError naming it
    return {k: str(v) for k, v in d.items()}


def _new_names(cls, overrides: dict) -> dict:
    """Overrides with parameters' former names mapped to the shared vocabulary (a deprecation
    warning each), so an old name overrides a preset that already uses the new one."""
    out = dict(overrides)
    for old, new in cls.Params.renamed.items():
        if old in out:
            warnings.warn(f"parameter '{old}' is now '{new}'; the old name is accepted until "
                          "hwsim 0.3", DeprecationWarning, stacklevel=3)
            out[new] = out.pop(old)
    return out


def _imported_spec(name_or_path, overrides: dict) -> tuple[dict, Path] | None:
    """The mac_array spec of a ZigZag or Timeloop YAML path, None for hwsim's own YAML."""
    overrides = _new_names(FAMILIES["mac_array"]["default"], overrides)
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml") or not p.is_file():
        return None
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError):
        return None  # resolve_preset's read_yaml reports it
    if re.search(r"^operational_array\s*:", text, re.M) and re.search(r"^memories\s*:", text,
                                                                       re.M):
        from .importers.zigzag import zigzag_spec
        return zigzag_spec(p, overrides), p
    if re.search(r"^architecture\s*:", text, re.M):
        from .importers.timeloop import timeloop_spec
        return timeloop_spec(p, overrides), p
    return None


def _check_name(name_or_path) -> None:
    """A preset name or a path: anything else (None, a number, '') is a clear error."""
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path).strip():
        raise ConfigError(f"arch = {name_or_path!r}: expected a preset name (hwsim list archs) "
                          "or the path of an arch YAML")


def load_arch(name_or_path: str | Path, model: str = "default", **overrides) -> Accelerator:
    """Load a hardware model.

    ``name_or_path``: a preset name (``hwsim list archs``) or a YAML path. ``model`` picks one of
    the family's models (GPU: ``"default"`` is the calibrated model, ``"roofline"`` the datasheet
    roofline). Keyword ``overrides`` replace entries of the preset's ``params`` (validated like
    the file). A ZigZag hardware YAML or a Timeloop v0.4 architecture YAML is imported as a
    ``mac_array`` design (:mod:`hwsim.importers.zigzag`, :mod:`hwsim.importers.timeloop`);
    overrides give what those files do not say (``clock_hz``, ``technology``, ``dataflow``).

    >>> hw = load_arch("h100-sxm")
    >>> hw.family
    'gpu'
    """
    _check_name(name_or_path)
    spec, src = _imported_spec(name_or_path, overrides) or resolved_spec(name_or_path)
    family = spec.get("family")
    if family not in FAMILIES:
        raise ConfigError(f"{src}: field 'family' = {family!r}: expected one of "
                          f"{', '.join(sorted(FAMILIES))}")
    params = spec.get("params")
    if not isinstance(params, dict):
        raise ConfigError(f"{src}: field 'params' must be a mapping of the {family} model's "
                          f"parameters, got {type(params).__name__}")
    models = FAMILIES[family]
    if model == "default" and spec.get("model"):  # an exported design names its model
        model = spec["model"]
    if model not in models:
        raise ConfigError(f"model = {model!r}: the {family} family has {', '.join(sorted(models))}")
    cls = models[model]
    overrides = _new_names(cls, overrides)
    # a simpler model reads only the fields of its own schema from a richer preset
    params = {k: v for k, v in {**params, **overrides}.items()
              if k in cls.Params.model_fields or k in overrides or model == "default"}
    where = f"{src}" + (f" (with overrides {sorted(overrides)})" if overrides else "")
    refs = {}
    for field in cls.arch_refs:  # parameters naming another preset (a LUT GPU's host GPU)
        ref = params.get(field, cls.Params.model_fields[field].default)
        if not isinstance(ref, str):
            raise ConfigError(f"{where}: field '{field}' = {ref!r}: expected an arch preset name")
        refs[field] = load_arch(ref)
    return cls.from_spec(str(spec.get("name", src.stem)), params, where,
                         source=str(spec.get("source", "")),
                         description=str(spec.get("description", "")), refs=refs)


def export_design(hw: Accelerator, report=None, path: str | Path | None = None) -> dict:
    """A design as an arch spec that :func:`load_arch` re-imports to the same model: ``name``,
    ``family``, ``model``, ``description``, ``source`` and every parameter (defaults filled in),
    plus, with a ``report``, its ``evaluation`` (totals and per-op rows, ignored on loading; kept
    so the numbers can be compared after re-import). Written as JSON to ``path`` when given."""
    import json

    model = next((k for k, c in FAMILIES.get(hw.family, {}).items() if c is type(hw)),
                 "default")
    spec = {"name": hw.name, "family": hw.family, "model": model,
            "description": hw.description, "source": hw.source,
            "params": hw.params.model_dump(mode="json")}
    if report is not None:
        spec["evaluation"] = json.loads(report.to_json())
    if path is not None:
        Path(path).write_text(json.dumps(spec, indent=1))
    return spec
