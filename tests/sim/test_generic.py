"""The generic program: a chunked stream that reproduces an analytical Cost."""

import pytest

from hwsim.contract import Cost, TimeParts
from hwsim.sim import simulate
from hwsim.sim.generic import CHUNKS, program
from hwsim.workload.ops import Elementwise


def op():
    return Elementwise(name="add", numel=1 << 20, inputs=2, activations="fp16")


@pytest.mark.parametrize("comp,mem", [(1e-3, 2e-4), (2e-4, 1e-3), (5e-4, 5e-4)])
def test_generic_stream_is_the_roofline_plus_one_chunk(comp, mem):
    c = Cost(latency_s=max(comp, mem) + 1e-6, energy_j=0.0, bound="compute", utilization=1.0,
             time=TimeParts(compute_s=comp, memory_s=mem, overhead_s=1e-6))
    res = simulate(program(op(), c))
    expect = max(comp, mem) + min(comp, mem) / CHUNKS + 1e-6
    assert res.latency_s == pytest.approx(expect, rel=1e-3)


def test_cost_without_breakdown_is_pure_compute():
    c = Cost(latency_s=2e-3, energy_j=0.0, bound="compute", utilization=1.0)
    prog = program(op(), c)
    assert prog.load_bytes == 0 and prog.compute_s == pytest.approx(2e-3)
    assert simulate(prog).latency_s == pytest.approx(2e-3)
