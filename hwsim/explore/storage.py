"""Where an exploration's trials live: opening optuna storages safely and writing finished trials
in batches.

The default is optuna's journal file (``NAME.journal`` in ``--out`` or the working folder):
append-only, one ``fsync`` per write, safe on NFS. ``sqlite:///FILE`` and ``postgresql://...``
(many machines) stay available, and ``memory`` keeps nothing.

hwsim writes only *finished* trials, a generation at a time, under a lock shared by every hwsim
process on the same storage (a ``fcntl`` lock file next to a journal/SQLite file, a PostgreSQL
advisory lock): the complete trials are counted and the batch cut to the target inside that
lock, so a study ends with exactly the requested number however many processes write to it, and
a killed run leaves no RUNNING trial behind (it loses at most the generation in flight).
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import optuna
from optuna.distributions import distribution_to_json
from optuna.trial import FrozenTrial, TrialState

from ..errors import ConfigError

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
# RUNNING trials older than this with no live heartbeat are left over from a killed run
STALE_AFTER_S = 60.0


def safe_file_stem(name: str) -> str:
    """A study name as a file name in one folder: path separators and odd characters become
    ``_`` and leading dots go, so ``../../x`` cannot leave the folder."""
    stem = _SAFE.sub("_", str(name)).lstrip(".")
    return stem or "study"


def confined(path: Path, what: str) -> Path:
    """``path`` unchanged if absolute, else checked to stay inside the working folder."""
    if path.is_absolute():
        return path
    cwd = Path.cwd().resolve()
    full = (cwd / path).resolve()
    if full != cwd and cwd not in full.parents:
        raise ConfigError(f"{what} {str(path)!r} leaves the working folder; give an absolute "
                          "path to write outside it")
    return path


def default_url(study_name: str, out: Path | None) -> str:
    folder = out if out is not None else Path(".")
    return f"journal:///{folder / (safe_file_stem(study_name) + '.journal')}"


def _file_of(url: str) -> Path | None:
    for prefix in ("journal:///", "sqlite:///"):
        if url.startswith(prefix):
            return Path(url[len(prefix):])
    return None


def make_storage(url: str | None, study_name: str, out: Path | None):
    """An optuna storage for ``url`` (None: a journal file named after the study) and its URL."""
    if url in (None, ""):
        url = default_url(study_name, out)
    if url == "memory":
        return optuna.storages.InMemoryStorage(), url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith(("sqlite:///", "postgresql+", "mysql", "journal:///")):
        raise ConfigError(f"--storage {url!r}: expected journal:///FILE, sqlite:///FILE, "
                          "postgresql://... or memory")
    path = _file_of(url)
    if path is not None:
        if str(path) in ("", "."):
            raise ConfigError(f"--storage {url!r}: no file name")
        confined(path, "--storage file")
        if path.is_dir():
            raise ConfigError(f"--storage {url!r}: {path} is a folder; expected a file")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with file_lock(path) if path else contextlib.nullcontext():
            return _open(url, path), url
    except ConfigError:
        raise
    except ModuleNotFoundError as e:
        raise ConfigError(f"storage {url!r} needs {e.name}: pip install 'hwsim[postgres]'") from None


def _open(url: str, path: Path | None):
    if url.startswith("journal:///"):
        from optuna.storages.journal import JournalFileBackend
        try:
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        except Exception as e:  # a file that is not a journal: json/unicode errors
            raise ConfigError(f"cannot open storage {url!r}: not an optuna journal file "
                              f"({type(e).__name__})") from None
    # Two processes creating the schema of an empty database at once race on it (the loser
    # sees a unique violation on alembic_version): serialize on PostgreSQL, retry everywhere.
    last = None
    for attempt in range(6):
        try:
            with _pg_lock(url, "schema") if url.startswith("postgresql") else \
                    contextlib.nullcontext():
                with warnings.catch_warnings():  # heartbeats are "experimental" in optuna
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(url, heartbeat_interval=5, grace_period=20,
                                                      engine_kwargs={"pool_pre_ping": True})
        except ModuleNotFoundError:
            raise
        except Exception as e:  # sqlalchemy/psycopg raise many types
            last = e
            if "UNIQUE" not in str(e).upper() and "already exists" not in str(e) and \
                    "locked" not in str(e):
                break
            time.sleep(0.1 * (attempt + 1))
    msg = str(last).strip().splitlines()[0] if str(last).strip() else type(last).__name__
    raise ConfigError(f"cannot open storage {url!r}: {msg}") from None


@contextlib.contextmanager
def file_lock(path: Path | None):
    """An exclusive ``fcntl`` lock on ``PATH.hwsim-lock`` (nothing for ``None``)."""
    if path is None:
        yield
        return
    import fcntl
    with open(f"{path}.hwsim-lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _pg_lock(url: str, key: str, engine=None):
    """A PostgreSQL session advisory lock named by ``key``."""
    import sqlalchemy as sa
    own = engine is None
    engine = engine or sa.create_engine(url, poolclass=sa.pool.NullPool)
    k = zlib.crc32(f"hwsim:{key}".encode()) & 0x7FFFFFFF
    try:
        with engine.connect() as c:
            c.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": k})
            c.commit()
            try:
                yield
            finally:
                c.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                c.commit()
    finally:
        if own:
            engine.dispose()


def storage_lock(storage, url: str, study_name: str):
    """The lock every hwsim writer of this study takes to count and append."""
    if url.startswith("postgresql"):
        return _pg_lock(url, study_name, engine=getattr(_rdb(storage), "engine", None))
    return file_lock(_file_of(url))


def _rdb(storage):
    """The RDBStorage under optuna's cache wrapper (create_study wraps one), or None."""
    inner = getattr(storage, "_backend", storage)
    return inner if isinstance(inner, optuna.storages.RDBStorage) else None


def count_trials(storage, study_id: int, complete: bool = True) -> int:
    """Complete (or all) trials of a study. On a database a COUNT query: optuna's
    get_n_trials reads every trial, which made the cost per trial grow with the study."""
    storage = _rdb(storage) or storage
    if isinstance(storage, optuna.storages.RDBStorage):
        import sqlalchemy as sa
        q = "SELECT COUNT(*) FROM trials WHERE study_id = :s" + (
            " AND state = 'COMPLETE'" if complete else "")
        with storage.engine.connect() as c:
            return int(c.execute(sa.text(q), {"s": study_id}).scalar())
    if isinstance(storage, optuna.storages.JournalStorage):
        with storage._thread_lock:
            storage._sync_with_backend()
    return storage.get_n_trials(study_id, state=(TrialState.COMPLETE,) if complete else None)


def append_trials(storage, study_id: int, trials: list[FrozenTrial]) -> None:
    """Write finished trials; on a journal file, all in one append (one lock, one fsync)."""
    if not trials:
        return
    if isinstance(storage, optuna.storages.JournalStorage) and hasattr(storage, "_backend"):
        from optuna.storages.journal._storage import JournalOperation
        worker = storage._replay_result.worker_id
        logs = [{"op_code": JournalOperation.CREATE_TRIAL, "worker_id": worker,
                 **_trial_log(study_id, t)} for t in trials]
        with storage._thread_lock:
            storage._backend.append_logs(logs)
            storage._sync_with_backend()
        return
    if _rdb(storage) is not None and _append_rdb(_rdb(storage), study_id, trials):
        return
    for t in trials:
        storage.create_new_trial(study_id, template_trial=t)


def _append_rdb(storage, study_id: int, trials: list[FrozenTrial]) -> bool:
    """All trials in one transaction (what RDBStorage.create_new_trial does per trial: one
    commit, so one fsync, per trial). False where optuna's internals differ."""
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
        prepare = storage._get_prepared_new_trial
    except (ImportError, AttributeError):  # pragma: no cover - another optuna layout
        return False
    with _create_scoped_session(storage.scoped_session) as session:
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        for t in trials:
            prepare(study_id, t, session)
    return True


def _trial_log(study_id: int, t: FrozenTrial) -> dict:
    """The journal record of a finished trial (what JournalStorage.create_new_trial writes for
    a template trial)."""
    def iso(d):
        return d.astimezone().isoformat(timespec="microseconds") if d else None
    multi = t.values is not None and len(t.values) > 1
    return {"study_id": study_id, "state": t.state.value,
            "value": None if multi else t.value, "values": t.values if multi else None,
            "datetime_start": iso(t.datetime_start), "datetime_complete": iso(t.datetime_complete),
            "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
            "params": {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()},
            "user_attrs": t.user_attrs, "system_attrs": t.system_attrs,
            "intermediate_values": {}}


def fail_stale(study) -> int:
    """Fail RUNNING trials a killed run left behind: those whose heartbeat stopped (optuna's
    rule) and those older than STALE_AFTER_S that never sent one (killed between ask and the
    first heartbeat). hwsim itself stores only finished trials; these come from other clients
    or older versions. Returns how many were failed."""
    storage = study._storage
    if isinstance(storage, optuna.storages.InMemoryStorage):
        return 0
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        before = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        optuna.storages.fail_stale_trials(study)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        n += before - len(running)
    cutoff = datetime.now() - timedelta(seconds=STALE_AFTER_S)
    for t in running:
        if t.datetime_start is not None and t.datetime_start < cutoff:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
                storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
                n += 1
    return n
