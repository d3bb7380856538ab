"""Bad command lines end in one ``hwsim: error:`` line (exit 2) naming the flag, the value and
what is expected -- never a traceback, a silently ignored option or a number that cannot be."""

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.cli import main


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line_error(capsys, argv, *needles):
    rc, out, err = run(capsys, *argv)
    assert rc == 2, (argv, out, err)
    assert err.startswith("hwsim: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, (n, err)
    return out, err


@pytest.mark.parametrize("argv,needles", [
    (["serve", "llama-2-7b", "--arch", "h100-sxm", "--rate", "1", "--requests", "1e12"],
     ["--requests = 1e12", "[1, 1000000]"]),
    (["serve", "llama-2-7b", "--arch", "h100-sxm", "--rate", "1", "--seed", "-1"],
     ["--seed = -1", "[0,"]),
    (["serve", "llama-2-7b", "--arch", "h100-sxm", "--rate", "inf"], ["--rate = inf", "finite"]),
    (["serve", "llama-2-7b", "--arch", "h100-sxm", "--rate", "nan"], ["--rate = nan"]),
    (["serve", "llama-2-7b", "--arch", "h100-sxm", "--rates", "1,inf"], ["--rates", "finite"]),
    (["generate", "llama-2-7b", "--arch", "h100-sxm", "--price", "-2.5"],
     ["--price = -2.5", ">= 0"]),
    (["generate", "llama-2-7b", "--arch", "h100-sxm", "--price", "nan"], ["--price = nan"]),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--batch", "abc"], ["--batch = abc"]),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--bogus"], ["unrecognized arguments"]),
])
def test_bad_flag_values_are_one_line(capsys, argv, needles):
    one_line_error(capsys, argv, *needles)


def test_large_counts_in_exponent_notation_are_accepted_then_checked(capsys):
    # 1e9 sequences parse as an integer; memory is checked before any prefill chunk is costed
    import time
    t = time.perf_counter()
    one_line_error(capsys, ["generate", "llama-2-7b", "--arch", "h100-sxm", "--batch", "1e9"],
                   "does not fit", "TB", "no --tp up to 64 fits")
    assert time.perf_counter() - t < 20


@pytest.mark.parametrize("argv,needles", [
    (["eval", "resnet18", "--arch", "h100-sxm", "--dim", "batch=100000000000000000000000"],
     ["--dim", ".onnx"]),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--dim", "batch=4"], ["--dim", ".onnx"]),
    (["eval", "resnet18", "--arch", "h100-sxm", "--phase", "decode", "--context", "2048"],
     ["--context 2048", "CNN"]),
    (["eval", "resnet18", "--arch", "h100-sxm", "--phase", "decode"], ["--phase decode", "CNN"]),
    (["eval", "vit-b16", "--arch", "h100-sxm", "--kv", "fp8"], ["--kv fp8", "no KV cache"]),
    (["eval", "llama-2-7b", "--arch", "h100-sxm", "--image-size", "64"], ["--image-size 64"]),
])
def test_options_that_do_not_apply_are_errors(capsys, argv, needles):
    one_line_error(capsys, argv, *needles)


def test_dims_arg_bounds_values():
    from hwsim._cliargs import dims_arg
    from hwsim.errors import HwsimError
    assert dims_arg(["batch=8", "seq=1e3"]) == {"batch": 8, "seq": 1000}
    for bad in ("batch=100000000000000000000000", "batch=1e23", "batch=0", "batch=-3", "=4",
                "batch"):
        with pytest.raises(HwsimError, match="--dim"):
            dims_arg([bad])


def test_vision_train_phase_still_runs(capsys):
    rc, out, _ = run(capsys, "eval", "resnet8", "--arch", "h100-sxm", "--phase", "train")
    assert rc == 0 and "phase=train" in out


def test_workload_that_does_not_fit_is_refused_before_costing(capsys):
    out, err = one_line_error(capsys, ["eval", "llama-2-70b", "--arch", "h100-sxm", "--batch",
                                       "64", "--context", "100000"],
                              "does not fit", "2.24 TB", "85 GB", "no tensor-parallel degree")
    assert out == ""   # no table before the error


def test_mcu_capacity_checked_before_costing(capsys):
    out, _ = one_line_error(capsys, ["eval", "resnet18", "--arch", "stm32h7"],
                            "does not fit", "of one stm32h7", "MB")
    assert out == ""


def test_custom_arch_that_does_not_fit_names_the_tp_and_writes_nothing(capsys, tmp_path):
    arch = tmp_path / "my-small-gpu.yaml"
    arch.write_text("name: my-small-gpu\nfamily: gpu\ninherit: h100-sxm\nparams:\n"
                    "  mem_capacity_bytes: 8.0e+9\n")
    js = tmp_path / "r.json"
    out, err = one_line_error(capsys, ["eval", "llama-2-7b", "--arch", str(arch), "--json",
                                       str(js)], "does not fit", "of one my-small-gpu", "--tp 2")
    assert out == "" and not js.exists() and "unknown system" not in err
    rc, out, err = run(capsys, "eval", "llama-2-7b", "--arch", str(arch), "--ignore-memory")
    assert rc == 0 and "warning: does not fit" in err and "tokens/s" in out


def test_tp_beyond_a_single_device_presets_node_names_the_systems(capsys):
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "h100-sxm", "--tp", "16"],
                   "--tp 16", "single-device preset", "dgx-h100")
    one_line_error(capsys, ["generate", "llama-2-7b", "--arch", "dgx-h100", "--tp", "16"],
                   "dgx-h100 has 8")


def test_set_overrides_arch_parameters(capsys):
    def tokens(*extra):
        rc, out, err = run(capsys, "eval", "llama-2-7b", "--arch", "rpi5", "--weights", "q4_0",
                           *extra)
        assert rc == 0, err
        return float(out.split(" tokens/s")[0].rsplit(" ", 1)[-1])
    one = tokens()
    four = tokens("--set", "threads=4")
    assert four > 2 * one
    # a dotted key changes one entry of a nested mapping and keeps the others
    assert tokens("--set", "kernel_efficiency.dequant=0.1") < one
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "rpi5", "--set", "thread=4"],
                   "'thread'")
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "rpi5", "--set", "threads"],
                   "KEY=VALUE")
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "rpi5", "--set", "threads.x=1"],
                   "not a mapping")
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "rpi5", "--set", "clock_hz=.nan"],
                   "finite")


def test_set_on_generate_reaches_the_system_device(capsys):
    rc, base, _ = run(capsys, "generate", "llama-2-7b", "--arch", "dgx-h100", "--output-len", "8")
    rc2, slow, _ = run(capsys, "generate", "llama-2-7b", "--arch", "dgx-h100", "--output-len",
                       "8", "--set", "mem_bandwidth_Bps=1e12")
    assert rc == rc2 == 0 and base != slow


def test_list_archs_shows_family_and_description(capsys):
    rc, out, _ = run(capsys, "list", "archs")
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert rc == 0 and rows["rpi5"] == "cpu" and rows["h100-sxm"] == "gpu"
    assert "Raspberry Pi 5" in out and max(len(x) for x in out.splitlines()) <= 120


def test_validate_list_and_width(capsys):
    rc, out, _ = run(capsys, "validate", "--list")
    assert rc == 0 and "gpu-roofline" in out.split()
    rc, out, _ = run(capsys, "validate", "gpu")
    assert max(len(x) for x in out.splitlines()) <= 120 and "source" not in out.splitlines()[0]
    rc, out, _ = run(capsys, "validate", "gpu", "--wide")
    lines = out.splitlines()
    assert "source" in lines[0] and max(len(x) for x in lines) <= 200


def test_plot_out_never_creates_folders(capsys, tmp_path):
    target = tmp_path / "nope" / "deeper" / "f.png"
    one_line_error(capsys, ["plot", "roofline", "llama-2-7b", "--arch", "h100-sxm", "--out",
                            str(target)], "does not exist")
    assert not (tmp_path / "nope").exists()


def test_output_folders_checked_before_work(capsys, tmp_path):
    one_line_error(capsys, ["eval", "llama-2-7b", "--arch", "h100-sxm", "--json",
                            str(tmp_path / "x" / "r.json")], "--json", "does not exist")


def test_calibrate_missing_column_is_a_clean_error(capsys, tmp_path):
    import csv
    import shutil
    from hwsim.families.gpu import fit
    src = Path(fit.__file__).with_name("data") / "h100"
    d = tmp_path / "m"
    shutil.copytree(src, d)
    rows = list(csv.DictReader(open(d / "gemm.csv")))
    cols = [c for c in rows[0] if c != "s_median"]
    with open(d / "gemm.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    one_line_error(capsys, ["calibrate", "gpu", "--data", str(d)], "gemm.csv",
                   "no column 's_median'")


def test_mcu_totals_use_units_that_fit_and_groups_show_utilization(capsys):
    rc, out, _ = run(capsys, "eval", "ds-cnn", "--arch", "stm32h7")
    total = out.splitlines()[-1]
    assert rc == 0 and "mW avg" in total and "MFLOP" in total and "kB moved" in total
    assert "0 W avg" not in total and "0.000 TFLOP" not in total
    util = [line.split()[-1] for line in out.splitlines()[2:] if line.startswith("conv1")]
    assert util and 0 < float(util[0]) <= 1


def test_one_device_system_is_named_as_the_device(capsys):
    rc, out, _ = run(capsys, "generate", "llama-2-7b", "--arch", "h100-sxm", "--output-len", "4")
    assert rc == 0 and "on h100-sxm (1 device" in out and "sxmx1" not in out


def test_console_script_parse_error_is_one_line():
    p = subprocess.run([sys.executable, "-m", "hwsim.cli", "serve", "llama-2-7b", "--arch",
                        "h100-sxm", "--requests", "1e12"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


# -- the final guard: a number that cannot be is an internal error naming the op --------------

def test_report_guard_names_the_op():
    import hwsim
    from hwsim.report import NonPhysicalResultError, Report, Row
    rep = hwsim.evaluate(hwsim.load_workload("resnet8"), hwsim.load_arch("h100-sxm"))
    for bad in (math.nan, math.inf, -1.0):
        rows = list(rep.rows)
        rows[3] = Row(rows[3].op, dataclasses.replace(rows[3].cost, energy_j=bad))
        r = Report(rep.workload, rep.hw, rows)
        with pytest.raises(NonPhysicalResultError, match=f"op {rows[3].op.name}.*energy_j"):
            str(r)
        with pytest.raises(NonPhysicalResultError):
            r.to_json()


def test_generation_report_guard_and_price():
    from hwsim import generate
    from hwsim.errors import ConfigError
    from hwsim.report import NonPhysicalResultError
    g = generate("llama-2-7b", "h100-sxm", output_len=4, price_per_device_hour=2.5)
    assert g.cost_per_million_tokens > 0
    for bad in (-2.5, math.nan, math.inf):
        with pytest.raises(ConfigError, match="price_per_device_hour"):
            generate("llama-2-7b", "h100-sxm", output_len=4, price_per_device_hour=bad)
    with pytest.raises(NonPhysicalResultError, match="ttft_s"):
        dataclasses.replace(g, ttft_s=math.nan)


def test_generate_huge_batch_groups_prefill_steps():
    from hwsim import generate
    from hwsim.systems.generate import _prefill_groups, prefill_steps
    assert len(_prefill_groups(10**9, 512, 8192)) == 1
    assert prefill_steps(10, 1000, 4096) == [s for s, k in _prefill_groups(10, 1000, 4096)
                                             for _ in range(k)]
    g = generate("llama-2-7b", "h100-sxm", batch=10**6, input_len=16, output_len=2)
    assert g.fits is False and g.ttft_s > 0   # computed (not refused) through the Python API
