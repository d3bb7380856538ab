"""Running an exploration on optuna: batched ask/tell, storage, workers, resume.

A generation of designs is asked at once from an in-memory copy of the study, evaluated (each
distinct design once, through the evaluator's memoized op templates; ``workers > 1`` spreads the
new ones over processes), told, and the finished trials are appended to the study's storage in
one write (see :mod:`hwsim.explore.storage`). A rerun of the same study reads the finished
trials back and continues until the study holds exactly ``n_trials`` complete ones.
"""

from __future__ import annotations

import copy
import math
import multiprocessing as mp
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from ..errors import ConfigError, HwsimError
from .evaluator import Evaluator
from .results import ExploreResult
from .space import Space, load_space
from .storage import (append_trials, confined, count_trials, fail_stale, make_storage,
                      storage_lock)

try:  # what study.optimize calls: study.tell also returns a deep copy of the trial (~40% of
    # optuna's time per trial in memory), which the batched loop never reads
    from optuna.study._tell import _tell_with_warning as _optuna_tell
except ImportError:  # pragma: no cover - another optuna layout
    def _optuna_tell(study, trial, values=None, state=None, **_):
        study.tell(trial, values, state)

SAMPLERS = ("nsga2", "tpe", "random")
BATCH = 50            # trials asked per generation (NSGA-II's default population size)
MAX_FAILURES = 200    # consecutive failed designs that stop a run


def make_sampler(name: str, seed: int | None, constraints: bool = False):
    # optuna >= 5 reads constraints from the trials' "constraints:<name>" system attributes,
    # which the runner writes; older versions need a constraints_func
    cf = _constraints if constraints and not hasattr(optuna.trial.Trial, "set_constraint") \
        else None
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=cf)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constraints_func=cf, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"sampler {name!r}: expected one of {', '.join(SAMPLERS)}")


def _constraints(trial) -> list[float]:
    return trial.user_attrs.get("hwsim", {}).get("constraints", [0.0])


def named_violations(space: Space, m: dict) -> dict[str, float]:
    """optuna's convention: a value <= 0 means satisfied."""
    out = {}
    for k, b in space.constraints.items():
        if b.max is not None:
            out[f"{k}<={b.max:g}"] = m[k] - b.max
        if b.min is not None:
            out[f"{k}>={b.min:g}"] = b.min - m[k]
    return out


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise HwsimError(f"{name} = {v!r}: expected a positive integer")
    return v


def _out_dir(out) -> Path | None:
    if out in (None, ""):
        return None
    p = confined(Path(out), "--out")
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out {str(p)!r} is an existing file; expected a folder")
    return p


def explore(space: Space | dict | str | Path, n_trials: int = 1000, *, study_name: str | None = None,
            storage: str | None = None, sampler: str = "nsga2", seed: int | None = None,
            workers: int = 1, out: str | Path | None = None, progress: bool = True,
            max_failures: int = MAX_FAILURES):
    """Run (or resume) an exploration until the study holds ``n_trials`` complete trials.

    Returns an :class:`ExploreResult`. Everything that can be checked is checked before the first
    trial: the space, every choice of every domain on this arch, ``--out`` and the storage URL.
    ``max_failures`` consecutive designs that cannot be costed stop the run with an error.
    """
    sp = space if isinstance(space, Space) else load_space(space)
    _positive_int("n_trials", n_trials)
    _positive_int("workers", workers)
    _positive_int("max_failures", max_failures)
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise HwsimError(f"seed = {seed!r}: expected an integer >= 0")
    outp = _out_dir(out)
    ev = Evaluator(sp)
    ev.check()
    name = study_name or sp.name or f"{sp.workload.name}-on-{Path(sp.arch).stem}"
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"study name {name!r}: expected a non-empty name")
    st, url = make_storage(storage, name, outp)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _open_study(st, url, name, sp, sampler, seed)
    fail_stale(study)
    run = _Run(study, sp, ev, url, sampler, seed, workers, max_failures)
    run.until(n_trials, progress)
    return ExploreResult(study, sp, url)


def _open_study(st, url, name, sp, sampler, seed):
    directions = list(sp.objectives.values())
    for attempt in range(5):  # two commands creating one study at once: the loser loads it
        try:
            study = optuna.create_study(study_name=name, storage=st, directions=directions,
                                        load_if_exists=True,
                                        sampler=make_sampler(sampler, seed, bool(sp.constraints)))
            break
        except optuna.exceptions.DuplicatedStudyError:
            time.sleep(0.05 * (attempt + 1))
        except ValueError as e:  # e.g. directions differ from an existing study of that name
            raise ConfigError(f"study {name!r}: {e}") from None
    else:
        raise ConfigError(f"study {name!r} in {url}: could not create or load it")
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(f"study {name!r} in {url} was created with other objectives; use "
                          "another --study name")
    if "space" not in study.user_attrs:
        study.set_user_attr("space", sp.model_dump(by_alias=True, exclude_none=True))
    return study


class _Run:
    """The batched ask / evaluate / tell / append loop of one process."""

    def __init__(self, study, sp, ev, url, sampler, seed, workers, max_failures):
        self.study, self.sp, self.ev, self.url = study, sp, ev, url
        self.storage = study._storage
        self.names = list(sp.objectives)
        self.max_failures = max_failures
        self.persistent = not isinstance(self.storage, optuna.storages.InMemoryStorage)
        if self.persistent:  # the sampler works on an in-memory copy; the storage gets batches
            self.mem = optuna.create_study(directions=study.directions,
                                           sampler=make_sampler(sampler, seed,
                                                                bool(sp.constraints)))
            self.mem.add_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            self.seen = len(study.get_trials(deepcopy=False))
        else:
            self.mem = study
        self.pool = _Pool(sp, workers) if workers > 1 else None
        self.fails, self.last_error = 0, ""

    def until(self, n_trials: int, progress: bool) -> None:
        done = self._count()
        bar = _bar(n_trials, done, progress) if done < n_trials else None
        try:
            while done < n_trials:
                batch = self._generation(min(BATCH, n_trials - done))
                done = self._store(batch, n_trials)
                if bar is not None:
                    bar.n = min(done, n_trials)
                    bar.refresh()
                if self.fails >= self.max_failures:
                    raise HwsimError(
                        f"{self.fails} designs in a row could not be evaluated; stopping (the "
                        f"study keeps the {done} complete trials). Last error: {self.last_error}")
        finally:
            if bar is not None:
                bar.close()
            if self.pool is not None:
                self.pool.close()

    def _count(self) -> int:
        return count_trials(self.storage, self.study._study_id)

    def _generation(self, n: int) -> list:
        """Ask ``n`` trials, evaluate their designs, tell the results; the finished trials."""
        trials = [self.mem.ask() for _ in range(n)]
        designs = [self.ev.suggest(t) for t in trials]
        results = self.ev.evaluate_many(designs, self.pool)
        mstore, out = self.mem._storage, []
        for t, d, r in zip(trials, designs, results):
            if isinstance(r, str):
                self.fails += 1
                self.last_error = r
                _optuna_tell(self.mem, t, state=TrialState.FAIL, suppress_warning=True)
            else:
                self.fails = 0
                named = named_violations(self.sp, r)
                for key, value in named.items():
                    mstore.set_trial_system_attr(t._trial_id, f"constraints:{key}", value)
                _optuna_tell(self.mem, t, [r[k] for k in self.names], suppress_warning=True)
                # metrics and design join the finished trial after tell: tell deep-copies the
                # trial, and this dict would triple its cost; one attribute, one storage write
                _finished(mstore, t._trial_id).user_attrs["hwsim"] = {
                    "metrics": r, "design": d.as_dict(),
                    "constraints": list(named.values()) or [0.0]}
            out.append(t._trial_id)
            if self.fails >= self.max_failures:
                break
        return out

    def _store(self, trial_ids: list, n_trials: int) -> int:
        """Append the finished trials to the storage, cut so the study never holds more than
        ``n_trials`` complete ones; returns how many it holds."""
        if not self.persistent:
            return self._count()
        frozen = [self.mem._storage.get_trial(i) for i in trial_ids]
        sid = self.study._study_id
        with storage_lock(self.storage, self.url, self.study.study_name):
            have = count_trials(self.storage, sid)
            total = count_trials(self.storage, sid, complete=False)
            if total > self.seen:  # other processes wrote since our last append
                self.mem.add_trials([t for t in self.study.get_trials(
                    deepcopy=False, states=(TrialState.COMPLETE,)) if t.number >= self.seen])
            room, keep = n_trials - have, []
            for t in frozen:
                if room <= 0:
                    break
                keep.append(copy.copy(t))
                room -= t.state == TrialState.COMPLETE
            append_trials(self.storage, sid, keep)
            self.seen = total + len(keep)
        return have + sum(t.state == TrialState.COMPLETE for t in keep)


def _finished(storage, trial_id: int):
    """The in-memory storage's own record of a finished trial (InMemoryStorage.get_trial returns
    it, not a copy; the user attributes of a finished trial are otherwise read-only)."""
    return storage.get_trial(trial_id)


class _Pool:
    """Worker processes that evaluate designs the main process has not seen yet."""

    def __init__(self, sp: Space, workers: int):
        ctx = mp.get_context("spawn")
        self.pool = ctx.Pool(workers, initializer=_init_worker,
                             initargs=(sp.model_dump(by_alias=True, exclude_none=True),))
        self.workers = workers

    def map(self, designs: list) -> list:
        return self.pool.map(_eval_worker, designs,
                             chunksize=max(1, math.ceil(len(designs) / (4 * self.workers))))

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


_WORKER_EV: Evaluator | None = None


def _init_worker(space_data: dict) -> None:
    global _WORKER_EV
    _WORKER_EV = Evaluator(load_space(space_data))


def _eval_worker(design):
    return _WORKER_EV.evaluate_safe(design)


def _bar(total, initial, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="design", dynamic_ncols=True,
                desc="exploring")


__all__ = ["explore", "ExploreResult", "make_storage", "make_sampler", "SAMPLERS"]
