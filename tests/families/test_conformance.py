"""The conformance suite: every registered family and every bundled preset honours the contract
(hwsim/contract.py), as scikit-learn's check_estimator does for estimators.

A new family passes this module before it is merged (docs/adding-a-family.md)."""

from __future__ import annotations

import math
import warnings

import pytest

import hwsim
from hwsim.arch import list_archs
from hwsim.contract import Accelerator, Bound, Cost, CostDetail, EnergyParts, HardwareSummary
from hwsim.errors import HwsimError, UnsupportedError
from hwsim.families import REGISTRY
from hwsim.workload.ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Softmax

REL = 1e-6

# A small zoo of ops: each kind the contract dispatches, in the formats presets commonly run.
FORMATS = [("fp16", "fp16"), ("int8", "int8"), ("int8", "int4"), ("fp16", "int4_g128"),
           ("bf16", "bf16"), ("int8", "int2"), ("fp8_e4m3", "fp8_e4m3")]


def _zoo():
    ops = []
    for a, w in FORMATS:
        ops.append(Gemm(name=f"gemm.{a}x{w}", M=64, N=512, K=1024, activations=a, weights=w))
        ops.append(Gemm(name=f"gemv.{a}x{w}", M=1, N=2048, K=2048, activations=a, weights=w))
    ops += [
        Conv2d(name="conv3x3", batch=1, in_channels=32, out_channels=64, in_h=28, in_w=28,
               kernel_h=3, kernel_w=3, stride=1, padding=1, activations="int8", weights="int8"),
        Conv2d(name="conv.fp16", batch=1, in_channels=32, out_channels=64, in_h=28, in_w=28,
               kernel_h=3, kernel_w=3, stride=1, padding=1, activations="fp16", weights="fp16"),
        Attention(name="attn.decode", batch=1, heads=8, kv_heads=8, q_len=1, kv_len=256,
                  head_dim=64, activations="fp16"),
        Attention(name="attn.prefill", batch=1, heads=8, kv_heads=2, q_len=128, kv_len=128,
                  head_dim=64, activations="int8"),
        # small enough for a microcontroller's SRAM: every design must run them
        Elementwise(name="add", numel=1 << 12, inputs=2, activations="fp16"),
        Norm(name="norm", rows=8, cols=256, activations="fp16"),
        Softmax(name="softmax", rows=8, cols=128, activations="fp16"),
        Embedding(name="embed", tokens=16, vocab=32000, dim=1024, weights="fp16"),
    ]
    return ops


ZOO = _zoo()


@pytest.fixture(scope="module", params=list_archs())
def hw(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return hwsim.load_arch(request.param)


def _costs(hw):
    """(op, Cost) for every zoo op the design runs; the others must raise UnsupportedError or
    another HwsimError (a clear message), never anything else."""
    out = []
    for op in ZOO:
        try:
            out.append((op, hw.cost(op)))
        except HwsimError:
            continue
    return out


def check_cost(c: Cost, where: str) -> None:
    assert isinstance(c, Cost), where
    assert isinstance(c.bound, Bound), f"{where}: bound {c.bound!r} is not a Bound"
    assert math.isfinite(c.latency_s) and c.latency_s > 0, f"{where}: latency {c.latency_s}"
    assert math.isfinite(c.energy_j) and c.energy_j >= 0, f"{where}: energy {c.energy_j}"
    assert 0 <= c.utilization <= 1 + 1e-4, f"{where}: utilization {c.utilization}"
    t = c.time
    for k in ("compute_s", "memory_s", "overhead_s"):
        v = getattr(t, k)
        assert math.isfinite(v) and v >= 0, f"{where}: time.{k} = {v}"
    lo = max(t.compute_s, t.memory_s) + t.overhead_s
    hi = t.compute_s + t.memory_s + t.overhead_s
    assert lo <= c.latency_s * (1 + REL) + 1e-15, f"{where}: parts {t} exceed {c.latency_s}"
    assert c.latency_s <= hi * (1 + REL) + 1e-15, f"{where}: parts {t} miss part of {c.latency_s}"
    assert isinstance(c.energy, EnergyParts), f"{where}: energy parts missing"
    for k in ("compute_j", "onchip_j", "offchip_j", "static_j"):
        v = getattr(c.energy, k)
        assert math.isfinite(v) and v >= 0, f"{where}: energy.{k} = {v}"
    assert c.energy.total_j == pytest.approx(c.energy_j, rel=1e-9, abs=1e-18), where
    assert c.detail is None or isinstance(c.detail, CostDetail), where
    assert all(math.isfinite(v) for v in c.breakdown.values()), where


def test_registered_and_typed(hw):
    assert isinstance(hw, Accelerator)
    fam = REGISTRY[hw.family]
    assert type(hw) in fam.models.values()


def test_summary(hw):
    s = hw.summary()
    assert isinstance(s, HardwareSummary)
    assert s.name == hw.name and s.family == hw.family
    assert math.isfinite(s.clock_hz) and s.clock_hz > 0
    assert math.isfinite(s.mem_bandwidth_Bps) and s.mem_bandwidth_Bps > 0
    assert s.mem_capacity_bytes is None or s.mem_capacity_bytes > 0
    assert math.isfinite(s.idle_power_w) and s.idle_power_w >= 0


def test_costs_obey_the_invariants(hw):
    costs = _costs(hw)
    assert costs, f"{hw.name} runs none of the zoo's ops"
    for op, c in costs:
        check_cost(c, f"{hw.name}: {op.name}")


def test_unsupported_is_an_error_not_a_number(hw):
    """Every op either costs (checked above) or raises a HwsimError; vector ops run everywhere
    (an LLM or CNN needs them), and an op with a format no datapath has is refused."""
    for op in ZOO:
        if isinstance(op, (Elementwise, Norm, Softmax)):
            check_cost(hw.cost(op), f"{hw.name}: {op.name}")
    weird = Gemm(name="gemm.fp64", M=8, N=64, K=64, activations="fp64", weights="fp64") \
        if _has_format("fp64") else None
    if weird is not None:
        try:
            c = hw.cost(weird)
        except UnsupportedError:
            return
        check_cost(c, f"{hw.name}: fp64 GEMM")


def _has_format(name: str) -> bool:
    try:
        hwsim.formats.get(name)
        return True
    except HwsimError:
        return False


def test_peak_rate_contract(hw):
    for a, w in FORMATS:
        try:
            p = hw.peak_ops_per_s(a, w)
        except HwsimError:
            continue
        assert math.isfinite(p) and p > 0, f"{hw.name}: peak {a}x{w} = {p}"


def test_sequence_keeps_costs_valid(hw):
    costs = [c for _, c in _costs(hw)]
    seq = hw.sequence(costs)
    assert len(seq) == len(costs)
    for c0, c1 in zip(costs, seq):
        check_cost(c1, f"{hw.name}: sequenced")
        assert c1.latency_s >= c0.latency_s * (1 - REL)
    if not hw.order_dependent:
        assert [c.latency_s for c in seq] == [c.latency_s for c in costs]


@pytest.mark.parametrize("name", sorted({a for a in list_archs()}))
def test_simulator_is_no_faster_than_the_roofline(name):
    """The tile-level simulator replays the analytical mapping and adds stalls: it never beats
    the analytical cost's own compute and memory parts."""
    from hwsim.sim import simulate_op
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        hw = hwsim.load_arch(name)
    for op in ZOO[:4]:
        try:
            c = hw.cost(op)
        except HwsimError:
            continue
        s, _ = simulate_op(hw, op, c)
        check_cost(s, f"{name}: simulated {op.name}")
        assert s.latency_s >= max(c.time.compute_s, c.time.memory_s) * (1 - 1e-3), \
            f"{name}: {op.name} simulated {s.latency_s} < roofline parts of {c}"
