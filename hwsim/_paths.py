"""Where the bundled presets live: the repository's top-level ``arch/`` and ``workloads/`` in a
source checkout or editable install, ``hwsim/_data/`` inside an installed wheel."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ConfigError, UnknownNameError

_PKG = Path(__file__).resolve().parent
# libyaml's parser when PyYAML was built with it (same safe constructor and resolver, so the
# same values; ~10x faster, which is most of a cold load_workload)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def preset_dir(kind: str) -> Path:
    for d in (_PKG / "_data" / kind, _PKG.parent / kind):
        if d.is_dir():
            return d
    raise ConfigError(f"cannot find the bundled '{kind}/' presets next to {_PKG}; reinstall hwsim")


def preset_names(kind: str) -> list[str]:
    return sorted(p.stem for p in preset_dir(kind).glob("*.yaml"))


# libyaml's loader when PyYAML has it: the same safe subset, ~10x faster (exploration loads a
# preset for every hardware design it tries)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict:
    """Load a YAML mapping; errors name the file and the line."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 -- a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping at the top level, got "
                          f"{type(data).__name__}")
    return data


def resolve_preset(kind: str, name_or_path, what: str) -> tuple[dict, Path]:
    """The parsed YAML of a preset name (a file in ``kind/``) or of a path, and its path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ConfigError(f"{p}: no such {what} file")
        return read_yaml(p), p
    path = preset_dir(kind) / f"{name_or_path}.yaml"
    if not path.exists():
        raise UnknownNameError(what, str(name_or_path), preset_names(kind))
    return read_yaml(path), path
