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




# magic bytes of binary formats a user may hand where a text file belongs
_BINARY_MAGIC = {b"GGUF": "a GGUF model file", b"\x89HDF": "an HDF5 file",
                 b"PK\x03\x04": "a zip archive", b"\x93NUMPY": "a NumPy array file"}


def read_text(path: Path, what: str = "YAML") -> str:
    """A UTF-8 text file's contents; a file that cannot be read, or holds bytes that are not
    UTF-8 text (a GGUF, an image, a Latin-1 export), is a one-line ConfigError naming it."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    kind = next((k for m, k in _BINARY_MAGIC.items() if raw.startswith(m)), None)
    if kind is None and b"\x00" in raw[:65536]:
        kind = "binary data"
    if kind is not None:
        raise ConfigError(f"{path}: {kind}, not a {what} text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                          f"{e.start}); expected a {what} file") from None


def _one_line(x) -> str:
    return " ".join(str(x).split())


def read_yaml(path: Path) -> dict:
    """Load a YAML mapping; errors name the file and the line, on one line."""
    text = read_text(path, "YAML")
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 -- a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: "
                          f"{_one_line(getattr(e, 'problem', None) or e)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping at the top level, got "
                          f"{type(data).__name__}")
    return data


def read_json(path: Path, what: str = "JSON"):
    """Parse a JSON file; unreadable, binary or malformed files are a one-line ConfigError."""
    import json

    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: line {e.lineno}, column {e.colno}: invalid JSON: "
                          f"{e.msg}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid JSON: nested too deeply") from None


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
