"""``hwsim experiments list | run NAME | run --all`` finds the scripts under experiments/ and runs
those with a run(out, ...) entry point."""

import pytest

from hwsim import experiments
from hwsim.cli import main


def test_list_reads_entry_points_without_importing():
    exps = {e.name: e for e in experiments.list_experiments()}
    for n in ("gpu_decode_vs_measured", "format_study", "lut_vs_mac"):
        assert exps[n].runnable and exps[n].quick and exps[n].summary
    # run(trials, out, ...) is not the convention: listed, but not runnable from the CLI
    assert not exps["mixed_precision_lut"].runnable


def test_run_one_quick_and_errors(tmp_path, capsys):
    assert main(["experiments", "run", "lut_vs_mac", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "lut_vs_mac.csv").read_text().count("\n") == 1 + 3 * 2 * 2
    assert main(["experiments", "run", "lut_vs_ma", "--out", str(tmp_path)]) == 2
    assert "did you mean lut_vs_mac" in capsys.readouterr().err
    assert main(["experiments", "run", "mixed_precision_lut", "--out", str(tmp_path)]) == 2
    assert "python experiments/mixed_precision_lut.py" in capsys.readouterr().err
    assert main(["experiments", "run"]) == 2
    assert main(["experiments", "list"]) == 0
    assert "format_study [--quick]" in capsys.readouterr().out


@pytest.mark.slow
def test_run_all_quick(tmp_path):
    assert main(["experiments", "run", "--all", "--quick", "--out", str(tmp_path)]) == 0
    for e in experiments.list_experiments():
        if e.runnable:
            assert any((tmp_path / e.name).glob("*.csv")), e.name


def test_quick_run_never_writes_the_committed_results(capsys):
    committed = experiments.experiments_dir() / "results"
    before = {p: p.stat().st_mtime_ns for p in committed.rglob("*") if p.is_file()}
    assert main(["experiments", "run", "lut_vs_mac", "--quick"]) == 0
    err = capsys.readouterr().err
    folder = err.split("wrote ")[1].split(" (")[0]
    assert "hwsim-lut_vs_mac-quick-" in folder and committed.resolve() not in \
        __import__("pathlib").Path(folder).resolve().parents
    assert any(__import__("pathlib").Path(folder).glob("*.csv"))
    after = {p: p.stat().st_mtime_ns for p in committed.rglob("*") if p.is_file()}
    assert after == before
