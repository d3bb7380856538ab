"""The ``hwsim`` command line. Errors print one line and exit with code 2 (no traceback)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from ._cliargs import add_workload_args, int_arg, workload_from_args
from .errors import HwsimError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwsim", description="Hardware cost models and design-space "
                                "exploration for quantized neural-network inference.")
    p.add_argument("--version", action="version", version=f"hwsim {__version__}")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    ls = sub.add_parser("list", help="list presets and formats")
    ls.add_argument("what", choices=["archs", "workloads", "formats", "families", "groups",
                                     "systems"],
                    help="families: hardware families (the plug-ins); groups: validation groups")
    _add_eval(sub)
    for name, hlp in (("generate", "static-batch LLM generation on one or more devices"),
                      ("serve", "request-level serving simulation (continuous batching, simpy)")):
        _add_generate_serve(sub, name, hlp)
    _add_validate(sub)
    _add_explore(sub)

    ca = sub.add_parser("calibrate", help="fit a model's free parameters to measurements")
    ca.add_argument("family", choices=["gpu"])
    ca.add_argument("--arch", default="h100-sxm", help="preset whose fixed parameters to use")
    ca.add_argument("--data", metavar="DIR", required=True,
                    help="folder written by benchmarks/gpu/measure.py --out DIR")

    from .plot.cli import add_parser as add_plot_parser  # no matplotlib until a plot runs
    add_plot_parser(sub)
    from .experiments import add_parser as add_experiments_parser
    add_experiments_parser(sub)
    return p


def _add_eval(sub) -> None:
    ev = sub.add_parser("eval", help="evaluate a workload on an architecture")
    add_workload_args(ev)
    ev.add_argument("--arch", required=True, help="arch preset name or YAML path")
    ev.add_argument("--per-op", action="store_true", help="one row per op instead of per group")
    ev.add_argument("--csv", metavar="FILE", help="write per-op rows as CSV")
    ev.add_argument("--json", metavar="FILE", help="write totals and per-op rows as JSON")
    ev.add_argument("--export", metavar="FILE", help="write the design (every parameter) and "
                    "this evaluation as JSON; --arch FILE re-imports it")
    ev.add_argument("--tp", type=int, default=1, help="tensor-parallel devices (LLMs)")
    ev.add_argument("--pp", type=int, default=1, help="pipeline-parallel stages (LLMs)")
    ev.add_argument("--trace", metavar="FILE", help="with --engine sim: Chrome trace JSON of the "
                    "slowest op's timeline (open in Perfetto / chrome://tracing)")


def _add_generate_serve(sub, name: str, hlp: str) -> None:
    g = sub.add_parser(name, help=hlp)
    g.add_argument("workload", help="LLM preset name or HF config.json")
    g.add_argument("--arch", required=True, help="system preset (hwsim list systems) or arch "
                   "preset ganged --tp x --pp times")
    g.add_argument("--tp", type=int, default=1, help="tensor-parallel devices")
    g.add_argument("--pp", type=int, default=1, help="pipeline-parallel stages")
    g.add_argument("--weights", default="fp16")
    g.add_argument("--activations", default="fp16")
    g.add_argument("--kv", help="KV-cache format (default: activations)")
    g.add_argument("--json", metavar="FILE", help="write the results as JSON")
    if name == "generate":
        g.add_argument("--batch", type=int, default=1)
        g.add_argument("--input-len", type=int, default=512)
        g.add_argument("--output-len", type=int, default=128)
        g.add_argument("--paged", action="store_true", help="paged KV (16-token blocks)")
        g.add_argument("--price", type=float, metavar="USD", help="price per device-hour")
    else:
        g.add_argument("--rate", type=float, help="Poisson arrivals per second")
        g.add_argument("--rates", help="comma-separated rates: a latency-throughput sweep")
        g.add_argument("--requests", type=int, default=200, help="requests to simulate")
        g.add_argument("--input-len", default="512", help="N or MIN:MAX (uniform)")
        g.add_argument("--output-len", default="128", help="N or MIN:MAX (uniform)")
        g.add_argument("--trace", metavar="CSV", help="requests from arrival_s,input_len,"
                       "output_len rows instead of Poisson arrivals")
        g.add_argument("--concurrency", type=int, help="closed loop: this many clients, "
                       "each sending its next request when the last one finishes")
        g.add_argument("--warmup", type=int, default=0,
                       help="leave the first N requests out of the latency statistics")
        g.add_argument("--seed", type=int, default=0)
        g.add_argument("--max-num-seqs", type=int, default=256)
        g.add_argument("--max-batched-tokens", type=int, default=8192)
        g.add_argument("--plot", metavar="PNG", help="memory/batch over time and latency "
                       "CDFs (a sweep: latency against throughput)")
        g.add_argument("--csv", metavar="FILE", help="one row per rate (sweep) or per run")


def _add_validate(sub) -> None:
    va = sub.add_parser("validate", help="compare models with known designs")
    va.add_argument("family", nargs="?", metavar="GROUP",
                    help="restrict to one validation group (see 'hwsim list groups')")
    va.add_argument("--kind", choices=["validation", "consistency"],
                    help="only checks of this kind (validation: independent data; consistency: "
                    "a preset or rule against its own sources)")
    va.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    va.add_argument("--arch", help="gpu only: arch preset to check against measurements "
                    "(default h100-sxm)")
    va.add_argument("--data", metavar="DIR", help="gpu only: measurement folder from "
                    "benchmarks/gpu/measure.py (default: the committed one for --arch)")


def _add_explore(sub) -> None:
    ex = sub.add_parser("explore", help="search formats / hardware for Pareto-optimal designs")
    ex.add_argument("space", help="SPACE.yaml (see experiments/spaces/)")
    ex.add_argument("--trials", type=int, default=1000,
                    help="complete trials the study should hold (a rerun resumes up to it)")
    ex.add_argument("--study", help="study name (default: the space's name)")
    ex.add_argument("--storage", help="journal:///FILE (default: STUDY.journal in --out or "
                    "here), sqlite:///FILE, postgresql://... or memory")
    ex.add_argument("--workers", type=int, default=1, help="worker processes sharing the study")
    ex.add_argument("--sampler", default="nsga2", choices=["nsga2", "tpe", "random"])
    ex.add_argument("--seed", type=int)
    ex.add_argument("--out", metavar="DIR", help="write trials.csv, pareto.json and plots here")
    ex.add_argument("--no-progress", action="store_true")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except HwsimError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130


def _run(args) -> int:
    handler = _COMMANDS.get(args.cmd)
    if handler is None:
        raise AssertionError(args.cmd)
    return handler(args)


def _cmd_help(args) -> int:
    _parser().print_help()
    return 0


def _cmd_list(args) -> int:
    from . import formats, validate
    from .arch import list_archs
    from .systems.system import list_systems
    from .workload import list_workloads
    if args.what == "families":
        from .families import REGISTRY
        print("\n".join(f"{n:10s} {f.description}" for n, f in REGISTRY.items()))
        return 0
    items = {"archs": list_archs, "workloads": list_workloads, "formats": formats.names,
             "groups": validate.groups, "systems": list_systems}[args.what]()
    print("\n".join(items))
    return 0


def _cmd_eval(args) -> int:
    from .arch import load_arch
    from .evaluate import evaluate
    wl = workload_from_args(args)
    for note in wl.meta.get("notes") or []:  # importers: what was approximated, never silent
        print(f"hwsim: note: {note}", file=sys.stderr)
    if wl.meta.get("skipped"):
        print(f"hwsim: note: skipped ONNX ops {wl.meta['skipped']}", file=sys.stderr)
    from .systems.system import list_systems
    int_arg("tp", args.tp)
    int_arg("pp", args.pp)
    is_system = args.arch in list_systems()
    if args.tp * args.pp > 1 or is_system:
        return _eval_parallel(args, wl, is_system)
    hw = load_arch(args.arch, model=args.model)
    if args.trace and args.engine != "sim":
        raise HwsimError("--trace needs --engine sim")
    rep = evaluate(wl, hw, engine=args.engine)
    print(rep if not args.per_op else f"{wl.name} on {hw.name}\n" + rep.table(per_op=True))
    if wl.meta.get("kind") == "llm" and rep.fits is not None:
        _print_memory(args, wl, rep)
    table = hw.resource_table()  # FPGA designs: used / available
    if table is not None:
        print("\n" + table)
    _eval_files(args, hw, rep)
    return 0


def _eval_parallel(args, wl, is_system: bool) -> int:
    """A system preset or --tp/--pp: an LLM spread over devices (hwsim.systems)."""
    from .systems.summary import parallel_eval
    from .systems.system import load_system
    if wl.meta.get("kind") != "llm":
        raise HwsimError(f"--tp/--pp: {wl.name} is not an LLM workload")
    sysm = load_system(args.arch, None if is_system else args.tp * args.pp)
    text, _ = parallel_eval(args.workload, sysm,
                            phase=args.phase, batch=args.batch, context=args.context,
                            tp=args.tp, pp=args.pp, weights=wl.meta["weights"],
                            activations=wl.meta["activations"], kv=wl.meta.get("kv"))
    print(text)
    return 0


def _print_memory(args, wl, rep) -> None:
    from .systems.summary import memory_warning
    print(f"memory: {rep.memory.line()}")
    warn = memory_warning(rep, args.workload, context=args.context, batch=args.batch,
                          weights=wl.meta["weights"], activations=wl.meta["activations"],
                          kv=wl.meta.get("kv"))
    if warn:
        print(warn, file=sys.stderr)


def _eval_files(args, hw, rep) -> None:
    """--csv, --json, --export and --trace outputs of ``eval``."""
    _write(rep.to_csv, args.csv)
    _write(rep.to_json, args.json)
    if args.export:
        from .arch import export_design
        _write(lambda p: export_design(hw, rep, p), args.export)
    if args.trace:
        from .sim.trace import write_op_trace
        slowest = max(rep.rows, key=lambda r: r.cost.latency_s).op
        _write(lambda p: write_op_trace(hw, slowest, p), args.trace)


def _cmd_generate_serve(args) -> int:
    from .systems.cli_run import run_generate, run_serve
    return (run_generate if args.cmd == "generate" else run_serve)(args, _write)


def _cmd_explore(args) -> int:
    from .explore import explore
    res = explore(args.space, args.trials, study_name=args.study, storage=args.storage,
                  sampler=args.sampler, seed=args.seed, workers=args.workers, out=args.out,
                  progress=not args.no_progress)
    print(res.table())
    print(f"study {res.study.study_name!r} in {res.storage_url} "
          "(optuna-dashboard can open the same storage)")
    if args.out:
        for p in res.save(args.out):
            print(f"wrote {p}", file=sys.stderr)
    return 0


def _cmd_experiments(args) -> int:
    from .experiments import run_cli as run_experiments
    return run_experiments(args)


def _cmd_plot(args) -> int:
    from .plot.cli import run_cli
    print(f"wrote {run_cli(args)}", file=sys.stderr)
    return 0


def _cmd_calibrate(args) -> int:
    from .arch import load_arch
    from .families.gpu import fit as gpu_fit
    hw = load_arch(args.arch)
    data = gpu_fit.load_measurements(args.data)
    print(f"# paste under params: of an arch YAML (fitted on {args.data})")
    print(gpu_fit.params_yaml(gpu_fit.fit(hw, data), args.data), end="")
    return 0


def _cmd_validate(args) -> int:
    if args.family == "gpu" and (args.data or args.arch):  # measured GPU data, not the registry
        from .families.gpu import report as gpu_report
        print(gpu_report.report(args.arch or "h100-sxm", args.data))
        return 0
    from . import validate
    results = validate.run(args.family, args.kind)
    print(validate.to_table(results))
    if args.markdown:
        _write(lambda p: Path(p).write_text(validate.to_table(results, markdown=True) + "\n"),
               args.markdown)
    # known misses are reported, not failures; anything else that misses is (exit 1)
    return 0 if all(r.passed or r.check.known_miss for r in results) else 1


_COMMANDS = {None: _cmd_help, "list": _cmd_list, "eval": _cmd_eval,
             "generate": _cmd_generate_serve, "serve": _cmd_generate_serve,
             "explore": _cmd_explore, "experiments": _cmd_experiments, "plot": _cmd_plot,
             "calibrate": _cmd_calibrate, "validate": _cmd_validate}


def _write(fn, path):
    if path:
        try:
            fn(path)
        except OSError as e:
            raise HwsimError(f"cannot write {path}: {e.strerror}") from None
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
