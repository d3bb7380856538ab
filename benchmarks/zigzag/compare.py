"""Run ZigZag and hwsim on the same array and layers; print and save run time, cycles, energy.
Needs a venv with both installed (see README.md in this folder)."""

from __future__ import annotations

import argparse
import csv
import logging
import os
import time
from pathlib import Path

import hwsim
from hwsim.families.mac_array.checks import LLAMA, TOKENS, workload

HERE = Path(__file__).resolve().parent


def zigzag_run(workload, label: str) -> dict:
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag
    d = Path(zigzag.__file__).parent / "inputs"
    t0 = time.perf_counter()
    energy_pj, cycles, _ = get_hardware_performance_zigzag(
        workload, str(d / "hardware/tpu_like.yaml"), str(d / "mapping/tpu_like.yaml"),
        opt="energy", dump_folder=f"/tmp/zigzag-{label}", loma_show_progress_bar=False)
    return {"tool": "zigzag", "workload": label, "run_s": time.perf_counter() - t0,
            "cycles": float(cycles), "energy_j": energy_pj * 1e-12}


def llama_layers_zigzag(tokens: int) -> list[dict]:
    return [{"id": i, "name": name, "operator_type": "Gemm",
             "equation": "O[b][k]+=I[b][c]*W[c][k]", "loop_dims": ["B", "K", "C"],
             "loop_sizes": [tokens, n, k], "operand_precision": {"I": 8, "W": 8, "O": 16,
                                                                  "O_final": 8},
             "operand_source": {"I": i - 1} if i else {}}
            for i, (name, (n, k)) in enumerate(LLAMA.items())]


def hwsim_run(label: str, repeat: int = 5) -> dict:
    hw = hwsim.load_arch(HERE.parents[1] / "hwsim/families/mac_array/data/tpu_like_hwsim.yaml")
    times = []
    for _ in range(repeat):  # fresh cost memo each time: the mapping search runs every time
        t0 = time.perf_counter()
        wl = workload(label)
        rep = hwsim.evaluate(wl, hw)
        times.append(time.perf_counter() - t0)
    gemms = [r for r in rep.rows if r.op.type in ("Gemm", "Conv2d")]
    return {"tool": "hwsim", "workload": label, "run_s": sorted(times)[len(times) // 2],
            "cycles": sum(r.cost.latency_s for r in gemms) * hw.params.clock_hz,
            "energy_j": sum(r.cost.energy_j for r in gemms)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/zigzag")
    ap.add_argument("--skip-zigzag", action="store_true")
    a = ap.parse_args()
    logging.disable(logging.WARNING)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    rows = [hwsim_run("resnet18"), hwsim_run("llama-2-7b-layer")]
    if not a.skip_zigzag:
        import zigzag
        onnx = str(Path(zigzag.__file__).parent / "inputs/workload/resnet18.onnx")
        rows += [zigzag_run(onnx, "resnet18"), zigzag_run(llama_layers_zigzag(TOKENS),
                                                          "llama-2-7b-layer")]
    with open(out / "compare.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        print(f"{r['tool']:7s} {r['workload']:18s} run {r['run_s']:9.3f} s  cycles {r['cycles']:.4g}"
              f"  energy {r['energy_j']:.4g} J")
    by = {(r["tool"], r["workload"]): r for r in rows}
    for wname in ("resnet18", "llama-2-7b-layer"):
        if ("zigzag", wname) in by:
            z, h = by[("zigzag", wname)], by[("hwsim", wname)]
            print(f"{wname}: hwsim {z['run_s'] / h['run_s']:.0f}x faster; cycles hwsim/zigzag "
                  f"{h['cycles'] / z['cycles']:.2f}, energy hwsim/zigzag {h['energy_j'] / z['energy_j']:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
