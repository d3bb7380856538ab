import pytest

import hwsim
from hwsim.errors import ConfigError, UnknownNameError


def test_all_presets_load():
    names = hwsim.list_archs()
    assert {"a100-sxm", "h100-sxm", "h200-sxm", "l40s", "rtx4090", "b200"} <= set(names)
    for n in names:
        assert hwsim.load_arch(n).name == n


def test_overrides_are_validated():
    hw = hwsim.load_arch("h100-sxm", mem_bandwidth_Bps=1e12)
    assert hw.params.mem_bandwidth_Bps == 1e12
    with pytest.raises(ConfigError, match="field 'sms'"):
        hwsim.load_arch("h100-sxm", sms=-1)
    with pytest.raises(ConfigError, match="field 'cores'"):
        hwsim.load_arch("h100-sxm", cores=4)


def test_unknown_arch_suggests():
    with pytest.raises(UnknownNameError, match=r"did you mean [^?]*h100-sxm"):
        hwsim.load_arch("h100")


@pytest.mark.parametrize("text,match", [
    ("name: x\nfamily: tpu\nparams: {}\n", "field 'family' = 'tpu'"),
    ("name: x\nfamily: gpu\n", "field 'params' must be a mapping"),
    ("name: x\nfamily: gpu\nparams: {sms: 10}\n", "field 'clock_hz': Field required"),
    ("name: x\nfamily: gpu\nparams: {sms: ten}\n", "field 'sms'"),
    ("name: x\nfamily: gpu\nprams: {}\n", "unknown top-level field"),
    ("- just\n- a list\n", "expected a YAML mapping"),
    ("name: [unclosed\n", r"line \d+, column \d+ invalid YAML"),
])
def test_malformed_yaml_names_file_and_field(tmp_path, text, match):
    p = tmp_path / "mine.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match) as e:
        hwsim.load_arch(p)
    assert "mine.yaml" in str(e.value)


def test_unknown_datapath_rejected(tmp_path):
    p = tmp_path / "g.yaml"
    p.write_text("name: g\nfamily: gpu\nparams: {sms: 1, clock_hz: 1.0e+9, mem_bandwidth_Bps: 1.0e+9,"
                 " mem_capacity_bytes: 1.0e+9, l2_bytes: 1.0e+6, tdp_w: 10,"
                 " ops_per_clk_per_sm: {fp32: 2, fp17: 4}}\n")
    with pytest.raises(ConfigError, match="fp17"):
        hwsim.load_arch(p, model="roofline")
    with pytest.raises(ConfigError, match="field 'max_clock_hz': Field required"):
        hwsim.load_arch(p)  # the calibrated model needs its fitted parameters too
