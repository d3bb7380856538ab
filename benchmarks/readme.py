"""The numbers of README.md and the documentation pages (``FILES``) are generated: every block
between ``<!-- begin:NAME -->`` and ``<!-- end:NAME -->`` is the output of the function ``NAME``
below, computed from the models or read from a committed result file that a benchmark or
experiment script wrote.

    python benchmarks/readme.py            # rewrite every block
    python benchmarks/readme.py --check    # exit 1 and name the stale blocks

``tests/test_readme.py`` fails when a block is stale or when prose outside the blocks (README and
the hand-written documentation pages) carries a measured-looking number (a percentage, a speed, a time), so a claim cannot drift from
the code that backs it.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# what benchmarks/bench_peers.py measured: hwsim and its peers timed in one run
PEERS = ROOT / "benchmarks/results/bench_peers.csv"
# files whose <!-- begin/end --> blocks this script generates
FILES = (README, DOCS / "validation.md", DOCS / "performance.md", DOCS / "engines.md",
         DOCS / "serving.md", DOCS / "exploration.md", DOCS / "technology.md",
         *(DOCS / "families" / f"{f}.md" for f in ("gpu", "lut_gpu", "lut", "bitserial",
                                                   "mac_array", "fpga", "mcu", "cpu")))
BLOCK = re.compile(r"(<!-- begin:([\w-]+) -->\n)(.*?)(<!-- end:\2 -->)", re.S)


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


# ------------------------------------------------------------------ validation


def validation_summary() -> str:
    from hwsim import validate
    res = validate.run()
    lines = ["| family | validation checks | within tolerance | known misses | worst \\|error\\| "
             "(relative checks) | consistency checks (not counted) |", "|---|---|---|---|---|---|"]
    for fam in validate.groups():
        rs = [r for r in res if r.check.family == fam]
        s = validate.summary(rs)
        worst = _pct(s["worst_rel_error"]) if s["worst_rel_error"] is not None else "—"
        lines.append(f"| {fam} | {s['validation']} | {s['passed']} | {s['known_misses']} | "
                     f"{worst} | {s['consistency']} |")
    s = validate.summary(res)
    lines.append(f"| **all** | **{s['validation']}** | **{s['passed']}** | "
                 f"**{s['known_misses']}** | {_pct(s['worst_rel_error'])} ({s['worst_id']}) | "
                 f"{s['consistency']} |")
    return "\n".join(lines)


def validation_table() -> str:
    from hwsim import validate
    # sources cite reference tags ("[N3] [N4]"): escaped, so Markdown does not read them as links
    return re.sub(r"\[([A-Z]+\d*)\]", r"\\[\1\\]", validate.to_table(validate.run(), markdown=True))


def _family_checks(family: str) -> str:
    """One family's registry checks as a compact table (validation rows first)."""
    from hwsim import validate
    lines = ["| check | kind | reference | hwsim | error | ok |", "|---|---|---|---|---|---|"]
    res = sorted(validate.run(family), key=lambda r: r.check.kind != "validation")
    for r in res:
        c = r.check
        err = f"{100 * r.rel_error:+.1f}%" if c.mode == "rel" else "—"
        ok = "yes" if r.passed else ("known miss" if c.known_miss else "**NO**")
        lines.append(f"| `{c.id}` | {c.kind} | {c.reference:.4g} {c.unit} | {r.value:.4g} | "
                     f"{err} | {ok} |")
    return "\n".join(lines)


def _presets(family: str) -> str:
    """A family's presets: name, description, the formats ``hwsim eval`` runs by default."""
    from hwsim.arch import arch_defaults, list_archs, resolved_spec
    lines = ["| preset | description | default formats |", "|---|---|---|"]
    for a in list_archs():
        spec, _ = resolved_spec(a)
        if spec.get("family") != family:
            continue
        d = arch_defaults(a)
        fm = ", ".join(f"{k} `{v}`" for k, v in d.items()) or "none (fp16, or the workload's)"
        desc = " ".join(str(spec.get("description", "")).split()).replace("|", "\\|")
        lines.append(f"| `{a}` | {desc} | {fm} |")
    return "\n".join(lines)


def presets_gpu() -> str:
    return _presets("gpu")


def presets_lut_gpu() -> str:
    return _presets("lut_gpu")


def presets_lut() -> str:
    return _presets("lut")


def presets_bitserial() -> str:
    return _presets("bitserial")


def presets_mac_array() -> str:
    return _presets("mac_array")


def presets_fpga() -> str:
    return _presets("fpga")


def presets_mcu() -> str:
    return _presets("mcu")


def presets_cpu() -> str:
    return _presets("cpu")


def mac_array_checks() -> str:
    return _family_checks("mac_array")


def mcu_checks() -> str:
    return _family_checks("mcu")


def cpu_checks() -> str:
    return _family_checks("cpu")


def lut_gpu_checks() -> str:
    return _family_checks("lut_gpu")


def fpga_checks() -> str:
    return _family_checks("fpga")


def fpga_resources() -> str:
    """Each FPGA preset's resource use against its device (experiments/fpga_reproduction.py)."""
    rows = _csv(ROOT / "experiments/results/fpga_reproduction/resources.csv")
    res = ("dsp", "lut", "ff", "bram36", "uram")
    lines = ["| preset | device | clock | " + " | ".join(r.upper() for r in res) + " |",
             "|---|---|---|" + "---|" * len(res)]
    for r in rows:
        cells = [f"{int(float(r[f'{x}_used']))} / {int(float(r[f'{x}_available']))}" for x in res]
        lines.append(f"| {r['preset']} | {r['device']} | {float(r['clock_mhz']):.0f} MHz | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def bitserial_table() -> str:
    """bitserial checks grouped by artifact figure (the family has ~130 checks)."""
    from hwsim import validate
    groups: dict = {}
    for r in validate.run("bitserial"):
        p = r.check.id.split(".")
        key = ".".join(p[:2]) + (f" ({p[-1]})" if len(p) > 2 and p[1] == "energy" else "")
        groups.setdefault(key, []).append(r)
    lines = ["| checks | kind | n | within tolerance | known misses | worst error |",
             "|---|---|---|---|---|---|"]
    for key, rs in groups.items():
        rel = [r for r in rs if r.check.mode == "rel"]
        w = max(rel, key=lambda r: abs(r.rel_error)) if rel else None
        lines.append(f"| `{key}` | {rs[0].check.kind} | {len(rs)} | {sum(r.passed for r in rs)} "
                     f"(±{100 * rs[0].check.rel_tol:.0f}%) | "
                     f"{sum(bool(r.check.known_miss) and not r.passed for r in rs)} | "
                     + (f"{100 * w.rel_error:+.1f}%" if w else "ratio <= 1") + " |")
    return "\n".join(lines)


def bitserial_pe() -> str:
    from hwsim.families.bitserial import checks as B
    lines = ["| preset | node | PE pJ/cycle published | tech-priced | ratio | PE µm² published | "
             "tech-priced | ratio |", "|---|---|---|---|---|---|---|---|"]
    for r in B.pe_figures():
        ap = f"{r['published_pe_area_um2']:.0f}" if r["published_pe_area_um2"] else "none"
        ar = f"{r['area_tech_over_published']:.2f}" if r["area_tech_over_published"] else "–"
        lines.append(f"| {r['preset']} | {r['node']} | {r['published_pe_energy_pj']:.3g} | "
                     f"{r['tech_pe_energy_pj']:.3g} | {r['energy_tech_over_published']:.2f} | "
                     f"{ap} | {r['tech_pe_area_um2']:.0f} | {ar} |")
    return "\n".join(lines)


def _systems(name: str) -> str:
    import importlib.util
    spec = importlib.util.spec_from_file_location("systems_readme",
                                                  ROOT / "benchmarks" / "systems_readme.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)()


def serving_example() -> str:
    return _systems("serving_example")


def serving_sweep() -> str:
    return _systems("serving_sweep")


def systems_compare() -> str:
    return _systems("systems_compare")


def systems_speed() -> str:
    return _systems("systems_speed")


def sim_crosscheck() -> str:
    rows = _csv(ROOT / "benchmarks/results/sim_crosscheck.csv")
    lines = ["| family | arch | GEMM | bound | analytical | simulated | sim / analytical |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['family']} | {r['arch']} | {r['gemm']} | {r['bound']} | "
                     f"{1e6 * float(r['analytical_s']):,.1f} µs | "
                     f"{1e6 * float(r['simulated_s']):,.1f} µs | "
                     f"{float(r['sim_over_analytical']):.4f} |")
    return "\n".join(lines) + "\n\n(`benchmarks/results/sim_crosscheck.csv`)"


def sim_example() -> str:
    rows = _csv(ROOT / "benchmarks/results/sim_worked_example.csv")
    lines = ["| case | mapping | analytical | simulated | buffer stall | memory stall | fill/drain |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['mapping'] or '—'} | "
                     f"{1e3 * float(r['analytical_s']):.3f} ms | "
                     f"{1e3 * float(r['simulated_s']):.3f} ms "
                     f"({100 * (float(r['sim_over_analytical']) - 1):+.1f}%) | "
                     f"{1e3 * float(r['stall_buffer_s']):.3f} ms | "
                     f"{1e3 * float(r['stall_memory_s']):.3f} ms | "
                     f"{1e3 * float(r['fill_drain_s']):.3f} ms |")
    return "\n".join(lines) + "\n\n(`benchmarks/results/sim_worked_example.csv`)"


def sim_speed() -> str:
    rows = [r for r in _csv(ROOT / "benchmarks/results/bench_sim.csv") if r["sim_wall_s"]]
    lines = ["| family | arch | case | ops | CPU | wall | events | events / s | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tgt = "—" if r["meets_target"] == "" else (
            f"< {float(r['target_s']):.0f} s: {'yes' if r['meets_target'] == 'True' else 'no'}")
        lines.append(f"| {r['family']} | {r['arch']} | {r['case']} | {r['ops']} | "
                     f"{float(r['sim_cpu_s']):.3f} s | {float(r['sim_wall_s']):.3f} s | "
                     f"{int(r['events']):,} | {int(r['events_per_s']):,} | {tgt} |")
    r0 = rows[0]
    return "\n".join(lines) + (f"\n\n(`benchmarks/results/bench_sim.csv`, {r0['cpus']}-CPU "
                               f"machine shared with other jobs, load average "
                               f"{r0['load_avg_1min']}: targets judged on CPU time)")


def sim_vs_h100() -> str:
    rows = _csv(ROOT / "benchmarks/results/sim_vs_h100.csv")
    lines = ["| side | kind/dtype | shape family | n | analytical MAPE | simulated MAPE | change |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["what"] == "all" or r["side"].startswith("held-out"):
            lines.append(f"| {r['side']} | {r['what']} | {r['family']} | {r['n']} | "
                         f"{100 * float(r['analytical_mape']):.2f}% | "
                         f"{100 * float(r['sim_mape']):.2f}% | {float(r['change_pp']):+.2f} pp "
                         f"({r['direction']}) |")
    return "\n".join(lines) + "\n\n(`benchmarks/results/sim_vs_h100.csv`: every family on both sides)"


def gpu_vision() -> str:
    return _family_checks("gpu-vision")


def gpu_prefill() -> str:
    return _family_checks("gpu-prefill")


# ------------------------------------------------------------------ GPU


def gpu_heldout() -> str:
    from hwsim.families.gpu import report as gpu_report
    h1 = gpu_report.heldout_summary("h100-sxm")
    h2 = gpu_report.heldout_summary("h200-sxm", transfer=True)
    T = gpu_report.TARGETS
    names = {"attention": "attention (decode GQA; see families)", "w4a16": "W4A16 (tinygemm)",
             "memop": "elementwise / norm / softmax / embedding",
             "conv": "convolutions (H200: held-out shapes; conv fitted on H200)"}
    lines = ["| | H100 held-out n | MAPE / p90 | roofline MAPE / p90 | H200 transfer n | "
             "MAPE / p90 |", "|---|---|---|---|---|---|"]

    def cell(v, gemm):
        lim_m = T["gemm_mape"] if gemm else T["attention_mape"]
        m = _pct(v["mape"]) if v["mape"] <= lim_m else f"**{_pct(v['mape'])}**"
        p = (_pct(v["p90"]) if not gemm or v["p90"] <= T["gemm_p90"] else f"**{_pct(v['p90'])}**")
        return f"{m} / {p}"

    for k in ("bf16", "fp16", "fp8", "int8", "tf32", "fp32", "attention", "w4a16", "memop", "conv"):
        gemm = k not in names
        a, b = h1.get(k), h2.get(k)
        label = f"{k} GEMM" if gemm else names[k]
        roof = f"{_pct(a['roof_mape'])} / {_pct(a['roof_p90'])}" if a else "—"
        lines.append(f"| {label} | {a['n'] if a else 0} | {cell(a, gemm) if a else '—'} | "
                     f"{roof} | {b['n'] if b else 0} | {cell(b, gemm) if b else '—'} |")
    e1, e2 = h1.get("energy"), h2.get("energy")
    lines.append(f"| GEMM energy vs NVML (max \\|error\\|) | {e1['n']} | {_pct(e1['max_abs'])} | — "
                 f"| {e2['n']} | {_pct(e2['max_abs'])} |")
    return "\n".join(lines)


def gpu_families() -> str:
    from hwsim.families.gpu import report as gpu_report
    lines = ["| kernels | shape family | fit n | fit MAPE | held-out n | held-out MAPE |",
             "|---|---|---|---|---|---|"]
    for r in gpu_report.family_table("h100-sxm"):
        f = (str(r["fit_n"]), _pct(r["fit_mape"])) if r["fit_n"] else ("—", "—")
        h = ((str(r["held-out_n"]), _pct(r["held-out_mape"])) if r["held-out_n"]
             else ("—", "—"))
        lines.append(f"| {r['what']} | {r['family']} | {f[0]} | {f[1]} | {h[0]} | {h[1]} |")
    return "\n".join(lines)


def gpu_split() -> str:
    import hwsim
    from hwsim.families.gpu import fit as gpu_fit, report as gpu_report
    hw = hwsim.load_arch("h100-sxm")
    sp = gpu_fit.split(hw, gpu_fit.load_measurements(gpu_report.default_data("h100-sxm"))
                       ["samples"])
    kinds = {}
    for _, why in sp.dropped:
        key = why.split(" as ")[0].split(" fitted")[0]
        kinds[key] = kinds.get(key, 0) + 1
    why = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return (f"H100 split: {len(sp.fit)} fitted samples, {len(sp.heldout)} held out, "
            f"{len(sp.dropped)} dropped from the held-out side ({why}).")


def gpu_decode() -> str:
    from hwsim import validate
    res = {r.check.id: r for r in validate.run("gpu-decode")}
    lines = ["| GPU | measured step | hwsim graph | weights | batch | measured tokens/s | hwsim "
             "| error |", "|---|---|---|---|---|---|---|---|"]
    runs = (("h100-sxm", "h100", "llm_decode.csv", "eager", "PyTorch eager"),
            ("h200-sxm", "h200", "llm_decode.csv", "eager", "PyTorch eager"),
            ("h200-sxm", "h200", "llm_decode_compiled.csv", "fused", "torch.compile regions"))
    for arch, d, fname, fusion, what in runs:
        for r in _csv(ROOT / f"hwsim/families/gpu/data/{d}/{fname}"):
            x = res[f"{arch}.{fusion}.{r['weights']}.b{r['batch']}.tokens_per_s"]
            miss = " (known miss)" if not x.passed else ""
            lines.append(f"| {arch.split('-')[0].upper()} | {what} | `fusion=\"{fusion}\"` | "
                         f"{r['weights']} | {r['batch']} | {float(r['tokens_per_s']):.1f} | "
                         f"{x.value:.1f} | {100 * x.rel_error:+.0f}%{miss} |")
    lines += ["", "| profiled eager batch-1 step | measured kernels | hwsim ops | error |",
              "|---|---|---|---|"]
    for arch in ("h100-sxm", "h200-sxm"):
        for w in ("fp16", "int4"):
            for what in ("gemm_kernels_ms", "attention_ms"):
                x = res.get(f"{arch}.{w}.b1.{what}")
                if x:
                    lines.append(f"| {arch.split('-')[0].upper()} {w} {what.split('_')[0]} | "
                                 f"{x.check.reference:.2f} ms | {x.value:.2f} ms | "
                                 f"{100 * x.rel_error:+.1f}% |")
    return "\n".join(lines)


def decode_kernel_counts() -> str:
    import hwsim
    from hwsim.families.gpu.checks import _decode_workload
    n_meas = len(_csv(ROOT / "hwsim/families/gpu/data/h100/kernels_fp16_b1.csv"))
    n_comp = len(_csv(ROOT / "hwsim/families/gpu/data/h200/kernels_compiled_fp16_b1.csv"))
    n_eager = len(_decode_workload("fp16", 1, 2048, "eager"))
    n_fused = len(_decode_workload("fp16", 1, 2048, "fused"))
    return (f"The profiled eager step launches {n_meas} kernels (hwsim's eager graph: {n_eager} "
            f"ops); the compiled one {n_comp} (hwsim's fused graph: {n_fused} ops).")


# ------------------------------------------------------------------ LUT, ZigZag


def lut_table() -> str:
    from hwsim import validate
    lines = ["| LUT Tensor Core figure | paper | hwsim | error | |", "|---|---|---|---|---|"]
    for r in validate.run("lut"):
        c = r.check
        status = "within ±20%" if r.passed else "**known miss**"
        lines.append(f"| {c.description} ({c.id.split('.')[0]}) | {c.reference:.4g} {c.unit} | "
                     f"{r.value:.4g} {c.unit} | {100 * r.rel_error:+.0f}% | {status} |")
    return "\n".join(lines)


def lut_mux() -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import lut_mux_sensitivity
    return lut_mux_sensitivity.markdown()


def zigzag() -> str:
    """Run times from benchmarks/bench_peers.py (both tools timed in one run); ZigZag's cycles
    and energy from its committed run (compare.csv), hwsim's cycles live."""
    from hwsim import validate
    rows = {(r["tool"], r["workload"]): r
            for r in _csv(ROOT / "hwsim/families/mac_array/data/compare.csv")}
    speed = {(r["case"], r["tool"]): r for r in _csv(PEERS)}
    res = {r.check.id: r for r in validate.run("mac_array")}
    lines = ["| workload | ZigZag run time | hwsim run time (cold) | ZigZag / hwsim | cycles "
             "hwsim / ZigZag (live) | energy hwsim / ZigZag |", "|---|---|---|---|---|---|"]
    for w in ("resnet18", "llama-2-7b-layer"):
        z, h = rows[("zigzag", w)], rows[("hwsim", w)]
        cyc = res[f"zigzag.{w}.cycles"]
        zs, hs = speed.get((f"zigzag-{w}", "ZigZag")), speed.get((f"zigzag-{w}", "hwsim"))
        times = ((f"{float(zs['cold_median_s']):.1f} s | "
                  f"{1e3 * float(hs['cold_median_s']):.1f} ms | "
                  f"{float(zs['cold_ratio']):,.0f}×") if zs and hs else "not timed | — | —")
        lines.append(f"| {w} | {times} | {cyc.value / cyc.check.reference:.3f} "
                     f"({100 * cyc.rel_error:+.1f}%) | "
                     f"{float(h['energy_j']) / float(z['energy_j']):.2f} |")
    return "\n".join(lines) + f"\n\n{_peers_source()}"


# ------------------------------------------------------------------ exploration, speed


def explore_throughput() -> str:
    rows = _csv(ROOT / "benchmarks/results/bench_explore.csv")
    lines = ["| storage | hwsim path | trials | hwsim trials / min | bare optuna trials / min | "
             "hwsim / optuna |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['storage']} | {r['hwsim_path']} | {r['trials']} | "
                     f"{int(r['hwsim_trials_per_min']):,} | {int(r['optuna_trials_per_min']):,} | "
                     f"{float(r['ratio_hwsim_over_optuna']):.2f} |")
    cpus = rows[0]["cpus"] if rows else "?"
    load = rows[0]["load_avg_1min"] if rows else "?"
    return "\n".join(lines) + (f"\n\n(`benchmarks/results/bench_explore.csv`, {cpus}-CPU machine "
                               f"shared with other work, 1-min load average {load} at the start)")


def mixed_example() -> str:
    rows = _csv(ROOT / "experiments/results/mixed_precision_lut/summary.csv")
    r0 = rows[0]
    lines = [f"{r0['trials']} trials sampled {r0['distinct_designs']} distinct designs.", "",
             "| uniform weights | latency | proxy | distinct mixed designs dominating it | e.g. "
             "latency | proxy |", "|---|---|---|---|---|---|"]
    for r in rows:
        best = (f"{1e3 * float(r['best_latency_s']):.2f} ms | {float(r['best_proxy']):.4f}"
                if r["best_latency_s"] else "— | —")
        lines.append(f"| {r['uniform']} | {1e3 * float(r['uniform_latency_s']):.2f} ms | "
                     f"{float(r['uniform_proxy']):.4f} | {r['distinct_mixed_dominating']} | {best} |")
    return "\n".join(lines)


def _peers_source() -> str:
    r = _csv(PEERS)[0]
    return (f"(`python benchmarks/bench_peers.py`, `benchmarks/results/bench_peers.csv`; "
            f"{r['machine']}; cold: first call in a new process after the tool's import and "
            "hardware load, median over the processes)")


def perf() -> str:
    """hwsim's own figures on the 7B decode step (benchmarks/bench_peers.py)."""
    rows = [r for r in _csv(PEERS) if r["case"] == "decode-7b"]
    r = next(r for r in rows if r["tool"] == "hwsim")
    ms = lambda k: f"{1e3 * float(r[k]):.2f} ms"  # noqa: E731
    genz = next((g for g in rows if g["tool"] == "GenZ"), None)
    peer = (f" GenZ {genz['version']} on the same step in the same run: "
            f"{1e3 * float(genz['cold_median_s']):.0f} ms cold, "
            f"{float(genz['cold_ratio']):.0f}× hwsim's time "
            f"({float(genz['warm_ratio']):.0f}× warm)." if genz else "")
    return (f"llama-2-7b decode step (batch 1, 2048 cached tokens, fp16) on h100-sxm through "
            f"`hwsim.load_workload` + `hwsim.evaluate`: **{ms('cold_median_s')} cold** (median "
            f"of {r['procs']} new processes, best {ms('cold_best_s')}; building the graph "
            f"{ms('cold_build_median_s')}, evaluating it {ms('cold_evaluate_median_s')}), "
            f"{ms('warm_median_s')} warm (the call repeated in the same process, a new graph "
            f"and cost memo each time). Not counted: `import hwsim` and `load_arch`, "
            f"{float(r['setup_median_s']):.2f} s.{peer} {_peers_source()}")


def peers() -> str:
    """Every tool against hwsim on each case of benchmarks/bench_peers.py."""
    rows = _csv(PEERS)
    lines = ["| case | tool | cold (median) | warm (median) | cold / hwsim | warm / hwsim |",
             "|---|---|---|---|---|---|"]

    def t(v):
        if not v:
            return "—"
        v = float(v)
        return f"{v:.1f} s" if v >= 1 else f"{1e3 * v:.2f} ms"

    for r in rows:
        ratio = lambda k: f"{float(r[k]):,.1f}×" if r[k] else "—"  # noqa: E731
        lines.append(f"| {r['case']} | {r['tool']} {r['version']} | {t(r['cold_median_s'])} | "
                     f"{t(r['warm_median_s'])} | {ratio('cold_ratio')} | "
                     f"{ratio('warm_ratio')} |")
    return "\n".join(lines) + f"\n\n{_peers_source()}"


BLOCKS = {name.replace("_", "-"): fn for name, fn in list(globals().items())
          if callable(fn) and not name.startswith("_") and name not in ("main",)
          and getattr(fn, "__module__", None) == __name__}


def render(text: str, only: set | None = None) -> tuple[str, list[str]]:
    """The README with every block regenerated, and the names of blocks that changed."""
    changed = []

    def sub(m):
        name = m.group(2)
        if name not in BLOCKS:
            raise SystemExit(f"README block {name!r} has no generator in benchmarks/readme.py")
        if only is not None and name not in only:
            return m.group(0)
        new = BLOCKS[name]().rstrip("\n") + "\n"
        if new != m.group(3):
            changed.append(name)
        return m.group(1) + new + m.group(4)

    return BLOCK.sub(sub, text), changed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("blocks", nargs="*")
    a = ap.parse_args()
    stale = []
    for path in FILES:
        text = path.read_text()
        new, changed = render(text, set(a.blocks) or None)
        stale += [f"{path.name}:{c}" for c in changed]
        if not a.check:
            path.write_text(new)
            print(f"updated {path}: " + (", ".join(changed) or "nothing changed"))
    if a.check and stale:
        print("stale blocks: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
