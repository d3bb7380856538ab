import json
import subprocess
import sys

import pytest

from hwsim.cli import main


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and "hwsim" in capsys.readouterr().out


@pytest.mark.parametrize("what,item", [("archs", "h100-sxm"), ("workloads", "llama-2-7b"),
                                       ("formats", "nvfp4"), ("groups", "workload"),
                                       ("families", "bitserial")])
def test_list(capsys, what, item):
    rc, out, _ = run(capsys, "list", what)
    assert rc == 0 and item in out.split()


def test_eval_with_exports(capsys, tmp_path):
    rc, out, err = run(capsys, "eval", "llama-2-7b", "--arch", "h100-sxm", "--phase", "decode",
                       "--batch", "4", "--context", "1024", "--weights", "int4_g128",
                       "--activations", "fp16", "--kv", "fp8", "--csv", str(tmp_path / "a.csv"),
                       "--json", str(tmp_path / "a.json"))
    assert rc == 0 and "tokens/s" in out and "attn.sdpa" in out
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["totals"]["batch"] == 4 and data["totals"]["kv"] == "fp8"
    assert (tmp_path / "a.csv").read_text().count("\n") == len(data["ops"]) + 1


def test_eval_per_op_vision(capsys):
    rc, out, _ = run(capsys, "eval", "resnet18", "--arch", "a100-sxm", "--per-op", "--batch", "2")
    assert rc == 0 and "layer4.1.conv2" in out


@pytest.mark.parametrize("argv,msg", [
    (["eval", "llama-2-7b", "--arch", "h100"], "unknown arch 'h100'"),
    (["eval", "llama2", "--arch", "h100-sxm"], "unknown workload"),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--weights", "int33"], "int33"),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--batch", "0"], "--batch = 0"),
    (["eval", "resnet18", "--arch", "h100-sxm", "--weights", "int4", "--activations", "int4"],
     "no datapath"),
    (["eval", "/nonexistent/x.yaml", "--arch", "h100-sxm"], "no such workload file"),
    (["validate", "tpu"], "unknown validation group"),
])
def test_errors_are_one_line_with_nonzero_exit(capsys, argv, msg):
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and msg in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_has_no_traceback_on_error():
    p = subprocess.run([sys.executable, "-m", "hwsim.cli", "eval", "x", "--arch", "y"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.startswith("hwsim: error")


def test_validate_markdown(capsys, tmp_path):
    rc, out, _ = run(capsys, "validate", "gpu-roofline", "--markdown", str(tmp_path / "v.md"))
    assert rc == 0 and "h100-sxm.bf16_peak" in out
    assert (tmp_path / "v.md").read_text().startswith("| family |")


def test_eval_fusion_eager_is_slower_than_fused(capsys):
    def tokens(fusion):
        assert main(["eval", "llama-2-7b", "--arch", "h100-sxm", "--fusion", fusion]) == 0
        out = capsys.readouterr().out
        return float(out.split(" tokens/s")[0].rsplit(" ", 1)[-1])
    assert tokens("eager") < tokens("fused")
