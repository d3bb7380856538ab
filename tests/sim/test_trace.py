"""Chrome-trace export and the utilization-over-time plot of one simulated op."""

import json

import numpy as np
import pytest

import hwsim
from hwsim.sim.trace import chrome_trace, plot_utilization, utilization, write_op_trace


@pytest.fixture(scope="module")
def setup():
    hw = hwsim.load_arch("mac-tc", input_buffer_bytes=256 * 1024)
    op = hwsim.ops.Gemm(name="g", M=128, N=1024, K=2048, weights="fp16", activations="fp16")
    return hw, op


def test_chrome_trace_is_valid_and_covers_the_simulated_time(setup, tmp_path):
    hw, op = setup
    path = write_op_trace(hw, op, tmp_path / "g.trace.json")
    data = json.loads(path.read_text())
    ev = data["traceEvents"]
    spans = [e for e in ev if e["ph"] == "X"]
    names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"load DMA", "store DMA", "memory channel"} <= names
    assert any(n.startswith("mac array") for n in names)
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    lat_us = hwsim.sim.simulate_op(hw, op)[0].latency_s * 1e6
    end = max(e["ts"] + e["dur"] for e in spans)
    assert end == pytest.approx(lat_us, rel=1e-6)
    busy = sum(e["dur"] for e in spans if e["tid"] == next(
        t["tid"] for t in ev if t["ph"] == "M" and t["args"].get("name", "").startswith("mac")))
    assert busy == pytest.approx(hw.cost(op).breakdown["compute_s"] * 1e6, rel=1e-6)
    assert chrome_trace(hw, op)["displayTimeUnit"] == "ns"


def test_utilization_over_time_and_its_plot(setup, tmp_path):
    hw, op = setup
    u = utilization(hw, op, bins=50)
    comp = next(v for k, v in u.items() if k.startswith("mac"))
    assert len(u["t_s"]) == 50 and np.all((comp >= 0) & (comp <= 1))
    # the array idles while the first tiles load: the first bin is below the average
    assert comp[0] < comp.mean()
    png = plot_utilization(hw, op, tmp_path / "u.png")
    assert png.stat().st_size > 5000
