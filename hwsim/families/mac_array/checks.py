"""The MAC-array baseline against ZigZag (zigzag-dse 3.9.1) on the same 32 x 32 array.

ZigZag's cycle counts come from ``hwsim/families/mac_array/data/compare.csv`` (ZigZag needs its own venv, so
its side is committed, made by ``benchmarks/zigzag/compare.py``); hwsim's side is computed here on
every run with ``hwsim/families/mac_array/data/tpu_like_hwsim.yaml``, the mirror of ZigZag's ``tpu_like``
array. Nothing in the MAC-array model was set from ZigZag's results: these are validation checks
of the mapping search and cycle model against an independent tool (energies are not compared:
the two tools price accesses from different tables).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ...validate import Check, provider

ZIGZAG = Path(__file__).resolve().parent / "data"
# decoder-layer GEMMs of llama-2-7b (N, K) and the token count compared
LLAMA = {"qkv": (12288, 4096), "o": (4096, 4096), "up": (22016, 4096), "down": (4096, 11008)}
TOKENS = 512


def workload(label: str):
    """The hwsim workload compared as ``label`` (resnet18, or llama-2-7b-layer: 4 int8 GEMMs)."""
    from ...workload import GraphBuilder, load_workload
    from ...workload.ops import Gemm
    if label == "resnet18":
        return load_workload("resnet18", weights="int8", activations="int8")
    b = GraphBuilder()
    for name, (n, k) in LLAMA.items():
        b.add(Gemm(name=name, M=TOKENS, N=n, K=k, weights="int8", activations="int8"))
    return b.build("llama-2-7b-layer", {}, None)


def hwsim_cycles(label: str) -> float:
    """Cycles of the GEMM/conv layers of ``label`` on the tpu_like mirror."""
    from ...arch import load_arch
    from ...evaluate import evaluate
    hw = load_arch(ZIGZAG / "tpu_like_hwsim.yaml")
    rep = evaluate(workload(label), hw)
    return sum(r.cost.latency_s for r in rep.rows
               if r.op.type in ("Gemm", "Conv2d")) * hw.params.clock_hz


_MISSES = {"resnet18": "hwsim's mapping search finds fewer cycles than ZigZag's LOMA on ResNet-18 "
                       "(per-layer split not yet compared)"}


@provider("mac_array")
def _mac_array_checks() -> list[Check]:
    path = ZIGZAG / "compare.csv"
    if not path.exists():  # installed without the repository's benchmarks/ folder
        return []
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["tool"] == "zigzag"]
    return [Check("mac_array", f"zigzag.{r['workload']}.cycles",
                  f"{r['workload']} cycles on ZigZag's 32x32 tpu_like array",
                  "ZigZag 3.9.1 (hwsim/families/mac_array/data/compare.csv)", float(r["cycles"]), "cycles",
                  (lambda w=r["workload"]: hwsim_cycles(w)), 0.10,
                  known_miss=_MISSES.get(r["workload"], ""))
            for r in rows]
