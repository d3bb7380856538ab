import json

import pytest

import hwsim
from hwsim.errors import HwsimError, UnsupportedError


@pytest.fixture(scope="module")
def rep():
    hw = hwsim.load_arch("h100-sxm", model="roofline")
    wl = hwsim.load_workload("llama-2-7b", phase="decode", batch=1, context=2048,
                             weights="int4_g128", activations="fp16")
    return hwsim.evaluate(wl, hw)


def test_totals_are_sums_of_rows(rep):
    assert rep.latency_s == pytest.approx(sum(r.cost.latency_s for r in rep.rows))
    assert rep.energy_j == pytest.approx(sum(r.cost.energy_j for r in rep.rows))
    assert len(rep.rows) == len(rep.workload)


def test_decode_on_roofline_is_weight_bandwidth_bound(rep):
    # each token reads all weights and the KV cache once
    kv_bytes = 32 * 2 * 2049 * 4096 * 2
    expected = (rep.workload.weight_bytes - 32000 * 4096 * (4 + 16 / 128) / 8 + kv_bytes) / 3.35e12
    assert rep.latency_s == pytest.approx(expected, rel=0.02)
    assert rep.tokens_per_s == pytest.approx(1 / rep.latency_s)


def test_csv_and_json(rep, tmp_path):
    text = rep.to_csv(tmp_path / "r.csv")
    lines = text.strip().splitlines()
    assert lines[0].startswith("name,type,group") and len(lines) == len(rep.rows) + 1
    data = json.loads(rep.to_json(tmp_path / "r.json"))
    assert data["totals"]["latency_s"] == pytest.approx(rep.latency_s)
    assert len(data["ops"]) == len(rep.rows)
    assert (tmp_path / "r.json").exists()


def test_readable_table(rep):
    s = str(rep)
    assert "llama-2-7b on h100-sxm" in s and "mlp.down" in s and "tokens/s" in s
    assert len(rep.table(per_op=True).splitlines()) > len(rep.rows)


def test_by_group_preserves_totals(rep):
    groups = rep.by_group()
    assert sum(g["latency_s"] for g in groups) == pytest.approx(rep.latency_s)
    assert {g["name"]: g["count"] for g in groups}["mlp.down"] == 32


def test_unsupported_op_names_the_op():
    wl = hwsim.load_workload("resnet18", weights="int4", activations="int4")
    with pytest.raises(UnsupportedError, match="conv1"):
        hwsim.evaluate(wl, hwsim.load_arch("h100-sxm"))


def test_bad_arguments():
    with pytest.raises(HwsimError, match="Workload"):
        hwsim.evaluate("llama-2-7b", hwsim.load_arch("h100-sxm"))
    with pytest.raises(HwsimError, match="accelerator"):
        hwsim.evaluate(hwsim.load_workload("resnet18"), "h100-sxm")


def test_cnn_and_vit_evaluate_everywhere():
    """Every preset runs every vision model in at least one of the common precisions."""
    for arch in hwsim.list_archs():
        hw = hwsim.load_arch(arch)
        for w in ("resnet50", "mobilenetv2", "vit-b16"):
            ok, why = [], []
            # the last: weight-only quantization with an int8 attention operand (BitMoD's PEs
            # serialize the second attention operand and have no fp16 path for it)
            for wf, af, kv in (("fp16", "fp16", None), ("int8", "int8", None),
                               ("int4", "int8", None), ("int4", "fp16", "int8"),
                               ("fp8_e4m3", "fp8_e4m3", None),   # minifloat-only FPGA designs
                               ("fp6_e2m3", "fp6_e2m3", None)):
                try:
                    rep = hwsim.evaluate(hwsim.load_workload(w, batch=8, weights=wf,
                                                             activations=af, kv=kv), hw)
                except UnsupportedError as e:
                    why.append(str(e))
                    continue
                ok.append(rep.latency_s > 0)
            if not ok and hw.family == "mcu":
                # an MCU refuses an ImageNet model because its activations do not fit SRAM,
                # and says so, rather than returning a number for a design that cannot run
                assert all("SRAM" in m or "flash" in m for m in why), (arch, w, why)
                continue
            assert ok and all(ok), (arch, w)
