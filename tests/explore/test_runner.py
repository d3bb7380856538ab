import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from hwsim.errors import ConfigError
from hwsim.explore import explore


def complete(study):
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))


def test_in_memory_run_front_and_outputs(space, tmp_path):
    res = explore(space, 60, storage="memory", seed=1, progress=False)
    assert len(complete(res.study)) == 60
    front = res.pareto()
    assert front and all(r["feasible"] for r in front)
    assert "PROXY" in res.table()
    hv = res.hypervolume_history()
    assert len(hv) == 60 and all(b >= a for a, b in zip(hv, hv[1:]))
    paths = res.save(tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_seeds_reproduce(space):
    a = explore(space, 30, storage="memory", seed=7, progress=False)
    b = explore(space, 30, storage="memory", seed=7, progress=False)
    assert [t.params for t in complete(a.study)] == [t.params for t in complete(b.study)]


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_other_samplers(space, sampler):
    res = explore(space, 20, storage="memory", sampler=sampler, seed=0, progress=False)
    assert len(complete(res.study)) == 20


def test_sqlite_resume_continues_to_the_target(space, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    explore(space, 15, storage=db, seed=0, progress=False)
    res = explore(space, 40, storage=db, seed=0, progress=False)
    assert len(complete(res.study)) == 40


def test_killed_run_resumes_without_losing_or_duplicating(space, tmp_path):
    """A real SIGKILL in the middle of a run, then the same command again."""
    spec = tmp_path / "space.yaml"
    spec.write_text(yaml.safe_dump(space))
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "hwsim.cli", "explore", str(spec), "--trials", "600",
           "--storage", f"sqlite:///{db}", "--study", "k", "--no-progress", "--seed", "3"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    storage = f"sqlite:///{db}"
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline:
        time.sleep(0.5)
        try:
            n = len(complete(optuna.load_study(study_name="k", storage=storage)))
        except Exception:
            continue
        if n >= 20:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    before = {t.number: t.params for t in
              complete(optuna.load_study(study_name="k", storage=storage))}
    assert 20 <= len(before) < 600, "the run should have been killed part way"
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    after = complete(optuna.load_study(study_name="k", storage=storage))
    assert len(after) == 600                     # reached the target exactly
    assert len({t.number for t in after}) == 600  # no trial counted twice
    running = optuna.load_study(study_name="k", storage=storage).get_trials(
        states=(optuna.trial.TrialState.RUNNING,))
    assert not running
    kept = {t.number: t.params for t in after}
    assert all(kept[k] == v for k, v in before.items())  # nothing finished was lost


def test_two_workers_share_one_sqlite_study(space, tmp_path):
    res = explore(space, 60, storage=f"sqlite:///{tmp_path / 'w.db'}", workers=2, seed=0,
                  progress=False)
    assert len(complete(res.study)) == 60  # exactly the target


def test_unreachable_storage_fails_before_trials(space):
    with pytest.raises(ConfigError, match="cannot open storage"):
        explore(space, 5, storage="postgresql://nobody@127.0.0.1:1/none", progress=False)
    with pytest.raises(ConfigError, match="expected journal"):
        explore(space, 5, storage="redis://x", progress=False)


def test_cli_explore(space, tmp_path, capsys):
    from hwsim.cli import main
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(space))
    rc = main(["explore", str(spec), "--trials", "25", "--storage", "memory", "--no-progress",
               "--out", str(tmp_path / "o"), "--seed", "2"])
    out = capsys.readouterr().out
    assert rc == 0 and "Pareto-optimal" in out and (tmp_path / "o" / "pareto.png").exists()
    spec.write_text("workload: {name: llama-2-7b}\narch: lut-tc\n")
    assert main(["explore", str(spec), "--storage", "memory"]) == 2
    assert "field 'precision'" in capsys.readouterr().err


# ----------------------------------------------------------------------------- PostgreSQL

def _pg_bin(name):
    for d in [*(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)),
              Path("/usr/local/bin"), Path("/usr/bin")]:
        if (d / name).exists():
            return str(d / name)
    return shutil.which(name)


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on loopback, started from the system's binaries."""
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'hwsim[postgres]')")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("no PostgreSQL server binaries (Debian: apt-get install postgresql)")
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="hwsim-pg-"))  # /tmp itself: reachable by the postgres user
    data = d / "data"
    run_as = []
    if os.geteuid() == 0:  # postgres refuses to run as root: use an unprivileged user if any
        import pwd
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        if user is None:
            pytest.skip("running as root and no unprivileged user to run postgres")
        run_as = ["runuser", "-u", user, "--"]
        os.chmod(d, 0o777)
    r = subprocess.run(run_as + [initdb, "-D", str(data), "-A", "trust", "-U", "hwsim"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"initdb failed: {r.stderr.strip()[-300:]}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run(run_as + [pg_ctl, "-D", str(data), "-o",
                                 f"-p {port} -k {d} -c listen_addresses=127.0.0.1", "-l",
                                 str(d / "log"), "-w", "start"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"postgres did not start: {r.stderr.strip()[-300:]}")
    url = f"postgresql://hwsim@127.0.0.1:{port}/postgres"
    yield url
    subprocess.run(run_as + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def _has_user(name):
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_postgres_study_shared_by_workers(space, postgres):
    res = explore(space, 40, storage=postgres, study_name="pg", workers=2, seed=0, progress=False)
    assert len(complete(res.study)) == 40
    # a second command (another "machine") resumes the same study
    res2 = explore(space, 50, storage=postgres, study_name="pg", seed=5, progress=False)
    assert len(complete(res2.study)) == 50


def test_concurrent_starts_on_an_empty_postgres(space, postgres):
    _concurrent_starts(space, postgres, "race")


def _concurrent_starts(space, url, name):
    """Two commands starting at once on an empty database: both succeed (no race on the schema
    or the study) and the study holds exactly the target."""
    import concurrent.futures as cf
    spec = yaml.safe_dump(space)
    with cf.ThreadPoolExecutor(2) as ex:
        procs = [ex.submit(subprocess.run, [sys.executable, "-c", (
            "import sys, yaml; from hwsim.explore import explore; "
            f"explore(yaml.safe_load(sys.stdin.read()), 80, storage={url!r}, study_name={name!r}, "
            f"seed={i}, progress=False)")], input=spec, capture_output=True, text=True,
            timeout=300) for i in range(2)]
        rs = [p.result() for p in procs]
    assert all(r.returncode == 0 for r in rs), [r.stderr[-1500:] for r in rs]
    assert len(complete(optuna.load_study(study_name=name, storage=url))) == 80


def test_concurrent_starts_on_an_empty_sqlite(space, tmp_path):
    _concurrent_starts(space, f"sqlite:///{tmp_path / 'race.db'}", "race")


def test_default_storage_is_a_journal_file_in_the_working_folder(space, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = explore(space, 10, seed=0, progress=False, study_name="../../../escape")
    assert res.storage_url.startswith("journal:///")
    files = list(tmp_path.glob("*.journal"))
    assert len(files) == 1 and files[0].parent == tmp_path
    again = explore(space, 25, seed=1, progress=False, study_name="../../../escape")
    assert len(complete(again.study)) == 25  # resumed the same file


def test_paths_stay_in_the_working_folder(space, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="leaves the working folder"):
        explore(space, 5, storage="sqlite:///../x.db", progress=False)
    with pytest.raises(ConfigError, match="leaves the working folder"):
        explore(space, 5, storage="memory", out="../o", progress=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match="existing file"):
        explore(space, 5, storage="memory", out="afile", progress=False)
    res = explore(space, 5, storage="memory", out=tmp_path / "abs", progress=False)
    assert len(complete(res.study)) == 5


def test_failing_designs_stop_the_run(space, tmp_path):
    """Designs that cannot be costed are failed trials; after max_failures in a row the run stops
    with an error instead of running forever."""
    from hwsim.errors import HwsimError
    space["hardware"]["tiles"] = {"int": [1, 64]}  # tiles = 1 passes the check below
    from hwsim.explore import evaluator as evmod
    orig = evmod.Evaluator.evaluate

    def broken(self, d):
        if self._checked:
            raise HwsimError("no such design")
        return orig(self, d)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evmod.Evaluator, "_checked", False, raising=False)
        mp.setattr(evmod.Evaluator, "check", lambda self: setattr(self, "_checked", True))
        mp.setattr(evmod.Evaluator, "evaluate", broken)
        with pytest.raises(HwsimError, match="30 designs in a row.*no such design"):
            explore(space, 100, storage=f"journal:///{tmp_path / 'f.journal'}",
                    max_failures=30, progress=False)
    st = optuna.load_study(study_name="t", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "f.journal"))))
    assert len(st.get_trials(states=(optuna.trial.TrialState.FAIL,))) == 30


@pytest.mark.slow
def test_three_workers_stop_at_exactly_the_target(space, tmp_path):
    res = explore(space, 400, storage=f"sqlite:///{tmp_path / 'w3.db'}", workers=3, seed=0,
                  progress=False)
    assert len(complete(res.study)) == 400


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_six_kills_and_resumes_leave_nothing_running(space, tmp_path, storage):
    spec = tmp_path / "space.yaml"
    spec.write_text(yaml.safe_dump(space))
    url = (f"journal:///{tmp_path / 'k.journal'}" if storage == "journal"
           else f"sqlite:///{tmp_path / 'k.db'}")
    target = 4000 if storage == "journal" else 1000
    cmd = [sys.executable, "-m", "hwsim.cli", "explore", str(spec), "--trials", str(target),
           "--storage", url, "--study", "k", "--no-progress"]
    for i in range(6):
        p = subprocess.Popen(cmd + ["--seed", str(i)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(2.5 + 0.3 * i)
        p.send_signal(signal.SIGKILL)
        p.wait()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    from hwsim.explore.storage import make_storage
    st, _ = make_storage(url, "k", None)
    study = optuna.load_study(study_name="k", storage=st)
    assert len(complete(study)) == target
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
