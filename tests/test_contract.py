"""The parameter boundary of hwsim/contract.py (issue 21): every number finite, not a boolean,
and in its physical range; the range table covers every numeric field of every family."""

import math
import typing
import warnings

import annotated_types as at
import pytest

from hwsim.arch import list_archs, load_arch
from hwsim.contract import Params, param_range, _admits
from hwsim.errors import ConfigError
from hwsim.families import FAMILIES


def _schemas():
    seen = []

    def walk(P):
        if P in seen:
            return
        seen.append(P)
        for f in P.model_fields.values():
            for a in (f.annotation, *typing.get_args(f.annotation)):
                if isinstance(a, type) and issubclass(a, Params):
                    walk(a)
    for models in FAMILIES.values():
        for cls in models.values():
            walk(cls.Params)
    return seen


@pytest.mark.parametrize("schema", _schemas(), ids=lambda s: s.__name__)
def test_every_float_field_has_a_finite_range(schema):
    """A float field states its range (unit suffix, ``ranges``, or Field le/lt): a value like
    1e-300 or 1e300 must not reach the model (ints default to COUNT_MAX)."""
    bare = []
    for name, f in schema.model_fields.items():
        if _admits(f.annotation, bool) or not _admits(f.annotation, float):
            continue
        upper = any(isinstance(m, (at.Le, at.Lt)) for m in f.metadata)
        if param_range(schema, name) is None and not upper:
            bare.append(name)
    assert not bare, f"{schema.__name__}: float fields without a range: {bare}"


@pytest.mark.parametrize("preset", list_archs())
def test_every_preset_is_inside_the_ranges(preset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert load_arch(preset).params is not None


# (preset, override, words the one-line error must contain): the examples
BAD = [
    ("h100-sxm", {"tc_efficiency": {"fp16": 0}}, ["tc_efficiency.fp16", "0", "fraction of peak"]),
    ("h100-sxm", {"tc_efficiency": {"fp16": 5.0}}, ["tc_efficiency.fp16", "5.0"]),
    ("h100-sxm", {"tc_efficiency": {"fp16": -0.5}}, ["tc_efficiency.fp16", "-0.5"]),
    ("h100-sxm", {"tc_efficiency": {"fp99": 0.5}}, ["tc_efficiency.fp99", "datapath"]),
    ("h100-sxm", {"tile_size_exponent": 1e300}, ["tile_size_exponent", "1e+300", "exponent"]),
    ("h100-sxm", {"sms": True}, ["sms", "True", "boolean"]),
    ("h100-sxm", {"clock_hz": -1.0e9}, ["clock_hz"]),
    ("h100-sxm", {"clock_hz": float("nan")}, ["clock_hz", "finite"]),
    ("h100-sxm", {"mem_bandwidth_Bps": 1e-300}, ["mem_bandwidth_Bps", "1e-300", "bytes/s"]),
    ("h100-sxm", {"mem_bandwidth_Bps": float("inf")}, ["mem_bandwidth_Bps", "finite"]),
    ("h100-sxm", {"power_budget_ratio": 0.1}, ["power_budget_ratio", "idle_power_w"]),
    ("b200", {"path_fallback": {"fp4": "fp5"}}, ["path_fallback.fp4", "fp5"]),
    ("b200", {"path_fallback": {"fp4": "int4"}}, ["path_fallback.fp4", "int4"]),
    ("h100-sxm", {"conv_efficiency": {"3x3": 0.5}}, ["conv_efficiency.3x3"]),
    ("mac-tc", {"rows": 1e30}, ["rows", "1e+30", "16777216"]),
    ("mac-tc", {"rows": 2 ** 40}, ["rows", str(2 ** 40)]),
    ("stm32h7", {"supply_v": float("inf")}, ["supply_v", "finite"]),
    ("stm32h7", {"supply_v": 1e6}, ["supply_v", "volts"]),
    ("rpi5", {"kernel_efficiency": {"dequant": float("nan")}}, ["kernel_efficiency"]),
    ("fpga-int8-systolic", {"buffer_bytes": float("inf")}, ["buffer_bytes", "finite"]),
    ("a100-lut-4x", {"lut_tiles_per_sm": True}, ["lut_tiles_per_sm", "boolean"]),
    ("a100-lut-4x", {"table_format": "zz"}, ["field 'table_format'", "unknown format 'zz'"]),
    ("lut-tc", {"activation_formats": ["nope"]}, ["field 'activation_formats'", "'nope'"]),
]


@pytest.mark.parametrize("preset,override,words", BAD,
                         ids=[f"{p}-{next(iter(o))}" for p, o, _ in BAD])
def test_bad_params_are_one_line_errors(preset, override, words):
    with pytest.raises(ConfigError) as e:
        load_arch(preset, **override)
    msg = str(e.value)
    assert "\n" not in msg and f"{preset}.yaml" in msg
    for w in words:
        assert w in msg, (w, msg)


def test_numeric_strings_still_load():
    """YAML reads ``1e9`` (no dot) as a string; a number spelled so is still that number."""
    assert load_arch("h100-sxm", clock_hz="1.5e9").params.clock_hz == 1.5e9


@pytest.mark.parametrize("bad", [None, 5, ["h100-sxm"], "", b"h100-sxm"])
def test_load_arch_names_a_preset_or_path(bad):
    with pytest.raises(ConfigError, match="expected a preset name"):
        load_arch(bad)


def test_inherit_must_name_a_preset(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: x\nfamily: gpu\ninherit: [h100-sxm]\nparams: {}\n")
    with pytest.raises(ConfigError, match="field 'inherit'"):
        load_arch(p)
    assert math.isfinite(load_arch("h100-sxm").params.clock_hz)
