import pytest

from hwsim import tech
from hwsim.errors import ConfigError, HwsimError, UnknownNameError


@pytest.fixture(scope="module")
def t45():
    return tech.load("45nm")


def test_design_doc_api(t45):
    assert t45.energy_pj("int_mult", bits=8) == pytest.approx(0.2, rel=0.05)
    assert t45.area_um2("fp_fma", exp_bits=5, man_bits=10) > t45.area_um2("fp_mult", exp_bits=5,
                                                                          man_bits=10)
    assert t45.energy_pj("sram_read", bits=64, capacity_bytes=8192) == pytest.approx(10, rel=0.05)


def test_multiplier_quadratic_adder_linear(t45):
    m = [t45.energy_pj("int_mult", bits=b) for b in (4, 8, 16)]
    a = [t45.energy_pj("int_add", bits=b) for b in (8, 16, 32)]
    assert m[1] / m[0] == pytest.approx(4, rel=0.01) and m[2] / m[1] == pytest.approx(4, rel=0.01)
    assert 1.6 < a[1] / a[0] < 2.0 and 1.8 < a[2] / a[1] < 2.1


def test_mac_energy_grows_with_precision(t45):
    e = [t45.energy_pj("mac", a=f, w=f) for f in ("int4", "int8", "int16")]
    assert e[0] < e[1] < e[2]
    assert t45.energy_pj("mac", a="fp8_e4m3", w="fp8_e4m3") < t45.energy_pj("mac", a="fp16", w="fp16")
    assert t45.energy_pj("mac", a="int8", w="int4") < t45.energy_pj("mac", a="int8", w="int8")


def test_sram_energy_grows_with_capacity_and_area_with_bits(t45):
    small = t45.energy_pj("sram_read", bits=64, capacity_bytes=8 * 1024)
    big = t45.energy_pj("sram_read", bits=64, capacity_bytes=1024 * 1024)
    assert big > 5 * small
    assert t45.area_um2("sram", capacity_bytes=2 * 8192) == pytest.approx(
        2 * t45.area_um2("sram", capacity_bytes=8192))


def test_node_scaling():
    t45, t28, t7 = tech.load("45nm"), tech.load("28nm"), tech.load("7nm")
    e = lambda t: t.energy_pj("int_mult", bits=8)  # noqa: E731
    assert e(t7) == pytest.approx(0.07)  # the 7 nm table's own row
    assert e(t7) < e(t28) < e(t45)
    assert t28.area_um2("int_add", bits=8) == pytest.approx(t45.area_um2("int_add", bits=8)
                                                            * (28 / 45) ** 2)
    assert t7.area_um2("sram", capacity_bytes=1024) == pytest.approx(1024 * 8 * 0.027 / 0.7)


def test_user_table(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("name: mine\nnode_nm: 22\nops:\n  - {component: int_add, bits: 8, energy_pj: 0.01}\n")
    t = tech.load(p)
    assert t.energy_pj("int_add", bits=8) == pytest.approx(0.01)
    p.write_text("name: bad\n")
    with pytest.raises(ConfigError, match="node_nm"):
        tech.load(p)


def test_bad_input(t45):
    with pytest.raises(UnknownNameError, match="int_mult"):
        t45.energy_pj("int_mul", bits=8)
    with pytest.raises(HwsimError, match="bits = -1"):
        t45.energy_pj("int_add", bits=-1)
    with pytest.raises(HwsimError, match="capacity_bytes"):
        t45.energy_pj("sram_read", bits=64)
    with pytest.raises(UnknownNameError, match="technology"):
        tech.load("2000nm")
    with pytest.raises(HwsimError, match="area only"):
        t45.energy_pj("sram", capacity_bytes=1024)
