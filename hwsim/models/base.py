"""The contract every hardware model implements (DESIGN.md): ``cost(op) -> Cost``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from .. import formats as _formats
from ..errors import ConfigError, UnsupportedError
from ..workload.ops import Op


@dataclass(frozen=True)
class Cost:
    """What one op costs on one accelerator. SI units: seconds, joules, bytes.

    ``bound`` names what limits the op (``compute``, ``memory``, ``overhead`` ...);
    ``utilization`` is achieved / peak throughput of the datapath the op ran on;
    ``breakdown`` holds the model's components (e.g. ``compute_s``, ``memory_s``, ``dynamic_j``).
    """

    latency_s: float
    energy_j: float
    bound: str
    utilization: float
    compute_path: str = ""
    breakdown: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Accelerator(Protocol):
    """A hardware model: a name, its family, its validated parameters, and ``cost(op)``."""

    name: str
    family: str

    def cost(self, op: Op) -> Cost: ...


class Params(BaseModel):
    """Base of each family's parameter schema: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_params(schema: type[Params], data: dict, where: str) -> Params:
    """Validate with pydantic; turn the first error into one line naming file and field."""
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        got = err.get("input")
        got_s = "" if err["type"] == "missing" else f" (got {got!r})"
        more = f"; and {e.error_count() - 1} more error(s)" if e.error_count() > 1 else ""
        raise ConfigError(f"{where}: field '{loc}': {err['msg']}{got_s}{more}") from None


class AcceleratorBase:
    """Shared plumbing: parameter schema, construction from YAML, op dispatch."""

    family: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def __init__(self, name: str, params: Params, source: str = "", description: str = ""):
        self.name = name
        self.params = params
        self.source = source
        self.description = description

    @classmethod
    def from_spec(cls, name: str, params: dict, where: str, **meta) -> "AcceleratorBase":
        return cls(name, validate_params(cls.Params, params, where), **meta)

    def cost(self, op: Op) -> Cost:
        handler = getattr(self, "_cost_" + type(op).__name__.lower(), None)
        if handler is None:
            raise UnsupportedError(f"{self.name}: the {self.family} model has no cost for "
                                   f"{type(op).__name__} ops")
        return handler(op)

    def sequence(self, costs: list[Cost]) -> list[Cost]:
        """The costs of ops run one after another, given each op's own cost: where running in
        sequence adds time (a host that cannot launch kernels as fast as the device runs them),
        a family attributes it to the op that waits. Default: ops do not interact."""
        return costs

    @property
    def area_mm2(self) -> float:
        raise UnsupportedError(f"{self.name}: the {self.family} model has no area model")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def pick_compute_path(where: str, activations: str, weights: str, supported) -> str:
    """The datapath a GEMM with these operand formats runs on.

    Same datapath for both operands -> that one. Otherwise the narrower operand is converted to the
    wider one's datapath on the fly (weight-only quantization: W4A16 runs on the fp16 path reading
    packed int4 weights). Raises UnsupportedError when neither datapath exists.
    """
    a, w = _formats.get(activations), _formats.get(weights)
    ka, kw = a.compute_key, w.compute_key
    if ka == kw and ka in supported:
        return ka
    wide, narrow = (a, w) if a.bits >= w.bits else (w, a)
    if ka != kw and wide.compute_key in supported:
        return wide.compute_key
    raise UnsupportedError(
        f"{where}: no datapath for activations={activations} ({ka}) x weights={weights} ({kw}); "
        f"this unit supports {', '.join(sorted(supported))}")

