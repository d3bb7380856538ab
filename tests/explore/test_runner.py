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
    cmd = [sys.executable, "-m", "hwsim.cli", "explore", str(spec), "--trials", "200",
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
    assert 20 <= len(before) < 200, "the run should have been killed part way"
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    after = complete(optuna.load_study(study_name="k", storage=storage))
    assert len(after) == 200                     # reached the target exactly
    assert len({t.number for t in after}) == 200  # no trial counted twice
    kept = {t.number: t.params for t in after}
    assert all(kept[k] == v for k, v in before.items())  # nothing finished was lost


def test_two_workers_share_one_sqlite_study(space, tmp_path):
    res = explore(space, 60, storage=f"sqlite:///{tmp_path / 'w.db'}", workers=2, seed=0,
                  progress=False)
    n = len(complete(res.study))
    assert 60 <= n <= 61  # a worker may finish the trial it started when the target is hit


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
    assert 40 <= len(complete(res.study)) <= 41
    # a second command (another "machine") resumes the same study
    res2 = explore(space, 50, storage=postgres, study_name="pg", seed=5, progress=False)
    assert 50 <= len(complete(res2.study)) <= 51
