"""``hwsim plot KIND ...``: argument parsing kept free of matplotlib, so every other command
starts without importing it; the figures come from :mod:`hwsim.plot.figures`."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError



def load_study(study: str, storage: str):
    """An :class:`~hwsim.explore.ExploreResult` of a stored study (the space it ran is stored
    with it), for plotting without re-running anything."""
    import optuna

    from ..explore.runner import ExploreResult, make_storage
    from ..explore.space import load_space
    if not storage:
        raise ConfigError("--storage is needed to find the study (sqlite:///FILE, "
                          "journal:///FILE or postgresql://...)")
    if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).exists():
        raise ConfigError(f"--storage {storage!r}: no such file")
    st, url = make_storage(storage, study, None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        s = optuna.load_study(study_name=study, storage=st)
    except KeyError:
        names = [x.study_name for x in optuna.get_all_study_summaries(st)]
        raise ConfigError(f"--study {study!r}: not in {url}; studies there: "
                          f"{', '.join(names) or 'none'}") from None
    space = s.user_attrs.get("space")
    if not space:
        raise ConfigError(f"study {study!r} in {url} was not written by hwsim explore "
                          "(no space stored with it)")
    return ExploreResult(s, load_space(space), url)


def _eval_args(p) -> None:
    """The workload arguments of ``hwsim eval``, so a plot takes the same command line; --arch
    repeats to compare designs."""
    from .._cliargs import add_set_arg, add_workload_args
    add_workload_args(p)
    p.add_argument("--arch", required=True, action="append",
                   help="arch preset name or YAML path (repeat to compare designs)")
    add_set_arg(p)


def add_parser(sub) -> None:
    """Register ``hwsim plot ...`` on the CLI's subparsers."""
    pl = sub.add_parser("plot", help="plot a roofline, breakdown, Pareto front, validation "
                        "family or format comparison")
    kinds = pl.add_subparsers(dest="plot", metavar="KIND", required=True)
    r = kinds.add_parser("roofline", help="roofline with each op of the workload on it")
    _eval_args(r)
    b = kinds.add_parser("breakdown", help="latency / energy per layer group, stacked")
    _eval_args(b)
    b.add_argument("--metric", choices=["latency_s", "energy_j"], default="latency_s")
    b.add_argument("--by", choices=["bound", "path", "component"], default="bound",
                   help="split each group by what bounds it, its datapath, or (energy) the "
                   "model's energy components")
    a = kinds.add_parser("area", help="area by hardware component")
    a.add_argument("--arch", required=True, action="append", help="arch preset (repeatable)")
    from .._cliargs import add_set_arg
    add_set_arg(a)
    pa = kinds.add_parser("pareto", help="Pareto front of a stored exploration study")
    pa.add_argument("--study", required=True, help="study name (hwsim explore --study)")
    pa.add_argument("--storage", required=True, help="sqlite:///FILE, journal:///FILE, "
                    "postgresql://...")
    pa.add_argument("--objectives", nargs="+", help="2 or 3 of the study's metrics "
                    "(default: its objectives)")
    v = kinds.add_parser("validation", help="hwsim vs reference of a validation family")
    v.add_argument("family", nargs="?", help="family (default: all)")
    v.add_argument("--kind", choices=["validation", "consistency"], default="validation")
    f = kinds.add_parser("formats", help="quantization error vs storage bits per format")
    f.add_argument("formats", nargs="+", help="format names (hwsim list formats)")
    f.add_argument("--metric", choices=["sqnr_db", "rel_error"], default="sqnr_db")
    for k in (r, b, a, pa, v, f):
        k.add_argument("--out", required=True, metavar="FILE", help="image to write (.png/.svg)")


SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def check_out(path: str) -> None:
    """``--out FILE``: its folder must exist (never created: a typo would otherwise make a tree
    of folders from the root) and its suffix name an image format matplotlib writes."""
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"--out {path}: expected a file ending in {', '.join(SUFFIXES)}")
    if not p.parent.is_dir():
        raise ConfigError(f"--out {path}: folder {p.parent} does not exist (create it first)")
    if p.is_dir():
        raise ConfigError(f"--out {path}: is a folder; expected an image file name")


def run_cli(args) -> Path:
    """Run ``hwsim plot ...`` (parsed by :func:`add_parser`); returns the written image."""
    check_out(args.out)  # before any work: a bad path fails at once
    from .._cliargs import load_arch_args
    from .figures import area_breakdown, breakdown, format_comparison, pareto, roofline, save, \
        validation
    if args.plot in ("roofline", "breakdown"):
        from .._cliargs import workload_from_args
        from ..evaluate import evaluate
        wl = workload_from_args(args)
        reps = [evaluate(wl, load_arch_args(args, a), engine=args.engine) for a in args.arch]
        if args.plot == "roofline":
            if len(reps) > 1:
                raise ConfigError("hwsim plot roofline: one --arch (a roofline is per device)")
            fig = roofline(reps[0])
        else:
            fig = breakdown(reps, args.metric, args.by)
    elif args.plot == "area":
        from ..arch import load_arch
        fig = area_breakdown([load_arch_args(args, a, "default") for a in args.arch])
    elif args.plot == "pareto":
        fig = pareto(load_study(args.study, args.storage), args.objectives)
    elif args.plot == "validation":
        fig = validation(args.family, kind=args.kind)
    else:
        fig = format_comparison(args.formats, metric=args.metric)
    return save(fig, args.out)


__all__ = ["load_study", "add_parser", "run_cli"]
