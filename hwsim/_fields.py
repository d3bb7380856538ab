"""Typed reads of fields in user JSON/YAML mappings (HF configs, quantization configs): a value of
the wrong type is a one-line ConfigError naming the file and the field, never a silent cast."""

from __future__ import annotations

from .errors import ConfigError


def get_bool(d: dict, key: str, where: str, default: bool) -> bool:
    """A boolean (``"false"`` is a string, and truthy: refused rather than misread)."""
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, bool):
        raise ConfigError(f"{where}: field '{key}' = {v!r}: expected true or false")
    return v


def get_str(d: dict, key: str, where: str, default: str) -> str:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, str):
        raise ConfigError(f"{where}: field '{key}' = {v!r}: expected a string")
    return v
