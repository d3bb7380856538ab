"""Fit and validate the GPU model against measurements from ``benchmarks/gpu/measure.py``.

``load_measurements(dir)`` reads a measurement folder (ours or ``shared/calibration/h100``);
``fit(hw, data)`` returns fitted parameters; ``split(hw, samples)`` makes the disjoint fit / held-out
sets every reported error is computed on (``gpu_report``).

Fit / hold-out split (documented so that errors on the rest are honest):

* GEMM timing parameters (tensor efficiencies, overheads, tile-size and alignment terms, the
  effective power budget) are fitted on the ``square`` and ``nsweep`` shapes, the 7B-model layer
  shapes (``llm7b.*``, M = 1..8192) and every other ``odd`` shape (1st, 3rd, ... in the order
  measure.py lists them); every 70B-model layer shape, the remaining ``odd`` shapes and the whole
  second GPU are held out. fp32 (the SIMT path, other kernels) leaves that step: its efficiency
  is fitted on the fp32 rows of the same fit shapes with the shared terms held (#22; with fp32
  in the joint step, the SIMT tile rule moved the tensor terms to another local optimum).
* ``mem_efficiency`` comes from the read-only bandwidth test (>= 256 MiB).
* ``int8_skinny_bw_efficiency`` (int8 GEMMs with M <= 64) is fitted on the 7B-layer int8 shapes
  at M = 32 and 64, with the other GEMM parameters held; the 70B-layer ones are held out.
* Attention: prefill/decode parameters are fitted on kv_heads = 32 (MHA); GQA (kv_heads = 8) is
  held out. W4A16: fitted on the 7B layer shapes; 70B shapes are held out.
* Memory-bound kernels (memops.csv): the elementwise fixed time is fitted on ``add`` and the
  reduction bandwidth factor on ``layer_norm``; GELU, SiLU*mul, RMSNorm, softmax and embedding are
  held out.
* Convolutions (conv.csv, conv_bf16.csv; benchmarks/gpu/conv.py, measured on the H200 only): the
  conv parameters (fixed times, per-filter-class efficiencies, depthwise bandwidth) are fitted on
  the fp16 rows of the distinct conv shapes of ResNet-18 and MobileNetV2 (``CONV_FIT_MODELS``);
  the shapes only ResNet-50 and ViT-B/16 have, and every bf16 row of them, are held out.
* Energy: idle power, per-op energies and per-byte energy come from the sustained NVML runs of
  bf16 8192^3, fp8/int8 8192^3, fp16 4096^3, fp32 4096^3 and the 1 GiB copy; the other energy rows
  are held out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...workload.ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Op, Softmax

FORMATS = {  # measured dtype -> (activations, weights, out) as the PyTorch calls ran them
    "bf16": ("bf16", "bf16", "bf16"), "fp16": ("fp16", "fp16", "fp16"),
    "fp8": ("fp8_e4m3", "fp8_e4m3", "bf16"), "int8": ("int8", "int8", "int32"),
    "tf32": ("tf32", "tf32", "fp32"), "fp32": ("fp32", "fp32", "fp32"),
}


@dataclass(frozen=True)
class Sample:
    kind: str      # gemm, attention, w4a16, memop
    dtype: str
    family: str    # square, llm, odd, nsweep, prefill, decode, w4a16-7b ...
    op: Op | tuple  # a tuple: kernels run back to back (what the measured PyTorch code launched)
    seconds: float
    fit: bool      # used for fitting (False: held out)
    label: str


class _Row(dict):
    """A CSV row whose missing column is a ConfigError naming the file, not a KeyError."""

    path: Path = Path()

    def __missing__(self, key):
        raise ConfigError(f"{self.path}: no column {key!r} (it has {', '.join(self)}); "
                          "expected the columns benchmarks/gpu/measure.py writes")


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = [_Row(r) for r in csv.DictReader(f)]
    for r in rows:
        r.path = path
    return rows


def load_measurements(folder: str | Path) -> dict:
    """Samples and raw energy/bandwidth rows of a measurement folder."""
    d = Path(folder)
    if not d.is_dir():
        raise ConfigError(f"{d}: no such measurement folder (make one with "
                          "benchmarks/gpu/measure.py --out DIR)")
    try:
        return _load_measurements(d)
    except ConfigError:
        raise
    except (ValueError, TypeError, OSError) as e:  # a cell that is not a number, a short row
        raise ConfigError(f"{d}: malformed measurement file ({e})") from None


def _load_measurements(d: Path) -> dict:
    samples: list[Sample] = []
    odd_seen: dict[str, int] = {}
    for p in sorted(d.glob("gemm*.csv")):
        for r in _rows(p):
            dt = r["dtype"]
            if dt not in FORMATS:
                continue  # e.g. int8_nn: a layout the model does not describe
            a, w, o = FORMATS[dt]
            M, N, K = int(r["M"]), int(r["N"]), int(r["K"])
            tag = r["tag"]
            fam = tag.split(".")[0]  # square, nsweep, odd, llm7b, llm70b
            fit = fam in ("square", "nsweep", "llm7b")
            if fam == "odd":
                shape = f"{r.get('M_req', M)}x{N}x{K}"
                i = odd_seen.setdefault(shape, len(odd_seen))
                fit = i % 2 == 0
            samples.append(Sample("gemm", dt, fam, Gemm(name=f"{tag} {M}x{N}x{K}", M=M, N=N, K=K,
                                                        activations=a, weights=w, out=o),
                                  float(r["s_median"]), fit, f"{dt} {tag} {M}x{N}x{K}"))
    if (d / "attention.csv").exists():
        for r in _rows(d / "attention.csv"):
            op = Attention(batch=int(r["batch"]), heads=int(r["heads"]),
                           kv_heads=int(r["kv_heads"]), q_len=int(r["q_len"]),
                           kv_len=int(r["kv_len"]), head_dim=int(r["head_dim"]),
                           causal=r["phase"] == "prefill", activations=r["dtype"])
            samples.append(Sample("attention", r["dtype"], f"attn-{r['phase']}", op,
                                  float(r["s_median"]), int(r["kv_heads"]) == int(r["heads"]),
                                  f"{r['phase']} B={r['batch']} KVH={r['kv_heads']} "
                                  f"L={r['kv_len']}"))
    if (d / "w4a16.csv").exists():
        for r in _rows(d / "w4a16.csv"):
            M, N, K, g = int(r["M"]), int(r["N"]), int(r["K"]), int(r["group"])
            op = Gemm(M=M, N=N, K=K, activations="bf16", weights=f"uint4_g{g}", out="bf16")
            samples.append(Sample("w4a16", "w4a16", "w4a16", op, float(r["s_median"]),
                                  r["model"] == "7b", f"w4a16 {r['model']}.{r['layer']} M={M}"))
    if (d / "memops.csv").exists():
        for r in _rows(d / "memops.csv"):
            R, C, name = int(r["rows"]), int(r["cols"]), r["op"]
            op = memop(name, R, C)
            samples.append(Sample("memop", "memop", name, op, float(r["s_median"]),
                                  name in ("add", "layer_norm"), f"{name} {R}x{C}"))
    samples += conv_samples(d)
    out = {"samples": samples, "folder": str(d)}
    for name in ("energy", "bandwidth", "power"):
        if (d / f"{name}.csv").exists():
            out[name] = _rows(d / f"{name}.csv")
    return out


CONV_FIT_MODELS = ("resnet18", "mobilenetv2")


def _conv_dims(op: Conv2d) -> tuple:
    return (op.in_channels, op.in_h, op.in_w, op.out_channels, op.kernel_h, op.kernel_w,
            op.stride, op.padding, op.groups)


def conv_class(op: Conv2d) -> str:
    """Report family of a convolution: depthwise, stem (channels not a multiple of 8), 1x1, kxk;
    ``/2`` marks strided ones."""
    if op.groups > 1:
        c = "depthwise"
    elif op.in_channels % 8:
        c = "stem"
    else:
        c = "1x1" if op.kernel_h == op.kernel_w == 1 else "kxk"
    return c + ("/2" if op.stride > 1 and c not in ("stem",) else "")


def conv_samples(d: Path) -> list[Sample]:
    """conv.csv / conv_bf16.csv rows (benchmarks/gpu/conv.py), fit flag per CONV_FIT_MODELS."""
    files = [f for f in (d / "conv.csv", d / "conv_bf16.csv") if f.exists()]
    if not files:
        return []
    from ...workload.presets import load_workload

    fit_dims = {_conv_dims(o) for m in CONV_FIT_MODELS
                for o in load_workload(m, batch=1).ops if isinstance(o, Conv2d)}
    out = []
    for f in files:
        for r in _rows(f):
            v = {k: int(r[k]) for k in ("N", "C", "H", "W", "K", "R", "S", "stride", "padding",
                                        "groups")}
            dt = r["dtype"]
            op = Conv2d(name="conv", batch=v["N"], in_channels=v["C"], in_h=v["H"], in_w=v["W"],
                        out_channels=v["K"], kernel_h=v["R"], kernel_w=v["S"], stride=v["stride"],
                        padding=v["padding"], groups=v["groups"], weights=dt, activations=dt)
            fit = dt == "fp16" and _conv_dims(op) in fit_dims
            out.append(Sample("conv", dt, conv_class(op), op, float(r["s"]), fit,
                              f"conv {dt} N={v['N']} {v['C']}x{v['H']}x{v['W']} -> {v['K']} "
                              f"{v['R']}x{v['S']}/{v['stride']} g{v['groups']}"))
    return out


def memop(name: str, rows: int, cols: int):
    """The op(s) of a memops.csv row, as the measured PyTorch code ran them (bf16)."""
    n, a = rows * cols, "bf16"
    if name == "add":
        return Elementwise(numel=n, inputs=2, activations=a)
    if name == "silu_mul":  # F.silu(a) * b: two kernels in eager PyTorch
        return (Elementwise(numel=n, inputs=1, flops_per_elem=4, activations=a),
                Elementwise(numel=n, inputs=2, activations=a))
    if name == "gelu":
        return Elementwise(numel=n, inputs=1, flops_per_elem=8, activations=a)
    if name == "layer_norm":
        return Norm(rows=rows, cols=cols, kind="layer", affine_bias=True, activations=a)
    if name == "rms_norm":
        return Norm(rows=rows, cols=cols, kind="rms", activations=a)
    if name == "softmax":
        return Softmax(rows=rows, cols=cols, activations=a)
    if name == "embedding":
        return Embedding(vocab=32000, dim=cols, tokens=rows, weights=a, out=a)
    raise ConfigError(f"memops.csv: unknown op {name!r}")


# ---------------------------------------------------------------------------- split


@dataclass(frozen=True)
class Split:
    """Fit and held-out samples that share nothing, and what was dropped and why."""

    fit: list
    heldout: list
    dropped: list  # (sample, reason)


def _shape_key(s: Sample) -> tuple:
    """The configuration a sample measures, independent of dtype for GEMMs (tile quantization,
    waves and alignment terms are shared by every dtype of one shape)."""
    if isinstance(s.op, tuple):
        return (s.kind, s.family, s.label.split(" ", 1)[-1])
    if s.kind == "gemm":
        return ("gemm", s.op.M, s.op.N, s.op.K)
    if s.kind == "conv":
        return ("conv", s.op.batch) + _conv_dims(s.op)
    return (s.kind, s.op)


def split(hw, samples: list[Sample]) -> Split:
    """Split samples into fit and held-out sets that are disjoint.

    * Samples that ran the same kernel (same kind, dtype and op: e.g. int8 requests at M = 1 and
      M = 16 that both ran at M = 32) count once; a held-out duplicate of a fitted kernel is
      dropped.
    * A held-out sample whose configuration was fitted in any dtype (a GEMM shape such as
      8192 x 8192 x 8192 that is both a fitted square and a 70B-layer shape) is dropped.
    * A held-out sample the model cannot tell apart from a fitted one -- the same prediction, to
      1e-9, for the same kind and dtype, e.g. a GQA attention shape whose KV bytes equal a fitted
      MHA shape's -- is dropped: it is not independent evidence.

    Raises AssertionError if the result still shares a kernel or a configuration.
    """
    seen, uniq, dropped = {}, [], []
    for s in sorted(samples, key=lambda s: not s.fit):  # fitted copies win
        k = (s.kind, s.dtype, s.op)
        if k in seen:
            dropped.append((s, f"same kernel as {seen[k].label}"))
            continue
        seen[k] = s
        uniq.append(s)
    fit = [s for s in uniq if s.fit]
    fit_shapes = {_shape_key(s): s for s in fit}
    pred_fit = {}
    for s, p in zip(fit, predict(hw, fit)):
        pred_fit.setdefault((s.kind, s.dtype), []).append((p, s))
    held = []
    for s in uniq:
        if s.fit:
            continue
        twin = fit_shapes.get(_shape_key(s))
        if twin is not None:
            dropped.append((s, f"configuration fitted as {twin.label}"))
            continue
        p = _latency(hw, s.op)
        twin = next((t for q, t in pred_fit.get((s.kind, s.dtype), []) if abs(q / p - 1) < 1e-9),
                    None)
        if twin is not None:
            dropped.append((s, f"same prediction as fitted {twin.label}"))
            continue
        held.append(s)
    fk, fs = {(s.kind, s.dtype, s.op) for s in fit}, {_shape_key(s) for s in fit}
    assert not any((s.kind, s.dtype, s.op) in fk or _shape_key(s) in fs for s in held), \
        "fit and held-out sets overlap"
    return Split(fit, held, dropped)


def shape_family(s: Sample) -> str:
    """The family a sample reports under: GEMMs by origin with small-M (M <= 64) apart, attention
    by phase and MHA / GQA."""
    if s.kind == "gemm":
        if s.family.startswith("llm"):
            return "small-M" if s.op.M <= 64 else "llm-layers"
        return {"nsweep": "N-sweep"}.get(s.family, s.family)
    if s.kind == "attention":
        gqa = "GQA" if s.op.kv_heads != s.op.heads else "MHA"
        return f"{s.family.replace('attn-', '')}-{gqa}"
    return s.family


# ---------------------------------------------------------------------------- errors


def _latency(hw, op) -> float:
    if isinstance(op, tuple):
        return sum(hw.cost(o).latency_s for o in op)
    return hw.cost(op).latency_s


def predict(hw, samples: list[Sample]) -> np.ndarray:
    return np.array([_latency(hw, s.op) for s in samples])


def energy_errors(hw, data: dict) -> list[dict]:
    """Model energy per call vs NVML for each sustained GEMM run."""
    out = []
    for r in data.get("energy", []):
        lab = r["label"]
        if not lab.startswith("gemm ") or "asked" in lab:
            continue
        dt, shape = lab.split()[1:3]
        M, N, K = (int(x) for x in shape.split("x"))
        a, w, o = FORMATS[dt]
        c = hw.cost(Gemm(M=M, N=N, K=K, activations=a, weights=w, out=o))
        meas = float(r["j_per_call"])
        out.append(dict(label=lab, measured_j=meas, model_j=c.energy_j,
                        rel_error=c.energy_j / meas - 1, fit=lab in ENERGY_FIT,
                        measured_s=float(r["s_per_call"]), model_s=c.latency_s))
    return out


ENERGY_FIT = {"gemm bf16 8192x8192x8192": "bf16", "gemm fp8 8192x8192x8192": "fp8",
              "gemm int8 8192x8192x8192": "int8", "gemm fp16 4096x4096x4096": "fp16",
              "gemm fp32 4096x4096x4096": "fp32", "gemm tf32 8192x8192x8192": "tf32"}


# ---------------------------------------------------------------------------- fitting


def fit_energy(data: dict) -> dict:
    """Idle power, per-byte and per-op energies from the sustained NVML runs (direct solve)."""
    rows = {r["label"]: r for r in data.get("energy", [])}
    if "idle" not in rows or "copy 1GiB" not in rows:
        raise ConfigError(f"{data['folder']}: energy.csv needs the idle and 'copy 1GiB' rows")
    idle = float(rows["idle"]["mean_power_w"])
    cp = rows["copy 1GiB"]
    e_byte = (float(cp["mean_power_w"]) - idle) * float(cp["s_per_call"]) / float(cp["bytes_per_call"])
    e_op = {}
    for lab, path in ENERGY_FIT.items():
        if lab in rows:
            r = rows[lab]
            dyn = (float(r["mean_power_w"]) - idle) * float(r["s_per_call"])
            e_op[path] = (dyn - e_byte * float(r["bytes_per_call"])) / float(r["flops_per_call"])
    return {"idle_power_w": round(idle, 1), "hbm_energy_pj_per_byte": round(e_byte * 1e12, 2),
            "energy_pj_per_op": {k: round(v * 1e12, 4) for k, v in e_op.items()}}


# power.csv (benchmarks/gpu/power.py) rows -> memkernel_sm_power_w class. Not fitted on: copy_hbm
# (the per-byte energy's own row), add_l2 (L2-resident, launch-bound: the model has no L2 energy),
# dwconv / sdpa / gemm (compute kernels, priced per op).
POWER_FIT = {"add_hbm": "elementwise", "relu_fwd_bwd": "elementwise", "adamw_fused": "elementwise",
             "layernorm_fwd_bwd": "reduction", "rmsnorm_fwd_bwd": "reduction",
             "xent_fwd_bwd": "reduction", "batchnorm_fwd_bwd": "reduction"}


def fit_sm_power(data: dict, idle_power_w: float, hbm_energy_pj_per_byte: float) -> dict:
    """memkernel_sm_power_w: per class, the median over its power.csv rows of the measured power
    left after idle and the per-byte energy of the row's bytes (empty: no power.csv)."""
    per: dict[str, list[float]] = {}
    for r in data.get("power", []):
        cls = POWER_FIT.get(r["label"])
        if cls:
            t = float(r["s_per_call"])
            per.setdefault(cls, []).append(float(r["mean_power_w"]) - idle_power_w
                                           - hbm_energy_pj_per_byte * 1e-12
                                           * float(r["bytes_per_call"]) / t)
    return {c: round(max(0.0, float(np.median(v))), 1) for c, v in sorted(per.items())}


def fit_bandwidth(data: dict) -> float:
    rows = [r for r in data.get("bandwidth", []) if r["op"] == "read_sum" and int(r["MiB"]) >= 256]
    if not rows:
        raise ConfigError(f"{data['folder']}: bandwidth.csv has no read_sum rows >= 256 MiB")
    return max(float(r["GBps"]) for r in rows) * 1e9


def _fit_step(hw, base: dict, names: list[str], x0, lo, hi, subset, verbose: bool):
    """Least squares on log latency of ``subset`` over the parameters ``names`` (the rest held at
    ``base``); soft-L1 so a few odd kernels do not drag the fit. Returns the fitted values."""
    from scipy.optimize import least_squares

    meas = np.log([s.seconds for s in subset])

    def resid(x):
        h = type(hw)(hw.name, hw.Params.model_validate(_apply(base, names, x)))
        return np.log(predict(h, subset)) - meas

    r = least_squares(resid, x0, bounds=(lo, hi), diff_step=1e-3, loss="soft_l1", f_scale=0.1)
    if verbose:
        print(f"fit {len(subset)} samples, cost {r.cost:.4f}: "
              + ", ".join(f"{n}={v:.4g}" for n, v in zip(names, r.x)))
    return r.x


def fit(hw, data: dict, verbose: bool = False) -> dict:
    """Fitted parameter values (a dict to put in the arch YAML's params)."""
    out = fit_energy(data)
    if data.get("power"):
        out["memkernel_sm_power_w"] = fit_sm_power(data, out["idle_power_w"],
                                                   out["hbm_energy_pj_per_byte"])
    out["mem_efficiency"] = round(min(1.0, fit_bandwidth(data) / hw.params.mem_bandwidth_Bps), 4)
    base = hw.params.model_dump()
    base.update(out)
    samples = [s for s in data["samples"] if s.fit]
    dtypes = sorted({s.dtype for s in samples if s.kind == "gemm"})

    def run(names, x0, lo, hi, subset):
        x = _fit_step(hw, base, names, x0, lo, hi, subset, verbose)
        base.update(_apply(base, names, x))  # merges into dict parameters (tc_efficiency.fp32)
        return x

    # 1. GEMM timing (the skinny-int8 factor enters after, with these held: a sequential fit,
    # since fitting it jointly moves the other efficiencies to a different local optimum)
    base["int8_skinny_bw_efficiency"] = 1.0
    tensor = [f"tc_efficiency.{d}" for d in dtypes if d != "fp32"]
    names = tensor + ["kernel_overhead_s", "tile_overhead_s", "tile_size_exponent",
                      "unaligned_exponent", "power_budget_ratio", "int8_fp8_k64_efficiency"]
    x0 = [0.75] * len(tensor) + [2.5e-6, 0.5e-6, 0.15, 0.7, 1.1, 0.8]
    lo = [0.2] * len(tensor) + [0, 0, 0, 0, 0.8, 0.2]
    hi = [1.0] * len(tensor) + [2e-5, 1e-5, 1.0, 3.0, 2.0, 1.0]
    run(names, x0, lo, hi, [s for s in samples if s.kind == "gemm" and s.dtype != "fp32"])
    # 1a. fp32 runs on the SIMT (FFMA) lanes, other kernels than the tensor path's: its
    # efficiency is fitted on the fp32 rows alone, the shared tile terms held
    sub = [s for s in samples if s.kind == "gemm" and s.dtype == "fp32"]
    if sub:
        run(["tc_efficiency.fp32"], [0.75], [0.2], [1.0], sub)
    # 1b. skinny int8 kernels (M <= 64: the 7B-layer shapes at M = 32, 64)
    sub = [s for s in samples if s.kind == "gemm" and s.dtype == "int8" and s.op.M <= 64]
    if sub:
        run(["int8_skinny_bw_efficiency"], [0.8], [0.3], [1.0], sub)
    # 2. attention
    for fam, nm, x0, lo, hi in (
            ("attn-prefill", ["attn_efficiency", "attn_overhead_s"], [0.6, 3e-6], [0.1, 0], [1, 5e-5]),
            ("attn-decode", ["attn_decode_bw_efficiency", "attn_decode_overhead_s"], [0.9, 4e-6],
             [0.2, 0], [1, 5e-5])):
        sub = [s for s in samples if s.family == fam]
        if sub:
            run(nm, x0, lo, hi, sub)
    # 3. W4A16
    sub = [s for s in samples if s.kind == "w4a16"]
    if sub:
        run(["w4a16_bw_efficiency", "w4a16_ops_per_s"], [0.6, 3e13], [0.1, 1e12], [1, 1e15], sub)
    # 4. memory-bound kernels
    for fam, nm, x0, lo, hi in (
            ("add", ["memkernel_overhead_s"], [1.5e-6], [0], [2e-5]),
            ("layer_norm", ["reduction_bw_efficiency", "reduction_overhead_s"], [0.8, 3e-6],
             [0.1, 0], [1.0, 3e-5])):
        sub = [s for s in samples if s.kind == "memop" and s.family == fam]
        if sub:
            run(nm, x0, lo, hi, sub)
    # 5. convolutions (conv.csv)
    base.update(fit_conv(hw, data, base, verbose))
    fitted = {k: base[k] for k in ("tc_efficiency", "kernel_overhead_s", "tile_overhead_s",
                                   "int8_skinny_bw_efficiency",
                                   "power_budget_ratio", "int8_fp8_k64_efficiency",
                                   "tile_size_exponent", "unaligned_exponent", "attn_efficiency",
                                   "attn_overhead_s", "attn_decode_bw_efficiency",
                                   "attn_decode_overhead_s", "w4a16_bw_efficiency",
                                   "w4a16_ops_per_s", "memkernel_overhead_s",
                                   "reduction_bw_efficiency", "reduction_overhead_s")}
    if any(s.kind == "conv" for s in samples):
        fitted.update({k: base[k] for k in CONV_PARAMS})
    fitted.update(out)
    return _round(fitted)


CONV_PARAMS = ("conv_efficiency", "conv_overhead_s", "conv_bw_efficiency", "dwconv_bw_efficiency",
               "dwconv_overhead_s")


def fit_conv(hw, data: dict, base: dict | None = None, verbose: bool = False) -> dict:
    """Convolution parameters fitted on the fit rows of conv.csv, every other parameter held at
    ``base`` (default: ``hw``'s own values). Returns the conv parameters (empty: no conv data)."""
    base = dict(hw.params.model_dump() if base is None else base)
    sub = [s for s in data["samples"] if s.kind == "conv" and s.fit]
    if not sub:
        return {}

    def run(names, x0, lo, hi, subset):  # keeps the other entries of a partly fitted dict
        base.update(_apply(base, names, _fit_step(hw, base, names, x0, lo, hi, subset, verbose)))

    from .model import conv_filter_class, is_depthwise

    dense = [s for s in sub if not is_depthwise(s.op)]
    if dense:
        classes = sorted({conv_filter_class(s.op, s.dtype)[1] for s in dense})
        # an efficiency may not lift the tensor rate above the datasheet peak
        top = 1.0 / base["tc_efficiency"].get("fp16", 1.0)
        run([f"conv_efficiency.{c}" for c in classes] + ["conv_overhead_s", "conv_bw_efficiency"],
            [0.8] * len(classes) + [5e-6, 0.7], [0.05] * len(classes) + [0, 0.1],
            [top] * len(classes) + [5e-5, 1.0], dense)
    dw = [s for s in sub if is_depthwise(s.op)]
    if dw:
        run(["dwconv_bw_efficiency", "dwconv_overhead_s"], [0.6, 5e-6], [0.05, 0], [1, 5e-5], dw)
    return _round({k: base[k] for k in CONV_PARAMS})


def _apply(base: dict, names: list[str], x) -> dict:
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for n, v in zip(names, x):
        if "." in n:
            k, sub = n.split(".")
            d.setdefault(k, {})[sub] = float(v)
        else:
            d[n] = float(v)
    return d


def _round(d):
    if isinstance(d, dict):
        return {k: _round(v) for k, v in d.items()}
    if isinstance(d, float) and d:
        return float(f"{d:.4g}")
    return d


def roofline_of(hw):
    """The datasheet roofline built from the same preset's datasheet parameters."""
    from .roofline import GPUParams, RooflineGPU
    keep = {k: v for k, v in hw.params.model_dump().items() if k in GPUParams.model_fields}
    return RooflineGPU(hw.name + " (roofline)", GPUParams.model_validate(keep))


_SOURCES = {
    "tc_efficiency": "fit", "kernel_overhead_s": "fit", "tile_overhead_s": "fit",
    "tile_size_exponent": "fit", "unaligned_exponent": "fit", "int8_fp8_k64_efficiency": "fit",
    "power_budget_ratio": "fit", "int8_skinny_bw_efficiency": "fit:7B int8 shapes, M = 32/64",
    "mem_efficiency": "bandwidth.csv read_sum >= 256 MiB / datasheet",
    "idle_power_w": "energy.csv idle (right after work, clocks high)",
    "energy_pj_per_op": "energy.csv sustained GEMMs (NVML)",
    "hbm_energy_pj_per_byte": "energy.csv 1 GiB copy (NVML)",
    "memkernel_sm_power_w": "power.csv (benchmarks/gpu/power.py, NVML): per class the median "
                            "power beyond idle and per-byte energy of fit.POWER_FIT's rows",
    "attn_efficiency": "fit:MHA prefill", "attn_overhead_s": "fit:MHA prefill",
    "attn_decode_bw_efficiency": "fit:MHA decode", "attn_decode_overhead_s": "fit:MHA decode",
    "w4a16_bw_efficiency": "fit:7B shapes", "w4a16_ops_per_s": "fit:7B shapes",
    "memkernel_overhead_s": "fit:memops add", "reduction_bw_efficiency": "fit:memops layer_norm",
    "reduction_overhead_s": "fit:memops layer_norm",
    "conv_efficiency": "fit:conv.csv fp16, ResNet-18 + MobileNetV2 shapes",
    "conv_overhead_s": "fit:conv.csv fp16, ResNet-18 + MobileNetV2 shapes",
    "conv_bw_efficiency": "fit:conv.csv fp16, ResNet-18 + MobileNetV2 shapes",
    "dwconv_bw_efficiency": "fit:conv.csv fp16, MobileNetV2 depthwise shapes",
    "dwconv_overhead_s": "fit:conv.csv fp16, MobileNetV2 depthwise shapes",
}


def params_yaml(fitted: dict, folder: str) -> str:
    """The fitted values as ``params:`` lines for an arch YAML, each with its source."""
    def fmt(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
        if isinstance(v, float) and v and (abs(v) < 1e-3 or abs(v) >= 1e5):
            m, e = f"{v:.4e}".split("e")
            return f"{float(m):g}".rstrip("0") + ("" if "." in f"{float(m):g}" else ".0") + \
                f"e{int(e):+d}"
        return f"{v:g}" if isinstance(v, float) else str(v)
    lines = [f'  fit_source: "{folder}; fit/hold-out split in hwsim/families/gpu/fit.py"']
    for k, v in fitted.items():
        if k == "tile_overhead_s" and v < 1e-12:
            v = 0.0  # the fit drives it to ~1e-21: no per-tile cost beyond kernel_overhead_s
        src = _SOURCES.get(k, "")
        if src.startswith("fit"):
            src = f"hwsim.families.gpu.fit on {folder}" + (f" ({src[4:]})" if src[4:] else "")
        else:
            src = f"{folder}/{src}"
        lines.append(f"  {k}: {fmt(v)}   # {src}")
    return "\n".join(lines) + "\n"
