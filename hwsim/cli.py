"""The ``hwsim`` command line. Errors print one line and exit with code 2 (no traceback)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from ._cliargs import Parser, add_set_arg, add_workload_args, count, load_arch_args, real, \
    workload_from_args
from .errors import HwsimError


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="hwsim", description="Hardware cost models and design-space "
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
    add_set_arg(ca)

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
    ev.add_argument("--tp", type=count(), default=1, help="tensor-parallel devices (LLMs)")
    ev.add_argument("--pp", type=count(), default=1, help="pipeline-parallel stages (LLMs)")
    add_set_arg(ev)
    ev.add_argument("--ignore-memory", action="store_true", help="cost a workload that does "
                    "not fit the device's memory anyway (a warning instead of an error)")
    ev.add_argument("--trace", metavar="FILE", help="with --engine sim: Chrome trace JSON of the "
                    "slowest op's timeline (open in Perfetto / chrome://tracing)")


def _add_generate_serve(sub, name: str, hlp: str) -> None:
    g = sub.add_parser(name, help=hlp)
    g.add_argument("workload", help="LLM preset name or HF config.json")
    g.add_argument("--arch", required=True, help="system preset (hwsim list systems) or arch "
                   "preset ganged --tp x --pp times (within one node)")
    g.add_argument("--tp", type=count(), default=1, help="tensor-parallel devices")
    g.add_argument("--pp", type=count(), default=1, help="pipeline-parallel stages")
    g.add_argument("--weights", default="fp16")
    g.add_argument("--activations", default="fp16")
    g.add_argument("--kv", help="KV-cache format (default: activations)")
    g.add_argument("--json", metavar="FILE", help="write the results as JSON")
    add_set_arg(g)
    if name == "generate":
        g.add_argument("--batch", type=count(), default=1)
        g.add_argument("--input-len", type=count(), default=512)
        g.add_argument("--output-len", type=count(), default=128)
        g.add_argument("--paged", action="store_true", help="paged KV (16-token blocks)")
        g.add_argument("--price", type=real(0.0, lo_open=False), metavar="USD",
                       help="price per device-hour")
    else:
        from .systems.serve import MAX_REQUESTS
        g.add_argument("--rate", type=real(), help="Poisson arrivals per second")
        g.add_argument("--rates", help="comma-separated rates: a latency-throughput sweep")
        g.add_argument("--requests", type=count(1, MAX_REQUESTS), default=200,
                       help="requests to simulate")
        g.add_argument("--input-len", default="512", help="N or MIN:MAX (uniform)")
        g.add_argument("--output-len", default="128", help="N or MIN:MAX (uniform)")
        g.add_argument("--trace", metavar="CSV", help="requests from arrival_s,input_len,"
                       "output_len rows instead of Poisson arrivals")
        g.add_argument("--concurrency", type=count(), help="closed loop: this many clients, "
                       "each sending its next request when the last one finishes")
        g.add_argument("--warmup", type=count(0), default=0,
                       help="leave the first N requests out of the latency statistics")
        g.add_argument("--seed", type=count(0, 2**32 - 1), default=0)
        g.add_argument("--max-num-seqs", type=count(), default=256)
        g.add_argument("--max-batched-tokens", type=count(), default=8192)
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
    add_set_arg(va)
    va.add_argument("--list", action="store_true", help="list the validation groups and exit")
    va.add_argument("--wide", action="store_true", help="include each check's source (lines "
                    "up to 200 columns; default: 120 columns, no sources)")


def _add_explore(sub) -> None:
    ex = sub.add_parser("explore", help="search formats / hardware for Pareto-optimal designs")
    ex.add_argument("space", help="SPACE.yaml (see experiments/spaces/)")
    ex.add_argument("--trials", type=count(), default=1000,
                    help="complete trials the study should hold (a rerun resumes up to it)")
    ex.add_argument("--study", help="study name (default: the space's name)")
    ex.add_argument("--storage", help="journal:///FILE (default: STUDY.journal in --out or "
                    "here), sqlite:///FILE, postgresql://... or memory")
    ex.add_argument("--workers", type=count(1, 1024), default=1,
                    help="worker processes evaluating designs for the study")
    ex.add_argument("--sampler", default="nsga2", choices=["nsga2", "tpe", "random"])
    ex.add_argument("--seed", type=count(0, 2**32 - 1))
    ex.add_argument("--out", metavar="DIR", help="write trials.csv, pareto.json and plots here")
    ex.add_argument("--no-progress", action="store_true")


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(_parser().parse_args(argv))
    except HwsimError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head: stop quietly
        sys.stderr.close()
        return 0


# output files of each command: their folders are checked before any work is done, so a typo
# fails at once instead of after the results were printed
_OUTPUTS = {"eval": ("csv", "json", "export", "trace"), "generate": ("json",),
            "serve": ("json", "csv", "plot"), "validate": ("markdown",)}


def _run(args) -> int:
    handler = _COMMANDS.get(args.cmd)
    if handler is None:
        raise AssertionError(args.cmd)
    for flag in _OUTPUTS.get(args.cmd, ()):
        path = getattr(args, flag, None)
        if path and not Path(path).parent.is_dir():
            raise HwsimError(f"--{flag} {path}: folder {Path(path).parent} does not exist")
        if path and Path(path).is_dir():
            raise HwsimError(f"--{flag} {path}: is a folder; expected a file name")
    return handler(args)


def _cmd_help(args) -> int:
    _parser().print_help()
    return 0


def _cmd_list(args) -> int:
    from . import formats, validate
    from .systems.system import list_systems
    from .workload import list_workloads
    if args.what == "families":
        from .families import REGISTRY
        print("\n".join(f"{n:10s} {f.description}" for n, f in REGISTRY.items()))
        return 0
    if args.what == "archs":
        print("\n".join(_arch_lines()))
        return 0
    items = {"workloads": list_workloads, "formats": formats.names,
             "groups": validate.groups, "systems": list_systems}[args.what]()
    print("\n".join(items))
    return 0


def _arch_lines(width: int = 120) -> list[str]:
    """One line per arch preset: name, family and the first clause of its description."""
    from .arch import list_archs, resolved_spec
    rows = []
    for name in list_archs():
        try:
            spec = resolved_spec(name)[0]
        except HwsimError as e:  # a broken preset is listed, not fatal
            rows.append((name, "?", f"(cannot read: {e})"))
            continue
        desc = " ".join(str(spec.get("description") or "").split())
        rows.append((name, str(spec.get("family", "?")), desc))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    room = width - w0 - w1 - 4
    return [f"{n:{w0}s}  {f:{w1}s}  " + (d if len(d) <= room else d[:room - 3] + "...")
            for n, f, d in rows]


def _cmd_eval(args) -> int:
    from .evaluate import evaluate
    wl = workload_from_args(args)
    for note in wl.meta.get("notes") or []:  # importers: what was approximated, never silent
        print(f"hwsim: note: {note}", file=sys.stderr)
    if wl.meta.get("skipped"):
        print(f"hwsim: note: skipped ONNX ops {wl.meta['skipped']}", file=sys.stderr)
    from .systems.system import list_systems
    is_system = args.arch in list_systems()
    if args.tp * args.pp > 1 or is_system:
        return _eval_parallel(args, wl)
    hw = load_arch_args(args)
    if args.trace and args.engine != "sim":
        raise HwsimError("--trace needs --engine sim")
    _check_memory(args, wl, hw)
    rep = evaluate(wl, hw, engine=args.engine)
    text = str(rep) if not args.per_op else f"{wl.name} on {hw.name}\n" + rep.table(per_op=True)
    if wl.meta.get("kind") == "llm" and rep.fits is not None:
        text += f"\nmemory: {rep.memory.line()}"
    table = hw.resource_table()  # FPGA designs: used / available
    if table is not None:
        text += "\n\n" + table
    print(text)  # built whole first: a failure above prints nothing half-done
    _eval_files(args, hw, rep)
    return 0


def _check_memory(args, wl, hw) -> None:
    """Refuse (or, with --ignore-memory, warn about) a workload that does not fit the device's
    memory -- before costing it -- naming the smallest tensor-parallel degree that fits."""
    from .systems.memory import workload_memory
    from .systems.summary import does_not_fit
    m = workload_memory(wl, hw)
    if m.fits is not False:
        return
    msg = does_not_fit(wl, hw, m, args.workload)
    if not args.ignore_memory:
        raise HwsimError(msg + " (--ignore-memory costs it anyway)")
    print(f"hwsim: warning: {msg}", file=sys.stderr)


def _eval_parallel(args, wl) -> int:
    """A system preset or --tp/--pp: an LLM spread over devices (hwsim.systems)."""
    from .systems.cli_run import cli_system
    from .systems.summary import parallel_eval
    if wl.meta.get("kind") != "llm":
        raise HwsimError(f"--tp/--pp: {wl.name} is not an LLM workload")
    sysm = cli_system(args)
    text, fits = parallel_eval(args.workload, sysm,
                               phase=wl.meta.get("phase", "decode"), batch=wl.meta["batch"],
                               context=wl.meta["context"], tp=args.tp, pp=args.pp,
                               weights=wl.meta["weights"], activations=wl.meta["activations"],
                               kv=wl.meta.get("kv"))
    if not fits and not args.ignore_memory:
        raise HwsimError(text.splitlines()[-1].strip().removeprefix("warning: ")
                         + " (--ignore-memory prints the step anyway)")
    print(text)
    return 0


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
    from .families.gpu import fit as gpu_fit
    hw = load_arch_args(args)
    data = gpu_fit.load_measurements(args.data)
    print(f"# paste under params: of an arch YAML (fitted on {args.data})")
    print(gpu_fit.params_yaml(gpu_fit.fit(hw, data), args.data), end="")
    return 0


def _cmd_validate(args) -> int:
    from . import validate
    if args.list:
        print("\n".join(validate.groups()))
        return 0
    if args.family == "gpu" and (args.data or args.arch):  # measured GPU data, not the registry
        from .families.gpu import report as gpu_report
        if args.set:
            raise HwsimError("--set: hwsim validate gpu --arch checks a preset's own "
                             "parameters; write a YAML with the changed parameters and pass it")
        print(gpu_report.report(args.arch or "h100-sxm", args.data))
        return 0
    for flag in ("arch", "data", "set"):
        if getattr(args, flag):
            raise HwsimError(f"--{flag}: applies to 'hwsim validate gpu' (measured GPU data) only")
    results = validate.run(args.family, args.kind)
    print(validate.to_table(results, wide=args.wide))
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
