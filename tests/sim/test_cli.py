"""hwsim eval --engine sim / --trace."""

import csv
import json

from hwsim.cli import main

ARGS = ("eval", "llama-2-7b", "--arch", "mac-tc", "--phase", "decode", "--context", "256")


def test_eval_engine_sim_with_trace_and_csv(capsys, tmp_path):
    rc = main([*ARGS, "--engine", "sim", "--trace", str(tmp_path / "t.json"),
               "--csv", str(tmp_path / "r.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "mem stall" in out
    trace = json.loads((tmp_path / "t.json").read_text())
    assert any(e["ph"] == "X" for e in trace["traceEvents"])
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert "stall_buffer_s" in rows[0] and float(rows[0]["latency_s"]) > 0


def test_trace_needs_the_sim_engine(capsys, tmp_path):
    rc = main([*ARGS, "--trace", str(tmp_path / "t.json")])
    assert rc == 2 and "--trace needs --engine sim" in capsys.readouterr().err


def test_unknown_engine_is_refused(capsys):
    try:
        main([*ARGS, "--engine", "bogus"])
    except SystemExit as e:
        assert e.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
