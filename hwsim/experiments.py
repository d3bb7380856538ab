"""``hwsim experiments list | run NAME | run --all``: the scripts under the repository's
``experiments/`` folder, each one reproduced result or study writing CSV and PNG under
``experiments/results/<name>/``.

A script is runnable from here when it defines ``run(out, ...)`` whose first parameter is the
output folder and whose other parameters have defaults; ``quick=True`` is passed when the script
takes a ``quick`` parameter (a reduced run for tests). Scripts with another entry point are
listed as such and run with ``python experiments/NAME.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ._paths import preset_dir
from .errors import ConfigError, UnknownNameError

_PKG = Path(__file__).resolve().parent


def experiments_dir() -> Path:
    """The experiment scripts: ``experiments/`` of a source checkout, or the copy an installed
    wheel carries (``hwsim/_data/experiments``)."""
    return preset_dir("experiments")


def _installed() -> bool:
    return experiments_dir().parent.name == "_data"


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    summary: str        # first paragraph of the script's docstring
    runnable: bool      # has run(out, ...) with defaults for the rest
    quick: bool         # run() takes quick=


def _entry(path: Path) -> tuple[str, bool, bool]:
    """Read the docstring and run()'s signature without importing the script."""
    tree = ast.parse(path.read_text(), str(path))
    doc = " ".join((ast.get_docstring(tree) or "").split("\n\n")[0].split())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            a = node.args
            names = [x.arg for x in a.posonlyargs + a.args]
            required = len(names) - len(a.defaults)
            ok = bool(names) and names[0] == "out" and required <= 1 and \
                all(d is not None for d in a.kw_defaults)
            return doc, ok, "quick" in names + [x.arg for x in a.kwonlyargs]
    return doc, False, False


def list_experiments() -> list[Experiment]:
    out = []
    for p in sorted(experiments_dir().glob("*.py")):
        if p.name.startswith("_"):
            continue
        doc, ok, quick = _entry(p)
        out.append(Experiment(p.stem, p, doc, ok, quick))
    return out


def get(name: str) -> Experiment:
    exps = {e.name: e for e in list_experiments()}
    if name not in exps:
        raise UnknownNameError("experiment", name, sorted(exps))
    e = exps[name]
    if not e.runnable:
        raise ConfigError(f"experiment {name!r} has no run(out, ...) entry point with defaults; "
                          f"run it with: python experiments/{name}.py")
    return e


def run(name: str, out: Path | None = None, quick: bool = False) -> tuple[Path, float]:
    """Run one experiment into ``out`` (default ``experiments/results/NAME`` in a checkout,
    ``./results/NAME`` for an installed package, never inside site-packages; with ``quick``, a
    new temporary folder: reduced results never overwrite the committed full ones); returns the
    folder and the seconds it took."""
    e = get(name)
    default = Path("results") / name if _installed() else experiments_dir() / "results" / name
    if quick and not out:
        default = Path(tempfile.mkdtemp(prefix=f"hwsim-{name}-quick-"))
    folder = Path(out) if out else default
    spec = importlib.util.spec_from_file_location(f"hwsim_experiment_{name}", e.path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    kw = {"quick": True} if quick and "quick" in inspect.signature(mod.run).parameters else {}
    t = time.perf_counter()
    mod.run(folder, **kw)
    return folder, time.perf_counter() - t


def add_parser(sub) -> None:
    ex = sub.add_parser("experiments", help="list or run the experiment scripts")
    acts = ex.add_subparsers(dest="exp_cmd", metavar="ACTION", required=True)
    acts.add_parser("list", help="the experiments and what each reproduces")
    r = acts.add_parser("run", help="run one experiment (or --all)")
    r.add_argument("name", nargs="?", help="experiment name (hwsim experiments list)")
    r.add_argument("--all", action="store_true", help="every runnable experiment")
    r.add_argument("--quick", action="store_true", help="reduced runs where a script has one, "
                   "written to a new temporary folder unless --out is given")
    r.add_argument("--out", metavar="DIR", help="write here (with --all: DIR/NAME) instead of "
                   "experiments/results/NAME")


def run_cli(args) -> int:
    import sys
    if args.exp_cmd == "list":
        for e in list_experiments():
            tag = ("" if e.runnable else " [python experiments/%s.py]" % e.name) + \
                  (" [--quick]" if e.quick else "")
            print(f"{e.name}{tag}\n    {e.summary}")
        return 0
    if args.all == bool(args.name):
        raise ConfigError("hwsim experiments run: give an experiment NAME or --all")
    names = [e.name for e in list_experiments() if e.runnable] if args.all else [args.name]
    root = args.out
    if args.quick and not root and args.all:  # one temporary folder for the whole quick run
        root = tempfile.mkdtemp(prefix="hwsim-experiments-quick-")
    for n in names:
        out = (Path(root) / n if args.all else Path(root)) if root else None
        folder, s = run(n, out, args.quick)
        print(f"{n}: wrote {folder} ({s:.1f} s)", file=sys.stderr)
    return 0


__all__ = ["Experiment", "list_experiments", "get", "run", "experiments_dir"]
