"""The contract every hardware family implements, and the typed values it returns.

A family is a subclass of :class:`Accelerator` with

* a parameter schema (:class:`Params`, pydantic; unknown fields are errors naming the field),
* one method per op kind: :meth:`~Accelerator.cost_gemm`, :meth:`~Accelerator.cost_attention` and
  :meth:`~Accelerator.cost_vector` are required; :meth:`~Accelerator.cost_conv2d`,
  :meth:`~Accelerator.cost_norm`, :meth:`~Accelerator.cost_softmax`,
  :meth:`~Accelerator.cost_elementwise` and :meth:`~Accelerator.cost_embedding` have defaults,
* :meth:`~Accelerator.summary`, the :class:`HardwareSummary` every family fills,
* optional capabilities with defaults that say "not modelled" (an :class:`UnsupportedError`, or
  ``None`` where absence is an answer): peak rates (:meth:`~Accelerator.peak_ops_per_s`), area,
  FPGA resources, tile programs for the simulator, and :meth:`~Accelerator.sequence` for costs that depend on the
  order ops run in.

Every cost is a :class:`Cost`: latency and energy, the :class:`Bound`, time parts
(:class:`TimeParts`), energy by role (:class:`EnergyParts`) and a family's typed extra
(a :class:`CostDetail` subclass). A family registers itself with a :class:`Family` record in its
package ``__init__`` (see ``docs/adding-a-family.md``).
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Mapping

from pydantic import (BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from . import formats as _formats
from .errors import ConfigError, UnsupportedError
from .workload.ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Op, Softmax

if TYPE_CHECKING:  # the simulator's types; a family's tile programs import them lazily
    from .sim.program import TileProgram


class Bound(str, Enum):
    """What limits an op. A ``str`` enum: ``cost.bound == "memory"`` still reads naturally."""

    COMPUTE = "compute"    # the datapath (tiles, MAC arrays, LUT units, SIMD lanes)
    MEMORY = "memory"      # off-chip (or the level the model stops at) bandwidth
    POWER = "power"        # a power/thermal budget throttles the clock
    OVERHEAD = "overhead"  # fixed per-op terms: kernel launch, loop and tile set-up
    HOST = "host"          # waiting for the host to issue the op (GPU launch="stream")
    BUFFER = "buffer"      # simulator: a buffer too small to double-buffer tiles

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TimeParts:
    """Where an op's time goes (seconds). Overlap is the family's: a roofline takes
    ``max(compute_s, memory_s) + overhead_s``; a family that serializes may add them. So
    ``max(compute_s, memory_s) + overhead_s <= latency_s <= compute_s + memory_s + overhead_s``
    (checked by the conformance suite)."""

    compute_s: float = 0.0   # datapath busy, including a power roof's throttling
    memory_s: float = 0.0    # moving the op's bytes at the achieved bandwidth
    overhead_s: float = 0.0  # fixed serial terms (launches, loop/tile set-up, host waits)


@dataclass(frozen=True)
class EnergyParts:
    """Energy by role (joules); the parts sum to :attr:`Cost.energy_j`."""

    compute_j: float = 0.0  # datapath: MACs, LUT lookups and precompute, SIMD/vector ops
    onchip_j: float = 0.0   # on-chip storage: SRAM buffers, register files, caches
    offchip_j: float = 0.0  # off-chip memory (DRAM / HBM) traffic
    static_j: float = 0.0   # idle / leakage power over the op's time

    @property
    def total_j(self) -> float:
        return self.compute_j + self.onchip_j + self.offchip_j + self.static_j


@dataclass(frozen=True)
class CostDetail:
    """A family's extra numbers about one op; each family subclasses this with typed fields
    (units in the names). :meth:`as_dict` flattens it for reports."""

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class SimDetail:
    """What the tile-level simulator adds to an analytical cost (seconds, events)."""

    analytical_latency_s: float
    fill_drain_s: float
    stall_memory_s: float
    stall_buffer_s: float
    stall_compute_s: float
    compute_busy_s: float
    memory_busy_s: float
    events: float
    generic: bool  # no family tile program: the generic stream of hwsim.sim.generic was used

    def as_dict(self) -> dict[str, float]:
        d = {f"sim_{f.name}": float(getattr(self, f.name)) for f in dataclasses.fields(self)}
        d["analytical_latency_s"] = d.pop("sim_analytical_latency_s")
        return d


@dataclass(frozen=True)
class Cost:
    """What one op costs on one accelerator. SI units: seconds, joules.

    ``utilization`` is achieved / peak throughput of the datapath the op ran on
    (``compute_path``, a format's compute key such as ``fp16`` or ``int8``, or ``vector``).
    """

    latency_s: float
    energy_j: float
    bound: Bound
    utilization: float
    compute_path: str = ""
    time: TimeParts = TimeParts()
    energy: EnergyParts | None = None  # None only for a cost whose energy has no roles
    detail: CostDetail | None = None
    sim: SimDetail | None = None

    def __post_init__(self):
        if not isinstance(self.bound, Bound):
            object.__setattr__(self, "bound", Bound(self.bound))

    @property
    def breakdown(self) -> dict[str, float]:
        """Every part as one flat mapping (report columns): time parts, energy roles, the
        family's detail and the simulator's stalls."""
        out = dataclasses.asdict(self.time)
        if self.energy is not None:
            out.update(dataclasses.asdict(self.energy))
        if self.detail is not None:
            out.update(self.detail.as_dict())
        if self.sim is not None:
            out.update(self.sim.as_dict())
        return out


def roofline_cost(*, compute_s: float, memory_s: float, overhead_s: float = 0.0,
                  energy: EnergyParts, utilization: float, compute_path: str,
                  detail: CostDetail | None = None) -> Cost:
    """The common shape: compute and memory overlap, overheads add; the bound is the larger
    of compute and memory unless the fixed overhead exceeds both."""
    t = max(compute_s, memory_s) + overhead_s
    bound = Bound.COMPUTE if compute_s >= memory_s else Bound.MEMORY
    if overhead_s > max(compute_s, memory_s):
        bound = Bound.OVERHEAD
    return Cost(latency_s=t, energy_j=energy.total_j, bound=bound, utilization=utilization,
                compute_path=compute_path,
                time=TimeParts(compute_s=compute_s, memory_s=memory_s, overhead_s=overhead_s),
                energy=energy, detail=detail)


@dataclass(frozen=True)
class HardwareSummary:
    """What every family states about a design, in one vocabulary (SI units).

    ``mem_capacity_bytes`` is None where the family does not bound memory (an accelerator
    whose weights stream from an unmodelled host memory). ``mem_bandwidth_Bps`` is the
    off-chip (or outermost modelled) memory's peak bandwidth; ``idle_power_w`` 0 where the
    family has no static power term."""

    name: str
    family: str
    clock_hz: float
    mem_bandwidth_Bps: float
    mem_capacity_bytes: float | None
    idle_power_w: float


# Physical range of a parameter by the unit its name ends in (names carry units: ``clock_hz``,
# ``mem_bandwidth_Bps``, ...). First match wins. The bounds are sanity limits orders of magnitude
# beyond any device modelled here (the presets span 1.7e8-3.7e9 Hz, 1.6e10-7.7e12 B/s, <= 1 kW):
# a value outside is a unit slip or a typo, and would make the models divide by ~0 or overflow
# (`mem_bandwidth_Bps: 1e-300` -> inf latency) rather than describe hardware. A family states
# the range of a field without a unit suffix in its ``ranges``, or with Field(le=...).
COUNT_MAX = 2 ** 24  # counts (SMs, rows, cores, lanes): 16.7 M; int64 products of 3 stay exact
UNIT_RANGES: tuple[tuple[str, float, float, str], ...] = (
    (r"_a_per_hz$", 0.0, 1e-6, "A/Hz"),
    (r"_ops_per_s$", 1e3, 1e19, "ops/s"),
    (r"_hz$", 1e3, 1e11, "Hz"),
    (r"_Bps$", 1e3, 1e16, "bytes/s"),
    (r"_per_(cycle|clk_per_sm)$", 1e-3, 1e6, "per clock"),
    (r"_bytes$", 0.0, 2.0 ** 50, "bytes"),
    (r"_bits$", 1, 2 ** 16, "bits"),
    (r"_efficiency$", 1e-6, 1.0, "a fraction of peak"),
    (r"_exponent$", 0.0, 4.0, "an exponent"),
    (r"_cycles$", 0.0, 1e6, "cycles"),
    (r"_s$", 0.0, 1.0, "seconds"),
    (r"_w$", 0.0, 1e5, "watts"),
    (r"_pj($|_per_)", 0.0, 1e6, "pJ"),
    (r"_um2$", 0.0, 1e12, "um^2"),
    (r"_v$", 0.05, 50.0, "volts"),
)


def param_range(schema: type["Params"], name: str) -> tuple[float, float, str] | None:
    """The (low, high, unit) a numeric field's values must lie in: the schema's own ``ranges``
    entry, else its unit suffix's, else ``None`` (pydantic's Field bounds alone apply)."""
    if name in schema.ranges:
        return schema.ranges[name]
    for pattern, lo, hi, unit in UNIT_RANGES:
        if re.search(pattern, name):
            return lo, hi, unit
    return None


def _num(x: float) -> str:
    """A bound for a message: whole numbers below 1e9 in full (16777216, not 1.67772e+07)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e9 else f"{x:g}"


def _admits(annotation, kind: type) -> bool:
    """Whether ``kind`` occurs anywhere in a type annotation (``dict[str, float] | None`` ...)."""
    if annotation is kind:
        return True
    return any(_admits(a, kind) for a in typing.get_args(annotation))


def _numbers(value, at: str):
    """(where, number) for every number inside a value: itself, dict values, list items."""
    if isinstance(value, bool):
        yield at, value
    elif isinstance(value, (int, float)):
        yield at, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{at}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{at}[{i}]")


class Params(BaseModel):
    """Base of each family's parameter schema: unknown fields are errors, not silently ignored.

    Every number is checked at the boundary: finite (``allow_inf_nan=False``), not a boolean where
    a number belongs (``sms: true`` is not 1 SM), and inside its physical range
    (:func:`param_range`: the field's unit suffix or the schema's ``ranges``; integers without
    one at most :data:`COUNT_MAX`), dict values and list items included.

    ``renamed`` maps a field's former name to its name in the shared vocabulary (``clock_hz``,
    ``mem_bandwidth_Bps``, ``mem_capacity_bytes``): a YAML using the old name still loads, with
    a DeprecationWarning, for one release."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    renamed: ClassVar[dict[str, str]] = {}
    # field -> (low, high, what): ranges of fields whose name has no unit suffix
    ranges: ClassVar[dict[str, tuple[float, float, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _accept_old_names(cls, data):
        if not isinstance(data, dict) or not cls.renamed:
            return data
        out = dict(data)
        for old, new in cls.renamed.items():
            if old in out:
                if new in out:
                    raise ValueError(f"both '{old}' (its old name) and '{new}' are set; "
                                     f"keep '{new}'")
                warnings.warn(f"parameter '{old}' is now '{new}'; the old name is accepted "
                              "until hwsim 0.3", DeprecationWarning, stacklevel=2)
                out[new] = out.pop(old)
        return out

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value, info: ValidationInfo):
        """YAML ``true`` is not a count: pydantic's lax mode would read it as 1."""
        rule = _rule(cls, info.field_name)
        if not rule.numeric:
            return value
        for at, v in _numbers(value, info.field_name):
            if isinstance(v, bool):
                raise ValueError(f"{at} = {v!r}: expected a number, not a boolean")
            if rule.whole and isinstance(v, float) and math.isfinite(v) and abs(v) > 2 ** 53:
                # pydantic would say "unable to parse input string"
                lo, hi, unit = rule.range or (1, COUNT_MAX, "a count")
                raise ValueError(f"{at} = {v!r}: expected {unit} in [{_num(lo)}, {_num(hi)}]")
        return value

    @field_validator("*")
    @classmethod
    def _checked_values(cls, value, info: ValidationInfo):
        """Numbers inside their physical range; ``*_format(s)`` fields name registered number
        formats (so the error names the file and field, not the op being costed)."""
        rule = _rule(cls, info.field_name)
        if rule.formats:
            for name in ([value] if isinstance(value, str) else value or ()):
                if isinstance(name, str):
                    _formats.get(name)
        if not rule.numeric:
            return value
        for at, v in _numbers(value, info.field_name):
            if isinstance(v, bool) or rule.range is None and not isinstance(v, int):
                continue  # a float without a unit: pydantic's own bounds and finiteness apply
            lo, hi, unit = rule.range or (0, COUNT_MAX, "a count")
            if not lo <= v <= hi:
                raise ValueError(f"{at} = {v!r}: expected {unit} in [{_num(lo)}, {_num(hi)}]")
        return value


@dataclass(frozen=True)
class _Rule:
    numeric: bool   # holds numbers (not a bool field): booleans refused, ranges checked
    whole: bool     # integers only
    range: tuple[float, float, str] | None
    formats: bool   # names number formats


_RULES: dict[tuple[type, str], _Rule] = {}


def _rule(schema: type[Params], name: str) -> _Rule:
    """What a field's values are checked for, worked out once per schema and field (validation
    runs for every design an exploration builds)."""
    key = (schema, name)
    if key not in _RULES:
        ann = schema.model_fields[name].annotation
        numeric = not _admits(ann, bool) and (_admits(ann, int) or _admits(ann, float))
        _RULES[key] = _Rule(numeric, numeric and not _admits(ann, float),
                            param_range(schema, name), bool(re.search(r"_formats?$", name)))
    return _RULES[key]


def validate_params(schema: type[Params], data: dict, where: str) -> Params:
    """Validate with pydantic; turn the first error into one line naming file and field."""
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        got = repr(err.get("input"))
        got_s = "" if err["type"] == "missing" or not err["loc"] else (
            f" (got {got if len(got) <= 80 else got[:77] + '...'})")
        more = f"; and {e.error_count() - 1} more error(s)" if e.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        # a check across fields (model validator) names its fields in its own message
        field = f"field '{loc}': " if loc else "params: "
        raise ConfigError(f"{where}: {field}{msg}{got_s}{more}") from None


class Accelerator(ABC):
    """A hardware model: a name, its family, its validated parameters, and per-op costs.

    Subclasses set ``family`` and ``Params`` and implement the abstract methods. ``arch_refs``
    names parameters that hold another preset's name (a LUT GPU's ``host``): the loader builds
    those models and passes them as ``refs``, so a model never loads presets itself.
    """

    family: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    arch_refs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str, params: Params, source: str = "", description: str = "",
                 refs: Mapping[str, "Accelerator"] | None = None):
        self.name = name
        self.params = params
        self.source = source
        self.description = description
        self.refs = dict(refs or {})
        missing = [r for r in self.arch_refs if r not in self.refs]
        if missing:
            raise ConfigError(f"{name}: the {self.family} model needs the model(s) named by "
                              f"{missing} (load it with hwsim.load_arch)")

    @classmethod
    def from_spec(cls, name: str, params: dict, where: str, **meta) -> "Accelerator":
        return cls(name, validate_params(cls.Params, params, where), **meta)

    # ---------------------------------------------------------------- per-op costs
    def cost(self, op: Op) -> Cost:
        """The cost of one op: dispatches on the op's type to the ``cost_*`` methods."""
        match op:
            case Gemm():
                return self.cost_gemm(op)
            case Conv2d():
                return self.cost_conv2d(op)
            case Attention():
                return self.cost_attention(op)
            case Norm():
                return self.cost_norm(op)
            case Softmax():
                return self.cost_softmax(op)
            case Elementwise():
                return self.cost_elementwise(op)
            case Embedding():
                return self.cost_embedding(op)
        raise UnsupportedError(f"{self.name}: the {self.family} model has no cost for "
                               f"{type(op).__name__} ops")

    @abstractmethod
    def cost_gemm(self, op: Gemm) -> Cost: ...

    @abstractmethod
    def cost_attention(self, op: Attention) -> Cost: ...

    @abstractmethod
    def cost_vector(self, op: Op) -> Cost:
        """Elementwise, norm, softmax and embedding ops unless a family costs them apart."""

    def cost_conv2d(self, op: Conv2d) -> Cost:
        raise UnsupportedError(f"{self.name}: the {self.family} model has no convolutions")

    def cost_norm(self, op: Norm) -> Cost:
        return self.cost_vector(op)

    def cost_softmax(self, op: Softmax) -> Cost:
        return self.cost_vector(op)

    def cost_elementwise(self, op: Elementwise) -> Cost:
        return self.cost_vector(op)

    def cost_embedding(self, op: Embedding) -> Cost:
        return self.cost_vector(op)

    def sequence(self, costs: list[Cost]) -> list[Cost]:
        """The costs of ops run one after another, given each op's own cost: where running in
        sequence adds time (a host that cannot launch kernels as fast as the device runs them),
        a family attributes it to the op that waits. Default: ops do not interact."""
        return costs

    @property
    def order_dependent(self) -> bool:
        """True when :meth:`sequence` changes costs, so callers must cost ops in run order
        (not as counted templates)."""
        return False

    # ---------------------------------------------------------------- what it is
    @abstractmethod
    def summary(self) -> HardwareSummary:
        """Clock, memory and idle power in the shared vocabulary."""

    def peak_ops_per_s(self, activations: str, weights: str) -> float:
        """Peak throughput (ops/s, 2 per MAC) of a GEMM with these operand formats at the
        design's clock; UnsupportedError where it has no datapath for them or no peak figure."""
        raise UnsupportedError(f"{self.name}: the {self.family} model states no peak rate")

    @property
    def area_mm2(self) -> float:
        raise UnsupportedError(f"{self.name}: the {self.family} model has no area model")

    def area_breakdown_um2(self) -> dict[str, float]:
        raise UnsupportedError(f"{self.name}: the {self.family} model has no area breakdown")

    def resource_table(self) -> str | None:
        """FPGA-like designs: a printable used / available table; None where not applicable."""
        return None

    @property
    def resource_utilization(self) -> float:
        raise UnsupportedError(f"{self.name}: the {self.family} model has no resource "
                               "utilization (an FPGA metric)")

    def tile_programs(self, op: Op, cost: Cost, mem_latency_s: float = 0.0
                      ) -> list["TileProgram"] | None:
        """The tile programs that simulate ``op`` (run one after another), or None: the
        simulator then replays ``cost`` as a generic stream (:mod:`hwsim.sim.generic`)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


# The name the founding design used; kept so user code subclassing it still works.
AcceleratorBase = Accelerator


@dataclass(frozen=True)
class Family:
    """A hardware family's registry record (its package ``__init__`` defines ``FAMILY``).

    ``models`` maps a model name to its class; ``"default"`` is what :func:`hwsim.load_arch`
    builds. ``check_modules`` are modules of the family package that register known-design
    checks with :func:`hwsim.validate.provider` (imported when the registry is first read).
    ``fit`` names the family's calibration entry point, if it has one.
    """

    name: str
    description: str
    models: Mapping[str, type[Accelerator]]
    check_modules: tuple[str, ...] = ()
    fit: str = ""

    def __post_init__(self):
        if "default" not in self.models:
            raise ConfigError(f"family {self.name!r}: models must include 'default'")


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


__all__ = ["Accelerator", "AcceleratorBase", "Bound", "Cost", "CostDetail", "EnergyParts",
           "Family", "HardwareSummary", "Params", "SimDetail", "TimeParts", "pick_compute_path",
           "roofline_cost", "validate_params"]
