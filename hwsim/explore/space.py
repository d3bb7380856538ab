"""Search spaces: what a design is made of, declared in YAML (or built in Python) and sampled
define-by-run with optuna.

A space names a workload, an arch preset, the hardware parameters to search, the per-group
formats, the objectives and the constraints::

    workload: {name: llama-2-7b, phase: decode, batch: 1, context: 2048}
    arch: lut-tc
    hardware:                        # params of the arch to search (others keep preset values)
      tiles: {int: [4, 64], log: true}
      tile_n: {choices: [32, 64, 128]}
    precision:
      granularity: group             # group | layer | global
      groups: [attn.qkv, attn.o, mlp.up, mlp.down]   # weight groups searched separately
      weights: {choices: [int2_g128, int3_g128, int4_g128]}
      activations: {choices: [int8]}
      kv: {choices: [fp16, fp8_e4m3]}
    objectives: {latency_s: minimize, energy_j: minimize, accuracy_proxy: minimize}
    constraints: {area_mm2: {max: 5.0}}
    proxy: {profile: llm, sensitivity: {mlp.down: 2.0}}
    engine: analytical               # or sim: every trial through the tile-level simulator

``engine: sim`` evaluates each trial with :mod:`hwsim.sim` (pipeline fill/drain, buffers too small
to double-buffer, DRAM contention); it is slower -- tens of ms to ~1 s of CPU per distinct
(op, formats, hardware) instead of microseconds -- so budget fewer trials.

A format domain is ``{choices: [...]}`` or a family spec with conditional parameters, sampled only
when their family is chosen::

    weights:
      int: {bits: [2, 8], group: [0, 32, 128]}     # 0 = one scale per tensor
      float: {exp_bits: [2, 5], man_bits: [1, 3]}
      mx: {choices: [mxfp4, mxfp6_e2m3]}
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import formats as _formats
from .._paths import read_yaml
from ..errors import ConfigError, HwsimError

OBJECTIVES = ("latency_s", "energy_j", "area_mm2", "memory_bytes", "accuracy_proxy",
              "tokens_per_s", "resource_utilization")


class _M(BaseModel):
    # NaN / inf are never a valid bound, range or sensitivity
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class IntDomain(_M):
    bits: tuple[int, int] = (2, 8)
    group: list[int] = Field(default_factory=lambda: [0])

    @model_validator(mode="after")
    def _ok(self):
        lo, hi = self.bits
        if not 2 <= lo <= hi <= 16:
            raise ValueError(f"bits {list(self.bits)}: expected 2 <= low <= high <= 16")
        if not self.group or any(g < 0 for g in self.group):
            raise ValueError("group: a non-empty list of group sizes (0 = per tensor)")
        return self


class FloatDomain(_M):
    exp_bits: tuple[int, int] = (2, 5)
    man_bits: tuple[int, int] = (1, 3)

    @model_validator(mode="after")
    def _ok(self):
        for name, (lo, hi), low in (("exp_bits", self.exp_bits, 1), ("man_bits", self.man_bits, 0)):
            if not low <= lo <= hi <= 23:
                raise ValueError(f"{name} {[lo, hi]}: expected {low} <= low <= high")
        return self


class FormatDomain(_M):
    choices: list[str] | None = None
    int_: IntDomain | None = Field(default=None, alias="int")
    float_: FloatDomain | None = Field(default=None, alias="float")
    mx: list[str] | None = None

    @model_validator(mode="after")
    def _ok(self):
        if self.choices is not None and not self.choices:
            raise ValueError("choices is empty: give at least one format")
        if self.choices is None and not (self.int_ or self.float_ or self.mx):
            raise ValueError("give 'choices' or at least one family (int, float, mx)")
        for f in (self.choices or []) + (self.mx or []):
            try:
                _formats.get(f)
            except HwsimError as e:
                raise ValueError(str(e)) from None
        return self

    def suggest(self, trial, name: str) -> str:
        if self.choices is not None:
            return trial.suggest_categorical(name, self.choices)
        fams = [f for f, v in (("int", self.int_), ("float", self.float_), ("mx", self.mx)) if v]
        fam = fams[0] if len(fams) == 1 else trial.suggest_categorical(f"{name}.family", fams)
        if fam == "int":
            bits = trial.suggest_int(f"{name}.bits", *self.int_.bits)
            g = trial.suggest_categorical(f"{name}.group", self.int_.group)
            return f"int{bits}_g{g}" if g else f"int{bits}"
        if fam == "float":
            e = trial.suggest_int(f"{name}.exp_bits", *self.float_.exp_bits)
            m = trial.suggest_int(f"{name}.man_bits", *self.float_.man_bits)
            return f"fp{1 + e + m}_e{e}m{m}"
        return trial.suggest_categorical(f"{name}.mx", self.mx)

    def default(self) -> str:
        if self.choices:
            return self.choices[0]
        if self.int_:
            return f"int{self.int_.bits[1]}"
        if self.float_:
            e, m = self.float_.exp_bits[1], self.float_.man_bits[1]
            return f"fp{1 + e + m}_e{e}m{m}"
        return self.mx[0]

    def values(self) -> list[str]:
        """Every format this domain can produce (each checked to exist)."""
        out = list(self.choices or [])
        if self.choices is None:
            if self.int_:
                lo, hi = self.int_.bits
                out += [f"int{b}_g{g}" if g else f"int{b}" for b in range(lo, hi + 1)
                        for g in self.int_.group]
            if self.float_:
                out += [f"fp{1 + e + m}_e{e}m{m}" for e in range(self.float_.exp_bits[0],
                                                                self.float_.exp_bits[1] + 1)
                        for m in range(self.float_.man_bits[0], self.float_.man_bits[1] + 1)]
            out += list(self.mx or [])
        return out


class ParamDomain(_M):
    choices: list[Any] | None = None
    int_: tuple[int, int] | None = Field(default=None, alias="int")
    float_: tuple[float, float] | None = Field(default=None, alias="float")
    log: bool = False
    step: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self):
        given = [k for k, v in (("choices", self.choices), ("int", self.int_), ("float", self.float_))
                 if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of choices, int: [low, high], float: [low, high]")
        if self.choices is not None and not self.choices:
            raise ValueError("choices is empty")
        for k, r in (("int", self.int_), ("float", self.float_)):
            if r is not None and not (r[0] <= r[1] and (not self.log or r[0] > 0)):
                raise ValueError(f"{k} range {list(r)}: expected low <= high (low > 0 with log)")
        if self.step is not None:
            if self.int_ is None:
                raise ValueError("step: only for int: [low, high] ranges")
            if self.log and self.step != 1:
                raise ValueError(f"step {self.step} with log: true: optuna samples a log range "
                                 "with step 1 only")
        for c in self.choices or []:
            if isinstance(c, float) and not math.isfinite(c):
                raise ValueError(f"choices: {c!r} is not a finite number")
            if not isinstance(c, (str, int, float, bool)) or c is None:
                raise ValueError(f"choices: {c!r}: expected numbers, strings or booleans")
        return self

    def suggest(self, trial, name: str):
        if self.choices is not None:
            return trial.suggest_categorical(name, self.choices)
        if self.int_ is not None:
            return trial.suggest_int(name, *self.int_, log=self.log, step=self.step or 1)
        return trial.suggest_float(name, *self.float_, log=self.log)

    def default(self):
        return self.choices[0] if self.choices else (self.int_ or self.float_)[0]

    def values(self) -> list:
        """Values checked before the first trial: every choice, or a range's ends."""
        if self.choices is not None:
            return list(self.choices)
        if self.int_ is not None:
            lo, hi = self.int_
            top = lo + (hi - lo) // (self.step or 1) * (self.step or 1)
            return [lo, top] if top != lo else [lo]
        return [self.float_[0], self.float_[1]] if self.float_[1] != self.float_[0] \
            else [self.float_[0]]


class WorkloadSpec(_M):
    name: str
    phase: Literal["prefill", "decode"] = "decode"
    batch: int = Field(default=1, gt=0)
    context: int = Field(default=2048, gt=0)
    image_size: int | None = Field(default=None, gt=0)


class PrecisionSpec(_M):
    granularity: Literal["global", "group", "layer"] = "group"
    groups: list[str] | None = None
    weights: FormatDomain
    activations: FormatDomain | None = None
    kv: FormatDomain | None = None


class Bound(_M):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ok(self):
        if self.min is None and self.max is None:
            raise ValueError("give min and/or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}: no design can satisfy it")
        return self


class ProxySpec(_M):
    profile: Literal["llm", "cnn"] = "llm"
    tensors: str | None = None
    sensitivity: dict[str, float] = Field(default_factory=dict)


class Space(_M):
    """A validated search space (see the module docstring for the YAML form)."""

    workload: WorkloadSpec
    arch: str
    hardware: dict[str, ParamDomain] = Field(default_factory=dict)
    precision: PrecisionSpec
    objectives: dict[str, Literal["minimize", "maximize"]]
    constraints: dict[str, Bound] = Field(default_factory=dict)
    proxy: ProxySpec = Field(default_factory=ProxySpec)
    engine: Literal["analytical", "sim"] = "analytical"
    name: str | None = None

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v):
        if not v:
            raise ValueError("give at least one objective")
        bad = sorted(set(v) - set(OBJECTIVES))
        if bad:
            raise ValueError(f"unknown objective(s) {bad}; expected some of {list(OBJECTIVES)}")
        return v

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, v):
        bad = sorted(set(v) - set(OBJECTIVES))
        if bad:
            raise ValueError(f"unknown constrained metric(s) {bad}; expected some of "
                             f"{list(OBJECTIVES)}")
        return v

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(list(self.objectives) + list(self.constraints)))


def load_space(path_or_dict) -> Space:
    """Validate a space from a YAML path or a dict; errors name the file and the field."""
    where = "space"
    data = path_or_dict
    if not isinstance(path_or_dict, dict):
        where = str(path_or_dict)
        try:
            data = read_yaml(path_or_dict)
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: not a text (UTF-8) file") from None
        except IsADirectoryError:
            raise ConfigError(f"{where}: is a folder; expected a space YAML file") from None
    try:
        return Space.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        more = f"; and {e.error_count() - 1} more error(s)" if e.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: field '{loc}': {msg}{more}") from None
