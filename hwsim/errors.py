"""Typed errors. Every error hwsim raises on bad input derives from :class:`HwsimError`, so a
caller can catch one type; the CLI turns them into a one-line message and exit code 2."""

from __future__ import annotations

import difflib


class HwsimError(ValueError):
    """Base class of every error hwsim raises about its input."""


class UnknownNameError(HwsimError, KeyError):
    """A format, arch, workload or family name that is not registered."""

    def __init__(self, kind: str, name: str, known: list[str]):
        # names that start with what was typed ('h100' -> 'h100-sxm') come before fuzzy matches
        prefix = [k for k in sorted(known) if k.startswith(str(name))]
        close = prefix + [k for k in difflib.get_close_matches(str(name), known, n=4, cutoff=0.5)
                          if k not in prefix]
        close = close[:4]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        msg = f"unknown {kind} {name!r}{hint} (known: {', '.join(sorted(known)[:40])}" + (
            ", ...)" if len(known) > 40 else ")")
        super().__init__(msg)
        self.kind, self.name, self.known = kind, name, known

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class ConfigError(HwsimError):
    """A YAML/JSON description that is malformed, incomplete or out of range."""


class ShapeError(HwsimError):
    """An operator with dimensions that are not positive integers or do not fit together."""


class UnsupportedError(HwsimError):
    """The hardware cannot run this operator in these formats; hwsim will not invent a number."""


def check_positive_int(owner: str, field: str, value, allow_zero: bool = False) -> int:
    """Return ``value`` as int or raise ShapeError naming ``owner.field``."""
    ok = isinstance(value, (int,)) and not isinstance(value, bool) or (
        hasattr(value, "__index__") and not isinstance(value, bool))
    if ok:
        value = int(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        expected = "a non-negative integer" if allow_zero else "a positive integer"
        raise ShapeError(f"{owner}.{field} = {value!r}: expected {expected}")
    return value
