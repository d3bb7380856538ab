"""Running an exploration on optuna: storage, samplers, workers, resume, results.

Storage: a local SQLite file by default (``sqlite:///NAME.db``), ``postgresql://...`` for many
workers or machines, or ``journal:///path.log`` (optuna's append-only journal file: ~10x less
storage overhead per trial than SQLite). Trials send heartbeats; a rerun of the same study fails
the trials a killed run left RUNNING and continues until the study holds ``n_trials`` complete
ones, so no finished trial is lost or counted twice.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState

from ..errors import ConfigError, HwsimError
from .evaluator import Evaluator
from .hypervolume import hypervolume, pareto_mask
from .space import Space, load_space

SAMPLERS = ("nsga2", "tpe", "random")


def make_storage(url: str | None, study_name: str, out: Path | None):
    """An optuna storage for ``url`` (None: a SQLite file named after the study)."""
    if url in (None, ""):
        path = (out or Path(".")) / f"{study_name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    if url == "memory":
        return optuna.storages.InMemoryStorage(), url
    try:
        if url.startswith("journal:///"):
            from optuna.storages.journal import JournalFileBackend
            p = Path(url[len("journal://"):])
            p.parent.mkdir(parents=True, exist_ok=True)
            return optuna.storages.JournalStorage(JournalFileBackend(str(p))), url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        if not url.startswith(("sqlite:///", "postgresql+", "mysql")):
            raise ConfigError(f"--storage {url!r}: expected sqlite:///FILE, postgresql://..., "
                              "journal:///FILE or memory")
        with warnings.catch_warnings():  # heartbeats are "experimental" in optuna; we rely on them
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=5, grace_period=20,
                                              engine_kwargs={"pool_pre_ping": True}), url
    except ConfigError:
        raise
    except ModuleNotFoundError as e:
        raise ConfigError(f"storage {url!r} needs {e.name}: pip install 'hwsim[postgres]'") from None
    except Exception as e:  # sqlalchemy/psycopg raise many types; all mean "cannot open"
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"cannot open storage {url!r}: {msg}") from None


_SET_CONSTRAINT = hasattr(optuna.trial.Trial, "set_constraint")  # optuna >= 5


def make_sampler(name: str, seed: int | None, constraints: bool):
    # optuna >= 5 reads constraints the objective records with trial.set_constraint; older
    # versions take a constraints_func
    cf = _constraints if constraints and not _SET_CONSTRAINT else None
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cf)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constraints_func=cf, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"sampler {name!r}: expected one of {', '.join(SAMPLERS)}")


def _constraints(trial) -> list[float]:
    return trial.user_attrs.get("hwsim", {}).get("constraints", [0.0])


def _named_violations(space: Space, m: dict) -> dict[str, float]:
    """optuna's convention: a value <= 0 means satisfied."""
    out = {}
    for k, b in space.constraints.items():
        if b.max is not None:
            out[f"{k}<={b.max:g}"] = m[k] - b.max
        if b.min is not None:
            out[f"{k}>={b.min:g}"] = b.min - m[k]
    return out


def _violations(space: Space, m: dict) -> list[float]:
    return list(_named_violations(space, m).values()) or [0.0]


def make_objective(space: Space, evaluator: Evaluator):
    names = list(space.objectives)

    def objective(trial):
        d = evaluator.suggest(trial)
        m = evaluator.evaluate(d)
        named = _named_violations(space, m)
        # one attribute, one storage write: metrics, the design and the constraint values
        trial.set_user_attr("hwsim", {"metrics": m, "design": {
            "weights": d.weights, "activations": d.activations, "kv": d.kv,
            "hardware": d.hardware}, "constraints": list(named.values()) or [0.0]})
        if _SET_CONSTRAINT:
            for key, value in named.items():
                trial.set_constraint(key, value)
        return tuple(m[k] for k in names)

    return objective


def _worker(space_data: dict, url: str, study_name: str, sampler: str, seed, n_trials: int):
    """One worker process: shares the study through the storage."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(space_data)
    ev = Evaluator(space)
    storage, _ = make_storage(url, study_name, None)
    study = optuna.load_study(study_name=study_name, storage=storage,
                              sampler=make_sampler(sampler, seed, bool(space.constraints)))
    study.optimize(make_objective(space, ev), n_trials=None,
                   callbacks=[MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE,))],
                   catch=())


def explore(space: Space | dict | str | Path, n_trials: int = 1000, *, study_name: str | None = None,
            storage: str | None = None, sampler: str = "nsga2", seed: int | None = None,
            workers: int = 1, out: str | Path | None = None, progress: bool = True):
    """Run (or resume) an exploration until the study holds ``n_trials`` complete trials.

    Returns an :class:`ExploreResult`. Everything that can be checked is checked before the first
    trial: the space, the objectives' availability on this arch, the storage URL.
    """
    sp = space if isinstance(space, Space) else load_space(space)
    if not isinstance(n_trials, int) or n_trials < 1:
        raise HwsimError(f"n_trials = {n_trials!r}: expected a positive integer")
    if not isinstance(workers, int) or workers < 1:
        raise HwsimError(f"workers = {workers!r}: expected a positive integer")
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    ev = Evaluator(sp)
    ev.check()
    name = study_name or sp.name or f"{sp.workload.name}-on-{Path(sp.arch).stem}"
    outp = Path(out) if out else None
    st, url = make_storage(storage, name, outp)
    if workers > 1 and url == "memory":
        raise ConfigError("workers > 1 need a shared storage (sqlite, postgresql or journal)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = [d for d in sp.objectives.values()]
    try:
        study = optuna.create_study(study_name=name, storage=st, directions=directions,
                                    load_if_exists=True,
                                    sampler=make_sampler(sampler, seed, bool(sp.constraints)))
    except ValueError as e:  # e.g. directions differ from an existing study of that name
        raise ConfigError(f"study {name!r}: {e}") from None
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(f"study {name!r} in {url} was created with other objectives; use "
                          "another --study name")
    study.set_user_attr("space", sp.model_dump(by_alias=True, exclude_none=True))
    if isinstance(st, optuna.storages.RDBStorage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # trials a killed run left RUNNING
    done = _count(study)
    if done < n_trials:
        if workers == 1:
            _run_here(study, sp, ev, n_trials, progress)
        else:
            _run_workers(study, sp, url, name, sampler, seed, workers, n_trials, progress)
    return ExploreResult(study, sp, url)


def _count(study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def _bar(total, initial, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="design", dynamic_ncols=True,
                desc="exploring")


def _best_note(study, sp: Space) -> str:
    try:
        front = study.best_trials
    except Exception:
        return ""
    if not front:
        return ""
    k = list(sp.objectives)[0]
    vals = [t.values[0] for t in front]
    best = min(vals) if sp.objectives[k] == "minimize" else max(vals)
    return f"front={len(front)} best {k}={best:.4g}"


def _run_here(study, sp, ev, n_trials, progress):
    bar = _bar(n_trials, _count(study), progress)
    objective = make_objective(sp, ev)
    last = [time.monotonic()]

    def cb(st, trial):
        if bar is not None:
            bar.update(1)
            if time.monotonic() - last[0] > 1.0:
                bar.set_postfix_str(_best_note(st, sp))
                last[0] = time.monotonic()

    try:
        study.optimize(objective, n_trials=None, callbacks=[
            MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE,)), cb])
    finally:
        if bar is not None:
            bar.close()


def _run_workers(study, sp, url, name, sampler, seed, workers, n_trials, progress):
    ctx = mp.get_context("spawn")
    data = sp.model_dump(by_alias=True, exclude_none=True)
    procs = [ctx.Process(target=_worker, args=(data, url, name, sampler,
                                               None if seed is None else seed + i, n_trials))
             for i in range(workers)]
    for p in procs:
        p.start()
    bar = _bar(n_trials, _count(study), progress)
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(0.5)
            if bar is not None:
                bar.n = min(n_trials, _count(study))
                bar.set_postfix_str(_best_note(study, sp))
                bar.refresh()
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        if bar is not None:
            bar.close()
    bad = [p.exitcode for p in procs if p.exitcode not in (0, None)]
    if bad:
        raise HwsimError(f"{len(bad)} exploration worker(s) failed (exit codes {bad}); "
                         "the study keeps every trial they finished")


class ExploreResult:
    """Trials of a study as rows, the feasible Pareto front, hypervolume history, exports, plots."""

    def __init__(self, study, space: Space, storage_url: str):
        self.study, self.space, self.storage_url = study, space, storage_url
        self.objectives = list(space.objectives)
        self.rows = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            h = t.user_attrs.get("hwsim", {})
            feasible = all(v <= 0 for v in h.get("constraints", [0.0]))
            self.rows.append({"trial": t.number, "feasible": feasible, **h.get("metrics", {}),
                              **_flat_design(h.get("design", {}))})

    def _signed(self, rows) -> np.ndarray:
        s = [1 if d == "minimize" else -1 for d in self.space.objectives.values()]
        return np.array([[r[k] * si for k, si in zip(self.objectives, s)] for r in rows], float)

    def pareto(self) -> list[dict]:
        """Feasible, non-dominated designs, sorted by the first objective; each distinct design
        once (samplers re-propose designs; the first trial of each is kept)."""
        seen: set = set()
        feas = []
        for r in self.rows:
            key = tuple(sorted((k, str(v)) for k, v in r.items()
                               if k.startswith(("w.", "hw.")) or k in ("a", "kv")))
            if r["feasible"] and key not in seen:
                seen.add(key)
                feas.append(r)
        if not feas:
            return []
        mask = pareto_mask(self._signed(feas))
        return sorted([r for r, k in zip(feas, mask) if k], key=lambda r: r[self.objectives[0]])

    def hypervolume_history(self) -> list[float]:
        """Hypervolume of the feasible front after each trial (objectives normalized to [0, 1]
        by the observed ranges; reference point 1.1)."""
        feas = [r for r in sorted(self.rows, key=lambda r: r["trial"])]
        if not feas or len(self.objectives) > 3:
            return []
        pts = self._signed(feas)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        norm = (pts - lo) / np.where(hi > lo, hi - lo, 1.0)
        ref = np.full(len(self.objectives), 1.1)
        out, front, hv = [], np.empty((0, len(self.objectives))), 0.0
        for r, p in zip(feas, norm):
            # keep only the running front: a dominated newcomer leaves the hypervolume unchanged
            if r["feasible"] and not np.any(np.all(front <= p, axis=1)):
                front = np.vstack([front[~np.all(p <= front, axis=1)], p])
                hv = hypervolume(front, ref)
            out.append(hv)
        return out

    def table(self, limit: int = 30) -> str:
        front = self.pareto()
        cols = self.objectives + [c for c in self.space.constraints if c not in self.objectives]
        dcols = [k for k in (front[0] if front else {}) if k.startswith(("w.", "a", "kv", "hw."))
                 and k not in cols]
        head = ["trial"] + cols + dcols
        lines = ["  ".join(f"{h:>12s}" for h in head)]
        for r in front[:limit]:
            lines.append("  ".join(f"{_fmt(r.get(h)):>12s}" for h in head))
        note = (f"{len(front)} Pareto-optimal of {len(self.rows)} designs "
                f"({sum(r['feasible'] for r in self.rows)} feasible)")
        if "accuracy_proxy" in cols:
            note += "; accuracy_proxy is a PROXY (relative quantization error), not accuracy"
        return "\n".join(lines + [note])

    def to_csv(self, path) -> None:
        import csv
        keys = list(dict.fromkeys(k for r in self.rows for k in r))
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.rows)

    def to_json(self, path) -> None:
        import json
        Path(path).write_text(json.dumps({"objectives": self.space.objectives,
                                          "pareto": self.pareto(),
                                          "hypervolume": self.hypervolume_history()}, indent=1))

    def save(self, out) -> list[Path]:
        """Write trials.csv, pareto.json and the plots into ``out``; returns the paths."""
        from .plots import plot_all
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        self.to_csv(o / "trials.csv")
        self.to_json(o / "pareto.json")
        return [o / "trials.csv", o / "pareto.json"] + plot_all(self, o)


def _flat_design(d: dict) -> dict:
    out = {}
    for k, v in (d.get("weights") or {}).items():
        out[f"w.{k}"] = v
    if "activations" in d:
        out["a"] = d["activations"]
        out["kv"] = d.get("kv")
    for k, v in (d.get("hardware") or {}).items():
        out[f"hw.{k}"] = v
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


__all__ = ["explore", "ExploreResult", "make_storage", "SAMPLERS"]
