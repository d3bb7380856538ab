"""The README's worked example: a stall the analytical model misses.

    python benchmarks/sim_worked_example.py [--out DIR]

llama-2-7b's attention output projection at a 512-token prefill (Gemm 512 x 4096 x 4096, fp16) on
the ``mac-tc`` MAC array, with its 512 kB input buffer and with the buffer halved to 256 kB. The
analytical model re-maps the GEMM to the smaller buffer and, compute-bound either way, predicts
the same latency. The simulator runs the mapping the analytical model chose: with 256 kB the
mapper streams one activation row at a time and takes a 512 kB weight tile that fills the whole
weight buffer -- it cannot be double-buffered, so every weight tile's load stalls the array.
Also: two such arrays behind one DRAM channel (decode GEMM 1 x 4096 x 4096).

Writes ``sim_worked_example.csv`` and ``sim_worked_example_util.png`` (utilization over time of
the compute array and the memory channel, both buffer sizes) under ``--out``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import hwsim
from hwsim.sim import simulate_op, simulate_shared
from hwsim.sim.trace import utilization


def rows() -> list[dict]:
    op = hwsim.ops.Gemm(name="attn.o", M=512, N=4096, K=4096, weights="fp16",
                        activations="fp16")
    out = []
    for ib in (524288, 262144):
        hw = hwsim.load_arch("mac-tc", input_buffer_bytes=ib)
        a = hw.cost(op)
        c, _ = simulate_op(hw, op, a)
        m = hw.mapping(op)[0]
        b = c.breakdown
        out.append(dict(case=f"prefill attn.o 512x4096x4096, input_buffer_bytes={ib}",
                        mapping=f"tile={m['tile']} order={m['order']}",
                        analytical_s=a.latency_s, simulated_s=c.latency_s,
                        sim_over_analytical=c.latency_s / a.latency_s,
                        fill_drain_s=b["sim_fill_drain_s"], stall_memory_s=b["sim_stall_memory_s"],
                        stall_buffer_s=b["sim_stall_buffer_s"],
                        stall_compute_s=b["sim_stall_compute_s"]))
    hw = hwsim.load_arch("mac-tc")
    dec = hwsim.ops.Gemm(name="attn.o", M=1, N=4096, K=4096, weights="fp16", activations="fp16")
    a = hw.cost(dec)
    one, _ = simulate_op(hw, dec, a)
    two = simulate_shared(hw, [dec, dec])
    out.append(dict(case="decode attn.o 1x4096x4096, one array", mapping="",
                    analytical_s=a.latency_s, simulated_s=one.latency_s,
                    sim_over_analytical=one.latency_s / a.latency_s,
                    fill_drain_s=one.breakdown["sim_fill_drain_s"],
                    stall_memory_s=one.breakdown["sim_stall_memory_s"], stall_buffer_s=0.0,
                    stall_compute_s=one.breakdown["sim_stall_compute_s"]))
    out.append(dict(case="decode attn.o 1x4096x4096, two arrays on one DRAM channel",
                    mapping="", analytical_s=a.latency_s, simulated_s=two.latency_s,
                    sim_over_analytical=two.latency_s / a.latency_s,
                    fill_drain_s=two.fill_drain_s, stall_memory_s=two.stall_memory_s,
                    stall_buffer_s=two.stall_buffer_s, stall_compute_s=two.stall_compute_s))
    return out


def plot(path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    op = hwsim.ops.Gemm(name="attn.o", M=512, N=4096, K=4096, weights="fp16",
                        activations="fp16")
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for ax, ib in zip(axes, (524288, 262144)):
        u = utilization(hwsim.load_arch("mac-tc", input_buffer_bytes=ib), op, bins=400)
        t = u.pop("t_s") * 1e3
        for track in ("mac array 32x32", "memory channel"):
            ax.plot(t, u[track], lw=0.8, label=track)
        ax.set_ylabel("busy fraction")
        ax.set_title(f"input_buffer_bytes = {ib // 1024} kB", fontsize=9)
        ax.set_ylim(-0.02, 1.05)
        ax.legend(fontsize=7, loc="lower right")
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle("mac-tc, Gemm 512x4096x4096 fp16 (simulated)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rs = rows()
    for r in rs:
        print(f"{r['case']:62s} analytical {1e3 * r['analytical_s']:8.3f} ms  simulated "
              f"{1e3 * r['simulated_s']:8.3f} ms ({100 * (r['sim_over_analytical'] - 1):+5.1f}%)  "
              f"buffer stall {1e3 * r['stall_buffer_s']:.3f} ms  {r['mapping']}")
    with open(out / "sim_worked_example.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rs[0]))
        w.writeheader()
        w.writerows(rs)
    print(f"wrote {out / 'sim_worked_example.csv'} and {plot(out / 'sim_worked_example_util.png')}")


if __name__ == "__main__":
    main()
